"""Session 28: the stack's compare selector when the result is no longer on the server (its request
folder removed after the hour, or the server restarted: the page's state gone). Picking another
image left the slider showing the one picked before (the page's alt text then naming the new one)
and said nothing; the slider is now emptied and the stack's status line says why, in the words of
the page's notice of a result gone. The browser's view of it: test_s28_webstack_browser.py."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

OPTS = ["average", "default", "", "saturation", "auto", None, None, None, False, "auto"]
GONE = ("mutualfuse: error: this result is no longer on the server (results are kept about 60 minutes, or the "
        "server was restarted): press Fuse stack again to make it anew")


@pytest.fixture
def fns(tmp_path):
    pytest.importorskip("gradio")
    from mutualfuse.web.app import build_app

    app = build_app(tmp_path / "work", device="cpu")
    return {f.name: f for f in app.fns.values()}


def _stack(tmp_path: Path) -> list[str]:
    rng = np.random.default_rng(28)
    files = []
    for name in ("z1.png", "z2.png", "z10.png"):
        Image.fromarray(rng.integers(0, 256, (24, 32)).astype(np.uint8)).save(tmp_path / name)
        files.append(str(tmp_path / name))
    return files


def test_picking_an_image_of_a_stack_gone_from_the_server_says_so(fns, tmp_path):
    out = fns["run_stack"].fn(_stack(tmp_path), *OPTS, "tree", "png")
    status, state = out[0], out[6]
    assert status.startswith("done: z1-z10-average.png"), status
    assert [b.elem_id for b in fns["on_stack_compare"].outputs] == ["stack-compare", "stack-status"]
    pair, said = fns["on_stack_compare"].fn("z10.png", state)
    assert Path(pair[0]).name == "plane-0003.png" and pair[1] == state["fused"]
    assert said == {"__type__": "update"}  # the status line as it is

    shutil.rmtree(Path(state["fused"]).parent)  # the request's folder, removed after the hour
    pair, said = fns["on_stack_compare"].fn("z2.png", state)
    assert pair is None and said == GONE
    # the server restarted: the tab's state is gone, its selector still names an image
    pair, said = fns["on_stack_compare"].fn("z2.png", None)
    assert pair is None and said == GONE


def test_an_empty_selector_changes_nothing(fns, tmp_path):
    """No stack fused yet, or an error's emptied selector: the error line stays as it is."""
    for state in (None, {"planes": [], "fused": ""}):
        assert fns["on_stack_compare"].fn(None, state) == ({"__type__": "update"}, {"__type__": "update"})
    out = fns["run_stack"].fn(_stack(tmp_path)[:1], *OPTS, "tree", "png")
    assert out[0] == "mutualfuse: error: z1.png: a stack needs at least 2 images (or one multi-page TIFF)", out[0]
    assert out[5]["value"] is None
    assert fns["on_stack_compare"].fn(out[5]["value"], out[6]) == ({"__type__": "update"}, {"__type__": "update"})

