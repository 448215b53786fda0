"""Session 31, in Chromium: Fuse pressed again while this tab's request waits behind another tab's
fusion says that it waits, not that a fusion of its own runs.

The server fuses one request at a time (one queue for every tab and both sections). A tab whose Fuse
waited in that queue behind another tab's fusion said, on a second press, "A fusion is running: …
the result of the fusion running comes here", as if its own were running (and someone else's
result were coming). It now says that the request waits in the queue for another fusion to
finish, and the note follows the request when it leaves the queue."""
from __future__ import annotations

from test_s27_web_gone_browser import _Page, _wait
from test_s30_web_busy_fuse import OWN_TEXT, _pair

QUEUED = "#status [data-testid=status-tracker]:not(.hide), #timing [data-testid=status-tracker]:not(.hide)"


def _open(d, url, files):
    d.get(url)
    page = _Page(d)
    _wait(lambda: page.all("#fuse-btn") and page.all("#input-a input[type=file]"), 60, "the page")
    for w, f in zip("ab", files):
        page.all(f"#input-{w} input[type=file]")[0].send_keys(str(f))
    _wait(lambda: all(page.all(f"#input-{w} td.filename") for w in "ab"), 60, "the uploads")
    return page


def test_a_press_while_waiting_behind_another_tab_says_it_waits(server, browser, tmp_path):
    d = browser
    small = tmp_path / "small"
    small.mkdir()
    mine = _open(d, server["url"], _pair(small, 32))
    mine.choose("method", "average")
    first = d.current_window_handle
    d.switch_to.new_window("tab")  # another tab: a network fusion of seconds
    other = _open(d, server["url"], _pair(tmp_path, 800))
    other.all("#fuse-btn")[0].click()
    _wait(lambda: other.all(QUEUED), 60, "the other tab's fusion running")
    d.switch_to.window(first)
    button = mine.all("#fuse-btn")[0]
    button.click()
    _wait(lambda: any("queue" in t.text for t in mine.all(QUEUED)), 60, "this tab's request in the queue")
    d.execute_script("arguments[0].click();", button)  # pressed again while it waits
    said = _wait(lambda: d.execute_script(OWN_TEXT, "status"), 10, "a word on the second press")
    assert "waits" in said and "another fusion" in said, said
    assert "A fusion is running" not in said, said
    _wait(lambda: not mine.all(QUEUED) and mine.all("#status")[0].text.startswith("done"), 240, "this tab's result")
    said = d.execute_script(OWN_TEXT, "status")
    assert said.startswith("done: busy_a-busy_b-average.png") and "waits" not in said, said
