"""``mutualfuse fuse-volume A B -o OUT_DIR/``: the fused volume written as a DICOM series, read
back by the project's series reader and by pydicom: the same voxels within the 16-bit
quantisation, the same affine (to 1e-4 mm), the first input's study and frame of reference, a
new series, one Secondary Capture file a slice with its own SOPInstanceUID."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

pydicom = pytest.importorskip("pydicom")
nib = pytest.importorskip("nibabel")

sys.path.insert(0, str(Path(__file__).parent))
from test_s23_series_fuse import ORIGIN, SPACING, STEP, _pair as series_pair  # noqa: E402
from test_s23_series_read import OBLIQUE  # noqa: E402

sys.path.pop(0)

def _pair(tmp_path):
    """tests/test_s23_series_fuse.py's CT and MR series (seed 5), with patient and study tags."""
    series_pair(tmp_path, seed=5, nifti=False,
                ct_tags=dict(PatientName="Doe^Jane", PatientID="P-17", PatientBirthDate="19700101", PatientSex="F",
                             StudyDescription="CT head", AccessionNumber="A42"),
                mr_tags=dict(PatientName="Doe^Jane", PatientID="P-17"))


def _read_dir(folder):
    return [pydicom.dcmread(str(p)) for p in sorted(Path(folder).iterdir())]


@pytest.mark.parametrize("method", ["average", "lp"])
def test_series_output_round_trip(tmp_path, capsys, method):
    from mutualfuse.cli import main
    from mutualfuse.dicom_series import open_series
    from mutualfuse.image_io import to_uint
    from mutualfuse.volume import read_volume

    _pair(tmp_path)
    extra = ["--param", "levels=2"] if method == "lp" else []
    out = tmp_path / "fused"
    argv = ["fuse-volume", str(tmp_path / "ct"), str(tmp_path / "mr"), "--method", method, *extra]
    assert main([*argv, "-o", f"{out}/"]) == 0
    said = capsys.readouterr().out
    assert said.startswith(f"{out}/  (20x24x6, 6 slices") and "DICOM series of 6 16-bit files" in said
    assert main([*argv, "-o", str(tmp_path / "fused.nii.gz")]) == 0
    capsys.readouterr()
    ref = nib.load(str(tmp_path / "fused.nii.gz"))
    want = np.asarray(ref.dataobj)  # float32 in [0, 1], the same fusion

    # the files: IM0001.dcm ... in slice order, each a valid DICOM file per pydicom
    names = sorted(p.name for p in out.iterdir())
    assert names == [f"IM{k:04d}.dcm" for k in range(1, 7)]
    dss = _read_dir(out)
    ct = open_series(tmp_path / "ct", 2**31)
    first = ct.headers[0]
    sops = {str(d.SOPInstanceUID) for d in dss}
    assert len(sops) == 6
    assert {str(d.SeriesInstanceUID) for d in dss} == {str(dss[0].SeriesInstanceUID)}
    assert str(dss[0].SeriesInstanceUID) != str(first.SeriesInstanceUID)
    for k, d in enumerate(dss):
        assert str(d.file_meta.MediaStorageSOPInstanceUID) == str(d.SOPInstanceUID)
        assert str(d.SOPClassUID) == "1.2.840.10008.5.1.4.1.1.7"  # Secondary Capture
        assert list(d.ImageType) == ["DERIVED", "SECONDARY"]
        assert int(d.InstanceNumber) == k + 1
        assert str(d.StudyInstanceUID) == str(first.StudyInstanceUID)
        assert str(d.FrameOfReferenceUID) == str(first.FrameOfReferenceUID)
        assert str(d.PatientName) == "Doe^Jane" and str(d.PatientID) == "P-17"
        assert str(d.AccessionNumber) == "A42" and str(d.StudyDescription) == "CT head"
        assert "fuse-volume" in str(d.SeriesDescription) and method in str(d.SeriesDescription)
        assert (int(d.BitsAllocated), int(d.BitsStored), int(d.PixelRepresentation)) == (16, 16, 0)
        assert (float(d.RescaleSlope), float(d.RescaleIntercept)) == (1.0, 0.0)
        np.testing.assert_allclose([float(v) for v in d.ImageOrientationPatient], OBLIQUE, rtol=0, atol=1e-6)
        np.testing.assert_allclose([float(v) for v in d.PixelSpacing], SPACING, rtol=0, atol=1e-6)
        assert float(d.SpacingBetweenSlices) == pytest.approx(STEP, abs=1e-6)
        # the pixels: the NIfTI output's values stored as round(v * 65535)
        np.testing.assert_array_equal(d.pixel_array, to_uint(want[:, :, k].astype(np.float64), 16).T)
        lo, hi = int(d.pixel_array.min()), int(d.pixel_array.max())
        c, w = float(d.WindowCenter), float(d.WindowWidth)
        assert c - 0.5 - (w - 1) / 2 <= lo and hi <= c - 0.5 + (w - 1) / 2  # the window covers the data
    # the position of slice k: the first input's, k steps along its normal
    normal = np.cross(OBLIQUE[:3], OBLIQUE[3:])
    for k, d in enumerate(dss):
        np.testing.assert_allclose([float(v) for v in d.ImagePositionPatient],
                                   np.asarray(ORIGIN) + k * STEP * normal, rtol=0, atol=1e-4)

    # read back with the project's reader: the same affine and voxels within the quantisation
    vol, img = read_volume(out)
    np.testing.assert_allclose(img.affine, ref.affine, rtol=0, atol=1e-4)
    np.testing.assert_allclose(img.affine, ct.affine, rtol=0, atol=1e-4)
    assert vol.shape == want.shape
    assert np.abs(vol / 65535 - want.astype(np.float64)).max() <= 0.5 / 65535 + 1e-12


def test_nifti_first_input_gets_a_new_study_and_empty_patient(tmp_path, capsys):
    """A NIfTI first input: no patient to keep (Type 2 attributes empty), a new study and frame
    of reference; the affine still round-trips; a left-handed voxel order is noted and read
    back with its slice axis reversed, the same voxels at the same places."""
    from mutualfuse.cli import main
    from mutualfuse.volume import read_volume

    rng = np.random.default_rng(6)
    for hand, aff in (("right", np.diag([0.9, 0.7, 2.5, 1.0])), ("left", np.diag([-0.9, 0.7, 2.5, 1.0]))):
        aff = aff.copy()
        aff[:3, 3] = (10.0, -20.0, 5.0)
        for name in ("a", "b"):
            img = nib.Nifti1Image(rng.random((20, 16, 5)).astype(np.float32), aff)
            img.set_sform(aff, 1)
            img.set_qform(aff, 1)
            nib.save(img, str(tmp_path / f"{hand}_{name}.nii.gz"))
        out = tmp_path / f"{hand}_out"
        assert main(["fuse-volume", str(tmp_path / f"{hand}_a.nii.gz"), str(tmp_path / f"{hand}_b.nii.gz"),
                     "-o", f"{out}/", "--method", "average"]) == 0
        err = capsys.readouterr().err
        assert main(["fuse-volume", str(tmp_path / f"{hand}_a.nii.gz"), str(tmp_path / f"{hand}_b.nii.gz"),
                     "-o", str(tmp_path / f"{hand}.nii"), "--method", "average"]) == 0
        capsys.readouterr()
        want = np.asarray(nib.load(str(tmp_path / f"{hand}.nii")).dataobj).astype(np.float64)
        dss = _read_dir(out)
        assert len({str(d.SOPInstanceUID) for d in dss}) == 5
        for d in dss:
            for kw in ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate", "StudyID",
                       "AccessionNumber", "ReferringPhysicianName"):
                assert kw in d and d[kw].is_empty, kw
            assert str(d.FrameOfReferenceUID) and str(d.StudyInstanceUID)
        vol, img = read_volume(out)
        if hand == "right":
            assert "reader orders its slices the other way" not in err
            np.testing.assert_allclose(img.affine, aff, rtol=0, atol=1e-4)
            assert np.abs(vol / 65535 - want).max() <= 0.5 / 65535 + 1e-12
        else:
            assert "reader orders its slices the other way" in err
            flipped = aff.copy()  # k reversed: the last slice first, stepping back
            flipped[:3, 3] = aff[:3, 3] + 4 * aff[:3, 2]
            flipped[:3, 2] = -aff[:3, 2]
            np.testing.assert_allclose(img.affine, flipped, rtol=0, atol=1e-4)
            assert np.abs(vol / 65535 - want[:, :, ::-1]).max() <= 0.5 / 65535 + 1e-12
