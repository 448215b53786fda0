"""An enhanced (functional-group) single-frame CT keeps its pixel spacing, position and
orientation in Pixel Measures, Plane Position and Plane Orientation functional groups, not at the
top level (session 22): a fused DICOM output of it was written without them (filed nowhere in
the patient), and a pair of it and an MR on another grid was fused without the mismatch note."""
from __future__ import annotations

import pytest

from mutualfuse.cli import main

from test_s22_dicom_pipeline import ENHANCED_CT, RAMP, _dicom, _groups

IMG = RAMP.reshape(32, 32)  # fuse takes images of 8x8 and more

pydicom = pytest.importorskip("pydicom")


def _enhanced(path):
    shared = _groups(PixelMeasuresSequence={"PixelSpacing": [0.7, 0.7], "SliceThickness": 1.25},
                     PlaneOrientationSequence={"ImageOrientationPatient": [1, 0, 0, 0, 1, 0]},
                     PixelValueTransformationSequence={"RescaleSlope": 1, "RescaleIntercept": -1024})
    per = _groups(PlanePositionSequence={"ImagePositionPatient": [-120, -130, 42.5]})
    return _dicom(path, IMG, sop=ENHANCED_CT, NumberOfFrames=1, SharedFunctionalGroupsSequence=shared,
                  PerFrameFunctionalGroupsSequence=per, FrameOfReferenceUID="1.2.3.9")


def test_a_fused_dicom_output_keeps_the_enhanced_references_place(tmp_path, capsys):
    ct = _enhanced(tmp_path / "ct.dcm")
    mr = _dicom(tmp_path / "mr.dcm", IMG, PixelSpacing=[0.7, 0.7], ImageOrientationPatient=[1, 0, 0, 0, 1, 0])
    out = tmp_path / "f.dcm"
    rc = main(["fuse", str(ct), str(mr), "-o", str(out), "--method", "average"])
    err = capsys.readouterr().err
    assert rc == 0, err
    assert " differ in " not in err  # the same grid: no note
    ds = pydicom.dcmread(out)
    assert [float(v) for v in ds.PixelSpacing] == [0.7, 0.7]
    assert float(ds.SliceThickness) == 1.25
    assert [float(v) for v in ds.ImagePositionPatient] == [-120, -130, 42.5]
    assert [float(v) for v in ds.ImageOrientationPatient] == [1, 0, 0, 0, 1, 0]
    assert ds.FrameOfReferenceUID == "1.2.3.9"


def test_an_enhanced_ct_on_another_grid_is_noted(tmp_path, capsys):
    ct = _enhanced(tmp_path / "ct.dcm")
    mr = _dicom(tmp_path / "mr.dcm", IMG, PixelSpacing=[0.9, 0.9], ImageOrientationPatient=[0, 1, 0, 0, 0, -1])
    rc = main(["fuse", str(ct), str(mr), "-o", str(tmp_path / "f.png"), "--method", "average"])
    err = capsys.readouterr().err
    assert rc == 0, err
    notes = [ln for ln in err.splitlines() if ln.startswith("note:") and " differ in " in ln]
    assert len(notes) == 1, err
    assert "PixelSpacing (0.7\\0.7 vs 0.9\\0.9)" in notes[0] and "ImageOrientationPatient" in notes[0], notes[0]
