"""Session 30, in Chromium: an empty status line keeps the height of one line.

The pair's and the stack's status lines (``#status``, ``#stack-status``) were zero pixels high while
empty: the first status shown (an error, ``done: …``) pushed everything under it down by a line (the
fused image, the slider, the table: a click aimed at them landed elsewhere), and the progress of a
fusion, drawn by Gradio inside the status line, was not seen there at all. They now keep one line's
height."""
from __future__ import annotations

from test_s27_web_gone_browser import _Page, _wait

#: the status lines' heights and the top of the box under each, in CSS pixels
LAYOUT = """return ["status", "stack-status", "fused", "stack-fused"].map(
  id => [document.getElementById(id).getBoundingClientRect().height,
         document.getElementById(id).getBoundingClientRect().top + window.scrollY]);"""


def test_the_first_status_does_not_move_the_page(server, browser):
    d = browser
    d.get(server["url"])
    page = _Page(d)
    _wait(lambda: page.all("#fuse-btn") and page.all("#stack-btn"), 60, "the page")
    before = d.execute_script(LAYOUT)
    assert before[0][0] > 10 and before[1][0] > 10, before
    # nothing uploaded: each button says so in one line of its status line
    for k, (button, status) in enumerate([("fuse-btn", "status"), ("stack-btn", "stack-status")]):
        before = d.execute_script(LAYOUT)
        page.all(f"#{button}")[0].click()
        _wait(lambda: page.all(f"#{status}")[0].text.startswith("mutualfuse: error"), 60, f"the error in #{status}")
        after = d.execute_script(LAYOUT)
        for i in (k, k + 2):  # the status line and the image under it
            (h0, y0), (h1, y1) = before[i], after[i]
            assert abs(h1 - h0) < 1 and abs(y1 - y0) < 1, (status, before, after)
