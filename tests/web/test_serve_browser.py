"""``mutualfuse serve`` driven by a real headless Chromium (Selenium + Debian's chromium-driver).

One page session, in order: the shipped default network on an uploaded IR/visible pair (download
compared with ``mutualfuse fuse`` pixel for pixel, the metrics table checked against the
library's metrics of the CLI's output), a large colour pair (1920×1080: the page shows the
streaming windows' progress, the download equals the CLI's, and the server's memory grows by at
most 1.5x what the whole CLI process peaks at for the same pair), a mismatched pair (a readable error on the page, the
server keeps serving), a classical method with a parameter on a 16-bit pair (PNG and 16-bit TIFF
downloads, both equal to the CLI's), then: no request left the machine, neither from the page
(Chromium's network log) nor from the server (every socket connect is logged), and the server
removes its temporary files when stopped. Before it (it stops the server), the focus-stack
section: its downloads byte-identical to ``mutualfuse fuse-stack`` with the command it shows.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.slow

TIMEOUT = 240  # seconds for one fuse on a busy 2-core machine


def _cli(*args: str) -> None:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    r = subprocess.run([sys.executable, "-m", "mutualfuse", *args], capture_output=True, text=True, env=env,
                       timeout=600)
    assert r.returncode == 0, r.stderr


def _cli_peak_rss(*args: str) -> int:
    """Run the CLI; its peak resident memory in kB (``wait4``'s ru_maxrss of that one process)."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, "-m", "mutualfuse", *args], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.returncode == 0, err.decode(errors="replace")
    return usage.ru_maxrss


def _proc_kb(pid: int, key: str) -> int:
    """``VmRSS`` / ``VmHWM`` of a process in kB, from /proc/PID/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def _read(path: Path) -> np.ndarray:
    if path.suffix.lower() in (".tif", ".tiff"):
        import tifffile

        return tifffile.imread(path)
    with Image.open(path) as im:
        return np.asarray(im)


#: a line of Gradio's progress overlay on an output while its request is queued or running
_BUSY = re.compile(r"\s*(processing|queue)\b", re.IGNORECASE)


def _wait(cond, timeout=TIMEOUT, what="condition"):
    t0 = time.time()
    while time.time() - t0 < timeout:
        v = cond()
        if v:
            return v
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class Page:
    def __init__(self, drv, url: str):
        from selenium.webdriver.common.by import By

        self.d, self.By = drv, By
        drv.get(url)
        _wait(lambda: self.all("#fuse-btn"), 60, "the page")

    def all(self, css):
        return self.d.find_elements(self.By.CSS_SELECTOR, css)

    def one(self, css):
        return self.d.find_element(self.By.CSS_SELECTOR, css)

    def text(self, css) -> str:
        els = self.all(css)
        return els[0].text.strip() if els else ""

    def upload(self, which: str, path: Path) -> None:
        box = f"#input-{which}"
        clear = [b for b in self.all(f"{box} button") if (b.get_attribute("aria-label") or "").lower() in ("clear", "remove")]
        if clear:
            clear[0].click()
            _wait(lambda: self.all(f"{box} input[type=file]"), 30, f"{box} to clear")
        self.one(f"{box} input[type=file]").send_keys(str(path))
        _wait(lambda: [c for c in self.all(f"{box} td.filename") if c.get_attribute("aria-label") == path.name],
              60, f"{path.name} uploaded to {box}")

    def choose(self, elem: str, value: str) -> None:
        from selenium.common.exceptions import StaleElementReferenceException

        for attempt in range(3):  # the list re-renders while it is read (an option found, then gone)
            try:
                return self._choose(elem, value)
            except StaleElementReferenceException:
                if attempt == 2:
                    raise
                time.sleep(0.5)

    def _choose(self, elem: str, value: str) -> None:
        from selenium.webdriver.common.keys import Keys

        box = self.one(f"#{elem} input")
        box.click()
        box.send_keys(Keys.CONTROL, "a")
        box.send_keys(value)
        opt = _wait(lambda: [li for li in self.all("li[role=option]")
                             if (li.get_attribute("aria-label") or "").split()[0:1] == [value]], 30, f"option {value}")
        opt[0].click()
        _wait(lambda: self.one(f"#{elem} input").get_attribute("value").split()[0:1] == [value], 30, f"{elem}={value}")

    @staticmethod
    def _replace(box, value: str) -> None:
        from selenium.webdriver.common.keys import Keys

        box.click()
        box.send_keys(Keys.CONTROL, "a")
        box.send_keys(Keys.DELETE)
        box.send_keys(value)
        box.send_keys(Keys.TAB)  # blur: gradio sends the value

    def set_text(self, elem: str, value: str) -> None:
        self._replace(self.one(f"#{elem} textarea"), value)

    def set_number(self, elem: str, value: str) -> None:
        def shown():
            return [e for e in self.all(f"#{elem} input") if e.is_displayed()]

        if not shown():  # inside the closed "options" accordion (not rendered until opened)
            (self.all("#options button") or self.all("#options .label-wrap"))[0].click()
            _wait(shown, 30, "the options")
        self._replace(self.one(f"#{elem} input"), value)

    def busy(self) -> bool:
        """Gradio's progress tracker is shown on the status or timing line (a request queued or running).

        Its text alone is not a sure sign: it starts as a bare "0.0s", without "processing"."""
        return bool(self.d.execute_script(
            "return Array.from(document.querySelectorAll('#status [data-testid=status-tracker], "
            "#timing [data-testid=status-tracker]')).some(e => !e.classList.contains('hide'))"))

    def fuse(self, progress: set | None = None) -> str:
        """Press Fuse and wait for the status; texts of the progress indicator seen meanwhile go to ``progress``."""
        from selenium.common.exceptions import StaleElementReferenceException

        # let the updates of earlier events (an upload clears the timing line, a select re-renders)
        # land first: a status or timing read while they are pending makes an old result look new
        last, still = None, 0
        for _ in range(50):
            now = (self.text("#status"), self.text("#timing"))
            still = still + 1 if now == last else 0
            last = now
            if still >= 3:
                break
            time.sleep(0.2)
        before = self.text("#status")
        before_timing = self.text("#timing")  # a second identical "done: …" status differs here (time, command)
        self.one("#fuse-btn").click()

        def finished():
            if progress is not None:
                try:
                    progress.update(t for e in self.all(".progress-text") if (t := e.text.strip()))
                except StaleElementReferenceException:  # re-rendered between find and read
                    pass
            busy = self.busy()
            t = self.text("#status")
            timing = self.text("#timing")
            # Gradio's progress overlay ("processing | 0.3/2.2s", "queue: 0/1 | ...", at first a bare
            # "0.0s") is text of the same element, shown above the old value while the request runs: the
            # old text with it is not a result (a bare "0.0s" over the old timing line once passed as new)
            if busy or self.busy() or any(_BUSY.match(line) for line in (t + "\n" + timing).splitlines()):
                return None
            # the same status twice (the same output name): only a new timing line of a finished fuse counts
            changed = t != before or (timing != before_timing and "fused in" in timing)
            return t and changed and (t.startswith("done") or t.startswith("mutualfuse:")) and t

        return _wait(finished, TIMEOUT, "the fuse result")

    def metrics(self) -> dict[str, list[str]]:
        """The table as shown: metric name → [label, fused, average, better] (read from the cells' text)."""
        lines = [ln.strip() for ln in self.one("#metrics").text.splitlines() if ln.strip()]
        rows = {}
        for i, ln in enumerate(lines):
            if ln.endswith(")") and " (" in ln and i + 3 < len(lines):
                rows[ln.split()[0]] = lines[i:i + 4]
        return rows

    def download_all(self, folder: Path) -> list[Path]:
        for f in folder.iterdir():
            f.unlink()
        links = _wait(lambda: self.all("#downloads a[href]"), 60, "download links")
        names = []
        for a in links:
            names.append(a.get_attribute("download") or Path(urlparse(a.get_attribute("href")).path).name)
            a.click()
        done = lambda: (fs := [f for f in folder.iterdir() if not f.name.endswith(".crdownload")]) \
            and len(fs) >= len(links) and fs  # noqa: E731
        return sorted(_wait(done, 60, f"downloads {names}"))


@pytest.fixture(scope="module")
def pairs(tmp_path_factory, samples):
    d = tmp_path_factory.mktemp("pairs")
    shutil.copy(samples / "tno-01" / "a.png", d / "ir.png")
    shutil.copy(samples / "tno-01" / "b.png", d / "vis.png")
    for src in ("a", "b"):  # a large colour pair: the Lytro sample resized to 1920x1080 (bicubic)
        with Image.open(samples / "lytro-01" / f"{src}.png") as im:
            im.convert("RGB").resize((1920, 1080), Image.BICUBIC).save(d / f"big-{src}.png")
    b = np.asarray(Image.open(samples / "tno-01" / "b.png").convert("L"))
    Image.fromarray(np.ascontiguousarray(b[:-7, :-5])).save(d / "vis-cropped.png")
    import tifffile

    for src, name in (("a", "ct16.tif"), ("b", "mr16.tif")):
        g = np.asarray(Image.open(samples / "ct-mr-c01" / f"{src}.png").convert("L")).astype(np.uint16)
        tifffile.imwrite(d / name, (g * 257 + (np.arange(g.size).reshape(g.shape) % 251)).astype(np.uint16))
    return d


def _stack_busy(page) -> bool:
    return bool(page.d.execute_script(
        "return Array.from(document.querySelectorAll('#stack-status [data-testid=status-tracker], "
        "#stack-timing [data-testid=status-tracker]')).some(e => !e.classList.contains('hide'))"))


def _stack_fuse(page) -> str:
    """Press *Fuse stack* on a freshly loaded page and wait for its status line."""
    page.one("#stack-btn").click()

    def finished():
        t = page.text("#stack-status")
        if _stack_busy(page) or any(_BUSY.match(line) for line in t.splitlines()):
            return None
        return t if t.startswith(("done", "mutualfuse:")) else None

    return _wait(finished, TIMEOUT, "the stack's result")


def _stack_upload(page, paths: list[Path]) -> None:
    """Upload several files at once into the stack's input (as a file dialog with several selected)."""
    page.one("#stack-input input[type=file]").send_keys("\n".join(str(p) for p in paths))
    want = sorted(p.name for p in paths)
    _wait(lambda: sorted(c.get_attribute("aria-label") for c in page.all("#stack-input td.filename")) == want,
          60, f"{want} uploaded to the stack")


def _stack_download(page, folder: Path) -> Path:
    for f in folder.iterdir():
        f.unlink()
    link = _wait(lambda: page.all("#stack-download a[href]"), 60, "the stack's download link")[0]
    link.click()
    return _wait(lambda: [f for f in folder.iterdir() if not f.name.endswith(".crdownload")], 60,
                 "the stack's download")[0]


def test_page_focus_stack(server, browser, samples, tmp_path):
    """The focus-stack section (runs before the pair test below, which stops the server): three
    Lytro planes uploaded at once in a file dialog's order (z10 first) are stacked by name and give
    the very file (byte for byte) of the `mutualfuse fuse-stack` command the page shows; a 16-bit
    ImageJ z-stack in one TIFF with a classical method chosen above, downloaded as TIFF, the same;
    one image alone is a one-line error naming it, with nothing to download."""
    import tifffile

    d = tmp_path / "stack"
    d.mkdir()
    a, b = (np.asarray(Image.open(samples / "lytro-01" / f"{n}.png").convert("RGB")) for n in ("a", "b"))
    Image.fromarray(a).save(d / "z1.png")
    Image.fromarray(((a.astype(np.uint16) + b) // 2).astype(np.uint8)).save(d / "z2.png")
    Image.fromarray(b).save(d / "z10.png")
    page = Page(browser, server["url"])
    assert _wait(lambda: page.all("#stack-btn"), 30, "the stack section")
    assert _stack_fuse(page).startswith("mutualfuse: error: upload the stack first")
    _stack_upload(page, [d / "z10.png", d / "z1.png", d / "z2.png"])
    status = _stack_fuse(page)
    assert status.startswith("done: z1-z10-default.png (3 images, 2 fusions, "), status
    timing = page.text("#stack-timing")
    assert "stack fused in" in timing and ("same as: mutualfuse fuse-stack z1.png z2.png z10.png -o z1-z10-default.png --order "
                                           "tree --method mutualfuse --weights default --chroma saturation "
                                           "--normalize auto") in " ".join(timing.replace("`", "").split()), timing
    assert timing.endswith("--normalize auto")  # serve's default --max-pixels is not named
    # the slider compares the fused stack with its images (s20): both sides shown
    assert _wait(lambda: len(page.all("#stack-compare img")) >= 2, 30, "the stack's slider images")
    got = _stack_download(page, browser.downloads)
    _cli("fuse-stack", str(d / "z1.png"), str(d / "z2.png"), str(d / "z10.png"), "-o", str(tmp_path / "stack.png"),
         "--device", "cpu", "--weights", "default", "-q")
    assert got.suffix == ".png" and got.read_bytes() == (tmp_path / "stack.png").read_bytes()

    rng = np.random.default_rng(4)
    y, x = np.mgrid[:96, :128]
    planes = np.stack([1000 + 200 * k + 800 * np.sin(x / (3 + k)) * np.cos(y / 5) + rng.integers(0, 50, (96, 128))
                       for k in range(4)]).astype(np.uint16)
    tifffile.imwrite(d / "cells.tif", planes, imagej=True, metadata={"axes": "ZYX"})
    page = Page(browser, server["url"])
    page.choose("method", "lp")
    [lab for lab in page.all("#stack-format label") if lab.text.strip() == "tif"][0].click()
    _stack_upload(page, [d / "cells.tif"])
    status = _stack_fuse(page)
    assert status.startswith("done: cells-lp.tif (4 planes, 3 fusions, ") and "16-bit gray" in status, status
    assert "note: 4 of 4 planes (16-bit) scaled by the joint" in status, status
    assert "fuse-stack cells.tif -o cells-lp.tif --order tree --method lp" in " ".join(page.text("#stack-timing").split())
    got = _stack_download(page, browser.downloads)
    _cli("fuse-stack", str(d / "cells.tif"), "-o", str(tmp_path / "cells.tif"), "--method", "lp", "--device", "cpu",
         "-q")
    assert got.suffix == ".tif" and got.read_bytes() == (tmp_path / "cells.tif").read_bytes()

    page = Page(browser, server["url"])
    _stack_upload(page, [d / "z1.png"])
    status = _stack_fuse(page)
    assert status == "mutualfuse: error: z1.png: a stack needs at least 2 images (or one multi-page TIFF)", status
    assert not page.all("#stack-download a[href]")


def test_page_network_error_classical_offline_cleanup(server, browser, pairs, samples, tmp_path):
    from mutualfuse.cli.evaluate import read_gray
    from mutualfuse.metrics import METRICS
    from mutualfuse.web.core import FAST_METRICS

    page = Page(browser, server["url"])
    assert browser.title == "mutualfuse"
    # the selectors list every registered method and the shipped weights
    page.one("#method input").click()
    listed = [li.get_attribute("aria-label").split()[0] for li in _wait(lambda: page.all("li[role=option]"), 30,
                                                                         "method list")]
    from mutualfuse.methods import METHODS
    from mutualfuse.weights import SHIPPED

    assert listed[0] == "mutualfuse" and sorted(listed) == sorted(METHODS.names())
    page.one("#fuse-btn").click()  # closes the list; no inputs yet → a message, not a crash
    assert _wait(lambda: "upload two images" in page.text("#status"), 60, "the no-input message")

    # 1. the default network on an uploaded pair
    page.upload("a", pairs / "ir.png")
    page.upload("b", pairs / "vis.png")
    status = page.fuse()
    assert status.startswith("done"), status
    got = page.download_all(browser.downloads)
    assert [p.suffix for p in got] == [".png"]
    _cli("fuse", str(pairs / "ir.png"), str(pairs / "vis.png"), "-o", str(tmp_path / "net.png"), "--device", "cpu",
         "--weights", "default", "-q")
    np.testing.assert_array_equal(_read(got[0]), _read(tmp_path / "net.png"))
    assert "fused in" in page.text("#timing")
    assert "note: task: ir-vis, detected" in status, status  # task mode auto, the page's and the CLI's default
    # the table: every fast metric, for the fused image and the pixel average, equal to the
    # library's value on the CLI's output (4 decimals as shown)
    table = page.metrics()
    assert set(table) == set(FAST_METRICS), table
    a, b, f = (read_gray(p) for p in (pairs / "ir.png", pairs / "vis.png", tmp_path / "net.png"))
    for name, key in FAST_METRICS.items():
        want = float(METRICS.get(key)(a, b, f))
        assert float(table[name][1]) == pytest.approx(want, abs=1.5e-4), (name, table[name])
        assert table[name][3] in ("fused", "average", "equal")
    listed_w = set(SHIPPED)
    page.one("#weights input").click()
    assert {li.get_attribute("aria-label").strip() for li in _wait(lambda: page.all("li[role=option]"), 30,
                                                                    "weights list")} == listed_w
    page.one("#timing").click()
    shot = os.environ.get("MUTUALFUSE_WEB_SCREENSHOT")
    browser.save_screenshot(str(tmp_path / "serve.png"))
    if shot:
        shutil.copy(tmp_path / "serve.png", shot)

    # 1b. a large colour pair: streamed in windows as the CLI streams it, the windows' progress
    # on the page, the same pixels, and memory of the CLI's order (not a one-piece fuse's)
    page.upload("a", pairs / "big-a.png")
    page.upload("b", pairs / "big-b.png")
    pid = server["proc"].pid
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # reset the server's peak RSS (VmHWM) to now
    rss0 = _proc_kb(pid, "VmRSS")
    seen: set[str] = set()
    status = page.fuse(progress=seen)
    assert status.startswith("done"), status
    peak = _proc_kb(pid, "VmHWM")
    counts = {(int(m[1]), int(m[2])) for t in seen if (m := re.search(r"(\d+)\s*/\s*(\d+)\s*win", t))}
    assert counts and all(n > 1 for _, n in counts), seen  # "k/N win": the streaming windows
    assert max(k for k, _ in counts) > 0, seen  # and it moved while we watched
    got = page.download_all(browser.downloads)
    assert [p.suffix for p in got] == [".png"]
    cli_kb = _cli_peak_rss("fuse", str(pairs / "big-a.png"), str(pairs / "big-b.png"), "-o",
                           str(tmp_path / "big.png"), "--device", "cpu", "--weights", "default", "-q")
    mine = _read(got[0])
    assert mine.shape == (1080, 1920, 3)
    np.testing.assert_array_equal(mine, _read(tmp_path / "big.png"))
    # the page's request (the streamed fuse, previews, the average, nine metrics, Gradio's own
    # handling) stays within 1.5x of the whole CLI process's peak (interpreter and weights
    # included). Measured on this pair: the server grew 1.3 GB, the CLI peaked at 1.4-1.5 GB,
    # and the same CLI fuse in one piece (--window-pixels 2100000) peaks at 4.2 GB.
    grew = peak - rss0
    print(f"large pair: server grew {grew / 1024:.0f} MB (peak {peak / 1024:.0f} MB), "
          f"CLI peak {cli_kb / 1024:.0f} MB, windows seen: {sorted(counts)}")
    assert grew <= 1.5 * cli_kb, (grew, cli_kb)

    # 1c. the network's inference options: a bad detail gain or activity is a one-line error; a valid one
    # gives the CLI's pixels for the same option (and the page shows that option's command line)
    page.upload("a", pairs / "ir.png")
    page.upload("b", pairs / "vis.png")
    for elem, bad, good, error in (("detail-gain", "3", "1.25", "must be a number in [0.5, 2]"),
                                   ("detail-activity", "20000", "1000", "must be a number in [0, 10000]")):
        page.set_number(elem, bad)
        status = page.fuse()
        assert status.startswith(f"mutualfuse: error: --{elem} {error}"), status
        page.set_number(elem, good)
        status = page.fuse()
        assert status.startswith("done"), status
        option = f"--{elem} {float(good)!r}"
        assert option in page.text("#timing"), page.text("#timing")
        assert page.text("#timing").count("--detail-") == 1  # the other option, set back to blank, is not used
        got = page.download_all(browser.downloads)
        _cli("fuse", str(pairs / "ir.png"), str(pairs / "vis.png"), "-o", str(tmp_path / f"{elem}.png"), "--device",
             "cpu", "--weights", "default", f"--{elem}", good, "-q")
        np.testing.assert_array_equal(_read(got[0]), _read(tmp_path / f"{elem}.png"))
        assert not np.array_equal(_read(got[0]), _read(tmp_path / "net.png"))
        page.set_number(elem, "")  # blank = the weights' own
    # 'detail rule off' switches the detected task's rule off (unticked: the task's again): the CLI's pixels
    page.one("#detail-off input").click()
    status = page.fuse()
    assert status.startswith("done") and "--detail-activity 0.0" in page.text("#timing"), (status, page.text("#timing"))
    got = page.download_all(browser.downloads)
    _cli("fuse", str(pairs / "ir.png"), str(pairs / "vis.png"), "-o", str(tmp_path / "act0.png"), "--device",
         "cpu", "--weights", "default", "--detail-activity", "0", "-q")
    np.testing.assert_array_equal(_read(got[0]), _read(tmp_path / "act0.png"))
    assert not np.array_equal(_read(got[0]), _read(tmp_path / "net.png"))
    page.one("#detail-off input").click()
    status = page.fuse()
    assert status.startswith("done") and "--detail-" not in page.text("#timing"), page.text("#timing")
    # the task presets: the CLI's pixels for --task stored (the weights' own settings, which differ
    # from the detected IR-VIS task's) and --task medical, each shown as that option
    for task in ("stored", "medical"):
        page.choose("task", task)
        status = page.fuse()
        assert status.startswith("done") and "detected" not in status, status
        assert f"--task {task}" in page.text("#timing"), page.text("#timing")
        got = page.download_all(browser.downloads)
        _cli("fuse", str(pairs / "ir.png"), str(pairs / "vis.png"), "-o", str(tmp_path / f"{task}.png"), "--device",
             "cpu", "--weights", "default", "--task", task, "-q")
        np.testing.assert_array_equal(_read(got[0]), _read(tmp_path / f"{task}.png"))
        assert not np.array_equal(_read(got[0]), _read(tmp_path / "net.png"))
    page.choose("task", "auto")
    # the chroma rule "gray" on a colour pair: a gray result, the CLI's --chroma gray pixels
    lytro = samples / "lytro-01"
    page.upload("a", lytro / "a.png")
    page.upload("b", lytro / "b.png")
    page.choose("chroma", "gray")
    status = page.fuse()
    assert status.startswith("done") and "--chroma gray" in page.text("#timing"), (status, page.text("#timing"))
    got = page.download_all(browser.downloads)
    _cli("fuse", str(lytro / "a.png"), str(lytro / "b.png"), "-o", str(tmp_path / "gray.png"), "--device", "cpu",
         "--weights", "default", "--chroma", "gray", "-q")
    assert _read(got[0]).ndim == 2
    np.testing.assert_array_equal(_read(got[0]), _read(tmp_path / "gray.png"))
    page.choose("chroma", "saturation")
    page.upload("a", pairs / "ir.png")
    page.upload("b", pairs / "vis.png")

    # 2. a mismatched pair: a readable one-line error on the page, nothing to download
    page.upload("b", pairs / "vis-cropped.png")
    status = page.fuse()
    assert status.startswith("mutualfuse: error: vis-cropped.png: size mismatch"), status
    assert "/tmp" not in status and str(server["tmpdir"]) not in status
    assert not page.all("#downloads a[href]")

    # 3. the server still serves: a classical method with a parameter on a 16-bit pair
    page.upload("a", pairs / "ct16.tif")
    page.upload("b", pairs / "mr16.tif")
    page.choose("method", "dwt")
    # the parameters box is not in the DOM until the method change has been rendered: poll for it
    _wait(lambda: any("levels=4" in (e.get_attribute("value") or "") for e in page.all("#params textarea")),
          30, "dwt's defaults")
    page.set_text("params", "levels=3")
    status = page.fuse()
    assert status.startswith("done"), status
    got = page.download_all(browser.downloads)
    assert [p.suffix for p in got] == [".png", ".tif"], got
    for ext in (".png", ".tif"):
        _cli("fuse", str(pairs / "ct16.tif"), str(pairs / "mr16.tif"), "-o", str(tmp_path / f"dwt{ext}"),
             "--method", "dwt", "--param", "levels=3", "--device", "cpu", "-q")
        mine = _read([p for p in got if p.suffix == ext][0])
        assert mine.dtype == np.uint16
        np.testing.assert_array_equal(mine, _read(tmp_path / f"dwt{ext}"))

    # 4. nothing left the machine: the page's requests (Chromium's log) and the server's sockets
    hosts = set()
    for entry in browser.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg["method"] == "Network.requestWillBeSent":
            u = urlparse(msg["params"]["request"]["url"])
            if u.scheme in ("http", "https", "ws", "wss", "ftp"):  # not data:, blob:, chrome:// (the browser's own)
                hosts.add(f"{u.scheme}://{u.hostname}")
    assert hosts and hosts <= {"http://127.0.0.1", "ws://127.0.0.1"}, hosts
    assert not server["netlog"].exists() or server["netlog"].read_text() == "", server["netlog"].read_text()

    # 5. stopping the server removes everything it wrote
    assert any(server["tmpdir"].iterdir())
    server["proc"].send_signal(signal.SIGINT)
    # Ctrl+C reaches the main thread wherever it lands (tests/io/test_serve_stop.py) and serve
    # bounds Gradio's close() to 20 s, then leaves
    t0 = time.time()
    server["proc"].wait(60)
    print(f"server stopped {time.time() - t0:.1f} s after Ctrl+C")
    assert server["proc"].returncode == 0, server["log"].read_text()[-2000:]
    assert list(server["tmpdir"].iterdir()) == []
