"""``mutualfuse fuse-volume CT_DIR MR_DIR -o OUT.nii.gz``: two DICOM series (or a series and a
NIfTI) fused as the same data given as NIfTI files; what a series folder may not be (one-line
errors, exit 2, no output)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

pydicom = pytest.importorskip("pydicom")
nib = pytest.importorskip("nibabel")

sys.path.insert(0, str(Path(__file__).parent))
from one_line_error import assert_one_line_error  # noqa: E402
from test_s23_series_read import OBLIQUE, _hand_affine, make_series  # noqa: E402

sys.path.pop(0)

SHAPE = (24, 20, 6)  # rows, columns, slices
STEP, SPACING, ORIGIN = 2.5, (0.7, 0.9), (-30.0, 12.0, 40.0)


def _pair(tmp_path, seed=3, nifti=True, ct_tags=None, mr_tags=None):
    """A CT series (per-slice rescale, oblique) and an MR series on its grid (``*_tags``: more
    DICOM attributes of each), and, with ``nifti``, the NIfTI files of the same values (voxels as
    i column, j row, k slice) with the affine computed by hand; → that affine."""
    rng = np.random.default_rng(seed)
    ct = rng.integers(0, 4000, SHAPE)
    mr = rng.integers(0, 1500, SHAPE)
    slopes = [1, 0.5, 2, 1, 0.25, 1.5]
    inters = [-1024, -1000, -2048, 0, 10, -500]
    make_series(tmp_path / "ct", ct, iop=OBLIQUE, spacing=SPACING, step=STEP, origin=ORIGIN, slopes=slopes,
                intercepts=inters, **(ct_tags or {}))
    make_series(tmp_path / "mr", mr, iop=OBLIQUE, spacing=SPACING, step=STEP, origin=ORIGIN, modality="MR",
                description="T1", **(mr_tags or {}))
    aff = _hand_affine(OBLIQUE, SPACING, STEP, ORIGIN)
    if not nifti:
        return aff
    hu = ct * np.array(slopes, float) + np.array(inters, float)
    for name, v in (("ct.nii.gz", hu), ("mr.nii.gz", mr.astype(np.float64))):
        img = nib.Nifti1Image(np.transpose(v, (1, 0, 2)), aff)
        img.set_sform(aff, 1)
        img.set_qform(aff, 1)
        nib.save(img, str(tmp_path / name))
    return aff


@pytest.mark.parametrize("method", ["average", "lp"])
def test_two_series_fuse_as_the_same_data_given_as_nifti(tmp_path, capsys, method):
    from mutualfuse.cli import main

    aff = _pair(tmp_path)
    extra = ["--param", "levels=2"] if method == "lp" else []
    (tmp_path / "ct" / "notes.txt").write_text("not DICOM\n")
    assert main(["fuse-volume", str(tmp_path / "ct"), str(tmp_path / "mr"), "-o", str(tmp_path / "s.nii.gz"),
                 "--method", method, *extra]) == 0
    err = capsys.readouterr().err
    assert f"{tmp_path / 'ct'}: 1 non-DICOM file skipped, e.g. notes.txt" in err
    assert main(["fuse-volume", str(tmp_path / "ct.nii.gz"), str(tmp_path / "mr.nii.gz"), "-o",
                 str(tmp_path / "n.nii.gz"), "--method", method, *extra]) == 0
    # and mixed: a NIfTI on one side, a series on the other (same grid: same rule as two NIfTI)
    assert main(["fuse-volume", str(tmp_path / "ct.nii.gz"), str(tmp_path / "mr"), "-o",
                 str(tmp_path / "m.nii.gz"), "--method", method, *extra]) == 0
    capsys.readouterr()
    s, n, m = (nib.load(str(tmp_path / f)) for f in ("s.nii.gz", "n.nii.gz", "m.nii.gz"))
    got = np.asarray(s.dataobj)
    assert got.shape == (20, 24, 6) and got.dtype == np.float32
    # the same float64 values through the same computation: equal bit for bit
    np.testing.assert_array_equal(got, np.asarray(n.dataobj))
    np.testing.assert_array_equal(got, np.asarray(m.dataobj))
    # the output is on the series' grid, in scanner space, in mm
    np.testing.assert_allclose(s.affine, aff, rtol=0, atol=1e-4 * min(SPACING))
    assert int(s.header["sform_code"]) == 1 and int(s.header["qform_code"]) == 1
    assert s.header.get_xyzt_units()[0] == "mm"


def test_padding_is_black_and_kept_out_of_the_mapping(tmp_path, capsys):
    from mutualfuse.cli import main

    rng = np.random.default_rng(4)
    ct = rng.integers(0, 4000, SHAPE)
    ct[:3, :, :] = 4095  # a padded band in every slice, stored value 4095 (brightest)
    make_series(tmp_path / "ct", ct, PixelPaddingValue=4095)
    make_series(tmp_path / "mr", ct)
    assert main(["fuse-volume", str(tmp_path / "ct"), str(tmp_path / "ct"), "-o", str(tmp_path / "f.nii"),
                 "--method", "average"]) == 0
    assert f"{tmp_path / 'ct'}: its {3 * 20 * 6} padding voxels (PixelPaddingValue)" in capsys.readouterr().err
    got = np.asarray(nib.load(str(tmp_path / "f.nii")).dataobj)
    assert (got[:, :3, :] == 0).all() and got[:, 3:, :].max() == pytest.approx(1.0)


def _refused(capsys, tmp_path, a, b, *needles, extra=()):
    out = tmp_path / "out.nii.gz"
    before = sorted(os.listdir(tmp_path))
    assert_one_line_error(capsys, ["fuse-volume", str(a), str(b), "-o", str(out), "--method", "average", *extra],
                          *needles)
    assert sorted(os.listdir(tmp_path)) == before  # no output, no temporary file


def test_a_gap_a_duplicate_and_two_series_are_refused(tmp_path, capsys):
    from pydicom.uid import generate_uid

    vol = np.ones((10, 10, 5), int)
    make_series(tmp_path / "ok", vol)
    z = [40.0, 42.5, 45.0, 50.0, 52.5]  # 47.5 missing
    make_series(tmp_path / "gap", vol, positions=[(-30.0, 12.0, v) for v in z])
    _refused(capsys, tmp_path, tmp_path / "ok", tmp_path / "gap", f"{tmp_path / 'gap'}: slice positions are not evenly "
             "spaced: 45 to 50 mm along the slice normal", "is 5 mm, the others 2.5 mm")
    z = [40.0, 42.5, 45.0, 45.0, 47.5]
    make_series(tmp_path / "dup", vol, positions=[(-30.0, 12.0, v) for v in z])
    _refused(capsys, tmp_path, tmp_path / "dup", tmp_path / "ok", f"{tmp_path / 'dup'}: two slices at one position "
             "(45 mm along the slice normal")
    uid = generate_uid()
    make_series(tmp_path / "two", vol, description="T1 axial", series_uid=uid)
    make_series(tmp_path / "two", np.ones((10, 10, 3), int), description="T2 axial", names=["a", "b", "c"])
    _refused(capsys, tmp_path, tmp_path / "ok", tmp_path / "two", f"{tmp_path / 'two'}: holds 2 DICOM series: "
             "'T1 axial' (5 files), 'T2 axial' (3 files)")


def test_slices_that_do_not_make_one_grid_are_refused(tmp_path, capsys):
    vol = np.ones((10, 10, 3), int)
    make_series(tmp_path / "ok", vol)
    # the slice changed is the last by name: the others, the first of which the reader compares
    # with, agree (the shuffled names depend on the folder's path, so on the pytest worker)
    last = lambda paths: max(paths, key=lambda q: q.name)  # noqa: E731
    victim = last(make_series(tmp_path / "orient", vol))
    ds = pydicom.dcmread(str(victim))
    ds.ImageOrientationPatient = [1, 0, 0, 0, 0.9998477, -0.0174524]  # tilted 1 degree
    ds.save_as(str(victim))
    _refused(capsys, tmp_path, tmp_path / "ok", tmp_path / "orient", f"{victim}: ImageOrientationPatient",
             "must share one orientation")
    victim = last(make_series(tmp_path / "spacing", vol))
    ds = pydicom.dcmread(str(victim))
    ds.PixelSpacing = [0.8, 0.9]
    ds.save_as(str(victim))
    _refused(capsys, tmp_path, tmp_path / "ok", tmp_path / "spacing", f"{victim}: PixelSpacing 0.8\\0.9",
             "one pixel spacing")
    make_series(tmp_path / "size", vol)
    make_series(tmp_path / "size", np.ones((12, 10, 1), int), names=["x"],
                series_uid=str(pydicom.dcmread(str(next((tmp_path / "size").iterdir()))).SeriesInstanceUID),
                positions=[(-30.0, 12.0, 47.5)])
    _refused(capsys, tmp_path, tmp_path / "ok", tmp_path / "size", "12x10 pixels (Rows x Columns)", "one size")
    # a folder of no DICOM at all
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "a.txt").write_text("x")
    _refused(capsys, tmp_path, tmp_path / "empty", tmp_path / "ok", f"{tmp_path / 'empty'}: a folder with no DICOM "
             "image files")
    # another grid than the other input: the NIfTI rule (shape, then affine)
    make_series(tmp_path / "moved", vol, origin=(-30.0, 12.0, 41.0))
    _refused(capsys, tmp_path, tmp_path / "ok", tmp_path / "moved", f"{tmp_path / 'moved'}: not on {tmp_path / 'ok'}'s "
             "voxel grid: its origin is 1 mm from")


def test_multiframe_colour_and_signed_full_are_refused(tmp_path, capsys):
    vol = np.ones((10, 10, 3), int)
    make_series(tmp_path / "ok", vol)
    paths = make_series(tmp_path / "multi", vol)
    ds = pydicom.dcmread(str(paths[0]))
    ds.NumberOfFrames = 2
    ds.PixelData = ds.PixelData * 2
    ds.save_as(str(paths[0]))
    _refused(capsys, tmp_path, tmp_path / "multi", tmp_path / "ok", f"{paths[0]}: multi-frame DICOM (2 frames)")
    paths = make_series(tmp_path / "rgb", vol)
    ds = pydicom.dcmread(str(paths[1]))
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, "RGB", 0
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 8, 8, 7
    ds.PixelData = np.zeros((10, 10, 3), np.uint8).tobytes()
    ds.save_as(str(paths[1]))
    _refused(capsys, tmp_path, tmp_path / "ok", tmp_path / "rgb", f"{paths[1]}: colour DICOM (RGB, 3 samples")
    make_series(tmp_path / "hu", vol, slopes=[1, 1, 1], intercepts=[-1024] * 3)
    _refused(capsys, tmp_path, tmp_path / "hu", tmp_path / "ok", f"{tmp_path / 'hu'}: --normalize full needs unsigned "
             "samples without rescale", extra=("--normalize", "full"))


def test_a_series_without_pydicom_says_which_extra(tmp_path, capsys, monkeypatch):
    import mutualfuse.dicom

    make_series(tmp_path / "ok", np.ones((10, 10, 3), int))
    monkeypatch.setattr(mutualfuse.dicom, "_pydicom", lambda: None)
    _refused(capsys, tmp_path, tmp_path / "ok", tmp_path / "ok", f"{tmp_path / 'ok'}: a folder (read as a DICOM "
             "series): reading a DICOM series needs pydicom: pip install 'mutualfuse[dicom]'")
