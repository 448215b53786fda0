"""Audit s15 of the web page's core (:mod:`mutualfuse.web.core`, no Gradio needed): what the
metrics table, the notes and the downloads say is true."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mutualfuse.web import core


def _fuse(a, b, tmp_path, **kw):
    return core.fuse_request(str(a), str(b), core.Settings(device="cpu", **kw), tmp_path / "work", core.FuserCache(),
                             names=(a.name, b.name))


@pytest.fixture()
def pair16(tmp_path, samples):
    import tifffile

    for src, name in (("a", "ir16.tif"), ("b", "vis16.tif")):
        g = np.asarray(Image.open(samples / "tno-01" / f"{src}.png").convert("L")).astype(np.uint16)
        tifffile.imwrite(tmp_path / name, (g * 257 + (np.arange(g.size).reshape(g.shape) % 251)).astype(np.uint16))
    return tmp_path / "ir16.tif", tmp_path / "vis16.tif"


def test_the_pixel_average_is_scored_at_the_fused_images_depth(pair16, tmp_path):
    """The 'average' method on a 16-bit pair is the pixel average: every row must say 'equal'.
    The average was written at 8 bits while the fused PNG is 16-bit, so the same image was
    scored twice at two depths and the table declared the average better on SD, SF, AG and EI."""
    r = _fuse(*pair16, tmp_path, method="average")
    assert r.bit_depth == 16
    for name, fused, avg, better in r.metrics:
        assert (fused, better) == (avg, "equal"), (name, fused, avg, better)


def test_long_upload_names_give_a_result_not_a_file_name_too_long_error(tmp_path, samples):
    """Each uploaded name may be up to 255 bytes; the download's name joined both stems and the
    method, so two long names (or one long non-ASCII name) failed with 'internal error: OSError:
    [Errno 36] File name too long' and the server's temporary path on the page."""
    a, b = samples / "tno-01" / "a.png", samples / "tno-01" / "b.png"
    names = ("x" * 200 + ".png", "é" * 120 + ".png")  # 204 and 244 bytes: each a valid file name
    r = core.fuse_request(str(a), str(b), core.Settings(method="average", device="cpu"), tmp_path / "work",
                          core.FuserCache(), names=names)
    assert len(r.png.name.encode()) <= 255 and len(r.tiff.name.encode() if r.tiff else b"") <= 255
    assert r.png.name.startswith("xxxx") and "éé" in r.png.name and r.png.name.endswith("-average.png")
