"""``fuse-dir -o -`` and ``fuse-dir -o fused.png`` (s27): they made folders named ``-`` and
``fused.png`` without a word; now one line, exit 2, nothing made. An existing folder of such a name,
or a name ending in '/', is still taken as the output folder."""
from __future__ import annotations

import numpy as np
from PIL import Image

from mutualfuse.cli import main
from one_line_error import assert_one_line_error


def _folders(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    rng = np.random.default_rng(7)
    Image.fromarray(rng.integers(0, 256, (40, 48), dtype=np.uint8)).save(a / "01.png")
    Image.fromarray(rng.integers(0, 256, (40, 48), dtype=np.uint8)).save(b / "01.png")
    return str(a), str(b)


def test_dash_is_refused(tmp_path, capsys, monkeypatch):
    a, b = _folders(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert_one_line_error(capsys, ["fuse-dir", a, b, "-o", "-", "--method", "average"],
                          "standard output ('-') is not supported", "-o fused/")
    assert not (tmp_path / "-").exists()


def test_an_image_file_name_is_refused(tmp_path, capsys):
    a, b = _folders(tmp_path)
    out = tmp_path / "fused.png"
    assert_one_line_error(capsys, ["fuse-dir", a, b, "-o", str(out), "--method", "average"],
                          str(out), "writes a folder of fused images", "mutualfuse fuse")
    assert not out.exists()


def test_a_folder_so_named_is_still_taken(tmp_path, capsys):
    a, b = _folders(tmp_path)
    assert main(["fuse-dir", a, b, "-o", str(tmp_path / "made.png") + "/", "--method", "average", "-q"]) == 0
    assert (tmp_path / "made.png" / "01.png").is_file()
    (tmp_path / "old.tif").mkdir()
    assert main(["fuse-dir", a, b, "-o", str(tmp_path / "old.tif"), "--method", "average", "-q"]) == 0
    assert (tmp_path / "old.tif" / "01.png").is_file()
