"""fuse-volume audit (s18): the output file. Guards, each checked by hand on the audited code:
Ctrl+C halfway leaves no output and no temporary file (exit 130), the output respects the umask
and an existing file's mode, and broken or unwritable paths are one-line errors naming the file."""
from __future__ import annotations

import os
import stat

import numpy as np
import pytest

from mutualfuse import Fuser
from mutualfuse.cli import main

nib = pytest.importorskip("nibabel")

AFF = np.diag([0.8, 0.8, 2.0, 1.0])


@pytest.fixture
def pair(tmp_path):
    rng = np.random.default_rng(0)
    nib.save(nib.Nifti1Image(rng.integers(-1000, 2000, (24, 20, 6)).astype(np.int16), AFF), str(tmp_path / "a.nii.gz"))
    nib.save(nib.Nifti1Image((rng.random((24, 20, 6)) * 500).astype(np.float32), AFF), str(tmp_path / "b.nii.gz"))
    return tmp_path


def _argv(d, out, *extra):
    return ["fuse-volume", str(d / "a.nii.gz"), str(d / "b.nii.gz"), "-o", str(out), "--method", "average", *extra]


def test_ctrl_c_between_slice_batches_leaves_nothing(pair, capsys, monkeypatch):
    calls = []
    real = Fuser.fuse_arrays

    def interrupted(self, *a, **k):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(self, *a, **k)

    monkeypatch.setattr(Fuser, "fuse_arrays", interrupted)
    before = sorted(os.listdir(pair))
    assert main(_argv(pair, pair / "f.nii.gz", "--batch", "2")) == 130
    assert capsys.readouterr().err.strip() == "mutualfuse: interrupted"
    assert len(calls) == 2 and sorted(os.listdir(pair)) == before


@pytest.mark.parametrize("mask", [0o077, 0o002])
def test_output_respects_the_umask_and_an_existing_files_mode(pair, capsys, mask):
    old = os.umask(mask)
    try:
        assert main(_argv(pair, pair / "f.nii.gz", "-q")) == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(pair / "f.nii.gz").st_mode) == 0o666 & ~mask
    (pair / "g.nii").write_bytes(b"old")
    os.chmod(pair / "g.nii", 0o640)
    assert main(_argv(pair, pair / "g.nii", "-q")) == 0
    assert stat.S_IMODE(os.stat(pair / "g.nii").st_mode) == 0o640
    assert nib.load(str(pair / "g.nii")).shape == (24, 20, 6)


@pytest.mark.parametrize("out,must", [
    ("missing/f.nii.gz", "output folder {d}/missing does not exist"),
    ("f.img", "the output of a volume must be a NIfTI file (.nii or .nii.gz)"),
    ("f.gz", "the output of a volume must be a NIfTI file (.nii or .nii.gz)"),
    ("a.nii.gz", "output path is the same file as input"),
])
def test_bad_output_paths(pair, capsys, out, must):
    before = sorted(os.listdir(pair))
    rc = main(_argv(pair, pair / out))
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and f"{pair / out}: " in err[0] and must.format(d=pair) in err[0], err
    assert sorted(os.listdir(pair)) == before


@pytest.mark.parametrize("cut,must", [(".nii.gz", "cannot read the voxel data"), (".nii", "cannot read the voxel data")])
def test_a_truncated_file_is_one_line(pair, capsys, cut, must):
    img = nib.load(str(pair / "b.nii.gz"))
    nib.save(img, str(pair / f"full{cut}"))
    data = (pair / f"full{cut}").read_bytes()
    (pair / f"t{cut}").write_bytes(data[:len(data) // 2])
    before = sorted(os.listdir(pair))
    rc = main(["fuse-volume", str(pair / "a.nii.gz"), str(pair / f"t{cut}"), "-o", str(pair / "f.nii"),
               "--method", "average"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and f"{pair / ('t' + cut)}: {must}" in err[0], err
    assert sorted(os.listdir(pair)) == before
