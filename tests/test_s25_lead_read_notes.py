"""Session 25 (lead), after the reading audit (S1): the commands say what the readers know.

* ``fuse`` (and so ``fuse-dir`` and the web page, through ``fuse_files``) and ``fuse-stack`` note an
  input's embedded non-sRGB ICC profile (``image_io.embedded_profile_note``): it is not applied;
* their size-mismatch lines name a file turned by its EXIF orientation with its stored size
  (``image_io.turned_note``): a phone photo stored 56x40 is read 40x56.
"""
from __future__ import annotations

import numpy as np
from PIL import Image

from mutualfuse.cli import main
from one_line_error import assert_one_line_error
from test_s25_read_icc_profiles import GRAY1

G = np.random.default_rng(3).integers(0, 256, (40, 56), dtype=np.uint8)
NOTE = "embedded ICC profile 'Gray Gamma 1.0' (GRAY) not applied"


def _pair(tmp_path):
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    Image.fromarray(G).save(a, icc_profile=GRAY1)
    Image.fromarray(255 - G).save(b)
    return a, b


def test_fuse_and_fuse_stack_note_an_embedded_profile(tmp_path, capsys):
    a, b = _pair(tmp_path)
    assert main(["fuse", str(a), str(b), "-o", str(tmp_path / "o.png"), "--method", "average"]) == 0
    err = capsys.readouterr().err
    assert f"note: {a}: {NOTE}" in err and str(b) + ":" not in err, err
    assert main(["fuse-stack", str(a), str(b), "-o", str(tmp_path / "s.png"), "--method", "average"]) == 0
    err = capsys.readouterr().err
    assert err.count(NOTE) == 1, err


def test_a_size_mismatch_names_the_orientation_that_turned_a_file(tmp_path, capsys):
    a, b = tmp_path / "phone.jpg", tmp_path / "ir.png"
    ex = Image.Exif()
    ex[0x0112] = 6
    Image.fromarray(G).save(a, exif=ex, quality=95)
    Image.fromarray(G).save(b)
    turned = f"{a} is 40x56 (stored 56x40, turned by its EXIF orientation 6), {b} is 56x40"
    for cmd in (["fuse", str(a), str(b), "-o", str(tmp_path / "o.png")],
                ["fuse-stack", str(a), str(b), "-o", str(tmp_path / "s.png")]):
        assert_one_line_error(capsys, [*cmd, "--method", "average"], "size mismatch", turned)
    assert not (tmp_path / "o.png").exists() and not (tmp_path / "s.png").exists()
