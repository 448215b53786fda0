"""DICOM output of a CT + MR pair (audit s21): the reference's character set goes with the text
it lends (a non-ASCII patient name was written as Latin-1 bytes under the default repertoire, or
as '??' with a warning on stderr), new UIDs, and the file passes pydicom's strict read."""
from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

from mutualfuse.cli import main

pydicom = pytest.importorskip("pydicom")


def _dicom(path, arr, **kw):
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    meta.MediaStorageSOPInstanceUID = kw.pop("SOPInstanceUID")
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID, ds.Modality = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID, "CT"
    ds.Rows, ds.Columns = arr.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    for k, v in kw.items():
        setattr(ds, k, v)
    ds.PixelData = arr.astype(np.uint16).tobytes()
    ds.save_as(str(path), enforce_file_format=True)


@pytest.mark.parametrize("charset,name,study", [("ISO_IR 192", "山田^太郎", "頭部 CT"),
                                                ("ISO_IR 100", "Müller^Jürgen", "Schädel CT"),
                                                (["", "ISO 2022 IR 87"], "Yamada^Tarou=山田^太郎", "CT")])
def test_a_non_ascii_patient_name_keeps_its_character_set(tmp_path, capsys, charset, name, study):
    rng = np.random.default_rng(0)
    _dicom(tmp_path / "ct.dcm", rng.integers(0, 4096, (32, 40)), SpecificCharacterSet=charset, PatientName=name,
           PatientID="P7", StudyDescription=study, StudyInstanceUID="1.2.3.4", SeriesInstanceUID="1.2.3.4.1",
           SOPInstanceUID="1.2.3.4.1.1", WindowCenter=40, WindowWidth=400, RescaleIntercept=-1024, RescaleSlope=1)
    _dicom(tmp_path / "mr.dcm", rng.integers(0, 4096, (32, 40)), PatientName="Other^Source", StudyInstanceUID="9.8",
           SeriesInstanceUID="9.8.1", SOPInstanceUID="9.8.1.1")
    old = os.umask(0o027)
    try:
        rc = main(["fuse", str(tmp_path / "ct.dcm"), str(tmp_path / "mr.dcm"), "-o", str(tmp_path / "f.dcm"),
                   "--method", "average", "-q"])
    finally:
        os.umask(old)
    out, err = capsys.readouterr()
    assert rc == 0 and err == "", err  # no 'Failed to encode value' warning
    assert os.stat(tmp_path / "f.dcm").st_mode & 0o777 == 0o640
    ds = pydicom.dcmread(tmp_path / "f.dcm", force=False)
    want = pydicom.dcmread(tmp_path / "ct.dcm", stop_before_pixels=True)
    assert ds.get("SpecificCharacterSet") == want.SpecificCharacterSet
    assert str(ds.PatientName) == str(want.PatientName) == name and ds.StudyDescription == study
    raw = (tmp_path / "f.dcm").read_bytes()
    assert want.data_element("PatientName").value.encode(want._character_set) in raw  # the source's bytes
    assert ds.SOPInstanceUID not in ("1.2.3.4.1.1", "9.8.1.1")
    assert ds.SeriesInstanceUID not in ("1.2.3.4.1", "9.8.1") and ds.StudyInstanceUID == "1.2.3.4"
    assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID and list(ds.ImageType)[0] == "DERIVED"
    assert (ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation) == (16, 16, 15, 0)
    assert ds.pixel_array.shape == (32, 40) and ds.pixel_array.dtype == np.uint16


def test_type2_attributes_of_the_secondary_capture_iod_are_present(tmp_path, capsys):
    """Study date/time, referring physician, study ID, accession number, series and instance
    number and patient orientation are Type 2 in the SC Image IOD: present (empty where no source
    lends them); they were left out. A source's values are kept."""
    from PIL import Image

    rng = np.random.default_rng(1)
    for n in "ab":
        Image.fromarray(rng.integers(0, 256, (24, 32), dtype=np.uint8)).save(tmp_path / f"{n}.png")
    _dicom(tmp_path / "ct.dcm", rng.integers(0, 4096, (24, 32)), StudyInstanceUID="1.2.3.4", SOPInstanceUID="1.2.3.4.1.1",
           SeriesInstanceUID="1.2.3.4.1", StudyDate="20261206", StudyID="S9", InstanceNumber=7)
    for a, b, out in (("a.png", "b.png", "p.dcm"), ("ct.dcm", "b.png", "c.dcm")):
        assert main(["fuse", str(tmp_path / a), str(tmp_path / b), "-o", str(tmp_path / out), "--method", "average",
                     "-q"]) == 0
    capsys.readouterr()
    keys = ("StudyDate", "StudyTime", "ReferringPhysicianName", "StudyID", "AccessionNumber", "SeriesNumber",
            "InstanceNumber", "PatientOrientation")
    png = pydicom.dcmread(tmp_path / "p.dcm", force=False)
    assert all(k in png and png.data_element(k).is_empty for k in keys), [k for k in keys if k not in png]
    ct = pydicom.dcmread(tmp_path / "c.dcm", force=False)
    assert all(k in ct for k in keys)
    assert (ct.StudyDate, ct.StudyID, int(ct.InstanceNumber)) == ("20261206", "S9", 7) and ct.data_element("StudyTime").is_empty


@pytest.mark.filterwarnings("ignore:The value length:UserWarning")  # the test writes the over-long source on purpose
def test_a_source_with_malformed_tags_fuses_quietly(tmp_path, capsys):
    """A source whose PixelSpacing is no number ('0.50\\abcd') failed the write with "internal
    error: ValueError" (exit 1) after the fuse; an over-long PatientID and a DA written with
    dashes put pydicom's UserWarning lines on stderr. The malformed tag is left out, the others
    are kept as the source has them, and nothing but the result is printed."""
    from pydicom import config

    rng = np.random.default_rng(2)
    mode = config.settings.writing_validation_mode
    config.settings.writing_validation_mode = config.IGNORE  # to write the malformed source
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _dicom(tmp_path / "ct.dcm", rng.integers(0, 4096, (24, 32)), PatientID="X" * 100, StudyDate="2026-12-06",
                   PixelSpacing=["0.50", "0.50"], StudyInstanceUID="1.2.3.4", SeriesInstanceUID="1.2.3.4.1",
                   SOPInstanceUID="1.2.3.4.1.1")
    finally:
        config.settings.writing_validation_mode = mode
    raw = (tmp_path / "ct.dcm").read_bytes()
    assert raw.count(b"0.50\\0.50") == 1
    (tmp_path / "ct.dcm").write_bytes(raw.replace(b"0.50\\0.50", b"0.50\\abcd"))
    _dicom(tmp_path / "mr.dcm", rng.integers(0, 4096, (24, 32)), SOPInstanceUID="9.8.1.1")
    rc = main(["fuse", str(tmp_path / "ct.dcm"), str(tmp_path / "mr.dcm"), "-o", str(tmp_path / "f.dcm"),
               "--method", "average", "-q"])
    out, err = capsys.readouterr()
    assert rc == 0 and err == "", err
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the over-long PatientID, as the source has it
        ds = pydicom.dcmread(tmp_path / "f.dcm", force=False)
        assert "PixelSpacing" not in ds and ds.PatientID == "X" * 100 and ds.StudyInstanceUID == "1.2.3.4"
