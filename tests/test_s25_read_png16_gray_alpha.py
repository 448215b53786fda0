"""A 16-bit gray + alpha PNG (colour type 4) was refused ("Pillow reads it at 8 bits"); it is read
at its full 16 bits now, alpha dropped, as the 16-bit gray and colour PNGs are: exactly the stored
gray samples, whatever PNG row filter the writer chose (built here by hand: Pillow writes no
16-bit gray + alpha PNG)."""
from __future__ import annotations

import struct
import zlib

import numpy as np
from PIL import Image

from mutualfuse.cli import main
from mutualfuse.image_io import read_samples

H, W = 23, 37
RNG = np.random.default_rng(11)
GRAY = RNG.integers(0, 65536, (H, W), dtype=np.uint16)
ALPHA = RNG.integers(0, 65536, (H, W), dtype=np.uint16)


def _filtered(raw: np.ndarray, prior: np.ndarray, kind: int, bpp: int) -> np.ndarray:
    """A row (uint8) filtered by PNG filter ``kind`` (0 None .. 4 Paeth) against the row above."""
    r, up = raw.astype(np.int32), prior.astype(np.int32)
    left = np.concatenate([np.zeros(bpp, np.int32), r[:-bpp]])
    upleft = np.concatenate([np.zeros(bpp, np.int32), up[:-bpp]])
    if kind == 0:
        pred = np.zeros_like(r)
    elif kind == 1:
        pred = left
    elif kind == 2:
        pred = up
    elif kind == 3:
        pred = (left + up) // 2
    else:
        p = left + up - upleft
        pa, pb, pc = np.abs(p - left), np.abs(p - up), np.abs(p - upleft)
        pred = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, up, upleft))
    return ((r - pred) % 256).astype(np.uint8)


def _png_la16(path, gray, alpha, exif_orientation=None):
    h, w = gray.shape
    data = np.stack([gray, alpha], -1).astype(">u2").view(np.uint8).reshape(h, w * 4)
    rows, prior = [], np.zeros(w * 4, np.uint8)
    for y in range(h):
        kind = y % 5  # every filter type, in turn
        rows.append(bytes([kind]) + _filtered(data[y], prior, kind, 4).tobytes())
        prior = data[y]

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)

    extra = b""
    if exif_orientation is not None:
        ex = Image.Exif()
        ex[0x0112] = exif_orientation
        extra = chunk(b"eXIf", ex.tobytes())
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 4, 0, 0, 0)) + extra
                     + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b""))
    return path


def test_read_exactly_at_16_bits(tmp_path):
    f = _png_la16(tmp_path / "la16.png", GRAY, ALPHA)
    with Image.open(f) as im:  # the file is what it should be: Pillow's 8 bits are the high bytes
        assert im.mode == "RGBA" and np.array_equal(np.asarray(im)[..., 0], (GRAY >> 8).astype(np.uint8))
    got, depth, _ = read_samples(f)
    assert depth == 16 and got.shape == (H, W)
    assert np.array_equal(got.astype(np.int64), GRAY.astype(np.int64))
    # orientation applied as for every other file
    got, _, _ = read_samples(_png_la16(tmp_path / "la16_6.png", GRAY, ALPHA, 6))
    assert np.array_equal(got.astype(np.int64), np.rot90(GRAY, -1).astype(np.int64))


def test_fuse_gives_what_the_same_gray_png_gives(tmp_path, capsys):
    la = _png_la16(tmp_path / "la16.png", GRAY, ALPHA)
    gray = tmp_path / "gray16.png"
    Image.fromarray(GRAY).save(gray)  # a 16-bit gray PNG (mode I;16) of the same samples
    other = tmp_path / "b.png"
    Image.fromarray(RNG.integers(0, 256, (H, W), dtype=np.uint8)).save(other)
    outs = []
    for a in (la, gray):
        out = tmp_path / f"out_{a.stem}.png"
        assert main(["fuse", str(a), str(other), "-o", str(out), "--method", "average", "-q"]) == 0
        with Image.open(out) as im:
            outs.append((im.mode, np.asarray(im)))
    assert outs[0][0] == outs[1][0] and outs[0][0].startswith("I")  # 16-bit gray out, as for the gray PNG
    assert np.array_equal(outs[0][1], outs[1][1])
