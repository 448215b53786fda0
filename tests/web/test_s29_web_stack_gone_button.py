"""Session 29, in Chromium: a stack's result gone from the server says to press *Fuse stack* in its
boxes, as the stack's status line does.

The notice the page writes into a result's box when its file is no longer on the server
(``PAGE_JS``) said "press Fuse again to make it anew" in the stack's boxes too (fused stack, its
slider, its download), beside the stack's status line saying "press Fuse stack again": *Fuse* is
the pair's button, which fuses the pair (or says "upload two images … first"), not the stack."""
from __future__ import annotations

from pathlib import Path

from test_s27_web_gone_browser import _server_file, _wait
from test_s28_webstack_browser import _Page, planes  # noqa: F401 - the fixture: z1 / z2 / z10

NOTICE = ("This result is no longer on the server (results are kept about 60 minutes, or the server was restarted): "
          "press Fuse stack again to make it anew.")


def test_a_stacks_gone_result_says_to_press_fuse_stack(server, browser, planes):  # noqa: F811
    d = browser
    page = _Page(d, server["url"])
    page.choose("method", "average")
    page.upload([planes / "z1.png", planes / "z10.png"])
    status = page.fuse_stack()
    assert status.startswith("done: z1-z10-average.png"), status
    _wait(lambda: [i for i in page.all("#stack-fused img") if page.loaded(i)], 60, "the fused stack")
    _wait(lambda: len([i for i in page.all("#stack-compare img") if page.loaded(i)]) == 2, 60, "the slider")
    link = _wait(lambda: page.all("#stack-download a[href]"), 60, "the download link")[0]
    files = {_server_file(i.get_attribute("src")) for i in page.all("#stack-fused img, #stack-compare img")}
    for f in files | {_server_file(link.get_attribute("href"))}:
        Path(f).unlink(missing_ok=True)  # as Gradio's cache removes them after the hour
    d.execute_script("for (const i of document.querySelectorAll('#stack-fused img, #stack-compare img')) "
                     "i.src = i.src + (i.src.includes('?') ? '&' : '?') + 'again=1';")
    for box in ("stack-fused", "stack-compare"):
        assert _wait(lambda: page.notices(box), 30, f"the notice in #{box}") == [NOTICE], box
    link.click()
    assert _wait(lambda: page.notices("stack-download"), 30, "the download's notice") == [NOTICE]
