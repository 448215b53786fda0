"""fuse-stack of DICOM slices to a TIFF (audit s31, misc): the slices' PixelSpacing (row spacing,
column spacing in mm) was not carried into the TIFF's calibration (a004715 wrote a TIFF output's
resolution from TIFF inputs only), so Fiji measured the fused CT/MR in pixels. Now XResolution /
YResolution are pixels a centimetre from the column / row spacing, and a PNG output's note says
the pixel size is not written, as for a calibrated TIFF stack."""
from __future__ import annotations

import pytest

from dicom_files import dicom_image
from mutualfuse.cli import main

pydicom = pytest.importorskip("pydicom")
tifffile = pytest.importorskip("tifffile")


def _slice(path, seed: int, spacing: str = "0.5\\0.25") -> str:
    return dicom_image(path, seed, PixelSpacing=spacing)


def test_pixel_spacing_is_the_tiff_outputs_calibration(tmp_path):
    paths = [_slice(tmp_path / f"MR{i}.dcm", i) for i in range(3)]
    out = tmp_path / "edf.tif"
    assert main(["fuse-stack", *paths, "-o", str(out), "--method", "average"]) == 0
    with tifffile.TiffFile(out) as tf:
        tags = tf.pages[0].tags
        x, y = (tags[k].value for k in ("XResolution", "YResolution"))
        assert int(tags["ResolutionUnit"].value) == 3  # centimetre
    # columns 0.25 mm apart: 40 pixels a cm across; rows 0.5 mm apart: 20 down
    assert x[0] / x[1] == pytest.approx(40.0, rel=1e-6) and y[0] / y[1] == pytest.approx(20.0, rel=1e-6)


def test_png_output_says_the_pixel_size_is_not_written(tmp_path, capsys):
    paths = [_slice(tmp_path / f"MR{i}.dcm", i) for i in range(3)]
    assert main(["fuse-stack", *paths, "-o", str(tmp_path / "edf.png"), "--method", "average"]) == 0
    assert "the stack's pixel size (0.025 x 0.05 cm a pixel) is not written to the output" in capsys.readouterr().err


def test_slices_of_other_spacing_or_none_give_no_calibration(tmp_path):
    from mutualfuse.cli.fuse_stack import stack_calibration

    paths = [_slice(tmp_path / f"MR{i}.dcm", i) for i in range(2)]
    assert stack_calibration(paths) == {"resolution": (40.0, 20.0), "resolutionunit": 3, "unit": None}
    odd = _slice(tmp_path / "odd.dcm", 5, "0.7\\0.7")
    assert stack_calibration(paths + [odd]) is None
    ds = pydicom.dcmread(odd)
    del ds.PixelSpacing
    ds.save_as(odd)
    assert stack_calibration(paths + [odd]) is None


def test_slices_without_the_preamble_are_calibrated_too(tmp_path):
    """DICOM files saved without the 128-byte preamble and 'DICM' (read as DICOM since 58fdc6b)."""
    from mutualfuse.cli.fuse_stack import stack_calibration

    paths = []
    for i in range(2):
        ds = pydicom.dcmread(_slice(tmp_path / f"MR{i}.dcm", i))
        bare = tmp_path / f"1.2.840.{i}"
        ds.save_as(str(bare), enforce_file_format=False, implicit_vr=False, little_endian=True)
        raw = bare.read_bytes()
        if raw[128:132] == b"DICM":
            bare.write_bytes(raw[132:])
        paths.append(str(bare))
    assert stack_calibration(paths) == {"resolution": (40.0, 20.0), "resolutionunit": 3, "unit": None}
