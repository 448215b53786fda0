"""Session 27: a link to a result (or upload) that is no longer on the server. Results and uploads
are kept about an hour (Gradio's cache); a download link or a result image of an older page then
got Gradio's ``403 {"detail": "File not allowed: /tmp/mutualfuse-serve-…/gradio/<sha256>/x.png."}``:
a bare error naming the server's folders. It now gets a page saying that the result is no longer on
the server, how long results are kept and what to do (status 404, the page's security headers).
Only for paths inside the server's own folder: any other path keeps Gradio's 403, which does not
tell a missing file from a forbidden one. :class:`mutualfuse.web.server.ExpiredFiles` on its own
(no gradio), and ``mutualfuse serve`` as a process (gradio)."""
from __future__ import annotations

import asyncio
import json
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import pytest


def _call(middleware, path: str, method: str = "GET") -> tuple[int, dict[bytes, bytes], bytes]:
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    asyncio.run(middleware({"type": "http", "method": method, "path": path, "headers": []}, receive, send))
    start = sent[0]
    return start["status"], dict(start["headers"]), b"".join(m.get("body", b"") for m in sent[1:])


async def _forbidden(scope, receive, send):  # Gradio's answer to a path it does not serve
    await send({"type": "http.response.start", "status": 403, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b'{"detail": "File not allowed"}'})


def test_a_missing_file_of_the_servers_folder_gets_a_page_that_says_so(tmp_path):
    from mutualfuse.web.server import ExpiredFiles

    folder = tmp_path / "mutualfuse-serve-x"
    (folder / "gradio" / "ab").mkdir(parents=True)
    kept = folder / "gradio" / "ab" / "kept.png"
    kept.write_bytes(b"png")
    mw = ExpiredFiles(_forbidden, folder, minutes=60)
    gone = f"/gradio_api/file={folder}/gradio/cd/fused.png"
    status, headers, body = _call(mw, gone)
    assert status == 404 and headers[b"content-type"].startswith(b"text/html"), (status, headers)
    text = body.decode()
    assert "This result is no longer on the server" in text and "about 60 minutes" in text, text
    assert str(folder) not in text  # the server's folders are not shown
    assert _call(mw, gone, "HEAD")[:2] == (404, headers) and _call(mw, gone, "HEAD")[2] == b""
    # the rest is Gradio's: a file that is there, a path outside the folder, a folder, another route
    for path in (f"/gradio_api/file={kept}", f"/gradio_api/file={tmp_path}/elsewhere.png",
                 f"/gradio_api/file={folder}/../elsewhere.png", f"/gradio_api/file={folder}/gradio",
                 f"/gradio_api/upload{folder}/x.png", "/gradio_api/file=relative/x.png"):
        assert _call(mw, path)[0] == 403, path
    assert _call(mw, gone, "POST")[0] == 403


def _get(url: str, data: bytes | None = None, ctype: str | None = None):
    req = urllib.request.Request(url, data=data, headers={"Content-Type": ctype} if ctype else {})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def test_a_served_file_removed_from_the_server_gets_the_page(tmp_path):
    pytest.importorskip("gradio")
    from serve_process import serving

    body = (b'--B\r\nContent-Disposition: form-data; name="files"; filename="a.png"\r\n'
            b"Content-Type: image/png\r\n\r\n" + (Path(__file__).parents[2] / "src" / "mutualfuse" / "data" /
                                                  "samples" / "tno-01" / "a.png").read_bytes() + b"\r\n--B--\r\n")
    with serving(tmp_path) as (url, _):
        status, _, out = _get(url + "gradio_api/upload", body, "multipart/form-data; boundary=B")
        assert status == 200, out
        uploaded = Path(json.loads(out)[0])
        link = url + "gradio_api/file=" + urllib.request.pathname2url(str(uploaded))
        assert _get(link)[0] == 200
        shutil.rmtree(uploaded.parent)  # as Gradio's cache deletes it after the hour
        status, headers, page = _get(link)
    assert status == 404 and headers["content-type"].startswith("text/html"), (status, headers, page[:300])
    assert b"This result is no longer on the server" in page and b"about 60 minutes" in page, page
    assert b"mutualfuse-serve-" not in page and str(uploaded.parent).encode() not in page
    assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "SAMEORIGIN", headers
