"""Session 30: a source picked for the pair's slider just before the next result says nothing wrong.

The radio's requests carry the result shown when the source was picked, and wait for one another:
a few picks in a row while Fuse ran (seen in Chromium at 1600x1600, method max: two picks while
the metrics were scored) ran after the next result was made, found the result before superseded
(its folder removed) and put "mutualfuse: error: this result is no longer on the server ... press
Fuse again" on the status line over the new result's ``done: …`` (which then stayed). A result that
is no longer the page's latest is now left alone (Fuse's next step shows the source the radio names:
test_s30_web_compare_during_fuse.py). The page's handlers called directly, with a request of one
page (browser tab) as Gradio passes it."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace


from web_handlers import ARGS, fns  # noqa: F401  (fns: the fixture; tests/web is on sys.path)


def test_a_pick_carrying_the_result_before_changes_nothing(fns, samples):
    a, b = (str(samples / "tno-01" / f"{n}.png") for n in ("a", "b"))
    tab = SimpleNamespace(session_hash="tab-compare")
    before = fns["run"](a, b, *ARGS, request=tab)[6]
    out = fns["run"](a, b, "max", *ARGS[1:], request=tab)
    assert out[0].startswith("done: a-b-max.png") and not Path(before["b"]).exists()
    slider, status = fns["on_compare"]("b vs fused", before, out[0], request=tab)
    assert isinstance(slider, dict) and isinstance(status, dict), (slider, status)
    # the page's latest result: the source picked is shown
    slider, status = fns["on_compare"]("b vs fused", out[6], out[0], request=tab)
    assert tuple(slider) == (out[6]["b"], out[6]["fused"]) and isinstance(status, dict)
    # a result gone after the hour is still said so
    Path(out[6]["b"]).unlink()
    slider, status = fns["on_compare"]("b vs fused", out[6], out[0], request=tab)
    assert slider is None and "no longer on the server" in status
