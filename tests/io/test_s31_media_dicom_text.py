"""The descriptions the DICOM writers add hold the inputs' file names (``fuse a.png b.png -o
x.dcm``: "mutualfuse …: Müller_T1.png + b.png fused by …") or a description of one's own
(``fuse_volume(..., description=)``). Non-ASCII text was written as Latin-1 bytes into a file
that declared no Specific Character Set (the default repertoire: ASCII), which a strict reader
refuses or shows garbled; now such a file declares UTF-8 (ISO_IR 192), and under a declared set
the text is in that set."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mutualfuse.cli import main

pydicom = pytest.importorskip("pydicom")


def _raw(path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


def test_a_non_ascii_input_name_declares_utf8(tmp_path, capsys):
    rng = np.random.default_rng(1)
    a, b = tmp_path / "Müller_T1.png", tmp_path / "b.png"
    Image.fromarray(rng.integers(0, 256, (24, 32), dtype=np.uint8)).save(a)
    Image.fromarray(rng.integers(0, 256, (24, 32), dtype=np.uint8)).save(b)
    out = tmp_path / "x.dcm"
    assert main(["fuse", str(a), str(b), "-o", str(out), "--method", "average", "-q"]) == 0
    ds = pydicom.dcmread(out)
    assert ds.SpecificCharacterSet == "ISO_IR 192"
    assert "Müller_T1.png" in ds.DerivationDescription
    assert "Müller_T1.png".encode("utf-8") in _raw(out)


def test_a_series_description_of_ones_own_declares_utf8(tmp_path):
    nib = pytest.importorskip("nibabel")
    from mutualfuse import Fuser
    from mutualfuse.volume import fuse_volume

    rng = np.random.default_rng(2)
    for name in ("a.nii", "b.nii"):
        img = nib.Nifti1Image(rng.integers(0, 1000, (16, 12, 3)).astype(np.int16), np.diag([0.9, 0.9, 2.5, 1.0]))
        img.set_sform(img.affine, 1)
        nib.save(img, tmp_path / name)
    out = tmp_path / "fused"
    fuse_volume(Fuser("average"), tmp_path / "a.nii", tmp_path / "b.nii", str(out) + "/",
                description="Schädel CT + MR")
    for p in sorted(out.iterdir()):
        ds = pydicom.dcmread(p)
        assert ds.SpecificCharacterSet == "ISO_IR 192"
        assert ds.SeriesDescription == "Schädel CT + MR"
        assert "Schädel".encode("utf-8") in _raw(p)


def test_under_an_iso2022_set_only_what_it_holds_is_written(tmp_path, capsys):
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    rng = np.random.default_rng(3)
    paths = []
    for name in ("山田_Müller.dcm", "b.dcm"):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = FileDataset(str(tmp_path / name), {}, file_meta=meta, preamble=b"\0" * 128)
        ds.SOPClassUID, ds.SOPInstanceUID, ds.Modality = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID, "CT"
        ds.SpecificCharacterSet = ["", "ISO 2022 IR 87"]
        ds.PatientName = "Yamada^Tarou=山田^太郎"
        ds.Rows, ds.Columns = 24, 32
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
        ds.PixelData = rng.integers(0, 4096, (24, 32)).astype(np.uint16).tobytes()
        ds.save_as(str(tmp_path / name), enforce_file_format=True)
        paths.append(str(tmp_path / name))
    out = tmp_path / "x.dcm"
    assert main(["fuse", *paths, "-o", str(out), "--method", "average", "-q"]) == 0
    ds = pydicom.dcmread(out)
    assert list(ds.SpecificCharacterSet) == ["", "ISO 2022 IR 87"]
    assert "山田_M?ller.dcm" in ds.DerivationDescription  # JIS X 0208 holds 山田, not ü
    assert b"M\xfcller" not in _raw(out)  # was Latin-1 bytes, which this set does not declare
