"""Session 28, in Chromium, as a user: the page's focus-stack section (several images fused into one).

Its notices share the pair section's code (``app.PAGE_JS``) but had no browser test. Three colour
planes (the Lytro sample's two focus planes and their mean, 520x520), uploaded at once in a file
dialog's order (z10 first):

- a classical method: the status and timing lines, the fused image shown and loaded, the download
  link giving the server's file, the compare selector listing each image of the stack in stack
  order and the slider showing the one picked; then the result gone from the server (as Gradio's
  cache and the request folders go after the hour): a notice in each result box, no broken image,
  the download saying the same; Fuse stack again clears them;
- the default network: the note of its approximation, the progress in fusions, the slider;
- failures, each one line on the page, no traceback, no image left from before, no broken-image
  icon: one image, images of different sizes, a file that is not an image.
"""
from __future__ import annotations

import re
import urllib.parse
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_s27_web_gone_browser import _wait  # the same wait (240 s by default)

TIMEOUT = 240  # one stack on a busy 2-core machine
_BUSY = re.compile(r"\s*(processing|queue)\b", re.IGNORECASE)
GONE = ("This result is no longer on the server (results are kept about 60 minutes, or the server was restarted): "
        "press Fuse stack again to make it anew.")  # the stack's button (it said Fuse: test_s29_web_stack_gone_button.py)

STACK_GONE = ("mutualfuse: error: this result is no longer on the server (results are kept about 60 minutes, or the "
              "server was restarted): press Fuse stack again to make it anew")


class _Page:
    def __init__(self, d, url: str):
        from selenium.webdriver.common.by import By

        self.d, self.by = d, By
        d.get(url)
        _wait(lambda: self.all("#stack-btn"), 60, "the page")

    def all(self, css):
        return self.d.find_elements(self.by.CSS_SELECTOR, css)

    def text(self, css) -> str:
        els = self.all(css)
        return els[0].text.strip() if els else ""

    def options(self, elem: str) -> list[str]:
        """The choices a dropdown lists when opened (closed again with Escape)."""
        from selenium.webdriver.common.keys import Keys

        box = self.all(f"#{elem} input")[0]
        box.click()
        got = _wait(lambda: [li.get_attribute("aria-label") for li in self.all("li[role=option]")], 30,
                    f"{elem}'s list")
        box.send_keys(Keys.ESCAPE)
        return got

    def choose(self, elem: str, value: str) -> None:
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

    def upload(self, paths: list[Path]) -> None:
        """Several files at once into the stack's input, as a file dialog with several selected."""
        self.all("#stack-input input[type=file]")[0].send_keys("\n".join(str(p) for p in paths))
        want = sorted(p.name for p in paths)
        _wait(lambda: sorted(c.get_attribute("aria-label") for c in self.all("#stack-input td.filename")) == want,
              60, f"{want} uploaded to the stack")

    def busy(self) -> bool:
        return bool(self.d.execute_script(
            "return Array.from(document.querySelectorAll('#stack-status [data-testid=status-tracker], "
            "#stack-timing [data-testid=status-tracker]')).some(e => !e.classList.contains('hide'))"))

    def fuse_stack(self, progress: list | None = None) -> str:
        """Press *Fuse stack* → the new status line (the same result again: told by its new timing line);
        the progress said meanwhile (the page's live region) goes to ``progress``."""
        before = (self.text("#stack-status"), self.text("#stack-timing"))
        self.all("#stack-btn")[0].click()

        def done():
            if progress is not None:
                said = self.d.execute_script("const e = document.getElementById('mf-progress'); "
                                             "return e ? e.textContent : ''")
                if said and said not in progress:
                    progress.append(said)
            t, timing = self.text("#stack-status"), self.text("#stack-timing")
            if self.busy() or any(_BUSY.match(line) for line in (t + "\n" + timing).splitlines()):
                return None
            new = t != before[0] or (timing != before[1] and "fused in" in timing)
            return new and t.startswith(("done", "mutualfuse:")) and t

        return _wait(done, TIMEOUT, "the stack's result")

    def loaded(self, img) -> bool:
        return bool(self.d.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", img))

    def broken_images(self) -> list[str]:
        """Images of the page the browser shows as broken (loaded, no pixels) and not hidden."""
        return self.d.execute_script(
            "return Array.from(document.images).filter(i => i.getAttribute('src') && i.complete && "
            "i.naturalWidth === 0 && getComputedStyle(i).visibility !== 'hidden' && i.offsetWidth > 0)"
            ".map(i => i.src)")

    def notices(self, box: str) -> list[str]:
        return [n.text for n in self.all(f"#{box} .mf-gone") if n.is_displayed()]


def _server_file(url: str) -> Path:
    """The server's file behind a link of the page (``…/gradio_api/file=/tmp/…/x.png``)."""
    return Path(urllib.parse.unquote(urllib.parse.urlparse(url).path.split("/file=", 1)[1]))


def _one_line_error(page: _Page, status: str, *needles: str) -> None:
    """A failed stack: one error line naming the problem, no traceback, nothing left of an earlier
    result, no broken-image icon."""
    assert status.startswith("mutualfuse: error: ") and "\n" not in status, status
    for n in needles:
        assert n in status, (n, status)
    body = page.all("body")[0].text
    assert "Traceback" not in body and "internal error" not in body, body[-2000:]
    assert not [i for i in page.all("#stack-fused img, #stack-compare img") if i.get_attribute("src")]
    assert not page.all("#stack-download a[href]")
    assert page.text("#stack-timing") == ""
    assert not page.broken_images()


@pytest.fixture(scope="module")
def planes(tmp_path_factory, samples):
    """z1 / z2 / z10: the Lytro pair's two focus planes and their mean (520x520 RGB), a plane of
    another size, and a text file named as an image."""
    d = tmp_path_factory.mktemp("webstack")
    a, b = (np.asarray(Image.open(samples / "lytro-01" / f"{n}.png").convert("RGB")) for n in "ab")
    Image.fromarray(a).save(d / "z1.png")
    Image.fromarray(((a.astype(np.uint16) + b) // 2).astype(np.uint8)).save(d / "z2.png")
    Image.fromarray(b).save(d / "z10.png")
    Image.fromarray(np.ascontiguousarray(b[:-8, :-4])).save(d / "z3.png")
    (d / "notes.png").write_text("focus stack of the fly, planes 1 to 3\n")
    return d


def test_stack_classical_result_shown_then_gone_from_the_server(server, browser, planes):
    d = browser
    page = _Page(d, server["url"])
    page.choose("method", "average")
    page.upload([planes / "z10.png", planes / "z1.png", planes / "z2.png"])
    status = page.fuse_stack()
    assert re.fullmatch(r"done: z1-z10-average\.png \(3 images, 2 fusions, \d+\.\d\d s, 8-bit colour\)", status), status
    timing = " ".join(page.text("#stack-timing").replace("`", "").split())
    assert re.match(r"stack fused in \d+\.\d\d s \(reading, fusing and writing, cpu\) same as: mutualfuse fuse-stack "
                    r"z1\.png z2\.png z10\.png -o z1-z10-average\.png --order tree --method average ", timing), timing

    img = _wait(lambda: [i for i in page.all("#stack-fused img") if page.loaded(i)], 60, "the fused stack")[0]
    assert d.execute_script("return [arguments[0].naturalWidth, arguments[0].naturalHeight]", img) == [520, 520]
    assert img.get_attribute("alt") == "fused stack"
    assert img.is_displayed()

    # the download: the file the server wrote (the PNG shown), saved by the browser
    for f in browser.downloads.iterdir():
        f.unlink()
    link = _wait(lambda: page.all("#stack-download a[href]"), 60, "the download link")[0]
    served = _server_file(link.get_attribute("href"))
    assert served.name == "z1-z10-average.png"
    link.click()
    got = _wait(lambda: [f for f in browser.downloads.iterdir() if not f.name.endswith(".crdownload")], 60,
                "the download")[0]
    assert got.read_bytes() == served.read_bytes() == _server_file(img.get_attribute("src")).read_bytes()
    with Image.open(got) as im:
        assert (im.size, im.mode) == ((520, 520), "RGB")

    # the compare selector lists each image of the stack, in stack order; the slider shows the one picked
    assert page.options("stack-compare-with") == ["z1.png", "z2.png", "z10.png"]
    sides = _wait(lambda: [i for i in page.all("#stack-compare img[data-testid=imageslider-image]") if page.loaded(i)]
                  if len(page.all("#stack-compare img[data-testid=imageslider-image]")) == 2 else None, 60,
                  "the slider's two images")
    assert [i.get_attribute("alt") for i in sides] == ["stack image z1.png", "fused stack"]
    z1_src = sides[0].get_attribute("src")
    page.choose("stack-compare-with", "z2.png")
    left = _wait(lambda: [i for i in page.all("#stack-compare img[data-testid=imageslider-image]")
                          if i.get_attribute("src") != z1_src and page.loaded(i)
                          and i.get_attribute("alt") == "stack image z2.png"], 60, "the slider's z2")[0]
    with Image.open(_server_file(left.get_attribute("src"))) as im:
        assert np.array_equal(np.asarray(im.convert("RGB")), np.asarray(Image.open(planes / "z2.png").convert("RGB")))
    assert not page.all(".mf-gone") and not page.broken_images()

    # gone from the server after the hour: Gradio's cache and the request's folder
    shown = [_server_file(i.get_attribute("src")) for i in page.all("#stack-fused img, #stack-compare img")
             if i.get_attribute("src")]
    req = next(p for p in Path(server["tmpdir"]).rglob("z1-z10-average.png") if "gradio" not in p.parts).parent
    for f in {*shown, served, *req.iterdir()}:
        f.unlink()
    # the images are asked for again (as a browser does for an image it has not kept)
    d.execute_script("for (const i of document.querySelectorAll('#stack-fused img, #stack-compare img')) "
                     "i.src = i.src + (i.src.includes('?') ? '&' : '?') + 'again=1';")
    for box in ("stack-fused", "stack-compare"):
        assert _wait(lambda: page.notices(box), 30, f"the notice in #{box}") == [GONE], box
        n = page.all(f"#{box} .mf-gone")[0]
        assert n.get_attribute("role") == "alert"
    for i in page.all("#stack-fused img, #stack-compare img"):
        assert d.execute_script("return getComputedStyle(arguments[0]).visibility", i) == "hidden"
    assert not page.broken_images()
    page.all("#stack-download a[href]")[0].click()
    assert _wait(lambda: page.notices("stack-download"), 30, "the download's notice") == [GONE]
    # another image picked for the slider: it showed the one picked before (its alt naming the new
    # one) without a word; now the slider is emptied and the status line says why
    page.choose("stack-compare-with", "z10.png")
    assert _wait(lambda: page.text("#stack-status") if "no longer" in page.text("#stack-status") else None, 30,
                 "the status line to say the result is gone") == STACK_GONE
    _wait(lambda: not [i for i in page.all("#stack-compare img") if i.get_attribute("src")], 30, "the slider to empty")
    assert not page.broken_images()
    assert "Traceback" not in page.all("body")[0].text

    # Fuse stack again: the same result made anew, shown, the notices gone
    status = page.fuse_stack()
    assert status.startswith("done: z1-z10-average.png (3 images"), status
    _wait(lambda: not page.all(".mf-gone"), 30, "the notices to go")
    img = _wait(lambda: [i for i in page.all("#stack-fused img") if page.loaded(i)], 60, "the fused stack again")[0]
    assert d.execute_script("return getComputedStyle(arguments[0]).visibility", img) == "visible"
    _wait(lambda: len([i for i in page.all("#stack-compare img[data-testid=imageslider-image]") if page.loaded(i)
                       and d.execute_script("return getComputedStyle(arguments[0]).visibility", i) == "visible"])
          == 2, 60, "the slider's images again")
    assert not page.broken_images()

    # an error after a result: the result goes with it (no image, slider or link of the old one)
    [b for b in page.all("#stack-input button")
     if (b.get_attribute("aria-label") or "").lower() in ("clear", "remove")][0].click()
    _wait(lambda: not page.all("#stack-input td.filename"), 30, "the stack's input to clear")
    page.upload([planes / "z1.png"])
    _one_line_error(page, page.fuse_stack(),
                    "z1.png: a stack needs at least 2 images (or one multi-page TIFF)")
    assert page.all("#stack-compare-with input")[0].get_attribute("value") == ""  # no image of the old stack


def test_stack_network_note_progress_and_slider(server, browser, planes):
    d = browser
    page = _Page(d, server["url"])
    page.upload([planes / "z2.png", planes / "z10.png", planes / "z1.png"])
    progress: list[str] = []
    status = page.fuse_stack(progress)
    lines = status.splitlines()
    assert re.fullmatch(r"done: z1-z10-default\.png \(3 images, 2 fusions, \d+\.\d\d s, 8-bit colour\)",
                        lines[0]), status
    assert any(ln.startswith("note: approximate mutual mapping: computed on a 2x pooled grid") for ln in lines), status
    assert "Traceback" not in page.all("body")[0].text
    # the progress, said while it ran: the fusions counted
    assert any(p.startswith("stack:") for p in progress), progress
    assert any(re.search(r"\b[0-2]/2 fusions\b", p) for p in progress), progress
    img = _wait(lambda: [i for i in page.all("#stack-fused img") if page.loaded(i)], 60, "the fused stack")[0]
    assert d.execute_script("return arguments[0].naturalWidth", img) == 520
    assert page.options("stack-compare-with") == ["z1.png", "z2.png", "z10.png"]
    _wait(lambda: len([i for i in page.all("#stack-compare img[data-testid=imageslider-image]") if page.loaded(i)])
          == 2, 60, "the slider's images")
    link = _wait(lambda: page.all("#stack-download a[href]"), 60, "the download link")[0]
    assert _server_file(link.get_attribute("href")).name == "z1-z10-default.png"
    assert not page.all(".mf-gone") and not page.broken_images()


@pytest.mark.parametrize("files, needles", [
    (["z1.png"], ["z1.png: a stack needs at least 2 images (or one multi-page TIFF)"]),
    (["z1.png", "z2.png", "z3.png"], ["z3.png: size mismatch: z1.png is 520x520, z3.png is 516x512"]),
    (["z1.png", "notes.png"], ["notes.png: not a readable image (cannot identify image file 'notes.png')"]),
], ids=["one-image", "sizes-differ", "not-an-image"])
def test_stack_failures_are_one_line_on_the_page(server, browser, planes, files, needles):
    page = _Page(browser, server["url"])
    page.choose("method", "average")
    page.upload([planes / f for f in files])
    status = page.fuse_stack()
    _one_line_error(page, status, *needles)
    assert "/tmp" not in status and "gradio" not in status, status  # the uploads by their own names
