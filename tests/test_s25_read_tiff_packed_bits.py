"""TIFFs of 2, 4 or 12 bits a sample (packed: scanners, some scientific cameras). Without the
optional imagecodecs package tifffile cannot unpack them, and they were refused as "truncated or
corrupt TIFF (packints_decode ... requires the 'imagecodecs' package)"; with it, 2/4-bit gray came
out as 0..3 / 0..15 read as v / 255, a near-black image. Now 2/4-bit gray is read as 8-bit
``v * 255 / (2**bits - 1)`` (as Pillow and viewers show it) and 12-bit as stored, by tifffile with
imagecodecs or else through Pillow; other packed depths without imagecodecs are refused in one
line naming it. The files are built here by hand (tifffile writes packed samples only with
imagecodecs)."""
from __future__ import annotations

import struct

import numpy as np
import pytest

from mutualfuse.image_io import _has_imagecodecs, _tiff_convert, read_samples
from one_line_error import assert_one_line_error

pytest.importorskip("tifffile")
H, W = 18, 27
RNG = np.random.default_rng(5)


def _packed_tiff(path, g: np.ndarray, bits: int, photometric: int = 1):
    """An uncompressed one-strip gray TIFF of ``bits``-bit samples, rows packed MSB first."""
    h, w = g.shape
    rows = []
    for y in range(h):
        b = np.unpackbits(g[y].astype(">u2").view(np.uint8).reshape(w, 2), axis=1)[:, 16 - bits:].ravel()
        rows.append(np.packbits(b).tobytes())
    data = b"".join(rows)
    tags = [(256, 3, w), (257, 3, h), (258, 3, bits), (259, 3, 1), (262, 3, photometric), (273, 4, 0),
            (277, 3, 1), (278, 3, h), (279, 4, len(data))]
    start = 8 + 2 + 12 * len(tags) + 4
    out = b"II*\x00" + struct.pack("<IH", 8, len(tags))
    for tag, typ, val in tags:
        val = start if tag == 273 else val
        out += struct.pack("<HHI", tag, typ, 1) + (struct.pack("<HH", val, 0) if typ == 3 else struct.pack("<I", val))
    path.write_bytes(out + struct.pack("<I", 0) + data)
    return path


@pytest.mark.parametrize("bits", [2, 4])
def test_2_and_4_bit_gray_read_at_full_8_bit_range(tmp_path, bits):
    g = RNG.integers(0, 1 << bits, (H, W)).astype(np.uint16)
    got, depth, _ = read_samples(_packed_tiff(tmp_path / f"g{bits}.tif", g, bits))
    assert depth == 8 and got.dtype == np.uint8
    assert np.array_equal(got.astype(int), g * (255 // ((1 << bits) - 1)))


def test_12_bit_gray_read_as_stored(tmp_path):
    g = RNG.integers(0, 4096, (H, W)).astype(np.uint16)
    got, depth, _ = read_samples(_packed_tiff(tmp_path / "g12.tif", g, 12))
    assert depth == 16 and np.array_equal(got.astype(int), g.astype(int))


def test_tifffile_unpacked_samples_are_scaled(tmp_path):
    """What tifffile with imagecodecs gives (uint8 0..15 for 4 bits) → _tiff_convert's values; a
    MinIsWhite 4-bit page inverted first, a palette's 4-bit indices left as indices."""
    g = RNG.integers(0, 16, (H, W)).astype(np.uint8)
    assert np.array_equal(_tiff_convert("x", g, 1, (), 1, (1, None), 4)[0].astype(int), g.astype(int) * 17)
    assert np.array_equal(_tiff_convert("x", g, 1, (), 1, (0, None), 4)[0].astype(int), (15 - g.astype(int)) * 17)
    cmap = np.zeros((3, 16), np.uint16)
    cmap[:] = np.arange(16) * 257 * 3
    got = _tiff_convert("x", g, 1, (), 1, (3, cmap), 4)[0]
    assert np.array_equal(got.astype(int), g.astype(int) * 3)


@pytest.mark.skipif(_has_imagecodecs(), reason="imagecodecs unpacks 10-bit samples")
def test_other_packed_depths_need_imagecodecs_in_one_line(tmp_path, capsys):
    f = _packed_tiff(tmp_path / "g10.tif", RNG.integers(0, 1024, (H, W)).astype(np.uint16), 10)
    b = tmp_path / "b.tif"
    _packed_tiff(b, RNG.integers(0, 16, (H, W)).astype(np.uint16), 4)
    out = tmp_path / "out.png"
    assert_one_line_error(capsys, ["fuse", str(f), str(b), "-o", str(out), "--method", "average"],
                          str(f), "TIFF of 10-bit packed samples", "pip install imagecodecs")
    assert not out.exists()
