"""``fuse-dir A B -o LINK`` where LINK is a dangling symbolic link said "cannot create output folder
(File exists)": said now as the file-writing commands say it (s27 output-path audit)."""
from __future__ import annotations

import numpy as np
from PIL import Image

from one_line_error import assert_one_line_error


def test_fuse_dir_into_a_dangling_link_says_so(tmp_path, capsys):
    for d in "AB":
        (tmp_path / d).mkdir()
        Image.fromarray(np.full((16, 16), 100, np.uint8)).save(tmp_path / d / "01.png")
    link = tmp_path / "out"
    link.symlink_to(tmp_path / "gone")
    assert_one_line_error(capsys, ["fuse-dir", str(tmp_path / "A"), str(tmp_path / "B"), "-o", str(link),
                                   "--method", "average", "-q"],
                          f"{link}: output path is a broken or looping symbolic link")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["A", "B", "out"] and not link.exists()
