"""Session 30, in Chromium: the source picked for the slider while Fuse runs is the one shown.

Fuse sends the radio's value ("a vs fused" / "b vs fused") when pressed: "b vs fused" picked while
the fusion ran showed b for the result before, and the result then put image a back on the slider,
beside the radio and the slider's alt text saying "b vs fused" / "image b" (seen: the slider's left
image ``a-preview.png``). Fuse's next step now shows the source the radio names."""
from __future__ import annotations

from test_s27_web_gone_browser import _Page, _wait
from test_s30_web_busy_fuse import _pair


def test_the_source_picked_during_a_fusion_is_shown_with_its_result(server, browser, tmp_path):
    d = browser
    d.get(server["url"])
    page = _Page(d)
    _wait(lambda: page.all("#fuse-btn") and page.all("#input-a input[type=file]"), 60, "the page")
    a, b = _pair(tmp_path)
    page.all("#input-a input[type=file]")[0].send_keys(str(a))
    page.all("#input-b input[type=file]")[0].send_keys(str(b))
    _wait(lambda: all(page.all(f"#input-{w} td.filename") for w in "ab"), 60, "the uploads")
    page.all("#fuse-btn")[0].click()
    busy = "#status [data-testid=status-tracker]:not(.hide), #timing [data-testid=status-tracker]:not(.hide)"
    _wait(lambda: page.all(busy), 60, "the fusion running")
    [lab for lab in page.all("#compare-with label") if lab.text.startswith("b")][0].click()
    _wait(lambda: [x.get_attribute("value") for x in page.all("#compare-with input:checked")] == ["b vs fused"], 10,
          "b picked")
    _wait(lambda: not page.all(busy) and page.all("#status")[0].text.startswith("done: busy_a-busy_b"), 240, "the result")
    shown = lambda: [i.get_attribute("src").rsplit("/", 1)[-1] for i in page.all("#compare img")]  # noqa: E731
    _wait(lambda: shown() == ["b-preview.png", "busy_a-busy_b-default.png"], 30, "b on the slider")
    assert [i.get_attribute("alt") for i in page.all("#compare img")][:1] == ["image b"]
