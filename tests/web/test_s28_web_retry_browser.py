"""Session 28, in Chromium: an image that failed while its file was missing, and whose file is there again
by the time the page checks, is loaded again instead of staying a broken image.

A clean-clone CI run failed test_s27_web_gone_browser.py's last step ("the new fused image" never loaded):
the same result fused again has the same address, and the page reloads an image whose result was gone when
the result's box changes. That reload could run while the new result was still being made (the box's
timing line changes when the request starts), fail, and the page's check of the address (a HEAD request)
then found the file made anew: the notice went, the broken image stayed, and nothing loaded it again. The
page now loads such an image again (once per address).

Here the race is made deterministic: the file is moved away, the image asked for again (it fails), the
page's HEAD check is held back until the file is back."""
from __future__ import annotations

from test_s27_web_gone_browser import _server_file, _wait, fuse_sample


def test_an_image_that_failed_while_its_file_was_being_made_is_loaded_again(server, browser):
    d = browser
    page, status = fuse_sample(d, server["url"])
    assert status.startswith("done"), status
    loaded = "return arguments[0].complete && arguments[0].naturalWidth > 0"
    img = _wait(lambda: [i for i in page.all("#fused img") if d.execute_script(loaded, i)], 60, "the fused image")[0]
    f = _server_file(img.get_attribute("src"))
    away = f.with_name(f.name + ".away")
    d.execute_script("""
        window.mfHeld = 0;
        const f = window.fetch;
        window.fetch = (u, o) => (o && o.method === "HEAD")
            ? new Promise(r => { window.mfHeld += 1; setTimeout(r, 3000); }).then(() => f(u, o)) : f(u, o);""")
    f.rename(away)
    try:
        d.execute_script("const i = arguments[0]; i.src = i.src + (i.src.includes('?') ? '&' : '?') + 'again=1';",
                         img)
        _wait(lambda: d.execute_script("return window.mfHeld") >= 1, 30, "the page's check of the address")
    finally:
        away.rename(f)  # made anew before the check answers
    _wait(lambda: d.execute_script(loaded, img), 30, "the image loaded again")
    assert d.execute_script("return getComputedStyle(arguments[0]).visibility", img) == "visible"
    assert not page.all(".mf-gone")
