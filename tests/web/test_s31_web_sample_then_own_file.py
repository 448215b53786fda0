"""Session 31, in Chromium: a file of one's own put in place of a sample's clears the sample selector.

A sample picked fills both upload boxes; a file of one's own then put into one of them (the
sample's cleared, one's own uploaded) left
the selector naming the sample beside the user's file, and picking that sample again to get its
file back did nothing (the selector's value did not change, so the page did not fill the boxes).
The selector is now emptied when a file is uploaded or cleared by hand, and picking the sample
again fills both boxes with its files."""
from __future__ import annotations

from test_s27_web_gone_browser import _Page, _wait
from test_s30_web_busy_fuse import _pair


def test_own_upload_clears_the_sample_and_the_sample_can_be_picked_again(server, browser, tmp_path):
    d = browser
    d.get(server["url"])
    page = _Page(d)
    _wait(lambda: page.all("#sample input") and page.all("#input-a input[type=file]"), 60, "the page")
    files = lambda: ["".join(page.all(f"#input-{w} td.filename")[0].text.split())  # noqa: E731 - "a\n.png"
                     if page.all(f"#input-{w} td.filename") else "" for w in "ab"]
    page.choose("sample", "tno-01")
    _wait(lambda: files() == ["a.png", "b.png"], 60, "the sample's files")
    mine, _ = _pair(tmp_path, 32)
    page.all("#input-a button[aria-label=Clear]")[0].click()  # the sample's file cleared, one's own uploaded
    page.all("#input-a input[type=file]")[0].send_keys(str(mine))
    _wait(lambda: files() == ["busy_a.png", "b.png"], 60, "the own file in box a")
    _wait(lambda: page.all("#sample input")[0].get_attribute("value") == "", 30,
          "the sample selector emptied (it said " + repr(page.all("#sample input")[0].get_attribute("value")) + ")")
    page.choose("sample", "tno-01")
    _wait(lambda: files() == ["a.png", "b.png"], 60, "the sample's files again")
