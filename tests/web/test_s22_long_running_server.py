"""Session 22 audit: what a long-running ``mutualfuse serve`` leaves in its temporary folder.

Gradio's ``delete_cache`` deletes only the files it tracks; it left, until the server stopped, an
empty ``tmp*`` file for every uploaded file of every request, the partial file of every upload the
browser cancelled, and the SHA-256 folders it empties (one per uploaded or served file; measured
after 50 requests: 90 empty files, 5 partial uploads of 200 kB, about 120 folders). ``serve`` now
sweeps them from a thread
(:func:`mutualfuse.web.server.sweep_upload_folder`; its thread is checked with a stand-in page in
test_s22_serve_offline.py). Here the real server makes Gradio leave them, and the sweep removes
them and nothing the page still serves; and a tab's files outlive the requests of other tabs."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """``mutualfuse serve`` (gradio) in a subprocess with its own TMPDIR → (url, its tmp folder)."""
    pytest.importorskip("gradio")
    pytest.importorskip("gradio_client")
    base = tmp_path_factory.mktemp("s22serve")
    tmp = base / "tmp"
    tmp.mkdir()
    env = dict(os.environ, TMPDIR=str(tmp), OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    for k in list(env):
        if k.startswith(("GRADIO_", "HF_")):
            del env[k]
    proc = subprocess.Popen([sys.executable, "-m", "mutualfuse", "serve", "--device", "cpu"], env=env,
                            stdout=subprocess.PIPE, stderr=open(base / "serve.log", "w"), text=True)
    line = proc.stdout.readline()
    if not line.startswith("mutualfuse serve: http://"):
        proc.kill()
        pytest.fail(f"serve did not start: {(base / 'serve.log').read_text()[-2000:]}")
    yield line.split()[2], tmp
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()


OPTS = ["average", "default", "", "saturation", "auto", None, None, None, False, "auto"]


def _cancelled_upload(url: str) -> None:
    """Start a 5 MB upload, send 200 kB of it and drop the connection (a closed tab, a lost link)."""
    host, port = url.split("//")[1].rstrip("/").rsplit(":", 1)
    body = (b'--B\r\nContent-Disposition: form-data; name="files"; filename="big.png"\r\n'
            b"Content-Type: image/png\r\n\r\n" + b"x" * 200_000)
    with socket.create_connection((host, int(port))) as s:
        s.sendall(b"POST /gradio_api/upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=B\r\n"
                  b"Content-Length: 5000000\r\n\r\n" + body)
        time.sleep(0.3)


def test_the_sweep_removes_gradios_leftovers_and_nothing_the_page_serves(served, tmp_path):
    from gradio_client import Client, handle_file

    url, tmp = served
    rng = np.random.default_rng(0)
    files = []
    for k in range(5):
        files.append(tmp_path / f"up{k}.png")
        Image.fromarray(rng.integers(0, 256, (24, 32)).astype(np.uint8)).save(files[-1])
    (tmp_path / "notes.txt").write_text("not an image\n")
    c = Client(url, verbose=False)
    assert c.predict(handle_file(str(files[0])), handle_file(str(files[1])), *OPTS, "a vs fused",
                     api_name="/run")[0].startswith("done")
    bad = c.predict(handle_file(str(tmp_path / "notes.txt")), handle_file(str(files[1])), *OPTS, "a vs fused",
                    api_name="/run")[0]
    # PIL's reason names the upload's path, which the CLI's reader cuts at 160 characters: the server's
    # folder was shown, cut short ('…/gradio/f23fded955e7…)'); the name whether cut or not
    assert bad.startswith("mutualfuse: error: notes.txt: not a readable image (cannot identify image file "
                          "'notes.txt"), bad
    assert "/" not in bad and "gradio" not in bad and "\n" not in bad, bad
    assert c.predict([handle_file(str(f)) for f in files[2:]], *OPTS, "tree", "png",
                     api_name="/run_stack")[0].startswith("done")
    from mutualfuse.web.server import ABANDONED_AGE, sweep_upload_folder

    _cancelled_upload(url)
    assert c.predict(handle_file(str(files[0])), handle_file(str(files[2])), *OPTS, "b vs fused",
                     api_name="/run")[0].startswith("done")
    time.sleep(0.5)
    folder, = tmp.glob("mutualfuse-serve-*/gradio")
    top = [p for p in folder.iterdir() if p.is_file()]
    assert top, "gradio left no file at the top of its folder: nothing for this test to check"
    removed, _ = sweep_upload_folder(folder, now=time.time() + ABANDONED_AGE + 1)
    assert removed >= len(top)
    assert [p.name for p in folder.iterdir() if not p.is_dir()] == []
    # what the page still serves is there: the last result's slider (both sources) and a new request
    # with an upload of before the sweep
    for which in ("a vs fused", "b vs fused"):
        shown, said = c.predict(which, "done", api_name="/on_compare")  # (the slider, the status line)
        assert all(Path(p).is_file() for p in shown) and "no longer" not in str(said), (shown, said)
    assert c.predict(handle_file(str(files[0])), handle_file(str(files[1])), *OPTS, "a vs fused",
                     api_name="/run")[0].startswith("done")


def test_a_tabs_slider_survives_the_requests_of_other_tabs(served, tmp_path):
    """Only the last 8 requests' files of all tabs were kept: after 8 requests of other users the
    first tab's before/after slider asked for removed files (a 403 error on the page). A request's
    files are now removed when the next request of the same tab supersedes them (or after an hour)."""
    from gradio_client import Client, handle_file

    from mutualfuse.web.core import KEEP_REQUESTS

    url, tmp = served
    rng = np.random.default_rng(1)

    def img(name):
        Image.fromarray(rng.integers(0, 256, (24, 32)).astype(np.uint8)).save(tmp_path / name)
        return handle_file(str(tmp_path / name))

    results = next(tmp.glob("mutualfuse-serve-*")) / "results"  # made by the first request
    before_tabs = len(list(results.glob("req-*")))
    tab1, tab2 = Client(url, verbose=False), Client(url, verbose=False)
    assert tab1.predict(img("a.png"), img("b.png"), *OPTS, "a vs fused", api_name="/run")[0].startswith("done")
    for k in range(KEEP_REQUESTS + 1):
        assert tab2.predict(img(f"a{k}.png"), img(f"b{k}.png"), *OPTS, "a vs fused",
                            api_name="/run")[0].startswith("done")
    (before, fused), said = tab1.predict("b vs fused", "done", api_name="/on_compare")
    assert Path(before).is_file() and Path(fused).is_file() and "no longer" not in str(said), said
    # tab 2's superseded requests are gone: one folder per tab (and section) is left
    assert len(list(results.glob("req-*"))) == before_tabs + 2
