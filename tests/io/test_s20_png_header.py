"""s20: header_size reads a PNG's size and EXIF orientation without decoding it. Pillow's
getexif() on a PNG whose eXIf chunk does not precede the pixel data decodes the whole image, so
the "header only" size check (the memory refusal before decoding, evaluate's size check) decoded
every PNG (found by the s20 evaluate helper: 0.48 s for 100 RoadScene PNGs against 0.002 s)."""
from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, PngImagePlugin


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(arr: np.ndarray, orientation: int | None = None, exif_after_idat: bool = False) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    raw = buf.getvalue()
    if orientation is None:
        return raw
    ex = Image.Exif()
    ex[0x0112] = orientation
    exif = _chunk(b"eXIf", ex.tobytes())
    iend = raw.rindex(b"IEND") - 4
    if exif_after_idat:
        return raw[:iend] + exif + raw[iend:]
    idat = raw.index(b"IDAT") - 4
    return raw[:idat] + exif + raw[idat:]


@pytest.fixture
def no_decoding(monkeypatch):
    """Record every decoding of a PNG (PngImageFile.load)."""
    calls = []
    real = PngImagePlugin.PngImageFile.load

    def load(self):
        calls.append(self.size)
        return real(self)

    monkeypatch.setattr(PngImagePlugin.PngImageFile, "load", load)
    return calls


@pytest.mark.parametrize("orientation,after", [(None, False), (1, False), (6, False), (6, True), (8, True),
                                               (3, True)])
def test_png_size_and_orientation_from_the_header_alone(tmp_path, no_decoding, orientation, after):
    from mutualfuse.image_io import header_size, read_image

    arr = np.arange(30 * 50, dtype=np.uint8).reshape(30, 50)
    p = tmp_path / "x.png"
    p.write_bytes(_png(arr, orientation, after))
    size = header_size(p)
    assert no_decoding == []  # nothing decoded
    # the size the reader gives (it applies the orientation, wherever the chunk is)
    img = read_image(p)[0]
    assert size == (img.shape[1], img.shape[0])
    assert size == ((30, 50) if orientation in (6, 8) else (50, 30))


def test_a_large_png_is_sized_without_decoding(tmp_path, no_decoding):
    from mutualfuse.image_io import header_size

    p = tmp_path / "big.png"  # 6000 x 5000 zeros: a few kB on disk, 30 MB decoded
    p.write_bytes(_png(np.zeros((5000, 6000), np.uint8)))
    assert header_size(p) == (6000, 5000)
    assert no_decoding == []


@pytest.mark.parametrize("bad", [b"", b"\x89PNG\r\n\x1a\n", b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR"])
def test_a_truncated_png_header_is_none_or_the_size_never_an_error(tmp_path, bad):
    from mutualfuse.image_io import _png_orientation, header_size

    p = tmp_path / "t.png"
    p.write_bytes(bad)
    assert _png_orientation(p) is None
    assert header_size(p) is None
