"""``fuse-volume ... -o OUT_DIR/`` (a DICOM series output): a non-empty folder is refused before
any work; a failure at any point (bad inputs, an error or Ctrl+C halfway through the slices, a
grid a series cannot hold) leaves no folder and no temporary; the folder and its files follow
the umask."""
from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import numpy as np
import pytest

pydicom = pytest.importorskip("pydicom")
nib = pytest.importorskip("nibabel")

sys.path.insert(0, str(Path(__file__).parent))
from one_line_error import assert_one_line_error  # noqa: E402
from test_s23_series_read import make_series  # noqa: E402

sys.path.pop(0)

SHAPE = (16, 12, 4)


def _pair(tmp_path, shift_b=0.0):
    rng = np.random.default_rng(8)
    make_series(tmp_path / "a", rng.integers(0, 4000, SHAPE), PatientName="Roe^Richard")
    make_series(tmp_path / "b", rng.integers(0, 1500, SHAPE), modality="MR",
                origin=(-30.0 + shift_b, 12.0, 40.0))


def _listing(folder):
    return sorted(p.name for p in Path(folder).iterdir())


def test_non_empty_folder_is_refused_before_any_work(tmp_path, capsys, monkeypatch):
    import mutualfuse.volume as volume

    _pair(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine\n")
    opened = []
    monkeypatch.setattr(volume, "open_input", lambda *a, **k: opened.append(a) or pytest.fail("read an input"))
    for o in (f"{out}/", str(out)):  # a trailing '/' or not: an existing folder is a series output
        assert_one_line_error(capsys, ["fuse-volume", str(tmp_path / "a"), str(tmp_path / "b"), "-o", o,
                                       "--method", "average"],
                              str(out), "output folder is not empty (e.g. keep.txt)")
    # an input series folder as the output: not empty either, never written into
    before = _listing(tmp_path / "a")
    assert_one_line_error(capsys, ["fuse-volume", str(tmp_path / "a"), str(tmp_path / "b"), "-o",
                                   f"{tmp_path / 'a'}/", "--method", "average"], "output folder is not empty")
    assert _listing(tmp_path / "a") == before and _listing(out) == ["keep.txt"] and not opened
    # a file where the folder would be; a missing parent
    (tmp_path / "f").write_text("x")
    assert_one_line_error(capsys, ["fuse-volume", str(tmp_path / "a"), str(tmp_path / "b"), "-o",
                                   f"{tmp_path / 'f'}/", "--method", "average"], "is a file")
    assert_one_line_error(capsys, ["fuse-volume", str(tmp_path / "a"), str(tmp_path / "b"), "-o",
                                   f"{tmp_path / 'no' / 'out'}/", "--method", "average"], "does not exist")


def test_an_existing_empty_folder_is_written_and_keeps_its_mode(tmp_path, capsys):
    from mutualfuse.cli import main

    _pair(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    os.chmod(out, 0o750)
    assert main(["fuse-volume", str(tmp_path / "a"), str(tmp_path / "b"), "-o", str(out), "--method",
                 "average"]) == 0
    capsys.readouterr()
    assert _listing(out) == [f"IM{k:04d}.dcm" for k in range(1, 5)]
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o750
    assert _listing(tmp_path) == ["a", "b", "out"]


def _no_leftovers(tmp_path):
    assert _listing(tmp_path) == ["a", "b"], _listing(tmp_path)


def test_bad_inputs_leave_nothing(tmp_path, capsys):
    _pair(tmp_path, shift_b=5.0)  # b is not on a's grid
    assert_one_line_error(capsys, ["fuse-volume", str(tmp_path / "a"), str(tmp_path / "b"), "-o",
                                   f"{tmp_path / 'out'}/", "--method", "average"], "not on")
    _no_leftovers(tmp_path)


@pytest.mark.parametrize("exc", [OSError(28, "No space left on device"), KeyboardInterrupt()],
                         ids=["disk-full", "ctrl-c"])
def test_failure_halfway_through_the_slices_leaves_nothing(tmp_path, capsys, monkeypatch, exc):
    from pydicom.dataset import FileDataset

    from mutualfuse.cli import main

    _pair(tmp_path)
    real, calls = FileDataset.save_as, []

    def save_as(self, *a, **k):  # the third slice file fails
        calls.append(a[0])
        if len(calls) == 3:
            raise exc
        return real(self, *a, **k)

    monkeypatch.setattr(FileDataset, "save_as", save_as)
    argv = ["fuse-volume", str(tmp_path / "a"), str(tmp_path / "b"), "-o", f"{tmp_path / 'out'}/", "--method",
            "average"]
    if isinstance(exc, KeyboardInterrupt):
        assert main(argv) == 130
        assert capsys.readouterr().err == "mutualfuse: interrupted\n"
    else:
        assert_one_line_error(capsys, argv, str(tmp_path / "out"), "cannot write the DICOM series",
                              "No space left on device")
    assert len(calls) == 3
    _no_leftovers(tmp_path)
    # an existing empty folder stays as it was (empty)
    (tmp_path / "out").mkdir()
    calls.clear()
    assert main(argv) == (130 if isinstance(exc, KeyboardInterrupt) else 2)
    capsys.readouterr()
    assert _listing(tmp_path) == ["a", "b", "out"] and _listing(tmp_path / "out") == []


def test_a_sheared_grid_is_refused_before_any_work(tmp_path, capsys):
    aff = np.diag([0.9, 0.7, 2.5, 1.0])
    aff[0, 2] = 0.8  # slices shifted in their plane from one to the next (a gantry tilt kept in the affine)
    rng = np.random.default_rng(9)
    for name in ("a", "b"):
        img = nib.Nifti1Image(rng.random((12, 16, 4)).astype(np.float32), aff)
        img.set_sform(aff, 1)
        img.set_qform(aff, 1)
        nib.save(img, str(tmp_path / f"{name}.nii.gz"))
    assert_one_line_error(capsys, ["fuse-volume", str(tmp_path / "a.nii.gz"), str(tmp_path / "b.nii.gz"), "-o",
                                   f"{tmp_path / 'out'}/", "--method", "average"],
                          "a.nii.gz", "not perpendicular", "write NIfTI")
    assert _listing(tmp_path) == ["a.nii.gz", "b.nii.gz"]


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o002])
def test_series_output_follows_the_umask(tmp_path, capsys, mask):
    from mutualfuse.cli import main

    _pair(tmp_path)
    old = os.umask(mask)
    try:
        assert main(["fuse-volume", str(tmp_path / "a"), str(tmp_path / "b"), "-o", f"{tmp_path / 'out'}/",
                     "--method", "average"]) == 0
    finally:
        os.umask(old)
    capsys.readouterr()
    out = tmp_path / "out"
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o777 & ~mask
    files = list(out.iterdir())
    assert len(files) == 4
    for p in files:
        assert stat.S_IMODE(os.stat(p).st_mode) == 0o666 & ~mask, p


def test_dot_is_refused_and_python_api_writes_a_series(tmp_path, capsys, monkeypatch):
    from mutualfuse import Fuser
    from mutualfuse.volume import fuse_volume

    _pair(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(empty)
    assert_one_line_error(capsys, ["fuse-volume", str(tmp_path / "a"), str(tmp_path / "b"), "-o", "./",
                                   "--method", "average"], "not '.' or '..'")
    assert _listing(empty) == []
    info = fuse_volume(Fuser("average"), tmp_path / "a", tmp_path / "b", f"{tmp_path / 'py'}/")
    assert info["format"] == "DICOM series" and info["shape"] == (12, 16, 4)
    assert _listing(tmp_path / "py") == [f"IM{k:04d}.dcm" for k in range(1, 5)]
