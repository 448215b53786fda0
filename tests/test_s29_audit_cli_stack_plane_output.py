"""``fuse-stack DIR -o DIR/PLANE`` (the output named as one of the stack's own images, e.g. by tab
completion) is refused in one line, the image kept. Until 2026-12-07 the output inside the
stack's folder was always taken as an earlier result: the plane was left out of the stack (a
note) and overwritten with the fusion of the others, exit 0. An earlier ``fuse-stack`` output
(marked with an extended attribute) is still left out on a rerun. Where the file system keeps
no extended attributes nothing can tell them apart, and the old behaviour stays: skipped there."""
from __future__ import annotations

import hashlib

import numpy as np
import pytest
from PIL import Image

from mutualfuse.cli import main

from xattrs import xattrs_work


def _stack(folder, n=3):
    folder.mkdir()
    rng = np.random.default_rng(3)
    for i in range(n):
        Image.fromarray(rng.integers(0, 256, (24, 32)).astype(np.uint8)).save(folder / f"z{i + 1}.png")


def _digests(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("how", ["folder", "pattern"])
def test_an_output_named_as_a_plane_is_refused_and_the_plane_kept(tmp_path, capsys, how):
    if not xattrs_work(tmp_path):
        pytest.skip("no extended attributes on this file system")
    _stack(tmp_path / "st")
    before = _digests(tmp_path / "st")
    src = str(tmp_path / "st") if how == "folder" else str(tmp_path / "st" / "z*.png")
    out = tmp_path / "st" / "z2.png"
    rc = main(["fuse-stack", src, "-o", str(out), "--method", "average"])
    cap = capsys.readouterr()
    lines = cap.err.strip().splitlines()
    assert rc == 2 and len(lines) == 1 and lines[0].startswith("mutualfuse: error: "), cap.err
    assert str(out) in lines[0] and "did not write" in lines[0]
    assert cap.out == ""
    assert _digests(tmp_path / "st") == before


def test_an_earlier_output_in_the_folder_is_still_left_out_on_a_rerun(tmp_path, capsys):
    if not xattrs_work(tmp_path):
        pytest.skip("no extended attributes on this file system")
    _stack(tmp_path / "st")
    out = tmp_path / "st" / "edf.png"
    assert main(["fuse-stack", str(tmp_path / "st"), "-o", str(out), "--method", "average"]) == 0
    first = out.read_bytes()
    capsys.readouterr()
    assert main(["fuse-stack", str(tmp_path / "st"), "-o", str(out), "--method", "average"]) == 0
    cap = capsys.readouterr()
    assert "3 images, 2 fusions" in cap.out and "not read as a plane" in cap.err
    assert out.read_bytes() == first
