"""Session 30: a metric chosen under the table while a Fuse of the page runs was scored twice, first
for the result shown before.

Gradio sends an event's inputs when it is triggered: a metric chosen (``#more-metrics``) while a
Fuse ran or waited in the queue was sent with the result shown then, and ran, in the fusions' queue,
after that Fuse: it scored the result before and showed its rows (the old result's values) under the
new result, until Fuse's own next step (``after_fuse``) scored the chosen metrics again for the new
result and replaced them (measured in Chromium: the note said "1 more metric scored in 0.68 s", then
"... in 0.47 s"). A result that is no longer the page's latest is now left alone. The page's
handlers called directly, with a request of one page (browser tab) as Gradio passes it."""
from __future__ import annotations

from types import SimpleNamespace


from web_handlers import ARGS, fns  # noqa: F401  (fns: the fixture; tests/web is on sys.path)


def _tab(name: str):
    return SimpleNamespace(session_hash=name)


def test_a_metric_chosen_during_a_fuse_is_scored_once_for_the_new_result(fns, samples):
    a, b = (str(samples / "tno-01" / f"{n}.png") for n in ("a", "b"))
    tab = _tab("tab-1")
    before = fns["run"](a, b, *ARGS, request=tab)[6]
    # Fuse pressed again (another method), and a metric chosen while it runs: sent with `before`
    after = fns["run"](a, b, "dwt", *ARGS[1:], request=tab)[6]
    assert after["fused"] != before["fused"]
    table, note = fns["on_more"](["Qcb@vifb"], before, request=tab)  # runs after the Fuse: nothing changes
    assert isinstance(table, dict) and isinstance(note, dict), (table, note)
    table, note = fns["after_fuse"](["Qcb@vifb"], after, request=tab)  # Fuse's next step scores it
    assert [r[0] for r in table[len(after["rows"]):]] == ["Qcb@vifb"] and note.startswith("1 more metric scored")
    # the latest result of the page is scored when chosen; another page's requests change nothing of it
    fns["run"](a, b, *ARGS, request=_tab("tab-2"))
    table, note = fns["on_more"](["Qcb@vifb"], after, request=tab)
    assert [r[0] for r in table[len(after["rows"]):]] == ["Qcb@vifb"] and note.startswith("1 more metric scored")


def test_after_a_failed_fuse_the_result_before_is_not_scored(fns, samples, tmp_path):
    a, b = (str(samples / "tno-01" / f"{n}.png") for n in ("a", "b"))
    tab = _tab("tab-3")
    before = fns["run"](a, b, *ARGS, request=tab)[6]
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    out = fns["run"](str(bad), b, *ARGS, request=tab)
    assert out[0].startswith("mutualfuse: error") and out[6] is None, out[0]
    table, note = fns["on_more"](["Qcb@vifb"], before, request=tab)
    assert isinstance(table, dict) and isinstance(note, dict), (table, note)
