"""s31 (patch of the pair2 helper, applied by the lead): the web page's reading notes name what a
file holds as fuse's do since c9fef09 (an int8 TIFF was "16-bit input ... (--normalize full for
the type's full range)": it is read widened to 16 bits). No browser: the page's core function."""
from __future__ import annotations

import numpy as np
import pytest

tifffile = pytest.importorskip("tifffile")


def test_an_int8_tiff_note_says_signed_8_bit(tmp_path):
    from mutualfuse.image_io import read_image
    from mutualfuse.web.core import input_notes

    p = tmp_path / "t.tif"
    tifffile.imwrite(p, np.random.default_rng(3).integers(-100, 100, (40, 48)).astype(np.int8))
    _, info = read_image(p)
    notes = input_notes([info], ["t.tif"])
    assert len(notes) == 1 and notes[0].startswith("t.tif: signed 8-bit input"), notes
