"""A DNG (camera raw: a drone's visible camera, a phone) stores a small RGB preview as its first
image (NewSubfileType 1) and the full raw image in a SubIFD. The preview was read as the image,
without a word: `fuse` fused a 16x12 thumbnail with a 16x12 partner, exit 0. Now such a file is
refused in one line naming what it is (a DNG: develop it first), with tifffile and without."""
from __future__ import annotations

import sys

import numpy as np
import pytest
import tifffile
from PIL import Image

from mutualfuse import image_io
from mutualfuse.cli import main
from mutualfuse.errors import InputError


def _dng(path, dng=True):
    rng = np.random.default_rng(0)
    extra = [(50706, 1, 4, (1, 4, 0, 0), True)] if dng else []  # DNGVersion
    with tifffile.TiffWriter(path) as tw:
        tw.write(rng.integers(0, 256, (12, 16, 3), dtype=np.uint8), photometric="rgb", subfiletype=1, subifds=1,
                 extratags=extra)
        tw.write(rng.integers(0, 4096, (48, 64), dtype=np.uint16), photometric=(32803 if dng else "minisblack"),
                 subfiletype=0)


def test_fuse_refuses_a_dngs_preview(tmp_path, capsys):
    _dng(tmp_path / "v.dng")
    Image.fromarray(np.zeros((12, 16), np.uint8)).save(tmp_path / "ir.png")
    out = tmp_path / "f.png"
    rc = main(["fuse", str(tmp_path / "ir.png"), str(tmp_path / "v.dng"), "-o", str(out), "--method", "average"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and not out.exists()
    assert len(err.splitlines()) == 1, err
    assert "v.dng: a DNG (camera raw) file, whose first image is its 16x12 preview" in err, err


@pytest.mark.parametrize("tifffile_installed", [True, False])
def test_a_reduced_first_image_of_a_subifd_is_refused(tmp_path, monkeypatch, tifffile_installed):
    _dng(tmp_path / "s.tif", dng=False)
    _dng(tmp_path / "v.dng")
    if not tifffile_installed:
        monkeypatch.setitem(sys.modules, "tifffile", None)
    with pytest.raises(InputError, match=r"reduced-resolution 16x12 copy \(NewSubfileType 1\) of an image kept in a SubIFD"):
        image_io.read_image(tmp_path / "s.tif")
    with pytest.raises(InputError, match="a DNG"):
        image_io.read_image(tmp_path / "v.dng")
