"""Output files are a function of the pixels only (s17 reproducibility audit): writing the same
fused image twice, from different folders and at different times, gives the same bytes, and no
path, host name, time or version string is written into a PNG or TIFF (measured 2026-12-06: none
is; ``tifffile`` writes only ``Software: tifffile.py`` and a JSON shape description)."""
from __future__ import annotations

import os
import socket
import struct
import time
from pathlib import Path

import numpy as np
import pytest
import tifffile

import mutualfuse
from mutualfuse.image_io import write_image

MARK = "s17privatehome"


def _png_chunks(data: bytes) -> list[bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    out, i = [], 8
    while i < len(data):
        n, = struct.unpack(">I", data[i:i + 4])
        out.append(data[i + 4:i + 8])
        i += 12 + n
    return out


@pytest.mark.parametrize("name,depth,colour", [("f.png", 8, False), ("f.png", 16, False), ("f.png", 8, True),
                                               ("f.tif", 8, False), ("f.tif", 16, True), ("f.tif", 32, False),
                                               ("f.bmp", 8, True), ("f.jpg", 8, True)])
def test_same_pixels_same_bytes_and_nothing_private(tmp_path, monkeypatch, name, depth, colour):
    rng = np.random.default_rng(3)
    arr = rng.random((37, 53, 3) if colour else (37, 53))
    d1, d2 = tmp_path / MARK / "one", tmp_path / "two"
    d1.mkdir(parents=True), d2.mkdir()
    monkeypatch.chdir(d1)
    write_image(d1 / name, arr, bit_depth=depth)
    time.sleep(1.1)  # a timestamp with one-second resolution would differ
    monkeypatch.chdir(d2)
    write_image(d2 / name, arr, bit_depth=depth)
    b1, b2 = (d1 / name).read_bytes(), (d2 / name).read_bytes()
    assert b1 == b2
    for private in (MARK, str(tmp_path), os.path.expanduser("~"), socket.gethostname(), mutualfuse.__version__):
        if len(private) > 3:  # a home of "/" or a one-letter host name says nothing
            assert private.encode() not in b1, private
    if name.endswith(".png"):
        assert not {b"tIME", b"tEXt", b"iTXt", b"zTXt"} & set(_png_chunks(b1))
    if name.endswith(".tif"):
        with tifffile.TiffFile(d1 / name) as t:
            names = {tag.name for tag in t.pages[0].tags.values()}
        assert not names & {"DateTime", "HostComputer", "Artist", "DocumentName"}, names
