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
    assert "\n" not in msg and str(up) not in msg
    assert not any((tmp_path / "work").glob("req-*/*.png"))  # nothing written
    monkeypatch.setattr(runner, "available_memory", lambda: None)  # the same server serves the next request
    r = core.fuse_request(a, b, core.Settings(method="average", device="cpu"), tmp_path / "work", cache)
    assert np.asarray(Image.open(r.png)).shape == (200, 300)
