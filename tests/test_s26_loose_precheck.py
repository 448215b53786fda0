"""The memory pre-check (``cli.fuse.check_fits``) counts an input as RGB as the reading reads it
(``image_io.header_reads_as_colour``): a colour palette PNG pair was counted gray (for ``lp``,
1.43 GiB against the 7.15 GiB an RGB pair of 8000x8000 holds: not refused where it cannot fit),
a 16-bit gray + alpha PNG pair RGB (refused where it fits). Only headers are read: the PNGs here
are 8000x8000 of one value, small files."""
from __future__ import annotations

import struct
import zlib

import pytest
from PIL import Image

import mutualfuse
from mutualfuse.errors import InputError

N = 8000


def _png(path, depth: int, ctype: int, sample_bytes: int, plte: bytes = b"") -> None:
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    row = b"\0" + b"\x00" * (N * sample_bytes)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", N, N, depth, ctype, 0, 0, 0))
                     + (chunk(b"PLTE", plte) if plte else b"") + chunk(b"IDAT", zlib.compress(row * N, 1))
                     + chunk(b"IEND", b""))


@pytest.fixture
def memory(monkeypatch):
    import mutualfuse.runner as runner

    def set_to(n):
        monkeypatch.setattr(runner, "available_memory", lambda: n)
    return set_to


def test_a_colour_palette_pair_is_counted_rgb_and_a_16bit_gray_alpha_pair_gray(tmp_path, memory):
    from mutualfuse.cli.fuse import check_fits

    fuser = mutualfuse.Fuser(method="lp")
    gray, rgb = fuser.min_memory(N, N, 2, colour=0), fuser.min_memory(N, N, 2, colour=2)
    assert rgb > 2 * gray
    pal = tmp_path / "pal.png"
    _png(pal, 8, 3, 1, plte=bytes([255, 0, 0, 0, 0, 255]))  # red and blue
    ga = tmp_path / "ga16.png"
    _png(ga, 16, 4, 4)
    for f, colour in ((pal, True), (ga, False)):
        with Image.open(f) as im:  # what Pillow's header says: P for both palettes, RGBA for 16-bit LA
            assert im.mode == ("P" if colour else "RGBA")
    memory((gray + rgb) // 2)  # room for a gray pair, not for an RGB one
    with pytest.raises(InputError, match=r"pal\.png: fusing this 8000x8000 pair with method lp needs"):
        check_fits(fuser, [str(pal), str(pal)], None)
    check_fits(fuser, [str(ga), str(ga)], None)  # fits: it is read as gray
    memory(rgb + 2 ** 20)
    check_fits(fuser, [str(pal), str(pal)], None)
