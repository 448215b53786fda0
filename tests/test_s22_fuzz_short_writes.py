"""Outputs on a disk that fills up during the write (s22 input audit).

A full disk is simulated by a file-size limit (``ulimit -f``, ``RLIMIT_FSIZE``) on a child
process: a write that crosses it is cut short and the next one fails with ``EFBIG``, as on a
full file system a write is cut at the free space and the next fails with ``ENOSPC``.

* ``fuse -o x.jpg``: Pillow's JPEG encoder writes the file descriptor with C's ``write(2)`` and
  ignored the short count: the JPEG was cut at the limit and ``fuse`` printed its path, exit 0.
* ``fuse-volume``: the writer's own ``OSError`` left ``atomic_write`` unconverted: "internal
  error: OSError", exit 1.
* ``atomic_write``: a body's write failure for lack of room is one line naming the output.
"""
from __future__ import annotations

import errno
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mutualfuse.errors import InputError
from mutualfuse.io.atomic import atomic_write

SAMPLES = Path(__file__).resolve().parents[1] / "src" / "mutualfuse" / "data" / "samples"
LIMIT = 8192  # bytes: every output below is larger (the tno-01 JPEG is about 21 kB)


def _limited(limit: int):
    def pre():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails with EFBIG instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return pre


def run_limited(argv: list[str], cwd: Path, limit: int = LIMIT) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run([sys.executable, "-m", "mutualfuse", *argv], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120, preexec_fn=_limited(limit))


def assert_refused(r: subprocess.CompletedProcess, out: Path) -> None:
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and r.stdout == "", (r.returncode, r.stdout, r.stderr)
    assert len(lines) == 1 and lines[0].startswith("mutualfuse: error: "), r.stderr
    assert str(out) in lines[0] and "cannot write output (File too large)" in lines[0], r.stderr
    assert not out.exists(), f"{out} left behind ({out.stat().st_size} bytes)"
    assert [p.name for p in out.parent.iterdir() if ".part" in p.name] == []


@pytest.mark.parametrize("suffix", [".jpg", ".bmp"])
def test_fuse_output_cut_short_is_an_error_not_a_truncated_file(tmp_path, suffix):
    out = tmp_path / f"fused{suffix}"
    r = run_limited(["fuse", str(SAMPLES / "tno-01" / "a.png"), str(SAMPLES / "tno-01" / "b.png"), "-o", str(out),
                     "--method", "average"], tmp_path)
    assert_refused(r, out)


def test_fuse_output_within_the_limit_is_written(tmp_path):
    """The control: the same command with room enough writes the JPEG (so the limit, not the
    command line, is what the tests above meet)."""
    out = tmp_path / "fused.jpg"
    r = run_limited(["fuse", str(SAMPLES / "tno-01" / "a.png"), str(SAMPLES / "tno-01" / "b.png"), "-o", str(out),
                     "--method", "average", "-q"], tmp_path, limit=1 << 20)
    assert r.returncode == 0, r.stderr
    assert out.stat().st_size > LIMIT


def test_fuse_volume_output_cut_short_is_one_line(tmp_path):
    nib = pytest.importorskip("nibabel")
    rng = np.random.default_rng(0)
    v = (rng.random((24, 24, 6)) * 1000).astype(np.float32)  # 13.8 kB of float32 voxels, as the output
    nib.save(nib.Nifti1Image(v, np.eye(4)), tmp_path / "a.nii")
    nib.save(nib.Nifti1Image(v[::-1].copy(), np.eye(4)), tmp_path / "b.nii")
    out = tmp_path / "fused.nii"
    r = run_limited(["fuse-volume", "a.nii", "b.nii", "-o", str(out), "--method", "average"], tmp_path)
    assert_refused(r, out)


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT, errno.EFBIG])
def test_atomic_write_body_out_of_room_is_one_line(tmp_path, code):
    target = tmp_path / "out.csv"
    with pytest.raises(InputError) as ei:
        with atomic_write(target) as tmp:
            tmp.write_text("partial")
            raise OSError(code, os.strerror(code))
    assert str(ei.value) == f"{target}: cannot write output ({os.strerror(code)})"
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_body_other_errors_pass_through(tmp_path):
    """Only a lack of room is the output's fault: another OSError of the body (a source that
    vanished) is the writer's to report, and passes unchanged."""
    with pytest.raises(FileNotFoundError):
        with atomic_write(tmp_path / "out.csv"):
            open(tmp_path / "missing.txt")  # noqa: SIM115
    assert list(tmp_path.iterdir()) == []
