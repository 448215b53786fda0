"""Session 28, in Chromium, as a user: the page's upload limits, on a server of this test's own
started with a small ``--max-pixels`` (1000000: uploads of up to 12 bytes × that + 16 MiB =
28.8 MB, ``mutualfuse.web.server.upload_limit``; the shared server of conftest.py serves the other
tests).

- A file over the byte limit (Gradio's ``max_file_size``) is refused by Gradio in the browser, before
  anything is sent: its toast ("File(s) exceed the maximum allowed size of 27.4 Mb: "big.png"") goes
  after about ten seconds, and the upload box then showed only a red "Error", without a word of why;
  Fuse then said "upload two images (or pick a sample pair) first", as if nothing had been chosen.
  The box now says which file and the limit (``PAGE_JS``), until another file is chosen there or
  the box shows another file (a sample picked), and nothing of the file is stored on the server.
  Pair (box a, a file chosen) and stack (files dropped: the whole drop refused).
- A file under the byte limit whose image is larger than ``--max-pixels`` (a PNG of 20000×20000 of
  one colour: 389 kB) is refused at Fuse with one line on the status line naming the file, its
  size and the limit, from its header: the server's peak memory grows by far less than the 400 MB
  of the decoded image; no traceback in the server's log. Pair, and a stack of two of them.
"""
from __future__ import annotations

import os
import re
import shutil
import struct
import zlib
from pathlib import Path

import pytest
from serve_process import serving
from test_s27_web_gone_browser import _Page, _wait

MAX_PIXELS = 1_000_000
LIMIT = 12 * MAX_PIXELS + 16 * 2 ** 20  # mutualfuse.web.server.upload_limit(MAX_PIXELS)
SAMPLES = Path(__file__).resolve().parents[2] / "src" / "mutualfuse" / "data" / "samples"
BOMB_SIDE = 20000
#: the decoded bomb, 8-bit gray: what a server that decoded it first would hold at least
BOMB_BYTES = BOMB_SIDE * BOMB_SIDE


def _bomb_png(path: Path, side: int = BOMB_SIDE) -> None:
    """A valid 8-bit gray PNG of side × side zeros, written by rows (never held decoded here)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    z = zlib.compressobj(6)
    row = b"\0" * (side + 1)  # filter byte + pixels
    idat = b"".join(z.compress(row) for _ in range(side)) + z.flush()
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0))
                     + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def small(web_ready, tmp_path_factory):
    """(address, process, base folder, files): a server of its own with ``--max-pixels 1000000``, and
    the files the tests upload: ``big.png`` (1 MB over the byte limit), ``bomb.png`` and its copy
    ``bomb2.png`` (20000×20000), and the TNO sample's images."""
    base = tmp_path_factory.mktemp("s28-upload-serve")
    files = tmp_path_factory.mktemp("s28-upload-files")
    with open(files / "big.png", "wb") as f:
        f.write(os.urandom(LIMIT + 10 ** 6))
    _bomb_png(files / "bomb.png")
    shutil.copy(files / "bomb.png", files / "bomb2.png")
    for w in "ab":
        shutil.copy(SAMPLES / "tno-01" / f"{w}.png", files / f"tno-{w}.png")
    with serving(base, "--max-pixels", str(MAX_PIXELS)) as (url, proc):
        yield url, proc, base, files


def _reset_peak(pid: int) -> None:
    """Start the process's peak resident memory afresh from now (Linux: ``5`` to ``clear_refs``), so
    that an earlier peak (the other test's fusions) cannot hide a growth."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def _peak(pid: int) -> int:
    """The process's peak resident memory so far (bytes; Linux ``VmHWM``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def _open(d, url: str) -> _Page:
    d.get(url)
    page = _Page(d)
    _wait(lambda: page.all("#fuse-btn") and page.all("#input-a input[type=file]"), 60, "the page")
    page.choose("method", "average")
    return page


def _stored(base: Path, name: str) -> list[Path]:
    """Files of that name in the server's folders (its uploads and results)."""
    return list(base.glob(f"mutualfuse-serve-*/**/{name}"))


def _line(page: _Page, css: str, start: str, timeout: float = 240) -> str:
    return _wait(lambda: (lambda t: t if t.startswith(start) else None)(page.all(css)[0].text.strip()), timeout,
                 f"{css} to say {start!r}")


def _log_clean(base: Path) -> None:
    log = (base / "serve.log").read_text()
    assert "Traceback" not in log and "Exception" not in log, log[-3000:]


def test_a_file_over_the_byte_limit_is_refused_and_the_box_says_why(small, browser):
    url, proc, base, files = small
    d = browser
    page = _open(d, url)
    said = (f"big.png ({(LIMIT + 10 ** 6) / 2 ** 20:.1f} MiB) is larger than this server's upload limit of "
            f"{LIMIT / 2 ** 20:.1f} MiB per file: not uploaded")  # as Gradio's toast counts (its "Mb": MiB)

    # the pair: image a too large, image b a sample image
    page.all("#input-a input[type=file]")[0].send_keys(str(files / "big.png"))
    page.all("#input-b input[type=file]")[0].send_keys(str(files / "tno-b.png"))
    toast = _wait(lambda: [t.text for t in page.all("[data-testid=toast-body]") if "big.png" in t.text], 30,
                  "Gradio's toast")
    assert "exceed the maximum allowed size" in toast[0], toast  # Gradio's words, gone after seconds
    _wait(lambda: page.all("#input-b td.filename"), 60, "image b uploaded")
    notice = _wait(lambda: [n for n in page.all("#input-a .mf-too-large") if n.is_displayed()], 30, "box a's notice")
    assert notice[0].text.startswith(said) and notice[0].get_attribute("role") == "alert", notice[0].text
    assert not page.all("#input-a td.filename")  # not uploaded
    _wait(lambda: not page.all("[data-testid=toast-body]"), 30, "the toast to go")
    assert [n.text for n in page.all("#input-a .mf-too-large")] == [notice[0].text]  # still said after it
    status = page.status_after_fuse()
    assert status.startswith("mutualfuse: error: upload two images"), status
    assert not _stored(base, "big.png")  # refused before anything was sent

    # a sample pair picked: the box shows another file, the notice goes, the pair fuses
    page.choose("sample", "tno-01")
    _wait(lambda: page.all("#input-a td.filename"), 60, "the sample pair")
    _wait(lambda: not page.all("#input-a .mf-too-large"), 30, "box a's notice to go")
    assert page.status_after_fuse().startswith("done: "), page.all("#status")[0].text

    # the stack, files dropped on it: the whole drop is refused with the file too large; the box says so
    area = page.all("#stack-input button.upload-container")[0]
    d.execute_script("""
        const dt = new DataTransfer();
        dt.items.add(new File([new Uint8Array(arguments[1])], "big.png", {type: "image/png"}));
        dt.items.add(new File([new Uint8Array(10)], "small.png", {type: "image/png"}));
        for (const kind of ["dragenter", "dragover", "drop"])
          arguments[0].dispatchEvent(new DragEvent(kind, {dataTransfer: dt, bubbles: true, cancelable: true}));
    """, area, LIMIT + 10 ** 6)
    notice = _wait(lambda: [n for n in page.all("#stack-input .mf-too-large") if n.is_displayed()], 30,
                   "the stack box's notice")
    assert notice[0].text.startswith(said + " (nor the other files chosen with it)"), notice[0].text
    _wait(lambda: [t for t in page.all("[data-testid=toast-body]") if "big.png" in t.text], 30, "Gradio's toast")
    assert not page.all("#stack-input td.filename")
    page.all("#stack-btn")[0].click()
    assert _line(page, "#stack-status", "mutualfuse:", 60).startswith("mutualfuse: error: upload the stack first")
    # other files chosen: the notice goes
    page.all("#stack-input input[type=file]")[0].send_keys("\n".join(str(files / f"tno-{w}.png") for w in "ab"))
    _wait(lambda: len(page.all("#stack-input td.filename")) == 2, 60, "the stack uploaded")
    assert not page.all("#stack-input .mf-too-large")
    assert not _stored(base, "big.png")
    assert "Traceback" not in page.all("body")[0].text
    _log_clean(base)


def test_an_image_over_max_pixels_is_one_line_on_the_status_line_decoded_never(small, browser):
    url, proc, base, files = small
    d = browser
    page = _open(d, url)
    _reset_peak(proc.pid)
    before = _peak(proc.pid)
    made = {p for p in base.glob("mutualfuse-serve-*/results/**/*") if p.is_file()}
    limit = f"image is {BOMB_SIDE}x{BOMB_SIDE} = {BOMB_SIDE ** 2} pixels, more than the limit of {MAX_PIXELS}"

    # the pair
    assert (files / "bomb.png").stat().st_size < LIMIT / 10
    page.all("#input-a input[type=file]")[0].send_keys(str(files / "bomb.png"))
    page.all("#input-b input[type=file]")[0].send_keys(str(files / "tno-b.png"))
    _wait(lambda: all(page.all(f"#input-{w} td.filename") for w in "ab"), 60, "the pair uploaded")
    assert not page.all(".mf-too-large")  # under the byte limit: uploaded
    status = page.status_after_fuse()
    assert status.startswith(f"mutualfuse: error: bomb.png: {limit}"), status
    assert "serve --max-pixels" in status and "Traceback" not in status, status
    shown = [p.get_attribute("textContent").strip() for p in page.all("#status p")]
    assert len(shown) == 1 and "\n" not in shown[0] and str(base) not in shown[0], shown  # one line, no path

    # the stack: two planes of that size
    page.all("#stack-input input[type=file]")[0].send_keys("\n".join(str(files / n) for n in ("bomb.png", "bomb2.png")))
    _wait(lambda: len(page.all("#stack-input td.filename")) == 2, 60, "the stack uploaded")
    page.all("#stack-btn")[0].click()
    status = _line(page, "#stack-status", "mutualfuse:")
    assert re.match(r"mutualfuse: error: bomb2?\.png: " + re.escape(limit), status), status  # either plane
    assert "serve --max-pixels" in status and str(base) not in status, status

    grew = _peak(proc.pid) - before
    assert grew < BOMB_BYTES // 4, f"the server's peak memory grew {grew / 1e6:.0f} MB: the image was decoded"
    assert {p for p in base.glob("mutualfuse-serve-*/results/**/*") if p.is_file()} <= made  # nothing written
    assert "Traceback" not in page.all("body")[0].text
    _log_clean(base)
    # the server serves the next request
    page.choose("sample", "tno-01")
    _wait(lambda: "bomb" not in page.all("#input-a")[0].text and page.all("#input-a td.filename"), 60,
          "the sample pair")
    assert page.status_after_fuse().startswith("done: "), page.all("#status")[0].text
