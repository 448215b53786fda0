"""Session 26 audit: the page's response headers. Gradio sent no ``X-Content-Type-Options: nosniff``
(an uploaded file named ``x.png`` is served back inline as ``image/png`` whatever its bytes: an HTML
file so named too) and nothing against being shown in another site's frame (a page published with
``--host 0.0.0.0`` could be framed by any site to make a visitor press its buttons). Every response
of ``mutualfuse serve`` now carries ``nosniff``, ``X-Frame-Options: SAMEORIGIN`` and
``Content-Security-Policy: frame-ancestors 'self'``; the browser tests (tests/web/test_serve_browser.py,
test_s24_a11y_browser.py) run the page with them. ``mutualfuse serve`` as a process (gradio, no
browser)."""
from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from serve_process import serving

WANTED = {"x-content-type-options": "nosniff", "x-frame-options": "SAMEORIGIN",
          "content-security-policy": "frame-ancestors 'self'"}


def _headers(url: str, data: bytes | None = None, ctype: str | None = None) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, data=data, headers={"Content-Type": ctype} if ctype else {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def test_every_response_says_nosniff_and_refuses_other_sites_frames(tmp_path):
    pytest.importorskip("gradio")
    html = b"<html><script>document.title = 'XSS'</script></html>"
    body = (b'--B\r\nContent-Disposition: form-data; name="files"; filename="x.png"\r\n'
            b"Content-Type: image/png\r\n\r\n" + html + b"\r\n--B--\r\n")
    with serving(tmp_path) as (url, _):
        status, _, out = _headers(url + "gradio_api/upload", body, "multipart/form-data; boundary=B")
        assert status == 200, out
        uploaded = json.loads(out)[0]
        seen = {}
        for what, address in {"page": url, "config": url + "config", "upload": url + "gradio_api/upload",
                              "uploaded file": url + "gradio_api/file=" + urllib.request.pathname2url(uploaded),
                              "outside file": url + "gradio_api/file=/etc/hostname",
                              "missing": url + "no-such-page"}.items():
            status, headers, _ = _headers(address)
            seen[what] = (status, {k: headers.get(k) for k in WANTED})
    assert seen["page"][0] == 200 and seen["uploaded file"][0] == 200, seen
    assert seen["outside file"][0] == 403 and seen["upload"][0] == 405, seen
    assert all(h == WANTED for _, h in seen.values()), seen
