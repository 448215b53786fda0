"""Audit s19: the page's focus-stack section (needs gradio, no browser): its handler's outputs, and
the pair mode's elements and wiring left as they were."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

#: the ids the browser test drives in the pair mode (tests/web/test_serve_browser.py): unchanged
PAIR_IDS = {"sample", "input-a", "input-b", "method", "weights", "params", "options", "chroma", "normalize", "task",
            "temperature", "detail-gain", "detail-activity", "detail-off", "fuse-btn", "status", "fused", "compare",
            "compare-with", "metrics", "downloads", "timing"}
STACK_IDS = {"stack", "stack-input", "stack-order", "stack-format", "stack-btn", "stack-status", "stack-fused",
             "stack-download", "stack-timing", "stack-compare", "stack-compare-with"}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    pytest.importorskip("gradio")
    from mutualfuse.web.app import build_app

    return build_app(tmp_path_factory.mktemp("work"), device="cpu")


def _ids(app, ids) -> dict:
    return {b.elem_id: b._id for b in app.blocks.values() if getattr(b, "elem_id", None) in ids}


def test_the_pair_mode_keeps_its_ids_and_the_stack_has_its_own(app):
    pair, stack = _ids(app, PAIR_IDS), _ids(app, STACK_IDS)
    assert set(pair) == PAIR_IDS and set(stack) == STACK_IDS
    fns = {f.name: f for f in app.fns.values()}
    run, run_stack = fns["run"], fns["run_stack"]
    out_ids = lambda fn: [b._id for b in fn.outputs]  # noqa: E731
    assert out_ids(run) == [pair[i] for i in ("status", "fused", "compare", "metrics", "downloads", "timing")] + \
        [out_ids(run)[-1]]  # and the state
    assert out_ids(run_stack)[:-1] == [stack[i] for i in ("stack-status", "stack-fused", "stack-download",
                                                          "stack-timing", "stack-compare", "stack-compare-with")]
    # one fusion at a time, a pair's or a stack's (serve's limit of 1 is per event otherwise)
    assert run.concurrency_id == run_stack.concurrency_id
    # the stack takes the pair mode's method and options
    ins = [b._id for b in run_stack.inputs]
    assert ins == [stack["stack-input"]] + [pair[i] for i in ("method", "weights", "params", "chroma", "normalize",
                                                              "temperature", "detail-gain", "detail-activity",
                                                              "detail-off", "task")] + \
        [stack["stack-order"], stack["stack-format"]]


def test_the_stack_handler_shows_the_result_the_download_the_time_and_the_command(app, tmp_path):
    from mutualfuse.cli import main

    fn = {f.name: f.fn for f in app.fns.values()}["run_stack"]
    rng = np.random.default_rng(0)
    files = []
    for i, name in enumerate(("z10.png", "z1.png", "z2.png")):  # as a file dialog may send them
        f = tmp_path / f"upload{i}" / name
        f.parent.mkdir()
        Image.fromarray(rng.integers(0, 256, (40, 56)).astype(np.uint8)).save(f)
        files.append(str(f))
    opts = ["average", "default", "", "saturation", "auto", None, None, None, False, "auto"]
    status, shown, download, timing, *_ = fn(files, *opts, "sequential", "png")
    assert status.startswith("done: z1-z10-average.png  (3 images, 2 fusions, "), status
    assert shown == download and Path(download).is_file()
    assert "stack fused in **" in timing and "same as: `mutualfuse fuse-stack z1.png z2.png z10.png -o z1-z10-average.png " \
        "--order sequential --method average --chroma saturation --normalize auto`" in timing, timing
    cli = tmp_path / "cli.png"
    assert main(["fuse-stack", *(str(tmp_path / f"upload{i}" / n) for i, n in ((1, "z1.png"), (2, "z2.png"),
                                                                             (0, "z10.png"))),
                 "-o", str(cli), "--order", "sequential", "--method", "average", "-q"]) == 0
    assert Path(download).read_bytes() == cli.read_bytes()
    # errors: one line on the status, the uploaded file by its own name, nothing to show or download
    status, shown, download, timing, *_ = fn(files[:1], *opts, "tree", "png")
    assert status == "mutualfuse: error: z10.png: a stack needs at least 2 images (or one multi-page TIFF)"
    assert (shown, download, timing) == (None, None, "")
    assert fn(None, *opts, "tree", "png")[0].startswith("mutualfuse: error: upload the stack first")
