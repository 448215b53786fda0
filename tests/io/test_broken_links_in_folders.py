"""A symbolic link named as an image whose target does not exist, in a folder that fuse-dir,
fuse-stack or training reads: named as a broken link, not skipped silently (fuse-dir reported its
partner as "no file named x.png", a stack lost a plane with a note, training said "only in vis/")."""
from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

from mutualfuse.cli import main
from mutualfuse.errors import InputError


def _img(p, seed=0):
    Image.fromarray(np.random.default_rng(seed).integers(0, 256, (24, 32), dtype=np.uint8)).save(p)


def test_fuse_dir_names_a_broken_link_and_its_partner(tmp_path, capsys):
    a, b, o = tmp_path / "ir", tmp_path / "vis", tmp_path / "o"
    for d in (a, b):
        d.mkdir()
    for n in ("1.png", "2.png"):
        _img(b / n)
    _img(a / "1.png", 1)
    os.symlink(tmp_path / "gone.png", a / "2.png")
    os.symlink(tmp_path / "gone3.png", b / "3.png")  # a broken link without a partner
    rc = main(["fuse-dir", str(a), str(b), "-o", str(o), "--method", "average", "-q"])
    err = capsys.readouterr().err
    assert rc == 2 and sorted(os.listdir(o)) == ["1.png"]
    assert f"{b / '2.png'}: no readable partner: {a / '2.png'} is a broken symbolic link (to {tmp_path / 'gone.png'}" in err
    assert f"{a / '2.png'}: is a broken symbolic link" in err
    assert f"{b / '3.png'}: is a broken symbolic link" in err
    assert "3 pair(s) failed" in err


def test_fuse_stack_refuses_a_folder_with_a_broken_plane(tmp_path, capfd):
    for i in range(3):
        _img(tmp_path / f"z{i}.png", i)
    os.symlink(tmp_path / "nowhere.png", tmp_path / "z3.png")
    out = tmp_path.parent / f"{tmp_path.name}-stack.png"
    rc = main(["fuse-stack", str(tmp_path), "-o", str(out), "--method", "average"])
    err = capfd.readouterr().err.strip().splitlines()
    assert rc == 2 and not out.exists()
    assert len(err) == 1 and f"{tmp_path / 'z3.png'}: is a broken symbolic link" in err[0], err


def test_training_refuses_a_role_folder_with_a_broken_link(tmp_path):
    from mutualfuse.train.data import _folder_pairs

    s = tmp_path / "set"
    (s / "ir").mkdir(parents=True)
    (s / "vis").mkdir()
    for n in ("1.png", "2.png"):
        _img(s / "vis" / n)
    _img(s / "ir" / "1.png", 1)
    os.symlink(tmp_path / "gone.png", s / "ir" / "2.png")
    with pytest.raises(InputError, match=r"ir/2\.png: is a broken symbolic link"):
        _folder_pairs(s, ("ir", "vis"))
