"""Fixtures of the browser test: a running ``mutualfuse serve`` and a headless Chromium driving it.

Needs the ``web-test`` extra (gradio, selenium) and Debian's ``chromium`` + ``chromium-driver``
(``make test-web`` installs all of it). Without them the tests skip with the reason, unless
``MUTUALFUSE_REQUIRE_WEB=1`` (set by ``make test-web``), which turns a missing piece into a failure.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from serve_process import stop_serve

HERE = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("MUTUALFUSE_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("MUTUALFUSE_CHROMEDRIVER", "/usr/bin/chromedriver")
#: the Chromium flags the project uses: no GPU, no QUIC, nothing fetched in the background
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--window-size=1400,2200"]


def _missing() -> list[str]:
    out = []
    for mod in ("gradio", "selenium"):
        try:
            __import__(mod)
        except ImportError:
            out.append(f"python package {mod} (pip install -e '.[web-test]')")
    for exe in (CHROMIUM, CHROMEDRIVER):
        if not (os.path.isfile(exe) and os.access(exe, os.X_OK)):
            out.append(f"{exe} (apt-get install chromium chromium-driver)")
    return out


@pytest.fixture(scope="session")
def web_ready():
    missing = _missing()
    if missing:
        msg = "browser test needs " + "; ".join(missing) + " — `make test-web` installs them"
        if os.environ.get("MUTUALFUSE_REQUIRE_WEB") == "1":
            pytest.fail(msg)
        pytest.skip(msg)


@pytest.fixture(scope="session")
def server(web_ready, tmp_path_factory):
    """``mutualfuse serve`` in a subprocess (own TMPDIR, outbound connections logged) → its state."""
    base = tmp_path_factory.mktemp("serve")
    tmpdir = base / "tmp"
    tmpdir.mkdir()
    netlog = base / "net.log"
    env = dict(os.environ, OMP_NUM_THREADS="1", TMPDIR=str(tmpdir), MUTUALFUSE_NETLOG=str(netlog),
               PYTHONUNBUFFERED="1",
               PYTHONPATH=os.pathsep.join([str(HERE / "netguard")] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    # no GRADIO_* / HF_* offline variables here: `serve` must set them itself
    for k in list(env):
        if k.startswith(("GRADIO_", "HF_")):
            del env[k]
    log = open(base / "serve.log", "w+")
    proc = subprocess.Popen([sys.executable, "-m", "mutualfuse", "serve", "--device", "cpu"], env=env,
                            stdout=subprocess.PIPE, stderr=log, text=True)
    url = None
    t0 = time.time()
    while time.time() - t0 < 180:
        line = proc.stdout.readline()
        if not line:
            break
        if line.startswith("mutualfuse serve: http://"):
            url = line.split()[2]
            break
    if url is None:
        proc.kill()
        log.seek(0)
        pytest.fail(f"mutualfuse serve did not print its address: {log.read()[-2000:]}")
    state = {"url": url, "proc": proc, "netlog": netlog, "tmpdir": tmpdir, "log": base / "serve.log"}
    yield state
    stop_serve(proc)
    log.close()


@pytest.fixture(scope="session")
def browser(server, tmp_path_factory):
    """Headless Debian Chromium through chromium-driver, downloads into a temporary folder."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tmp_path_factory.mktemp("chromium-profile")
    downloads = tmp_path_factory.mktemp("downloads")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS + [f"--user-data-dir={profile}"]:
        opts.add_argument(flag)
    opts.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                           "download.prompt_for_download": False})
    opts.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    drv = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    drv.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    drv.downloads = downloads
    drv.set_page_load_timeout(60)
    yield drv
    drv.quit()
    shutil.rmtree(profile, ignore_errors=True)
