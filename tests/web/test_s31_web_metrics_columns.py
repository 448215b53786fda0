"""Session 31, in Chromium: the metrics table's columns stay where they are when an error empties it.

Gradio sized the table's columns by their contents: after a result the "metric" column was wide
(its names), under an error (the table emptied, only the headers) the columns went back to the
headers' widths, each moving by tens of pixels (the "fused" column 27 px narrower at a 1400 px
window), and again with the next result. The columns now have fixed widths
(``mutualfuse.web.app.METRICS_COLUMNS``)."""
from __future__ import annotations

from test_s27_web_gone_browser import _Page, _wait
from test_s30_web_busy_fuse import _pair

#: the metrics table's header cells: (left, width) in CSS pixels
COLUMNS = """return Array.from(document.querySelectorAll('#metrics th'),
  t => [t.getBoundingClientRect().left, t.getBoundingClientRect().width]);"""


def test_metrics_columns_do_not_move_between_a_result_and_an_error(server, browser, tmp_path):
    d = browser
    d.get(server["url"])
    page = _Page(d)
    _wait(lambda: page.all("#fuse-btn") and page.all("#input-a input[type=file]"), 60, "the page")
    empty = d.execute_script(COLUMNS)
    a, b = _pair(tmp_path, 48)
    page.all("#input-a input[type=file]")[0].send_keys(str(a))
    page.all("#input-b input[type=file]")[0].send_keys(str(b))
    _wait(lambda: all(page.all(f"#input-{w} td.filename") for w in "ab"), 60, "the uploads")
    page.choose("method", "average")
    assert page.status_after_fuse().startswith("done"), "the result"
    _wait(lambda: "SSIM" in page.all("#metrics")[0].text, 30, "the metrics' rows")
    result = d.execute_script(COLUMNS)
    page.choose("method", "dwt")
    box = page.all("#params textarea")[0]
    box.clear()
    box.send_keys("nosuchparameter=1")
    assert page.status_after_fuse().startswith("mutualfuse: error"), "the error"
    error = d.execute_script(COLUMNS)
    assert len(empty) == len(result) == len(error) == 4, (empty, result, error)
    for before, res, err in zip(empty, result, error):
        for k in (0, 1):
            assert abs(res[k] - err[k]) < 1 and abs(res[k] - before[k]) < 1, (empty, result, error)
