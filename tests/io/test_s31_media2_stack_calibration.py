"""A focus stack of calibrated TIFF planes (an ImageJ z-stack at 0.5 micron a pixel, a
microscope's TIFFs in centimetres): the output cannot carry the pixel size yet (the writer
writes no resolution tags), so fuse-stack says so in a note instead of dropping it without a
word (Fiji then measured the result in pixels). Uncalibrated planes and a photograph's dots per
inch get no note; :func:`stack_calibration` reads what the planes declare."""
from __future__ import annotations

import numpy as np
import pytest

from mutualfuse.cli import main
from mutualfuse.cli.fuse_stack import stack_calibration

tifffile = pytest.importorskip("tifffile")


def _planes(n=3):
    rng = np.random.default_rng(2)
    return (rng.random((n, 40, 48)) * 60000).astype(np.uint16)


def test_imagej_stack_calibration_is_read_and_its_loss_said(tmp_path, capsys):
    st = tmp_path / "zstack.tif"
    tifffile.imwrite(st, _planes(), imagej=True, resolution=(2.0, 2.0), metadata={"unit": "micron", "axes": "ZYX"})
    assert stack_calibration([str(st)]) == {"resolution": (2.0, 2.0), "resolutionunit": 1, "unit": "micron"}
    out = tmp_path / "edf.png"  # a PNG cannot hold it (a TIFF output will, once the writer takes it)
    assert main(["fuse-stack", str(st), "-o", str(out), "--method", "average"]) == 0
    err = capsys.readouterr().err
    assert "the stack's pixel size (0.5 x 0.5 micron a pixel) is not written to the output" in err, err


def test_files_in_centimetres_are_read_and_said_and_disagreeing_ones_are_not(tmp_path, capsys):
    paths = []
    for i, x in enumerate(_planes()):
        p = tmp_path / f"z{i}.tif"
        tifffile.imwrite(p, x, resolution=(40000.0, 40000.0), resolutionunit="CENTIMETER")  # 0.25 um
        paths.append(str(p))
    assert stack_calibration(paths) == {"resolution": (40000.0, 40000.0), "resolutionunit": 3, "unit": None}
    assert main(["fuse-stack", *paths, "-o", str(tmp_path / "edf.png"), "--method", "average"]) == 0
    assert "(2.5e-05 x 2.5e-05 cm a pixel) is not written" in capsys.readouterr().err
    tifffile.imwrite(paths[1], _planes()[1], resolution=(20000.0, 20000.0), resolutionunit="CENTIMETER")
    assert stack_calibration(paths) is None  # planes that disagree: no one pixel size, said
    assert main(["fuse-stack", *paths, "-o", str(tmp_path / "edf2.png"), "--method", "average"]) == 0
    err = capsys.readouterr().err
    assert ("the stack's TIFF files declare 2 pixel sizes (2.5e-05 x 2.5e-05 cm a pixel; 5e-05 x 5e-05 cm a pixel): "
            "they are fused pixel for pixel") in err, err


def test_no_note_without_a_microscope_calibration(tmp_path, capsys):
    paths = []
    for i, x in enumerate(_planes()):
        p = tmp_path / f"z{i}.tif"
        tifffile.imwrite(p, x, resolution=(300.0, 300.0), resolutionunit="INCH")
        paths.append(str(p))
    assert main(["fuse-stack", *paths, "-o", str(tmp_path / "a.tif"), "--method", "average"]) == 0
    plain = tmp_path / "plain.tif"
    tifffile.imwrite(plain, _planes(), photometric="minisblack")
    assert stack_calibration([str(plain)]) is None
    assert main(["fuse-stack", str(plain), "-o", str(tmp_path / "b.tif"), "--method", "average"]) == 0
    assert "pixel size" not in capsys.readouterr().err


def test_ome_tiff_physical_size_is_read(tmp_path, capsys):
    """An OME-TIFF z-stack keeps its pixel size in the OME XML (the resolution tags say 1 x 1)."""
    st = tmp_path / "z.ome.tif"
    tifffile.imwrite(st, _planes(4), metadata={"axes": "ZYX", "PhysicalSizeX": 0.25, "PhysicalSizeY": 0.25})
    assert stack_calibration([str(st)]) == {"resolution": (4.0, 4.0), "resolutionunit": 1, "unit": "micron"}
    assert main(["fuse-stack", str(st), "-o", str(tmp_path / "edf.png"), "--method", "average"]) == 0
    assert "(0.25 x 0.25 micron a pixel) is not written" in capsys.readouterr().err
