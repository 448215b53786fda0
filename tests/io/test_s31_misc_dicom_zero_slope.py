"""A single DICOM file with RescaleSlope 0 (audit s31, misc): ``read_dicom`` read it as a slope of 1
(``slope or 1.0``), so fuse made an image of the stored numbers, while a series
(``dicom_series``) refuses it ("DICOM RescaleSlope is 0"). Now a single file is refused the same
way: one line naming the file, exit status 2, no output."""
from __future__ import annotations

import numpy as np
import pytest

from one_line_error import assert_one_line_error

pydicom = pytest.importorskip("pydicom")


def _dcm(path, slope: str, seed: int = 0) -> str:
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"  # CT
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    ds.Modality = "CT"
    stored = np.random.default_rng(seed).integers(0, 4000, (24, 32))
    ds.Rows, ds.Columns = stored.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.RescaleSlope, ds.RescaleIntercept = slope, "-1024"
    ds.PixelData = stored.astype(np.uint16).tobytes()
    ds.save_as(str(path), enforce_file_format=True)
    return str(path)


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
