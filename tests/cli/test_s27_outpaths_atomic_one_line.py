"""A refusal of the atomic writer naming an output with a line break in its name was two lines
(``fuse -o $'new\\nfifo.png'`` where that is a FIFO): the name is now shown escaped (s27
output-path audit)."""
from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

from one_line_error import assert_one_line_error


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_output_with_a_line_break_in_its_name_is_one_line(tmp_path, capsys):
    for n in "ab":
        Image.fromarray(np.full((16, 16), 100, np.uint8)).save(tmp_path / f"{n}.png")
    fifo = tmp_path / "new\nfifo.png"
    os.mkfifo(fifo)
    err = assert_one_line_error(capsys, ["fuse", str(tmp_path / "a.png"), str(tmp_path / "b.png"), "-o", str(fifo),
                                         "--method", "average"],
                                f"{tmp_path}/new\\nfifo.png: output path is a FIFO (named pipe), not a regular file")
    assert "\n" not in err.rstrip("\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "b.png", "new\nfifo.png"]
