"""Session 29: the page's timing line says what each download holds. A float pair gives a 16-bit
PNG and a float TIFF, a 16-bit colour pair an 8-bit colour PNG and a 16-bit colour TIFF: the line
said only the PNG's depth ("16-bit gray"; its "float" branch could never be taken), so a user
reading it did not learn that the TIFF download keeps the float samples or the 16 bits of colour."""
from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PIL import Image

from test_s21_pair_app import _args


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    pytest.importorskip("gradio")
    from mutualfuse.web.app import build_app

    app = build_app(tmp_path_factory.mktemp("work"), device="cpu")
    return {f.name: f.fn for f in app.fns.values()}


def _pair(tmp_path, kind: str):
    y, x = np.mgrid[0:32, 0:48]
    wave = (np.sin(x / 5) + 1) / 2
    if kind == "16-bit gray":
        a, b = (wave * 60000).astype(np.uint16), ((np.cos(y / 4) + 1) * 30000).astype(np.uint16)
    elif kind == "16-bit colour":
        a = np.stack([wave * 60000, wave[::-1] * 50000, np.full_like(wave, 1000)], -1).astype(np.uint16)
        b = np.stack([(np.cos(y / 4) + 1) * 30000] * 3, -1).astype(np.uint16)
    else:  # 8-bit gray
        a, b = (wave * 250).astype(np.uint8), ((np.cos(y / 4) + 1) * 120).astype(np.uint8)
    tifffile.imwrite(tmp_path / "a.tif", a, photometric="rgb" if a.ndim == 3 else "minisblack")
    tifffile.imwrite(tmp_path / "b.tif", b, photometric="rgb" if b.ndim == 3 else "minisblack")
    return tmp_path / "a.tif", tmp_path / "b.tif"


@pytest.mark.parametrize("kind, said, tiff_dtype", [
    ("16-bit colour", "(8-bit colour PNG, 16-bit TIFF, cpu)", np.uint16),
    ("16-bit gray", "(16-bit gray, cpu)", np.uint16),  # both downloads 16-bit: said once
    ("8-bit gray", "(8-bit gray, cpu)", None),  # no TIFF
])
def test_the_timing_line_names_each_download_s_depth(page, tmp_path, kind, said, tiff_dtype):
    a, b = _pair(tmp_path, kind)
    out = page["run"](*_args(a, b, "average", ""))
    assert out[0].startswith("done: a-b-average.png"), out[0]
    assert said in out[5], out[5]
    files = out[4]
    if tiff_dtype is None:
        assert len(files) == 1
    else:
        assert tifffile.imread(files[1]).dtype == tiff_dtype
        with Image.open(files[0]) as png:  # the PNG as the line says: 8-bit colour, or 16-bit gray
            assert png.mode == ("RGB" if kind == "16-bit colour" else "I;16"), png.mode
