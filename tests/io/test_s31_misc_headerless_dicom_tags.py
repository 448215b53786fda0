"""DICOM files without the 128-byte preamble and 'DICM' (PACS exports named by UID; read as images
since 58fdc6b) lost their header everywhere but the pixel reading (audit s31, misc): a DICOM output
of them carried no patient, study or place (the reference's tags were read without ``force``),
a folder of them was not ordered by position, and a slice of another grid among them was not said."""
from __future__ import annotations

import numpy as np
import pytest

from mutualfuse.cli import main

pydicom = pytest.importorskip("pydicom")


def _bare(folder, seed: int, z: float, spacing=(0.5, 0.5)) -> str:
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.4"  # MR
    meta.MediaStorageSOPInstanceUID = f"1.2.3.9.{seed}"
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    path = folder / f"1.2.3.9.{seed}"  # a UID name: no image format's extension
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    ds.Modality, ds.PatientID, ds.StudyInstanceUID, ds.SeriesInstanceUID = "MR", "P1", "1.2.3.8", "1.2.3.8.1"
    ds.FrameOfReferenceUID = "1.2.3.7"
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.ImagePositionPatient = [-100.0, -120.0, z]
    ds.SliceThickness, ds.PixelSpacing = 2.0, list(spacing)
    x = np.random.default_rng(seed).integers(0, 4096, (40, 48))
    ds.Rows, ds.Columns = x.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PixelData = x.astype(np.uint16).tobytes()
    ds.save_as(str(path), enforce_file_format=True)
    raw = path.read_bytes()
    assert raw[128:132] == b"DICM"
    path.write_bytes(raw[132:])  # the meta group and data set alone
    return str(path)


def test_a_dicom_output_of_bare_slices_keeps_their_tags_and_slab(tmp_path):
    paths = [_bare(tmp_path, i, 30.0 + 2.0 * i) for i in range(3)]
    out = tmp_path / "edf.dcm"
    assert main(["fuse-stack", *paths, "-o", str(out), "--method", "average", "-q"]) == 0
    ds = pydicom.dcmread(out)
    assert (ds.PatientID, ds.StudyInstanceUID, ds.FrameOfReferenceUID) == ("P1", "1.2.3.8", "1.2.3.7")
    assert [float(v) for v in ds.ImagePositionPatient] == pytest.approx([-100.0, -120.0, 32.0])
    assert len(ds.SourceImageSequence) == 3


def test_bare_slices_are_ordered_and_compared(tmp_path):
    from mutualfuse.dicom import pair_mismatch_note, positions_along_normal

    paths = [_bare(tmp_path, i, z) for i, z in enumerate((34.0, 30.0, 32.0))]
    assert positions_along_normal(paths) == pytest.approx([34.0, 30.0, 32.0])
    odd = _bare(tmp_path, 9, 36.0, spacing=(0.7, 0.7))
    note = pair_mismatch_note(paths[0], odd)
    assert note is not None and "PixelSpacing (0.5\\0.5 vs 0.7\\0.7)" in note, note
