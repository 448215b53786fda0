"""The Gradio page's handlers called directly (needs gradio, no browser): what each output gets."""
from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def handlers(tmp_path_factory):
    pytest.importorskip("gradio")
    from mutualfuse.web.app import build_app

    app = build_app(tmp_path_factory.mktemp("work"), device="cpu")
    return {f.name: f.fn for f in app.fns.values()}


def test_the_slider_shows_the_source_the_radio_names_after_a_new_fuse(handlers, samples):
    """With "b vs fused" chosen, pressing Fuse again put source a back on the slider while the
    radio still said b."""
    a, b = (str(samples / "tno-01" / f"{n}.png") for n in ("a", "b"))
    args = [a, b, "average", "default", "", "saturation", "auto", None, None, None, False, "auto"]
    out = handlers["run"](*args, "b vs fused")
    status, fused, compare, state = out[0], out[1], out[2], out[6]
    assert status.startswith("done"), status
    assert compare == (state["b"], fused) and Path(state["b"]).name == "b-preview.png"
    out = handlers["run"](*args, "a vs fused")
    assert out[2] == (out[6]["a"], out[1])
    # (the slider, the status line as it is: a result gone is said there, test_s28_webpair_app.py)
    assert handlers["on_compare"]("b vs fused", out[6], status) == ((out[6]["b"], out[1]), {"__type__": "update"})

