"""s24: a PNG damaged after its image data was read without a word: a bad CRC in IDAT, IEND or
a chunk after the pixels, or a file cut inside its last IDAT's CRC or its IEND chunk (Pillow
checks the CRCs of the chunks before the image data only, and stops at the data's end). Each is
now one line naming the file and the chunk, exit 2, nothing written
(:func:`mutualfuse.image_io.check_png_chunks`); a pre-data chunk with a bad CRC is named as
such instead of Pillow's "cannot identify image file"."""
from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from one_line_error import assert_one_line_error
from png_files import png16_colour

SIG = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes, crc_xor: int = 0) -> bytes:
    crc = (zlib.crc32(kind + data) & 0xFFFFFFFF) ^ crc_xor
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def _chunks(data: bytes) -> list[tuple[bytes, int, int]]:
    """(type, offset, length) of each chunk of a PNG file."""
    out, at = [], 8
    while at < len(data):
        n, kind = struct.unpack(">I4s", data[at:at + 8])
        out.append((kind, at, n))
        at += 12 + n
    return out


def _pair(tmp_path: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(24)
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    Image.fromarray(rng.integers(0, 256, (24, 20), dtype=np.uint8)).save(a)
    Image.fromarray(rng.integers(0, 256, (24, 20), dtype=np.uint8)).save(b)
    return a, b


def _damaged(good: bytes, how: str) -> bytes:
    chunks = _chunks(good)
    kind, at, n = next(c for c in chunks if c[0] == b"IDAT")
    iend = chunks[-1][1]
    if how == "IEND crc":
        return good[:-1] + bytes([good[-1] ^ 0xFF])
    if how == "IDAT crc":
        e = bytearray(good)
        e[at + 8 + n] ^= 0x01
        return bytes(e)
    if how == "tEXt after IDAT crc":
        return good[:iend] + _chunk(b"tEXt", b"k\x00v", crc_xor=1) + good[iend:]
    if how.startswith("cut "):  # "cut N": the last N bytes gone
        return good[:-int(how[4:])]
    raise AssertionError(how)


CASES = {
    "IEND crc": "bad CRC in the IEND chunk",
    "IDAT crc": "bad CRC in the IDAT chunk",
    "tEXt after IDAT crc": "bad CRC in the tEXt chunk",
    "cut 1": "truncated PNG",    # inside IEND's CRC
    "cut 6": "truncated PNG",    # inside IEND's type
    "cut 12": "truncated PNG",   # no IEND at all
    "cut 14": "truncated PNG",   # inside the last IDAT's CRC
}


@pytest.mark.parametrize("how", sorted(CASES))
def test_fuse_refuses_a_damaged_png_end(tmp_path, capsys, how):
    a, b = _pair(tmp_path)
    bad = tmp_path / "bad.png"
    bad.write_bytes(_damaged(a.read_bytes(), how))
    out = tmp_path / "f.png"
    assert_one_line_error(capsys, ["fuse", str(bad), str(b), "-o", str(out), "--method", "average"],
                          f"{bad}: ", CASES[how])
    assert not out.exists()


def test_a_bad_crc_before_the_image_data_is_named(tmp_path, capsys):
    """Pillow refuses it too, but said only 'cannot identify image file'."""
    a, b = _pair(tmp_path)
    good = a.read_bytes()
    bad = tmp_path / "bad.png"
    bad.write_bytes(good[:33] + _chunk(b"tEXt", b"k\x00v", crc_xor=4) + good[33:])
    out = tmp_path / "f.png"
    assert_one_line_error(capsys, ["fuse", str(bad), str(b), "-o", str(out), "--method", "average"],
                          f"{bad}: corrupt PNG: bad CRC in the tEXt chunk at byte 33")
    assert not out.exists()


def test_16bit_colour_png_with_a_bad_iend_crc(tmp_path, capsys):
    """The 16-bit colour path decodes through Pillow twice; its file is checked too."""
    rng = np.random.default_rng(7)
    a = png16_colour(tmp_path / "a16.png", rng.integers(0, 65536, (16, 12, 3)))
    b = png16_colour(tmp_path / "b16.png", rng.integers(0, 65536, (16, 12, 3)))
    d = a.read_bytes()
    a.write_bytes(d[:-1] + bytes([d[-1] ^ 0x10]))
    out = tmp_path / "f.tif"
    assert_one_line_error(capsys, ["fuse", str(a), str(b), "-o", str(out), "--method", "average"],
                          f"{a}: corrupt PNG: bad CRC in the IEND chunk")
    assert not out.exists()


def test_fuse_dir_fails_the_damaged_pair_only(tmp_path, capsys):
    from mutualfuse.cli import main

    a, b = _pair(tmp_path)
    da, db, out = tmp_path / "A", tmp_path / "B", tmp_path / "OUT"
    da.mkdir()
    db.mkdir()
    for name in ("1.png", "2.png"):
        (da / name).write_bytes(a.read_bytes())
        (db / name).write_bytes(b.read_bytes())
    (db / "2.png").write_bytes(_damaged(b.read_bytes(), "IEND crc"))
    rc = main(["fuse-dir", str(da), str(db), "-o", str(out), "--method", "average"])
    cap = capsys.readouterr()
    assert rc == 2, cap.err
    assert f"{db / '2.png'}: corrupt PNG: bad CRC in the IEND chunk" in cap.err
    assert "Traceback" not in cap.err and "internal error" not in cap.err
    assert sorted(p.name for p in out.iterdir()) == ["1.png"]


def test_bytes_after_iend_and_valid_files_are_read(tmp_path, samples):
    """What libpng accepts stays accepted: data after IEND, and every bundled sample PNG."""
    from mutualfuse.image_io import check_png_chunks, read_image

    a, _ = _pair(tmp_path)
    tail = tmp_path / "tail.png"
    tail.write_bytes(a.read_bytes() + b"\x00trailing bytes")
    np.testing.assert_array_equal(read_image(tail)[0], read_image(a)[0])
    pngs = sorted(samples.rglob("*.png"))
    assert pngs
    for p in pngs:
        check_png_chunks(p)


def test_the_check_reads_long_chunks_in_blocks(tmp_path, monkeypatch):
    """An IDAT longer than the block size is CRC-checked across blocks (and still refused when damaged)."""
    import mutualfuse.image_io as image_io
    from mutualfuse.errors import InputError

    monkeypatch.setattr(image_io, "_PNG_CRC_BLOCK", 7)
    a, _ = _pair(tmp_path)
    image_io.check_png_chunks(a)
    bad = tmp_path / "bad.png"
    bad.write_bytes(_damaged(a.read_bytes(), "IDAT crc"))
    with pytest.raises(InputError, match="bad CRC in the IDAT chunk"):
        image_io.check_png_chunks(bad)
