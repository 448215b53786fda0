"""fuse-volume refuses two volumes whose equal affine numbers are in two spatial units (the
headers' ``xyzt_units``: 0.5 mm against 0.5 micron voxels); an unknown unit is taken on trust."""
from __future__ import annotations

import numpy as np
import pytest
from one_line_error import assert_one_line_error  # tests/ is on sys.path

nib = pytest.importorskip("nibabel")

AFF = np.diag([0.5, 0.5, 1.0, 1.0])


def _vol(path, seed, unit):
    img = nib.Nifti1Image((np.random.default_rng(seed).random((24, 20, 3)) * 100).astype(np.float32), AFF)
    img.header.set_xyzt_units(xyz=unit)
    nib.save(img, str(path))
    return path


def test_two_units_are_refused(tmp_path, capsys):
    a, b = _vol(tmp_path / "mr.nii.gz", 0, "mm"), _vol(tmp_path / "scope.nii.gz", 1, "micron")
    out = tmp_path / "f.nii.gz"
    assert_one_line_error(capsys, ["fuse-volume", str(a), str(b), "-o", str(out), "--method", "average"],
                          f"{b}: its voxel sizes and origin are in micron, {a}'s in mm")
    assert not out.exists()


def test_one_unit_or_an_unknown_one_fuses(tmp_path, capsys):
    from mutualfuse.cli import main

    a, b = _vol(tmp_path / "a.nii.gz", 0, "mm"), _vol(tmp_path / "b.nii.gz", 1, "mm")
    c = _vol(tmp_path / "c.nii.gz", 2, "unknown")
    assert main(["fuse-volume", str(a), str(b), "-o", str(tmp_path / "ab.nii.gz"), "--method", "average", "-q"]) == 0
    assert main(["fuse-volume", str(a), str(c), "-o", str(tmp_path / "ac.nii.gz"), "--method", "average", "-q"]) == 0
