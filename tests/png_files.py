"""PNG files Pillow cannot write, built by hand for the reading tests."""
from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np


def png16_colour(path: Path, arr: np.ndarray) -> Path:
    """A 16-bit RGB PNG (no filtering) of an (H, W, 3) array."""
    h, w, _ = arr.shape
    raw = b"".join(b"\x00" + arr[i].astype(">u2").tobytes() for i in range(h))

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)

    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    return path
