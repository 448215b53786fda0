"""(to add with the image_io patch) A fuse-stack TIFF output keeps the pixel size its calibrated
planes declare: an ImageJ stack at 0.5 micron a pixel comes out with XResolution 2 a micron and
ImageJ's unit, a stack of centimetre TIFFs with their ResolutionUnit; gray 8/16-bit, float, colour.
It came out with no resolution tags (Fiji measured in pixels)."""
from __future__ import annotations

import numpy as np
import pytest

from mutualfuse.cli import main

tifffile = pytest.importorskip("tifffile")


def _res(path):
    with tifffile.TiffFile(path) as tf:
        t = tf.pages[0].tags
        x = t["XResolution"].value
        return x[0] / x[1], int(t["ResolutionUnit"].value), (tf.imagej_metadata or {}).get("unit")


@pytest.mark.parametrize("depth", ["8", "16", "float"])
def test_imagej_calibration_is_kept(tmp_path, capsys, depth):
    st = (np.random.default_rng(1).random((3, 40, 48)) * 60000).astype(np.uint16)
    tifffile.imwrite(tmp_path / "z.tif", st, imagej=True, resolution=(2.0, 2.0), metadata={"unit": "micron", "axes": "ZYX"})
    out = tmp_path / "edf.tif"
    assert main(["fuse-stack", str(tmp_path / "z.tif"), "-o", str(out), "--method", "average", "--bit-depth", depth]) == 0
    assert "pixel size" not in capsys.readouterr().err
    assert _res(out) == (2.0, 1, "micron")


def test_centimetre_calibration_is_kept_and_a_png_is_said(tmp_path, capsys):
    paths = []
    for i in range(3):
        rgb = (np.random.default_rng(i).random((40, 48, 3)) * 255).astype(np.uint8)
        tifffile.imwrite(tmp_path / f"z{i}.tif", rgb, resolution=(40000.0, 40000.0), resolutionunit="CENTIMETER")
        paths.append(str(tmp_path / f"z{i}.tif"))
    assert main(["fuse-stack", *paths, "-o", str(tmp_path / "edf.tif"), "--method", "average"]) == 0
    assert _res(tmp_path / "edf.tif")[:2] == (40000.0, 3)
    assert main(["fuse-stack", *paths, "-o", str(tmp_path / "edf.png"), "--method", "average"]) == 0
    assert "(write a .tif to keep it)" in capsys.readouterr().err


def test_ome_physical_size_is_kept_as_imagej_microns(tmp_path, capsys):
    st = (np.random.default_rng(1).random((3, 40, 48)) * 60000).astype(np.uint16)
    tifffile.imwrite(tmp_path / "z.ome.tif", st, metadata={"axes": "ZYX", "PhysicalSizeX": 0.25, "PhysicalSizeY": 0.25})
    out = tmp_path / "edf.tif"
    assert main(["fuse-stack", str(tmp_path / "z.ome.tif"), "-o", str(out), "--method", "average", "-q"]) == 0
    assert _res(out) == (4.0, 1, "micron")
