"""Session 28: the pair section's compare selector ("the slider compares the fused image with") when
the result is no longer on the server (its request folder removed after the hour, or the server
restarted: the page's state gone). Picking the other source left the slider showing the one picked
before (the page's alt text then naming the new one) and said nothing; the slider is now emptied and
the pair's status line (``#status``) says why, in the words of the page's notice of a result gone,
as the stack's selector does (test_s28_webstack_app.py). The browser's view of it:
test_s28_webpair_browser.py."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

OPTS = ["average", "default", "", "saturation", "auto", None, None, None, False, "auto"]
GONE = ("mutualfuse: error: this result is no longer on the server (results are kept about 60 minutes, or the "
        "server was restarted): press Fuse again to make it anew")
SAME = {"__type__": "update"}  # an output left as it is


@pytest.fixture
def fns(tmp_path):
    pytest.importorskip("gradio")
    from mutualfuse.web.app import build_app

    app = build_app(tmp_path / "work", device="cpu")
    return {f.name: f for f in app.fns.values()}


def _pair(tmp_path: Path) -> list[str]:
    rng = np.random.default_rng(28)
    files = []
    for name in ("ir.png", "vis.png"):
        Image.fromarray(rng.integers(0, 256, (24, 32)).astype(np.uint8)).save(tmp_path / name)
        files.append(str(tmp_path / name))
    return files


def test_picking_a_source_of_a_pair_gone_from_the_server_says_so(fns, tmp_path):
    out = fns["run"].fn(*_pair(tmp_path), *OPTS, "a vs fused")
    status, state = out[0], out[6]
    assert status.startswith("done: ir-vis-average.png"), status
    # the slider and the status line; the selector sends the status line as it is
    assert [b.elem_id for b in fns["on_compare"].outputs] == ["compare", "status"]
    assert [b.elem_id for b in fns["on_compare"].inputs] == ["compare-with", None, "status"]  # None: the state
    assert fns["on_compare"].show_progress == "hidden"  # a fusion running keeps its progress
    pair, said = fns["on_compare"].fn("b vs fused", state, status)
    assert pair == (state["b"], state["fused"]) and Path(pair[0]).name == "b-preview.png"
    assert said == SAME

    shutil.rmtree(Path(state["fused"]).parent)  # the request's folder, removed after the hour
    for which in ("a vs fused", "b vs fused"):
        pair, said = fns["on_compare"].fn(which, state, status)
        assert pair is None and said == GONE, which
    # the server restarted: the tab's state is gone, its status line still tells of a result
    pair, said = fns["on_compare"].fn("a vs fused", None, status)
    assert pair is None and said == GONE


def test_without_a_result_the_selector_changes_nothing(fns, tmp_path):
    """No pair fused yet (the radio always has a value), or an error: the status line (empty, or the
    error) stays as it is."""
    for said in ("", None):
        assert fns["on_compare"].fn("b vs fused", None, said) == (SAME, SAME)
    a, _ = _pair(tmp_path)
    out = fns["run"].fn(a, str(tmp_path / "missing.png"), *OPTS, "a vs fused")
    assert out[0].startswith("mutualfuse: error: ") and out[6] is None, out[0]
    assert fns["on_compare"].fn("b vs fused", out[6], out[0]) == (SAME, SAME)
