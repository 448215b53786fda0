"""FIFOs, pipes and devices as inputs or outputs (s22 input audit).

* A named FIFO as an input: ``fuse`` and ``fuse-stack`` opened it for its header and waited
  forever for a writer; ``fuse-video`` said "file is empty", ``fuse-volume`` "no such file".
* A pipe (a shell's ``<(cat a.png)``, ``/dev/fd/N``): "file is empty" (its size is 0) although
  it held an image. Every reader opens a file more than once, so such inputs are refused with
  what they are.
* A FIFO (or a link to a device) as the output: the temporary was renamed over it, replacing
  the FIFO by a plain file (through a link to ``/dev/null``, as root, ``/dev/null`` itself).
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from one_line_error import assert_one_line_error

FIFO_MSG = "is a FIFO (named pipe), not a regular file (it is read more than once; save it to a file first)"


@pytest.fixture()
def pair(tmp_path) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    Image.fromarray((rng.random((32, 32)) * 255).astype(np.uint8)).save(a)
    Image.fromarray((rng.random((32, 32)) * 255).astype(np.uint8)).save(b)
    return a, b


@pytest.mark.parametrize("command", ["fuse", "fuse-stack"])
def test_named_fifo_input_is_refused_not_waited_on(tmp_path, pair, command):
    """In a child process: the old code blocked in ``open()`` of the FIFO (killed by the timeout)."""
    fifo = tmp_path / "fifo.png"
    os.mkfifo(fifo)
    out = tmp_path / "o.png"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    try:
        r = subprocess.run([sys.executable, "-m", "mutualfuse", command, str(fifo), str(pair[1]), "-o", str(out),
                            "--method", "average"], env=env, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{command} waited on the FIFO input")
    assert r.returncode == 2 and r.stdout == "", (r.returncode, r.stdout, r.stderr)
    assert r.stderr == f"mutualfuse: error: {fifo}: {FIFO_MSG}\n"
    assert not out.exists()


def test_pipe_input_is_named_as_such_not_empty(tmp_path, pair, capsys):
    """``mutualfuse fuse <(cat a.png) b.png``: the pipe holds the image, it is not empty."""
    r, w = os.pipe()
    try:
        os.write(w, pair[0].read_bytes())  # a few hundred bytes: fits the pipe's buffer
        os.close(w)
        assert_one_line_error(capsys, ["fuse", f"/dev/fd/{r}", str(pair[1]), "-o", str(tmp_path / "o.png"),
                                       "--method", "average"], f"/dev/fd/{r}: {FIFO_MSG}")
    finally:
        os.close(r)
    assert not (tmp_path / "o.png").exists()


def test_device_input_is_named_as_such(tmp_path, pair, capsys):
    assert_one_line_error(capsys, ["fuse", "/dev/null", str(pair[1]), "-o", str(tmp_path / "o.png"),
                                   "--method", "average"], "/dev/null: is a character device, not a regular file")


def test_fifo_volume_input(tmp_path, capsys):
    pytest.importorskip("nibabel")
    fifo = tmp_path / "a.nii"
    os.mkfifo(fifo)
    assert_one_line_error(capsys, ["fuse-volume", str(fifo), str(tmp_path / "b.nii"), "-o", str(tmp_path / "o.nii"),
                                   "--method", "average"], f"{fifo}: {FIFO_MSG}")


def test_fifo_video_input(tmp_path, capsys):
    pytest.importorskip("imageio.v2")
    pytest.importorskip("imageio_ffmpeg")
    fifo = tmp_path / "a.mp4"
    os.mkfifo(fifo)
    assert_one_line_error(capsys, ["fuse-video", str(fifo), str(tmp_path / "b.mp4"), "-o", str(tmp_path / "o.mp4"),
                                   "--method", "average"], f"{fifo}: {FIFO_MSG}")


@pytest.mark.parametrize("via_link", [False, True])
def test_fifo_output_is_refused_and_kept(tmp_path, pair, capsys, via_link):
    fifo = tmp_path / "out.png"
    os.mkfifo(fifo)
    out = fifo
    if via_link:
        out = tmp_path / "link.png"
        out.symlink_to(fifo)
    err = assert_one_line_error(capsys, ["fuse", str(pair[0]), str(pair[1]), "-o", str(out), "--method", "average"],
                                f"{out}: output path is a FIFO (named pipe)", "not a regular file")
    assert (f"(it links to {fifo})" in err) == via_link
    import stat

    assert stat.S_ISFIFO(os.stat(fifo).st_mode), "the FIFO was replaced by a file"
    assert not out.is_symlink() or os.readlink(out) == str(fifo)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted({"a.png", "b.png", "out.png", out.name})


def test_output_that_is_a_device_node_is_refused(tmp_path, pair, capsys):
    """A character device node of our own (the null device's numbers, made in tmp_path: never
    /dev/null itself, which the old code replaced when run as root), through a link."""
    import stat

    node = tmp_path / "null"
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except (PermissionError, OSError):
        pytest.skip("making a device node needs CAP_MKNOD")
    out = tmp_path / "null.png"
    out.symlink_to(node)
    assert_one_line_error(capsys, ["fuse", str(pair[0]), str(pair[1]), "-o", str(out), "--method", "average"],
                          f"{out}: output path is a character device (it links to {node})")
    assert stat.S_ISCHR(os.stat(node).st_mode)
