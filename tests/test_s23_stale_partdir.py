"""``fuse-volume ... -o OUT_DIR/`` writes its DICOM series into a temporary folder
``.<name>.<pid>.h<tag>_<random>.partdir`` beside the target. A writer killed with ``kill -9``
halfway through left that folder behind forever (the stale-temporary clean-up removed only
files): the next series write into the same parent folder now removes the temporary folders of
dead writers of this machine, and keeps a live writer's, another host tag's and any look-alike
that holds anything but slice files."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pydicom")
pytest.importorskip("nibabel")

sys.path.insert(0, str(Path(__file__).parent))
from test_s23_series_read import make_series  # noqa: E402

sys.path.pop(0)



def _src() -> str:
    import mutualfuse  # the tested sources (PYTHONPATH), also in the subprocess

    return str(Path(mutualfuse.__file__).resolve().parents[1])
SHAPE = (16, 12, 6)


def _pair(tmp_path):
    rng = np.random.default_rng(23)
    make_series(tmp_path / "a", rng.integers(0, 4000, SHAPE))
    make_series(tmp_path / "b", rng.integers(0, 1500, SHAPE), modality="MR")


def _partdirs(folder):
    return sorted(p.name for p in Path(folder).iterdir() if p.name.endswith(".partdir"))


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid  # reaped: no process of that id (pid reuse within the test is not expected)


def _fuse(tmp_path, out, **env):
    return subprocess.run([sys.executable, "-m", "mutualfuse", "fuse-volume", str(tmp_path / "a"),
                           str(tmp_path / "b"), "-o", f"{out}/", "--method", "average", "-q"],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": _src(), "OMP_NUM_THREADS": "1", **env})


def test_a_killed_series_write_leaves_its_folder_and_the_next_write_removes_it(tmp_path):
    _pair(tmp_path)
    # a real SIGKILL of the writing process after its 3rd slice file (the documented test hook)
    r = _fuse(tmp_path, tmp_path / "first", MUTUALFUSE_FAULT_KILL_AT_SLICE="3")
    assert r.returncode == -9, r
    left = _partdirs(tmp_path)
    assert len(left) == 1 and left[0].startswith(".first.") and not (tmp_path / "first").exists(), left
    assert sorted(os.listdir(tmp_path / left[0])) == ["IM0001.dcm", "IM0002.dcm", "IM0003.dcm"]
    r = _fuse(tmp_path, tmp_path / "second")
    assert r.returncode == 0, r
    assert sorted(os.listdir(tmp_path / "second")) == [f"IM{k:04d}.dcm" for k in range(1, 7)]
    assert _partdirs(tmp_path) == [] and sorted(os.listdir(tmp_path)) == ["a", "b", "second"]


def test_only_dead_writers_folders_of_this_host_holding_only_slices_are_removed(tmp_path):
    from mutualfuse.io.atomic import host_tag, part_prefix

    _pair(tmp_path)
    dead, tag = _dead_pid(), host_tag()
    stale = [tmp_path / f".s.{dead}.h{tag}_abc.partdir",  # killed after two slices
             tmp_path / f".t.{dead}.h{tag}_def.partdir"]  # killed before its first slice
    stale[0].mkdir()
    for k in (1, 2):
        (stale[0] / f"IM{k:04d}.dcm").write_bytes(b"x")
    stale[1].mkdir()
    keep = {
        "live writer (this process)": tmp_path / f"{part_prefix(tmp_path / 'x')}live.partdir",
        "live writer (another process)": tmp_path / f".y.{os.getppid()}.h{tag}_abc.partdir",
        "another host tag": tmp_path / f".z.{dead}.h{'0' * 8 if tag != '0' * 8 else '1' * 8}_abc.partdir",
        "something else inside": tmp_path / f".w.{dead}.h{tag}_abc.partdir",
        "a subfolder inside": tmp_path / f".r.{dead}.h{tag}_abc.partdir",
        "no host tag": tmp_path / f".v.{dead}.abc.partdir",
        "another suffix": tmp_path / f".u.{dead}.h{tag}_abc.partdirx",
    }
    for d in keep.values():
        d.mkdir()
        (d / "IM0001.dcm").write_bytes(b"x")
    (keep["something else inside"] / "notes.txt").write_text("mine\n")
    (keep["a subfolder inside"] / "IM0002.dcm").mkdir()

    r = _fuse(tmp_path, tmp_path / "out")
    assert r.returncode == 0, r
    assert sorted(os.listdir(tmp_path / "out")) == [f"IM{k:04d}.dcm" for k in range(1, 7)]
    assert [d for d in stale if d.exists()] == []
    for what, d in keep.items():
        assert (d / "IM0001.dcm").is_file(), what
    assert (keep["something else inside"] / "notes.txt").read_text() == "mine\n"
    assert (keep["a subfolder inside"] / "IM0002.dcm").is_dir()


def test_a_symbolic_link_named_as_a_stale_folder_is_not_followed(tmp_path):
    from mutualfuse.dicom_series import _SLICE_NAME
    from mutualfuse.io.atomic import host_tag, remove_stale_partdirs

    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "IM0001.dcm").write_bytes(b"x")
    work = tmp_path / "work"
    work.mkdir()
    link = work / f".s.{_dead_pid()}.h{host_tag()}_abc.partdir"
    link.symlink_to(victim, target_is_directory=True)
    assert remove_stale_partdirs(work, _SLICE_NAME) == []
    assert link.is_symlink() and (victim / "IM0001.dcm").is_file()


def test_a_nifti_output_removes_the_stale_temporaries_of_its_name(tmp_path):
    """The NIfTI writer of fuse-volume did not remove them at all (every other writer does)."""
    nib = pytest.importorskip("nibabel")
    from mutualfuse.cli import main
    from mutualfuse.io.atomic import host_tag

    rng = np.random.default_rng(5)
    for n in ("a", "b"):
        nib.save(nib.Nifti1Image(rng.random((8, 8, 3)).astype(np.float32), np.eye(4)), str(tmp_path / f"{n}.nii"))
    dead, tag = _dead_pid(), host_tag()
    stale = tmp_path / f".out.nii.gz.{dead}.h{tag}_abcd1234.part.gz"
    live = tmp_path / f".out.nii.gz.{os.getppid()}.h{tag}_abcd1234.part.gz"
    other = tmp_path / f".other.nii.gz.{dead}.h{tag}_abcd1234.part.gz"
    for f in (stale, live, other):
        f.write_bytes(b"half")
    assert main(["fuse-volume", str(tmp_path / "a.nii"), str(tmp_path / "b.nii"), "-o", str(tmp_path / "out.nii.gz"),
                 "--method", "average", "-q"]) == 0
    assert (tmp_path / "out.nii.gz").is_file() and not stale.exists() and live.exists() and other.exists()
