"""``mutualfuse evaluate --fused F1 F2``: one folder spelt twice (relative and absolute, or
through a link) was scored twice as two methods; only identical spellings were refused."""
from __future__ import annotations

import os

import numpy as np
from PIL import Image

from one_line_error import assert_one_line_error


def _folders(root):
    rng = np.random.default_rng(0)
    for d in ("a", "b", "f"):
        (root / d).mkdir()
        Image.fromarray(rng.integers(0, 256, (32, 40), dtype=np.uint8)).save(root / d / "01.png")


def test_one_folder_spelt_twice_is_refused(tmp_path, capsys, monkeypatch):
    _folders(tmp_path)
    monkeypatch.chdir(tmp_path)
    base = ["evaluate", "--a", "a", "--b", "b", "--metrics", "SF@vifb"]
    assert_one_line_error(capsys, base + ["--fused", "f", "--fused", str(tmp_path / "f")], "are the same folder",
                          "--fused f and")
    os.symlink(tmp_path / "f", tmp_path / "g")
    assert_one_line_error(capsys, base + ["--fused", "f", "--fused", "g"], "are the same folder")


def test_two_folders_of_the_same_name_are_two_methods(tmp_path, capsys):
    _folders(tmp_path)
    (tmp_path / "x").mkdir()
    os.rename(tmp_path / "f", tmp_path / "x" / "f")
    (tmp_path / "y" / "f").mkdir(parents=True)
    Image.open(tmp_path / "x" / "f" / "01.png").save(tmp_path / "y" / "f" / "01.png")
    from mutualfuse.cli import main

    assert main(["evaluate", "--a", str(tmp_path / "a"), "--b", str(tmp_path / "b"), "--metrics", "SF@vifb",
                 "--fused", str(tmp_path / "x" / "f"), "--fused", str(tmp_path / "y" / "f")]) == 0
    out = capsys.readouterr().out
    assert str(tmp_path / "x" / "f") in out and str(tmp_path / "y" / "f") in out, out
