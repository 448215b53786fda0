"""The web page's core on an upload the server cannot fuse in the memory it has (audit session
17; no Gradio needed): a small file that decodes to a huge image (a PNG of one colour
compresses about 1000:1) used to be read and fused until the kernel's out-of-memory killer
stopped the whole server. It is now refused from the header with the CLI's one-line error,
naming the uploaded file, before it is decoded; the server keeps serving."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import mutualfuse.runner as runner
from mutualfuse.errors import FuseError
from mutualfuse.web import core
from mutualfuse.web.app import _clean


def test_an_upload_that_cannot_fit_is_a_one_line_error_on_the_page(tmp_path, monkeypatch):
    up = tmp_path / "upload"
    up.mkdir()
    for n in ("thermal", "visible"):
        Image.new("L", (300, 200), 7).save(up / f"{n}.png")
    a, b = str(up / "thermal.png"), str(up / "visible.png")
    monkeypatch.setattr(runner, "available_memory", lambda: 100_000)
    cache = core.FuserCache()
    with pytest.raises(FuseError) as e:
        core.fuse_request(a, b, core.Settings(method="average", device="cpu"), tmp_path / "work", cache)
    msg = _clean(str(e.value), {a: "thermal.png", b: "visible.png"})
    assert msg.startswith("thermal.png: fusing this 300x200 pair") and "GB of memory" in msg, msg
    assert "too large for this server" in msg and "free memory" not in msg, msg  # nothing the page's user can do
    assert "\n" not in msg and str(up) not in msg
    assert not any((tmp_path / "work").glob("req-*/*.png"))  # nothing written
    monkeypatch.setattr(runner, "available_memory", lambda: None)  # the same server serves the next request
    r = core.fuse_request(a, b, core.Settings(method="average", device="cpu"), tmp_path / "work", cache)
    assert np.asarray(Image.open(r.png)).shape == (200, 300)


@pytest.mark.parametrize("max_pixels,limit", [(None, 12 * 200_000_000 + 16 * 2 ** 20), (1000, 12_000 + 16 * 2 ** 20)])
def test_serve_limits_the_upload_size_by_max_pixels(tmp_path, monkeypatch, max_pixels, limit):
    """No upload limit was set: a file of any size was stored in the server's temporary folder
    before --max-pixels was checked on it. Simulated without gradio (a fake page records what
    launch() was given)."""
    from fake_page import FakePage, serve_offline

    from mutualfuse.web import server

    def stop(poll=0.2):
        raise KeyboardInterrupt

    page = FakePage()
    serve_offline(monkeypatch, tmp_path, page, stop)
    assert server.serve(port=None, device="cpu", max_pixels=max_pixels, quiet=True) == 0
    assert page.launched.get("max_file_size") == limit


def test_the_bomb_guard_names_the_servers_limit_on_the_page(tmp_path):
    """The page said '(decompression bomb guard; raise it with --max-pixels)': an option of the
    server, which the page's user cannot give."""
    for n in ("a", "b"):
        Image.new("L", (300, 200), 7).save(tmp_path / f"{n}.png")
    with pytest.raises(FuseError) as e:
        core.fuse_request(str(tmp_path / "a.png"), str(tmp_path / "b.png"),
                          core.Settings(method="average", device="cpu", max_pixels=1000), tmp_path / "work",
                          core.FuserCache())
    msg = str(e.value)
    assert "300x200 = 60000 pixels, more than the limit of 1000" in msg and "decompression bomb guard" in msg, msg
    assert "the limit of this server, set by `mutualfuse serve --max-pixels`" in msg, msg
