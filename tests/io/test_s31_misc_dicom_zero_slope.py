"""A single DICOM file with RescaleSlope 0 (audit s31, misc): ``read_dicom`` read it as a slope of 1
(``slope or 1.0``), so fuse made an image of the stored numbers, while a series
(``dicom_series``) refuses it ("DICOM RescaleSlope is 0"). Now a single file is refused the same
way: one line naming the file, exit status 2, no output."""
from __future__ import annotations

import pytest

from dicom_files import dicom_image
from one_line_error import assert_one_line_error

pydicom = pytest.importorskip("pydicom")


def _dcm(path, slope: str, seed: int = 0) -> str:
    return dicom_image(path, seed, modality="CT", size=(24, 32), RescaleSlope=slope, RescaleIntercept="-1024")


def test_read_dicom_refuses_a_zero_slope(tmp_path):
    from mutualfuse.dicom import read_dicom, read_dicom_values
    from mutualfuse.errors import InputError

    bad = _dcm(tmp_path / "zero.dcm", "0")
    for read in (read_dicom, read_dicom_values):
        with pytest.raises(InputError, match=rf"^{tmp_path / 'zero.dcm'}: DICOM RescaleSlope is 0$"):
            read(bad)
    x, _ = read_dicom(_dcm(tmp_path / "one.dcm", "1"))  # a slope of 1 (and an absent one) as before
    assert x.shape == (24, 32) and 0.0 <= x.min() < x.max() <= 1.0


def test_fuse_refuses_a_zero_slope_in_one_line(tmp_path, capsys):
    a, b = _dcm(tmp_path / "a.dcm", "0"), _dcm(tmp_path / "b.dcm", "1", seed=1)
    out = tmp_path / "f.png"
    assert_one_line_error(capsys, ["fuse", a, b, "-o", str(out), "--method", "average"],
                          f"{a}: DICOM RescaleSlope is 0")
    assert not out.exists()


def test_rescale_of_does_not_call_a_zero_slope_one(tmp_path):
    from mutualfuse.dicom import rescale_of

    assert rescale_of(_dcm(tmp_path / "z.dcm", "0")) != rescale_of(_dcm(tmp_path / "o.dcm", "1"))
