"""s20: the page counts a focus stack's pairwise fusions while it runs (it showed nothing for the
minutes a network stack takes): fuse_stack_files and fuse_stack_request take a progress callback,
the page's stack handler feeds gradio's progress from it."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image


def _stack(tmp_path: Path, n: int) -> list[str]:
    rng = np.random.default_rng(1)
    files = []
    for i in range(n):
        f = tmp_path / f"z{i + 1}.png"
        Image.fromarray(rng.integers(0, 256, (36, 44)).astype(np.uint8)).save(f)
        files.append(str(f))
    return files


@pytest.mark.parametrize("order", ["tree", "sequential"])
def test_fuse_stack_files_reports_every_fusion(tmp_path, order):
    from mutualfuse.cli import build_parser
    from mutualfuse.cli.fuse_stack import fuse_stack_files

    files = _stack(tmp_path, 5)
    calls = []
    args = build_parser().parse_args(["fuse-stack", *files, "-o", str(tmp_path / "f.png"), "--method", "average",
                                      "--order", order, "-q"])
    done = fuse_stack_files(args, progress=lambda d, t: calls.append((d, t)))
    assert done.fusions == 4
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_the_page_counts_the_fusions_and_the_result_is_unchanged(tmp_path):
    pytest.importorskip("gradio")
    from mutualfuse.cli import main
    from mutualfuse.web.app import build_app

    app = build_app(tmp_path / "work", device="cpu")
    fn = {f.name: f.fn for f in app.fns.values()}["run_stack"]
    files = _stack(tmp_path, 4)
    seen = []

    def progress(value, desc=None, total=None, unit="steps"):
        seen.append((value, desc, unit))

    opts = ["average", "default", "", "saturation", "auto", None, None, None, False, "auto"]
    status, shown, download, timing, *_ = fn(files, *opts, "tree", "png", progress=progress)
    assert status.startswith("done: "), status
    assert seen == [((k, 3), "fusing the stack", "fusions") for k in (1, 2, 3)]
    cli = tmp_path / "cli.png"
    assert main(["fuse-stack", *files, "-o", str(cli), "--method", "average", "-q"]) == 0
    assert Path(download).read_bytes() == cli.read_bytes()
    # without a progress object (gradio's default outside an event) the handler still runs
    assert fn(files, *opts, "tree", "png")[0].startswith("done: ")
