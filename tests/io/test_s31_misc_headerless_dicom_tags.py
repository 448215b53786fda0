"""DICOM files without the 128-byte preamble and 'DICM' (PACS exports named by UID; read as images
since 58fdc6b) lost their header everywhere but the pixel reading (audit s31, misc): a DICOM output
of them carried no patient, study or place (the reference's tags were read without ``force``),
a folder of them was not ordered by position, and a slice of another grid among them was not said."""
from __future__ import annotations

from pathlib import Path

import pytest

from dicom_files import placed_mr_slice
from mutualfuse.cli import main

pydicom = pytest.importorskip("pydicom")


def _bare(folder, seed: int, z: float, spacing=(0.5, 0.5)) -> str:
    path = Path(placed_mr_slice(folder / f"1.2.3.9.{seed}", seed, z, slice_location=False, spacing=spacing))
    raw = path.read_bytes()  # (a UID name: no image format's extension)
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
