"""Square images with an orientation tag (session 27 check of the s25 policy,
``tests/test_s25_read_orientation.py``): a quarter turn leaves a square's size as it is, so no
size check can notice a tag; each file must still be read as displayed. Both tagged: both are
turned, and the fusion is that of the turned pixels. Only one tagged: that one is turned and the
other read as stored (each as a viewer shows it, docs/inputs.md "Orientation"), in PNG (eXIf),
JPEG (EXIF) and TIFF (the Orientation tag) alike, by ``fuse`` and ``fuse-stack``."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mutualfuse.cli import main
from mutualfuse.image_io import header_size, read_samples, turned_note

tifffile = pytest.importorskip("tifffile")

S = 40
RNG = np.random.default_rng(2706)
A = RNG.integers(0, 256, (S, S), dtype=np.uint8)
B = RNG.integers(0, 256, (S, S), dtype=np.uint8)
TURN = {6: lambda x: np.rot90(x, -1), 8: lambda x: np.rot90(x, 1)}


def _save(path, arr, orientation: int | None):
    if path.suffix == ".tif":
        tags = [(274, 3, 1, orientation, True)] if orientation else []
        tifffile.imwrite(path, arr, extratags=tags)
        return
    kw = {"quality": 95} if path.suffix == ".jpg" else {}
    if orientation:
        ex = Image.Exif()
        ex[0x0112] = orientation
        kw["exif"] = ex
    Image.fromarray(arr).save(path, **kw)


def _stored(path) -> np.ndarray:
    """The file's samples as stored (no orientation applied)."""
    if path.suffix == ".tif":
        return tifffile.imread(path)
    return np.asarray(Image.open(path).convert("L"))


def _fused(tmp_path, cmd, a, b) -> np.ndarray:
    out = tmp_path / f"{cmd}_{a.stem}_{b.stem}.png"
    assert main([cmd, str(a), str(b), "-o", str(out), "--method", "average", "-q"]) == 0
    return np.asarray(Image.open(out)).astype(np.int64)


def _plain(tmp_path, name, arr) -> Path:
    """``arr`` as a PNG without a tag: the pixels a viewer shows, to fuse for comparison."""
    f = tmp_path / f"{name}.png"
    Image.fromarray(np.ascontiguousarray(arr)).save(f)
    return f


@pytest.mark.parametrize("ext", ["png", "jpg", "tif"])
@pytest.mark.parametrize("o", [6, 8])
def test_a_square_pair_is_read_as_displayed_with_one_or_both_tags(tmp_path, ext, o):
    a, b, b_plain = tmp_path / f"a.{ext}", tmp_path / f"b.{ext}", tmp_path / f"bp.{ext}"
    _save(a, A, o)
    _save(b, B, o)
    _save(b_plain, B, None)
    sa, sb, sp = _stored(a), _stored(b), _stored(b_plain)
    assert np.array_equal(read_samples(a)[0], TURN[o](sa))
    assert np.array_equal(read_samples(b_plain)[0], sp)
    assert header_size(a) == (S, S) and turned_note(a).endswith(f" {o})") and turned_note(b_plain) == ""
    ta, tb, pb = _plain(tmp_path, "ta", TURN[o](sa)), _plain(tmp_path, "tb", TURN[o](sb)), _plain(tmp_path, "pb", sp)
    sa_file = _plain(tmp_path, "sa", sa)
    for cmd in ("fuse", "fuse-stack"):
        # both tagged: both turned the same way, so the pair lines up as stored, turned
        assert np.array_equal(_fused(tmp_path, cmd, a, b), _fused(tmp_path, cmd, ta, tb)), (cmd, ext, o)
        # one tagged: it alone is turned (as a viewer shows the two files)
        assert np.array_equal(_fused(tmp_path, cmd, a, b_plain), _fused(tmp_path, cmd, ta, pb)), (cmd, ext, o)
        # not as stored: a turn and none give other outputs (the images have no symmetry)
        assert not np.array_equal(_fused(tmp_path, cmd, a, b_plain), _fused(tmp_path, cmd, sa_file, pb))
