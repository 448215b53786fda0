"""Audit s26 of ``mutualfuse evaluate`` on inputs other than 8-bit gray PNGs: what a user scoring
another tool's fused images meets (a source turned by its EXIF orientation, ...)."""
from __future__ import annotations

import numpy as np
from PIL import Image

from one_line_error import assert_one_line_error

RNG = np.random.default_rng(26)
Y, X = np.mgrid[0:40, 0:56]
SCENE = np.clip(127.5 + 90 * np.sin(X / 7.0) * np.cos(Y / 5.0) + RNG.normal(0, 10, X.shape), 0, 255).astype(np.uint8)
VIS = np.clip(255 - SCENE.astype(int) + RNG.integers(-12, 13, X.shape), 0, 255).astype(np.uint8)


def _folders(tmp_path, a, b, f, a_name="01.png", exif=None):
    for d in ("a", "b", "f"):
        (tmp_path / d).mkdir()
    Image.fromarray(a).save(tmp_path / "a" / a_name, **({"exif": exif} if exif is not None else {}))
    Image.fromarray(b).save(tmp_path / "b" / "01.png")
    Image.fromarray(f).save(tmp_path / "f" / "01.png")
    return [str(tmp_path / d) for d in ("a", "b", "f")]


def test_size_mismatch_of_a_source_turned_by_exif_names_its_stored_size(tmp_path, capsys):
    """A phone photo stored 40 wide and 56 high with EXIF orientation 6 is read (as ``fuse`` reads
    it) 56x40; a fused image made by a tool that ignores the tag is 40x56. The error said
    "f/01.png is 40x56, a/01.jpg is 56x40" while the file a/01.jpg is 40x56 on disk: it names the
    stored size and the tag now."""
    exif = Image.Exif()
    exif[0x0112] = 6
    stored = np.ascontiguousarray(np.rot90(SCENE, 1))  # 56 high, 40 wide: displayed 56 wide, 40 high
    a, b, f = _folders(tmp_path, stored, VIS, stored, a_name="01.jpg", exif=exif)
    assert_one_line_error(capsys, ["evaluate", "--a", a, "--b", b, "--fused", f, "--metrics", "SF@vifb", "-q"],
                          "image sizes differ", "01.png is 40x56", "01.jpg is 56x40 (stored 40x56, turned by its "
                          "EXIF orientation 6)")
