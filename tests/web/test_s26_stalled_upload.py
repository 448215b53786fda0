"""Session 26 audit: a client that uploads slowly. ``serve``'s sweep of Gradio's upload folder removed
an upload still arriving once its file had not grown for a minute while empty (Python buffers 8 kB
before the first write reaches the disk) or for ten minutes (a stalled link): when the rest came,
Gradio could not move the file into its folder (``FileNotFoundError``, a traceback on the server's
terminal) and the page got a path to nothing. A file the server still has open is now kept. The
real page in this process (gradio, no browser), so that the sweep sees the server's open files,
with the sweep called as if a stall of more than ten minutes had passed."""
from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.filterwarnings("ignore:.*(no_silent_downcasting|copy keyword).*")


def test_an_upload_still_arriving_is_not_swept_however_long_it_stalls(tmp_path, monkeypatch):
    pytest.importorskip("gradio")
    folder = tmp_path / "gradio"
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(folder))
    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "False")
    from mutualfuse.web.app import build_app
    from mutualfuse.web.core import SAMPLES
    from mutualfuse.web.server import ABANDONED_AGE, free_port, sweep_upload_folder

    app = build_app(tmp_path / "work", device="cpu")
    app.queue(default_concurrency_limit=1)
    port = free_port("127.0.0.1")
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, ssr_mode=False,
               footer_links=[])
    data = (SAMPLES / "tno-01" / "a.png").read_bytes()
    body = (b'--B\r\nContent-Disposition: form-data; name="files"; filename="slow.png"\r\n'
            b"Content-Type: image/png\r\n\r\n" + data + b"\r\n--B--\r\n")
    try:
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.settimeout(60)
            s.sendall(b"POST /gradio_api/upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; "
                      b"boundary=B\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % len(body))
            s.sendall(body[:3000])  # the part's headers and the first bytes: Gradio's tmp* file is made
            t0 = time.time()
            while not [p for p in folder.glob("tmp*") if p.is_file()] and time.time() - t0 < 30:
                time.sleep(0.05)
            arriving = [p for p in folder.glob("tmp*") if p.is_file()]
            assert arriving, "Gradio made no file for the upload: nothing for this test to check"
            # the link stalls for longer than the sweep's ages: the sweep runs meanwhile
            sweep_upload_folder(folder, now=time.time() + ABANDONED_AGE + 1)
            assert all(p.exists() for p in arriving)
            s.sendall(body[3000:])
            answer = b""
            while chunk := s.recv(65536):
                answer += chunk
        head, _, payload = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), answer[:500]
        stored = Path(json.loads(payload)[0])
        assert stored.name == "slow.png" and stored.read_bytes() == data
    finally:
        app.close(verbose=False)
