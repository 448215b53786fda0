"""fuse-volume audited as a radiology researcher (session 25): a DICOM series output of a NIfTI
in meters or microns is written in mm; two series of two frames of reference (or two patients)
are noted; a NIfTI whose qform and sform disagree is noted; a gantry-tilted series is refused
naming the angle and what to do; a CT + MR series pair gives a valid derived series."""
from __future__ import annotations

import os
import re

import numpy as np
import pytest

pydicom = pytest.importorskip("pydicom")
nib = pytest.importorskip("nibabel")

from one_line_error import assert_one_line_error  # noqa: E402
from tolerance import assert_close  # noqa: E402
from test_s23_series_read import make_series  # noqa: E402

from mutualfuse.cli import main  # noqa: E402

A_MM = np.array([[0.9, 0, 0, -14.0], [0, 0.9, 0, -12.0], [0, 0, 2.5, 5.0], [0, 0, 0, 1]])
UID = re.compile(r"^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$")


def _series(folder):
    dss = [pydicom.dcmread(str(p)) for p in sorted(folder.iterdir())]
    return sorted(dss, key=lambda d: int(d.InstanceNumber))


@pytest.mark.parametrize("unit,per_mm", [("meter", 1e-3), ("micron", 1e3)])
def test_series_output_of_a_nifti_in_meters_or_microns_is_in_mm(tmp_path, capsys, unit, per_mm):
    aff = A_MM.copy()
    aff[:3, :] *= per_mm  # the same grid, its numbers in the file's unit
    rng = np.random.default_rng(0)
    for n in ("a", "b"):
        img = nib.Nifti1Image(rng.random((16, 12, 4)).astype(np.float32), aff)
        img.header.set_xyzt_units(unit)
        nib.save(img, str(tmp_path / f"{n}.nii.gz"))
    out = tmp_path / "out"
    assert main(["fuse-volume", str(tmp_path / "a.nii.gz"), str(tmp_path / "b.nii.gz"), "-o", f"{out}/",
                 "--method", "average"]) == 0
    err = capsys.readouterr().err
    dss = _series(out)
    assert [float(v) for v in dss[0].PixelSpacing] == pytest.approx([0.9, 0.9], rel=1e-6)
    assert float(dss[0].SpacingBetweenSlices) == pytest.approx(2.5, rel=1e-6)
    # the RAS origin (-14, -12, 5) mm is LPS (14, 12, 5); slice k at z = 5 + 2.5 k
    for k, d in enumerate(dss):
        assert [float(v) for v in d.ImagePositionPatient] == pytest.approx([14.0, 12.0, 5.0 + 2.5 * k], abs=1e-5)
    from mutualfuse.volume import read_volume

    _, img = read_volume(out)  # read back: the grid in mm
    assert np.allclose(img.affine, A_MM, atol=1e-5)
    assert f"are in {unit} (xyzt_units): the DICOM series gives them in mm" in err


def test_two_series_of_two_frames_of_reference_or_patients_are_noted(tmp_path, capsys):
    rng = np.random.default_rng(1)
    ct = rng.integers(-1024, 1500, (20, 16, 5))
    mr = rng.integers(0, 4000, (20, 16, 5))
    make_series(tmp_path / "ct", ct, signed=True, slopes=[1] * 5, intercepts=[-1024] * 5, PatientID="P1",
                PatientName="Doe^Jane", StudyDate="20260101", AccessionNumber="ACC1", FrameOfReferenceUID="1.2.3.4")
    make_series(tmp_path / "mr", mr, modality="MR", PatientID="P1", FrameOfReferenceUID="1.2.3.4")
    make_series(tmp_path / "mr_other", mr, modality="MR", PatientID="P2", FrameOfReferenceUID="1.2.3.5")
    out = tmp_path / "out"
    assert main(["fuse-volume", str(tmp_path / "ct"), str(tmp_path / "mr"), "-o", f"{out}/",
                 "--method", "average"]) == 0
    assert "differ in" not in capsys.readouterr().err  # one frame of reference, one patient
    # the CT + MR series written: a valid derived series under the CT's patient and study
    src = pydicom.dcmread(str(next((tmp_path / "ct").iterdir())))
    dss = _series(out)
    assert len(dss) == 5 and len({str(d.SOPInstanceUID) for d in dss}) == 5
    normal = np.cross([float(v) for v in dss[0].ImageOrientationPatient[:3]],
                      [float(v) for v in dss[0].ImageOrientationPatient[3:]])
    along = [float(np.dot([float(v) for v in d.ImagePositionPatient], normal)) for d in dss]
    assert along == sorted(along)  # InstanceNumber 1 ... N in position order
    for d in dss:
        for uid in (d.SOPInstanceUID, d.SeriesInstanceUID, d.StudyInstanceUID, d.FrameOfReferenceUID):
            assert UID.match(str(uid)) and len(str(uid)) <= 64, uid
        assert str(d.SeriesInstanceUID) != str(src.SeriesInstanceUID)
        assert (str(d.PatientID), str(d.PatientName), str(d.StudyDate), str(d.AccessionNumber)) == (
            "P1", "Doe^Jane", "20260101", "ACC1")
        assert str(d.StudyInstanceUID) == str(src.StudyInstanceUID) and str(d.FrameOfReferenceUID) == "1.2.3.4"
        assert list(d.ImageType) == ["DERIVED", "SECONDARY"] and d.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1"
        px = d.pixel_array
        assert (int(d.PixelRepresentation), int(d.BitsStored)) == (0, 16) and px.dtype == np.uint16
        c, w = float(d.WindowCenter), float(d.WindowWidth)
        assert 0 <= c - w / 2 and c + w / 2 <= 65536 and w >= 2
    # two frames of reference and two patients: fused (the grids agree), with a note naming both
    assert main(["fuse-volume", str(tmp_path / "ct"), str(tmp_path / "mr_other"), "-o", str(tmp_path / "f.nii.gz"),
                 "--method", "average"]) == 0
    err = capsys.readouterr().err
    assert (f"{tmp_path / 'ct'} and {tmp_path / 'mr_other'} differ in FrameOfReferenceUID, PatientID: their "
            "positions are in two frames of reference") in err
    assert "P2" not in err  # an identifier is not printed


def test_a_nifti_whose_qform_and_sform_disagree_is_noted(tmp_path, capsys):
    rng = np.random.default_rng(2)
    q = A_MM.copy()
    q[:3, 3] += [5.0, 0, 0]  # 5 mm apart
    img = nib.Nifti1Image(rng.random((16, 12, 4)).astype(np.float32), None)
    img.set_sform(A_MM, 1)
    img.set_qform(q, 1)
    nib.save(img, str(tmp_path / "a.nii.gz"))
    img = nib.Nifti1Image(rng.random((16, 12, 4)).astype(np.float32), None)
    img.set_sform(A_MM, 1)
    img.set_qform(A_MM, 1)
    nib.save(img, str(tmp_path / "b.nii.gz"))
    out = tmp_path / "f.nii.gz"
    assert main(["fuse-volume", str(tmp_path / "a.nii.gz"), str(tmp_path / "b.nii.gz"), "-o", str(out),
                 "--method", "average"]) == 0
    err = capsys.readouterr().err
    assert (f"{tmp_path / 'a.nii.gz'}: its qform and sform disagree (qform_code 1, sform_code 1; affines differ by "
            "up to 5, origins 5 apart)") in err
    assert "the output keeps both" in err and f"{tmp_path / 'b.nii.gz'}: its qform" not in err
    res = nib.load(str(out))  # the first volume's header kept, both transforms
    assert np.allclose(res.header.get_sform(), A_MM, atol=1e-5) and np.allclose(res.header.get_qform(), q, atol=1e-5)


def test_a_gantry_tilted_series_is_refused_with_its_angle_and_what_to_do(tmp_path, capsys):
    t = np.deg2rad(15)
    iop = (1, 0, 0, 0, np.cos(t), np.sin(t))  # the tilted gantry's slice plane
    pos = [(-30.0, 12.0, 40.0 + 2.5 * k) for k in range(5)]  # the table moves along z
    vol = np.ones((10, 10, 5), int)
    make_series(tmp_path / "tilt", vol, iop=iop, positions=pos, GantryDetectorTilt="15")
    make_series(tmp_path / "ok", vol)
    before = sorted(os.listdir(tmp_path))
    assert_one_line_error(capsys, ["fuse-volume", str(tmp_path / "tilt"), str(tmp_path / "ok"), "-o",
                                   f"{tmp_path / 'out'}/", "--method", "average"],
                          f"{tmp_path / 'tilt'}: the slices are shifted in their plane",
                          "as from a gantry tilt of 15 degrees, GantryDetectorTilt 15)",
                          "convert the series to NIfTI with dcm2niix")
    assert sorted(os.listdir(tmp_path)) == before  # no series folder, no temporary


def _fused(tmp_path, capsys, a, b, name, *extra, method=("--method", "lp", "--param", "levels=2")):
    out = tmp_path / name
    assert main(["fuse-volume", str(a), str(b), "-o", str(out), *method, *extra]) == 0
    err = capsys.readouterr().err
    img = nib.load(str(out))
    return np.asarray(img.dataobj), img, err


@pytest.mark.parametrize("order", ["lps", "permuted"])
def test_one_grid_stored_in_another_voxel_order_is_reordered_exactly(tmp_path, capsys, order):
    rng = np.random.default_rng(3)
    shape = (36, 34, 6)
    ct = rng.integers(-1024, 2000, shape).astype(np.int16)
    mr = (rng.random(shape) * 800).astype(np.float32)
    nib.save(nib.Nifti1Image(ct, A_MM), str(tmp_path / "ct.nii.gz"))
    nib.save(nib.Nifti1Image(mr, A_MM), str(tmp_path / "mr.nii.gz"))
    n = np.array(shape) - 1
    if order == "lps":  # the same voxel centres stored with x and y reversed (LPS storage)
        p = np.array([[-1, 0, 0, n[0]], [0, -1, 0, n[1]], [0, 0, 1, 0], [0, 0, 0, 1]], float)
        data, codes, how = mr[::-1, ::-1, :], "(LPS against RAS)", "axis 0 reversed, axis 1 reversed"
    else:  # stored slice-first (Z, X, Y), the slices reversed
        p = np.array([[0, 1, 0, 0], [0, 0, 1, 0], [-1, 0, 0, n[2]], [0, 0, 0, 1]], float)
        data, codes, how = np.transpose(mr, (2, 0, 1))[::-1], "(IRA against RAS)", (
            "axis 0 is its axis 1, axis 1 is its axis 2, axis 2 is its axis 0 reversed")
    # A's index = p @ B's index: B's affine = A's @ p
    nib.save(nib.Nifti1Image(np.ascontiguousarray(data), A_MM @ p), str(tmp_path / "mr_other.nii.gz"))
    want, _, _ = _fused(tmp_path, capsys, tmp_path / "ct.nii.gz", tmp_path / "mr.nii.gz", "want.nii.gz")
    got, img, err = _fused(tmp_path, capsys, tmp_path / "ct.nii.gz", tmp_path / "mr_other.nii.gz", "got.nii.gz",
                           "--batch", "4")
    assert np.array_equal(got, want)  # the same voxels fused, bit for bit
    assert np.allclose(img.affine, A_MM, atol=1e-6) and img.shape == shape  # the first volume's grid
    assert (f"{tmp_path / 'mr_other.nii.gz'}: the same voxel grid as {tmp_path / 'ct.nii.gz'} stored in another "
            f"voxel order {codes}: its voxels reordered onto {tmp_path / 'ct.nii.gz'}'s ({how}; exact, no "
            "resampling)") in err
    # mirrored, not reordered (the LPS affine of RAS-stored voxels: other places): refused as before
    nib.save(nib.Nifti1Image(mr, np.diag([-1, -1, 1, 1]) @ A_MM), str(tmp_path / "mirror.nii.gz"))
    assert_one_line_error(capsys, ["fuse-volume", str(tmp_path / "ct.nii.gz"), str(tmp_path / "mirror.nii.gz"),
                                   "-o", str(tmp_path / "no.nii.gz"), "--method", "average"],
                          "its voxel axes point to LPS")
    assert not (tmp_path / "no.nii.gz").exists()


def test_a_series_and_its_nifti_in_dcm2niix_voxel_order_fuse(tmp_path, capsys):
    """dcm2niix stores a series with its rows reversed (a RAS-like voxel order): the same grid."""
    from mutualfuse.volume import read_volume

    rng = np.random.default_rng(4)
    stored = rng.integers(0, 3000, (20, 18, 5))  # rows, columns, slices
    make_series(tmp_path / "mr", stored, modality="MR")
    vol, img = read_volume(tmp_path / "mr")  # (columns, rows, slices) on the series' affine
    n = np.array(vol.shape) - 1
    p = np.array([[1, 0, 0, 0], [0, -1, 0, n[1]], [0, 0, 1, 0], [0, 0, 0, 1]], float)
    nii = nib.Nifti1Image(np.ascontiguousarray(vol[:, ::-1, :]).astype(np.float32), img.affine @ p)
    nii.header.set_xyzt_units("mm")
    nib.save(nii, str(tmp_path / "mr_flipped.nii.gz"))
    nib.save(nib.Nifti1Image(vol.astype(np.float32), img.affine), str(tmp_path / "mr_same.nii.gz"))
    want, _, _ = _fused(tmp_path, capsys, tmp_path / "mr", tmp_path / "mr_same.nii.gz", "want.nii.gz")
    got, _, err = _fused(tmp_path, capsys, tmp_path / "mr", tmp_path / "mr_flipped.nii.gz", "got.nii.gz")
    assert np.array_equal(got, want) and "reordered onto" in err
    # the network (the default method) on the reordered volume, a view with reversed strides
    net_want, _, _ = _fused(tmp_path, capsys, tmp_path / "mr", tmp_path / "mr_same.nii.gz", "nw.nii.gz",
                            "--device", "cpu", method=())
    net_got, _, _ = _fused(tmp_path, capsys, tmp_path / "mr", tmp_path / "mr_flipped.nii.gz", "ng.nii.gz",
                           "--device", "cpu", method=())
    assert_close(net_got, net_want, dtype=np.float32)


def test_a_nifti_first_and_a_series_second_give_the_series_patient_and_frame(tmp_path, capsys):
    """The output of a NIfTI (e.g. a processed PET) fused with a CT series had no patient, a new
    study and a new frame of reference: an orphan series for a PACS."""
    from mutualfuse.volume import read_volume

    rng = np.random.default_rng(5)
    make_series(tmp_path / "ct", rng.integers(0, 3000, (20, 18, 5)), PatientID="P7", PatientName="Roe^R",
                AccessionNumber="ACC7", FrameOfReferenceUID="1.2.3.7", SliceThickness="3")
    vol, img = read_volume(tmp_path / "ct")
    pet = nib.Nifti1Image(rng.random(vol.shape).astype(np.float32), img.affine)
    pet.header.set_xyzt_units("mm")
    nib.save(pet, str(tmp_path / "pet.nii.gz"))
    out = tmp_path / "out"
    assert main(["fuse-volume", str(tmp_path / "pet.nii.gz"), str(tmp_path / "ct"), "-o", f"{out}/",
                 "--method", "average"]) == 0
    err = capsys.readouterr().err
    assert f"{out}/: patient, study and frame of reference from {tmp_path / 'ct'}" in err
    src = pydicom.dcmread(str(next((tmp_path / "ct").iterdir())))
    for d in _series(out):
        assert (str(d.PatientID), str(d.PatientName), str(d.AccessionNumber)) == ("P7", "Roe^R", "ACC7")
        assert str(d.StudyInstanceUID) == str(src.StudyInstanceUID) and str(d.FrameOfReferenceUID) == "1.2.3.7"
        assert float(d.SliceThickness) == 3.0 and float(d.SpacingBetweenSlices) == pytest.approx(2.5)
    _, back = read_volume(out)
    assert np.allclose(back.affine, img.affine, atol=1e-5)


def test_a_series_output_of_a_nifti_without_orientation_says_its_place_is_made_up(tmp_path, capsys):
    rng = np.random.default_rng(6)
    for n in ("a", "b"):
        img = nib.Nifti1Image(rng.random((20, 16, 4)).astype(np.float32), None)
        img.header.set_zooms((0.9, 0.9, 2.5))
        img.set_sform(None, 0)
        img.set_qform(None, 0)
        nib.save(img, str(tmp_path / f"{n}.nii.gz"))
    assert main(["fuse-volume", str(tmp_path / "a.nii.gz"), str(tmp_path / "b.nii.gz"), "-o", f"{tmp_path / 'o'}/",
                 "--method", "average"]) == 0
    err = capsys.readouterr().err
    assert (f"{tmp_path / 'a.nii.gz'}: no orientation (sform_code and qform_code 0): the DICOM series' positions "
            "and orientation are nibabel's stand-in affine") in err
    assert len(os.listdir(tmp_path / "o")) == 4
    assert main(["fuse-volume", str(tmp_path / "a.nii.gz"), str(tmp_path / "b.nii.gz"), "-o",
                 str(tmp_path / "o.nii.gz"), "--method", "average"]) == 0
    assert "stand-in affine" not in capsys.readouterr().err  # a NIfTI output keeps the codes 0 as they were
