"""Session 28, in Chromium, as a user: the pair section's result when it is gone from the server, or
the server cannot be reached.

- The compare selector ("the slider compares the fused image with"): after the result's files were
  removed (Gradio's cache and the request folders go after the hour), picking the other source left
  the slider showing the one picked before, its alt text naming the new one, without a word on the
  page. The slider is now emptied and the status line says the result is no longer on the server and
  to press Fuse again, as the stack's selector does (test_s28_webstack_browser.py; the handler alone:
  test_s28_webpair_app.py); Fuse again shows the slider again.
- The page's notice when the server cannot be reached (stopped): a server of this test's own (the
  shared one of conftest.py serves the other tests), a pair fused, the server stopped, the images
  asked for again and the download pressed: each box says the result could not be fetched because
  the server cannot be reached, no broken image."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

from serve_process import serving, stop_serve
from test_s27_web_gone_browser import _Page, _server_file, _wait, fuse_sample

PAIR_GONE = ("mutualfuse: error: this result is no longer on the server (results are kept about 60 minutes, or the "
             "server was restarted): press Fuse again to make it anew")
UNREACHABLE = "This result could not be fetched: the server cannot be reached (stopped?)."
LOADED = "return arguments[0].complete && arguments[0].naturalWidth > 0"


def _fused_pair(d, url: str) -> tuple[_Page, str]:
    """The page at ``url``, the tno-01 sample fused by pixel average → (page, the fused file's name),
    its fused image and both of its slider's images loaded."""
    page, status = fuse_sample(d, url)
    m = re.match(r"done: (\S+\.png)", status)
    assert m, status
    _wait(lambda: [i for i in page.all("#fused img") if d.execute_script(LOADED, i)], 60, "the fused image")
    _slider(page, "image a")
    return page, m.group(1)


def _slider(page: _Page, left: str) -> list:
    """The slider's two images, loaded, the left one named ``left`` by its alt text."""
    d = page.d
    return _wait(lambda: (lambda imgs: imgs if len(imgs) == 2 and all(d.execute_script(LOADED, i) for i in imgs)
                          and [i.get_attribute("alt") for i in imgs] == [left, "fused image"] else None)(
                              page.all("#compare img[data-testid=imageslider-image]")), 60, f"the slider ({left})")


def _pick(page: _Page, which: str) -> None:
    """Click a choice of the compare selector (a radio)."""
    radio = [i for i in page.all("#compare-with input[type=radio]") if i.get_attribute("value") == which][0]
    page.d.execute_script("arguments[0].click()", radio)
    _wait(lambda: [i for i in page.all("#compare-with input[type=radio]")
                   if i.get_attribute("value") == which and i.is_selected()], 30, f"{which} picked")


def _broken(d) -> list[str]:
    """Images the browser shows as broken (loaded, no pixels) and not hidden."""
    return d.execute_script(
        "return Array.from(document.images).filter(i => i.getAttribute('src') && i.complete && "
        "i.naturalWidth === 0 && getComputedStyle(i).visibility !== 'hidden' && i.offsetWidth > 0).map(i => i.src)")


def test_picking_the_other_source_after_the_result_is_gone_says_so(server, browser):
    d = browser
    page, name = _fused_pair(d, server["url"])
    status = page.all("#status")[0].text.strip()
    # the selector with the result there: the other source shown, the status line as it was
    _pick(page, "b vs fused")
    _slider(page, "image b")
    _pick(page, "a vs fused")
    _slider(page, "image a")
    assert page.all("#status")[0].text.strip() == status

    # gone from the server after the hour: Gradio's cache of what the page shows, and the request's
    # folder (every request folder holding this name: another tab's test may have fused the same pair)
    shown = [_server_file(e.get_attribute("src") or e.get_attribute("href"))
             for e in page.all("#fused img[src], #compare img[src], #downloads a[href]")]
    folders = {p.parent for p in Path(server["tmpdir"]).glob(f"mutualfuse-serve-*/results/req-*/{name}")}
    assert folders, name
    for f in shown:
        f.unlink(missing_ok=True)
    for folder in folders:
        shutil.rmtree(folder)

    # the other source picked: it kept the old image without a word; now the status line says why
    # and the slider is emptied
    _pick(page, "b vs fused")
    said = _wait(lambda: (lambda t: t if "no longer" in t else None)(page.all("#status")[0].text.strip()), 30,
                 "the status line to say the result is gone")
    assert said == PAIR_GONE, said
    _wait(lambda: not [i for i in page.all("#compare img") if i.get_attribute("src")], 30, "the slider to empty")
    assert not _broken(d)
    assert "Traceback" not in page.all("body")[0].text
    # picked again: still said, still empty
    _pick(page, "a vs fused")
    assert page.all("#status")[0].text.strip() == PAIR_GONE
    assert not [i for i in page.all("#compare img") if i.get_attribute("src")]

    # Fuse again: the result made anew, the slider shown again with the source picked
    _pick(page, "b vs fused")
    assert page.status_after_fuse().startswith(f"done: {name}")
    _slider(page, "image b")
    assert not _broken(d)


def test_a_stopped_server_is_said_in_each_result_box(browser, tmp_path):
    """The shared server (conftest.py) goes on serving the other tests: this one starts its own."""
    d = browser
    base = tmp_path / "webpair-serve"
    base.mkdir()
    with serving(base) as (url, proc):
        page, _ = _fused_pair(d, url)
        img = page.all("#fused img")[0]
        link = _wait(lambda: page.all("#downloads a[href]"), 60, "the download link")[0]
        assert not page.all(".mf-gone")
        stop_serve(proc)
        assert proc.returncode is not None
    # the image asked for again (as a browser does for an image it has not kept), the download pressed
    d.execute_script("const i = arguments[0]; i.src = i.src + (i.src.includes('?') ? '&' : '?') + 'again=1';", img)
    for box in ("fused",):
        n = _wait(lambda: [n for n in page.all(f"#{box} .mf-gone") if n.is_displayed()], 30, f"#{box}'s notice")
        assert [x.text for x in n] == [UNREACHABLE] and n[0].get_attribute("role") == "alert"
    assert d.execute_script("return getComputedStyle(arguments[0]).visibility", img) == "hidden"  # no broken icon
    link.click()
    n = _wait(lambda: [n for n in page.all("#downloads .mf-gone") if n.is_displayed()], 30, "the download's notice")
    assert [x.text for x in n] == [UNREACHABLE]
    assert not _broken(d)
