"""evaluate on a signed 16-bit TIFF source (read since s27): without --normalize it is refused in
one line (its negative samples wrapped to 64536... in uint16 and were scored silently); with
--normalize it is scored as fuse reads it."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mutualfuse.cli import main
from one_line_error import assert_one_line_error

tifffile = pytest.importorskip("tifffile")


def _folders(tmp_path):
    rng = np.random.default_rng(27)
    for d in "abf":
        (tmp_path / d).mkdir()
    tifffile.imwrite(tmp_path / "a" / "x.tif", rng.normal(40, 300, (40, 48)).astype(np.int16))
    for d in "bf":
        Image.fromarray(rng.integers(0, 256, (40, 48), dtype=np.uint8)).save(tmp_path / d / "x.png")
    return [f"--{d}={tmp_path / d}" if d != "f" else f"--fused={tmp_path / d}" for d in "abf"]


def test_a_signed_source_without_normalize_is_refused(tmp_path, capsys):
    args = _folders(tmp_path)
    assert_one_line_error(capsys, ["evaluate", *args, "--metrics", "MI@vifb", "-q"],
                          "x.tif: signed 16-bit samples (gray): a signed source has no stored 0-255 scale",
                          "--normalize auto")


def test_a_signed_source_with_normalize_is_scored(tmp_path, capsys):
    args = _folders(tmp_path)
    out = tmp_path / "r.json"
    assert main(["evaluate", *args, "--metrics", "MI@vifb", "--normalize", "auto", "-o", str(out), "-q"]) == 0
    assert out.exists()
