"""Session 27, in Chromium: what the page shows when a result cannot be shown, and markup typed into
a parameter.

- A result whose file is no longer on the server (results are kept about an hour: Gradio's cache
  deletes them; or the server was restarted) showed the browser's broken-image icon where the image
  was, and its download link failed without a word on the page (Chromium's download bar said
  "Failed - No file"). The page now hides the broken image and says in the result's box that the
  result is no longer on the server, how long results are kept and to press Fuse again; a download
  link that fails says the same. The downloads' label says how long results are kept.
- A ``--param`` value holding HTML (``<img src=x onerror=…>``) came back in the error line as an
  image (Gradio sanitises the Markdown: a broken-image icon, not the text typed); the status line now
  shows the text as typed (test_s26_markup_browser.py checks that no handler runs).

The result's file is removed on the server as Gradio's cache removes it after the hour; the image
is then loaded again (its address asked anew, as a browser does for an image it has not kept)."""
from __future__ import annotations

import time
import urllib.parse
from pathlib import Path

TIMEOUT = 240


def _wait(cond, timeout=TIMEOUT, what="condition"):
    t0 = time.time()
    while time.time() - t0 < timeout:
        try:
            v = cond()
        except Exception:  # noqa: BLE001 - an element re-rendered while read: try again
            v = None
        if v:
            return v
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class _Page:
    def __init__(self, d):
        from selenium.webdriver.common.by import By

        self.d, self.by = d, By

    def all(self, css):
        return self.d.find_elements(self.by.CSS_SELECTOR, css)

    def choose(self, elem, value):
        from selenium.webdriver.common.keys import Keys

        box = self.all(f"#{elem} input")[0]
        box.click()
        box.send_keys(Keys.CONTROL, "a")
        box.send_keys(value)
        opt = _wait(lambda: [li for li in self.all("li[role=option]")
                             if (li.get_attribute("aria-label") or "").split()[0:1] == [value]], 30, value)
        opt[0].click()
        _wait(lambda: self.all(f"#{elem} input")[0].get_attribute("value").split()[0:1] == [value], 30,
              f"{elem}={value}")

    def status_after_fuse(self) -> str:
        """Press Fuse → the new status. The same result again is told by its new timing line or,
        where that line reads as before (the same seconds to two decimals: common for a fast
        method, and the CI failure of 2026-12-07), by the request's progress seen on the status or
        timing line (a MutationObserver set before the press) and gone again."""
        now = lambda: (self.all("#status")[0].text.strip(), self.all("#timing")[0].text.strip())  # noqa: E731
        before = now()
        self.d.execute_script(_WATCH_JS)
        self.all("#fuse-btn")[0].click()

        def done():
            t, timing = now()
            ran = self.d.execute_script("return window.__mfSeen === true && !window.__mfBusy();")
            new = (t != before[0] or (timing != before[1] and "fused in" in timing) or ran) and "processing" not in t
            return new and t.startswith(("done", "mutualfuse:")) and t

        return _wait(done, TIMEOUT, "the result")


#: watches the status and timing lines' progress trackers: ``window.__mfSeen`` becomes true once one
#: has been shown (a request of the pair section ran), ``window.__mfBusy()`` says whether one shows now
_WATCH_JS = r"""
const sel = "#status [data-testid=status-tracker], #timing [data-testid=status-tracker]";
window.__mfBusy = () => Array.from(document.querySelectorAll(sel)).some(t => !t.classList.contains("hide"));
window.__mfSeen = false;
if (window.__mfObs) window.__mfObs.disconnect();
window.__mfObs = new MutationObserver(records => {
  if (window.__mfBusy()) { window.__mfSeen = true; return; }
  for (const m of records) {  // shown and hidden again between two callbacks: its old class said so
    const el = m.target;
    if (m.type === "attributes" && el.matches && el.matches(sel) && !(m.oldValue || "").split(/\s+/).includes("hide")) {
      window.__mfSeen = true; return;
    }
  }
});
window.__mfObs.observe(document.body, {subtree: true, childList: true, attributes: true,
                                       attributeFilter: ["class"], attributeOldValue: true});
"""


def _server_file(url: str) -> Path:
    """The server's file behind a link of the page (``…/gradio_api/file=/tmp/…/x.png``)."""
    return Path(urllib.parse.unquote(urllib.parse.urlparse(url).path.split("/file=", 1)[1]))


def fuse_sample(d, url: str, method: str = "average", sample: str = "tno-01") -> tuple[_Page, str]:
    """The page at ``url`` with ``sample`` fused by ``method`` → (the page, its status line after the fuse)."""
    d.get(url)
    page = _Page(d)
    _wait(lambda: page.all("#fuse-btn"), 60, "the page")
    page.choose("sample", sample)
    _wait(lambda: all(page.all(f"#input-{w} td.filename") for w in "ab"), 60, "the sample pair")
    page.choose("method", method)
    return page, page.status_after_fuse()


def test_a_result_gone_from_the_server_is_said_on_the_page_not_a_broken_image(server, browser):
    d = browser
    page, status = fuse_sample(d, server["url"])
    assert status.startswith("done"), status
    img = _wait(lambda: [i for i in page.all("#fused img") if d.execute_script(
        "return arguments[0].complete && arguments[0].naturalWidth > 0", i)], 60, "the fused image")[0]
    link = _wait(lambda: page.all("#downloads a[href]"), 60, "the download link")[0]
    assert not page.all(".mf-gone")
    for f in {_server_file(img.get_attribute("src")), _server_file(link.get_attribute("href"))}:
        f.unlink()  # as Gradio's cache removes it after the hour

    d.execute_script("const i = arguments[0]; i.src = i.src + (i.src.includes('?') ? '&' : '?') + 'again=1';", img)
    gone = _wait(lambda: [n for n in page.all("#fused .mf-gone") if n.is_displayed()], 30, "the notice")[0]
    assert gone.text == ("This result is no longer on the server (results are kept about 60 minutes, or the "
                         "server was restarted): press Fuse again to make it anew."), gone.text
    assert gone.get_attribute("role") == "alert"
    assert d.execute_script("return getComputedStyle(arguments[0]).visibility", img) == "hidden"  # no broken icon

    link.click()
    gone = _wait(lambda: [n for n in page.all("#downloads .mf-gone") if n.is_displayed()], 30, "the download's notice")
    assert "no longer on the server" in gone[0].text

    # the next result clears the notices and shows its image
    status = page.status_after_fuse()
    assert status.startswith("done"), status
    _wait(lambda: not page.all(".mf-gone"), 30, "the notices to go")
    img = _wait(lambda: [i for i in page.all("#fused img") if d.execute_script(
        "return arguments[0].complete && arguments[0].naturalWidth > 0", i)], 60, "the new fused image")[0]
    assert d.execute_script("return getComputedStyle(arguments[0]).visibility", img) == "visible"
    label = page.all("#downloads [data-testid=block-label]")[0]  # how long they are kept, said beside them
    assert "kept on this server about 60 minutes" in label.get_attribute("textContent"), label.text


def test_markup_typed_into_a_parameter_is_shown_as_typed(server, browser):
    from selenium.webdriver.common.keys import Keys

    d = browser
    d.get(server["url"])
    page = _Page(d)
    _wait(lambda: page.all("#fuse-btn"), 60, "the page")
    page.choose("sample", "tno-01")
    _wait(lambda: all(page.all(f"#input-{w} td.filename") for w in "ab"), 60, "the sample pair")
    page.choose("method", "dwt")
    box = _wait(lambda: [e for e in page.all("#params textarea") if "levels=" in (e.get_attribute("value") or "")],
                30, "dwt's parameters")[0]
    typed = "levels=<img src=x onerror=\"document.title='XSS'\"> & <b>3</b>"
    box.click()
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.DELETE)
    box.send_keys(typed)
    box.send_keys(Keys.TAB)
    time.sleep(1)
    status = page.status_after_fuse()
    assert status.startswith("mutualfuse: error:") and typed.split("=", 1)[1] in status, status
    assert not page.all("#status img") and not page.all("#status b"), status
    assert d.title != "XSS"
