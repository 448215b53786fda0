"""Session 21 (lead, from the DICOM audit): two DICOM sources that disagree on pixel spacing,
orientation, frame of reference or patient are noted (fused pixel for pixel as registered, the
output filed under the first's tags, before without a word); identifying values not printed."""
from __future__ import annotations

import numpy as np
import pytest

from mutualfuse.cli import main

from tests.io.test_s21_dicom_write import _dicom

pytest.importorskip("pydicom")

BASE = dict(PixelSpacing=[0.5, 0.5], ImageOrientationPatient=[1, 0, 0, 0, 1, 0], FrameOfReferenceUID="1.2.3.9",
            PatientID="P7")


def _pair(tmp_path, **b_changes):
    rng = np.random.default_rng(0)
    _dicom(tmp_path / "ct.dcm", rng.integers(0, 4096, (32, 40)), SOPInstanceUID="1.2.3.4.1.1", **BASE)
    _dicom(tmp_path / "mr.dcm", rng.integers(0, 4096, (32, 40)), SOPInstanceUID="1.2.3.4.2.1",
           **{**BASE, **b_changes})


def _notes(tmp_path, capsys):
    rc = main(["fuse", str(tmp_path / "ct.dcm"), str(tmp_path / "mr.dcm"), "-o", str(tmp_path / "f.png"),
               "--method", "average"])
    err = capsys.readouterr().err
    assert rc == 0, err
    return [ln for ln in err.splitlines() if ln.startswith("note:") and " differ in " in ln]


def test_a_registered_pair_has_no_note(tmp_path, capsys):
    _pair(tmp_path, PixelSpacing=[0.50001, 0.5])  # within 1e-3
    assert _notes(tmp_path, capsys) == []


def test_other_spacing_and_patient_are_noted(tmp_path, capsys):
    _pair(tmp_path, PixelSpacing=[0.9, 0.9], PatientID="Q8")
    notes = _notes(tmp_path, capsys)
    assert len(notes) == 1, notes
    assert "PixelSpacing (0.5\\0.5 vs 0.9\\0.9)" in notes[0] and "PatientID" in notes[0], notes[0]
    assert "P7" not in notes[0] and "Q8" not in notes[0]  # identifying values are not printed
    assert "ct.dcm" in notes[0] and "registered" in notes[0]


def test_other_frame_of_reference_and_orientation_are_noted(tmp_path, capsys):
    _pair(tmp_path, FrameOfReferenceUID="1.2.3.10", ImageOrientationPatient=[0, 1, 0, 0, 0, -1])
    notes = _notes(tmp_path, capsys)
    assert len(notes) == 1 and "FrameOfReferenceUID" in notes[0] and "ImageOrientationPatient" in notes[0], notes
