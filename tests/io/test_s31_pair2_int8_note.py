"""s31: an integer TIFF of another type than 8/16-bit (int8, int32) is read as 16-bit samples;
its note called it a "16-bit input" and advised "--normalize full for the type's full range",
which maps the 16-bit range it is read as (an int8 image then fuses to an almost flat one).
The note now names the file's own type and what --normalize full does to it."""
from __future__ import annotations

import numpy as np
import pytest
import tifffile

from mutualfuse.cli import main
from mutualfuse.image_io import read_image


def _int8(path, seed):
    rng = np.random.default_rng(seed)
    tifffile.imwrite(path, rng.integers(-100, 100, (40, 48)).astype(np.int8))
    return str(path)


def test_read_image_says_an_int8_tiff_is_signed_8_bit(tmp_path):
    _, info = read_image(_int8(tmp_path / "a.tif", 1))
    assert info.bit_depth == 16 and info.stored == "signed 8-bit"
    assert info.input_words() == "signed 8-bit input (read as 16-bit samples)"
    tifffile.imwrite(tmp_path / "u.tif", np.full((40, 48), 7, np.uint16))
    _, info = read_image(tmp_path / "u.tif")
    assert info.stored == "" and info.input_words() == "16-bit input"


@pytest.mark.parametrize("command", ["fuse", "fuse-dir"])
def test_the_note_of_an_int8_tiff_names_its_type(tmp_path, capsys, command):
    (tmp_path / "A").mkdir()
    (tmp_path / "B").mkdir()
    a = _int8(tmp_path / "A" / "x.tif", 1)
    b = _int8(tmp_path / "B" / "x.tif", 2)
    if command == "fuse":
        argv = ["fuse", a, b, "-o", str(tmp_path / "f.tif")]
    else:
        argv = ["fuse-dir", str(tmp_path / "A"), str(tmp_path / "B"), "-o", str(tmp_path / "o")]
    assert main([*argv, "--method", "average"]) == 0
    err = capsys.readouterr().err
    assert "signed 8-bit input (read as 16-bit samples) scaled by percentile" in err, err
    assert "16-bit input scaled" not in err and "for the type's full range" not in err, err
    assert "--normalize full maps the 16-bit range, not the signed 8-bit type's" in err, err
