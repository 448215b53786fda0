"""Registered 3-D volumes (NIfTI): ``mutualfuse fuse-volume`` and ``mutualfuse.volume.fuse_volume``."""
from __future__ import annotations

import os

import numpy as np
import pytest

from mutualfuse import Fuser
from mutualfuse.cli import main
from mutualfuse.io.samples import percentile_scale
from tolerance import assert_close

nib = pytest.importorskip("nibabel")

AFF = np.array([[0.8, 0, 0, -10], [0, 0.8, 0, -20], [0, 0, 2.0, 5], [0, 0, 0, 1]])


def _vols(tmp_path, shape=(40, 32, 5)):
    rng = np.random.default_rng(0)
    ct = rng.integers(-1000, 2000, shape).astype(np.int16)
    mr = (rng.random(shape) * 800).astype(np.float32)
    nib.save(nib.Nifti1Image(ct, AFF), str(tmp_path / "ct.nii.gz"))
    nib.save(nib.Nifti1Image(mr, AFF), str(tmp_path / "mr.nii"))
    return ct.astype(np.float64), mr.astype(np.float64)


@pytest.mark.parametrize("axis", [2, 0])
def test_volume_is_its_slices_fused_with_one_mapping_per_volume(tmp_path, capsys, axis):
    ct, mr = _vols(tmp_path, (40, 32, 12))
    out = tmp_path / "f.nii.gz"
    assert main(["fuse-volume", str(tmp_path / "ct.nii.gz"), str(tmp_path / "mr.nii"), "-o", str(out),
                 "--method", "lp", "--param", "levels=2", "--axis", str(axis), "--batch", "2"]) == 0
    cap = capsys.readouterr()
    assert "slices across axis" in cap.out and "one mapping for all slices" in cap.err
    img = nib.load(str(out))
    got = np.asarray(img.dataobj)
    assert img.get_data_dtype() == np.float32 and got.shape == ct.shape
    assert np.allclose(img.affine, AFF) and img.header.get_slope_inter() in ((1.0, 0.0), (None, None))
    assert b"fuse-volume method lp" in bytes(img.header["descrip"])
    a, b = percentile_scale(ct, 0.1, 99.9, ct.max()), percentile_scale(mr, 0.1, 99.9, mr.max())
    f = Fuser("lp", levels=2)
    want = np.stack([f.fuse(np.take(a, i, axis), np.take(b, i, axis)) for i in range(ct.shape[axis])], axis)
    assert_close(got, want, dtype=np.float32)  # stored as float32


def test_network_detects_one_task_for_the_volume(tmp_path, capsys):
    _vols(tmp_path, (24, 24, 3))
    assert main(["fuse-volume", str(tmp_path / "ct.nii.gz"), str(tmp_path / "mr.nii"), "-o",
                 str(tmp_path / "f.nii"), "--device", "cpu"]) == 0
    err = capsys.readouterr().err
    assert err.count("detected on the central slice pair") == 1
    got = np.asarray(nib.load(str(tmp_path / "f.nii")).dataobj)
    assert got.shape == (24, 24, 3) and 0 <= got.min() and got.max() <= 1


@pytest.mark.parametrize("make,out,must", [
    (lambda p: nib.save(nib.Nifti1Image(np.zeros((40, 32, 3), np.float32), AFF), str(p / "b.nii.gz")),
     "f.nii.gz", "volume is 40x32x3, "),
    (lambda p: nib.save(nib.Nifti1Image(np.zeros((40, 32, 5), np.float32), AFF + np.eye(4) * 0), str(p / "b.nii.gz"))
     or nib.save(nib.Nifti1Image(np.zeros((40, 32, 5), np.float32), np.diag([0.8, 0.8, 2.5, 1])), str(p / "b.nii.gz")),
     "f.nii.gz", "voxel grid: its voxels are 0.8x0.8x2.5 mm, "),
    (lambda p: nib.save(nib.Nifti1Image(np.zeros((40, 32, 5, 2), np.float32), AFF), str(p / "b.nii.gz")),
     "f.nii.gz", "a 4-D image 40x32x5x2"),
    (lambda p: nib.save(nib.Nifti1Image(np.full((40, 32, 5), np.nan, np.float32), AFF), str(p / "b.nii.gz")),
     "f.nii.gz", "NaN or infinite"),
    (lambda p: (p / "b.nii.gz").write_bytes(b"not a volume"), "f.nii.gz", "not a readable NIfTI file"),
    (lambda p: nib.save(nib.Nifti1Image(np.zeros((40, 32, 5), np.float32), AFF), str(p / "b.nii.gz")),
     "f.png", "must be a NIfTI file"),
])
def test_refusals_are_one_line_and_write_nothing(tmp_path, capsys, make, out, must):
    _vols(tmp_path)
    make(tmp_path)
    before = sorted(os.listdir(tmp_path))
    rc = main(["fuse-volume", str(tmp_path / "ct.nii.gz"), str(tmp_path / "b.nii.gz"), "-o", str(tmp_path / out),
               "--method", "average"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and must in err[0], err
    assert sorted(os.listdir(tmp_path)) == before


def test_without_nibabel_says_how_to_install(tmp_path, capsys, monkeypatch):
    import mutualfuse.volume as volume

    _vols(tmp_path)
    monkeypatch.setattr(volume, "_nib", lambda: None)
    rc = main(["fuse-volume", str(tmp_path / "ct.nii.gz"), str(tmp_path / "mr.nii"), "-o", str(tmp_path / "f.nii"),
               "--method", "average"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "pip install 'mutualfuse[nifti]'" in err[0]
    assert not (tmp_path / "f.nii").exists()


def test_max_pixels_limits_the_voxels_of_a_volume(tmp_path, capsys):
    """``--max-pixels`` was accepted and ignored; it is the volume's voxel limit, checked on the header."""
    _vols(tmp_path)  # 40x32x5 = 6400 voxels
    argv = ["fuse-volume", str(tmp_path / "ct.nii.gz"), str(tmp_path / "mr.nii"), "-o", str(tmp_path / "f.nii"),
            "--method", "average", "-q"]
    rc = main([*argv, "--max-pixels", "6399"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "6400 voxels, more than the limit of 6399" in err[0], err
    assert not (tmp_path / "f.nii").exists()
    assert main([*argv, "--max-pixels", "6400"]) == 0 and (tmp_path / "f.nii").exists()
    capsys.readouterr()
    assert main(["fuse-volume", "--help"]) == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "refuse a volume with more voxels" in help_text and "8-bit full range" not in help_text


def test_output_does_not_keep_the_first_volumes_display_window_or_intent(tmp_path, capsys):
    """cal_min/cal_max (a CT window in HU) and an intent (a statistic) describe the first volume's
    voxels: the fused [0, 1] volume showed in a viewer through the CT's window, all one grey."""
    ct, _ = _vols(tmp_path)
    img = nib.Nifti1Image(ct.astype(np.int16), AFF)
    img.header["cal_min"], img.header["cal_max"] = -160.0, 240.0
    img.header.set_intent("t test", (12,), "tstat")
    nib.save(img, str(tmp_path / "ct.nii.gz"))
    assert main(["fuse-volume", str(tmp_path / "ct.nii.gz"), str(tmp_path / "mr.nii"), "-o", str(tmp_path / "f.nii"),
                 "--method", "average", "-q"]) == 0
    h = nib.load(str(tmp_path / "f.nii")).header
    assert (float(h["cal_min"]), float(h["cal_max"])) == (0.0, 1.0)
    assert h.get_intent()[0] == "none"
    assert np.allclose(nib.load(str(tmp_path / "f.nii")).affine, AFF)


def test_output_does_not_copy_the_first_volumes_header_extensions(tmp_path, capsys):
    """An AFNI extension (statistics, labels of the first volume's voxels) or a DICOM one (patient
    data) was copied into the fused volume's header; it is left out, and a note says so."""
    ct, _ = _vols(tmp_path)
    img = nib.Nifti1Image(ct.astype(np.int16), AFF)
    img.header.extensions.append(nib.nifti1.Nifti1Extension(
        "afni", b"<AFNI_attributes><ATR atr_name='BRICK_STATS'>-1000 2000</ATR></AFNI_attributes>"))
    nib.save(img, str(tmp_path / "ct.nii.gz"))
    assert main(["fuse-volume", str(tmp_path / "ct.nii.gz"), str(tmp_path / "mr.nii"), "-o", str(tmp_path / "f.nii"),
                 "--method", "average"]) == 0
    assert "its 1 NIfTI header extension (code 4) not copied" in capsys.readouterr().err
    out = nib.load(str(tmp_path / "f.nii"))
    assert len(out.header.extensions) == 0 and np.allclose(out.affine, AFF)
    assert np.asarray(out.dataobj).shape == ct.shape


def test_a_dicom_series_folder_or_file_is_named_as_such(tmp_path, capsys):
    """A DICOM series folder was 'no such file' (it exists); a DICOM file 'Cannot work out file type'.
    Since session 23 a folder is read as a DICOM series (tests/test_s23_series_*.py): this slice
    without a place is refused as such."""
    pytest.importorskip("pydicom")
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from test_io_read import _dicom

    sys.path.pop(0)
    _vols(tmp_path)
    (tmp_path / "series").mkdir()
    _dicom(tmp_path / "series" / "IM1", np.zeros((40, 32), np.uint16))
    for arg, must in (("series", f"{tmp_path / 'series' / 'IM1'}: no ImageOrientationPatient/ImagePositionPatient"),
                      ("series/IM1", f"{tmp_path / 'series' / 'IM1'}: a DICOM file, not a NIfTI volume (give the "
                                     "folder of its series, or convert the series to NIfTI first, e.g. with dcm2niix")):
        before = sorted(os.listdir(tmp_path))
        rc = main(["fuse-volume", str(tmp_path / "ct.nii.gz"), str(tmp_path / arg), "-o", str(tmp_path / "f.nii"),
                   "--method", "average"])
        err = capsys.readouterr().err.strip().splitlines()
        assert rc == 2 and len(err) == 1 and must in err[0], err
        assert sorted(os.listdir(tmp_path)) == before
