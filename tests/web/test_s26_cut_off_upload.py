"""Session 26 audit: a browser that closes its tab or loses its link in the middle of an upload (a
slow network). The server kept serving, but printed "ERROR: Exception in ASGI application" and a
70-line traceback ending in ``starlette.requests.ClientDisconnect`` on the terminal of ``serve``
for every such upload, which reads as a crash; it now prints one line. ``mutualfuse serve`` as a
process (gradio, no browser)."""
from __future__ import annotations

import socket
import time
import urllib.request

import pytest
from serve_process import serving

NOTE = ("mutualfuse serve: a browser closed or lost its connection while sending a request (an upload cut off); "
        "the part that arrived is deleted after about 10 minutes")


def _cut_off_upload(url: str) -> None:
    """Start a 5 MB upload, send 200 kB of it and drop the connection."""
    host, port = url.split("//")[1].rstrip("/").rsplit(":", 1)
    body = (b'--B\r\nContent-Disposition: form-data; name="files"; filename="big.png"\r\n'
            b"Content-Type: image/png\r\n\r\n" + b"x" * 200_000)
    with socket.create_connection((host, int(port))) as s:
        s.sendall(b"POST /gradio_api/upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=B\r\n"
                  b"Content-Length: 5000000\r\n\r\n" + body)
        time.sleep(0.3)


def test_an_upload_cut_off_is_one_line_on_the_servers_terminal_not_a_traceback(tmp_path):
    pytest.importorskip("gradio")
    with serving(tmp_path) as (url, proc):
        for _ in range(2):
            _cut_off_upload(url)
        t0 = time.time()
        while (tmp_path / "serve.log").read_text().count(NOTE) < 2 and time.time() - t0 < 30:
            time.sleep(0.2)
        with urllib.request.urlopen(url, timeout=30) as r:  # still serving
            assert r.status == 200
        log = (tmp_path / "serve.log").read_text()
    assert "Traceback" not in log and "ClientDisconnect" not in log and "ASGI" not in log, log[-3000:]
    assert [ln for ln in log.splitlines() if "cut off" in ln] == [NOTE, NOTE], log[-3000:]
    assert proc.returncode == 0
