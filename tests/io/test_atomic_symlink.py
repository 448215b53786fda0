"""Writing to a symbolic link writes through it (as ``open(path, "w")`` and ``cp`` do): the
file it points to gets the new content and the link stays a link."""
from __future__ import annotations

import os

import numpy as np
from PIL import Image

from mutualfuse.cli import main
from mutualfuse.io.atomic import atomic_write, write_target


def test_atomic_write_through_a_link_keeps_the_link(tmp_path):
    real = tmp_path / "store" / "out.txt"
    real.parent.mkdir()
    real.write_text("old")
    os.chmod(real, 0o640)
    link = tmp_path / "out.txt"
    link.symlink_to(real)
    with atomic_write(link) as tmp:
        tmp.write_text("new")
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text() == "new"
    assert (os.stat(real).st_mode & 0o777) == 0o640  # the pointed-to file's mode is kept
    assert sorted(p.name for p in real.parent.iterdir()) == ["out.txt"]  # no temporary left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt", "store"]


def test_write_target_of_a_relative_link(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x.png").write_bytes(b"")
    (tmp_path / "l.png").symlink_to("d/x.png")
    assert write_target(tmp_path / "l.png") == (tmp_path / "d" / "x.png").resolve()
    assert write_target(tmp_path / "d" / "x.png") == tmp_path / "d" / "x.png"


def test_fuse_to_a_link_updates_the_linked_image(tmp_path, capsys):
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (24, 20), dtype=np.uint8)
    b = rng.integers(0, 256, (24, 20), dtype=np.uint8)
    Image.fromarray(a).save(tmp_path / "a.png")
    Image.fromarray(b).save(tmp_path / "b.png")
    real = tmp_path / "results" / "latest.png"
    real.parent.mkdir()
    Image.fromarray(np.zeros((24, 20), np.uint8)).save(real)
    link = tmp_path / "f.png"
    link.symlink_to(real)
    rc = main(["fuse", str(tmp_path / "a.png"), str(tmp_path / "b.png"), "-o", str(link), "--method", "average"])
    assert rc in (0, None)
    assert link.is_symlink()
    got = np.asarray(Image.open(real))
    want = np.round((a.astype(np.float64) + b) / 2.0)
    assert np.abs(got.astype(np.float64) - want).max() <= 1.0
    assert got.max() > 0
