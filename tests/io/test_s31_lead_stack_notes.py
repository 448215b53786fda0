"""s31 (patch of the pair2 helper, applied by the lead): fuse-stack's per-plane scaling note says
what the file holds, as fuse's does since c9fef09 (an int8 TIFF plane among 8-bit PNG planes was
"16-bit input ... (--normalize full for the type's full range)"; it is read widened to 16 bits)."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

tifffile = pytest.importorskip("tifffile")

from mutualfuse.cli import main  # noqa: E402


def test_an_int8_plane_is_named_signed_8_bit(tmp_path, capsys):
    rng = np.random.default_rng(31)
    zs = tmp_path / "zs"
    zs.mkdir()
    for i in range(2):
        Image.fromarray(rng.integers(0, 256, (40, 48)).astype(np.uint8)).save(zs / f"z{i}.png")
    tifffile.imwrite(zs / "z2.tif", rng.integers(-100, 100, (40, 48)).astype(np.int8))
    assert main(["fuse-stack", str(zs), "-o", str(tmp_path / "edf.png"), "--method", "average"]) == 0
    err = capsys.readouterr().err
    line = next(ln for ln in err.splitlines() if "z2.tif" in ln and "scaled" in ln)
    assert "signed 8-bit input" in line and "16-bit input" not in line
