"""A TIFF read where tifffile is not installed (a broken install: it is a dependency).

Pillow was given any TIFF: an int8 page came out as unsigned bytes (-100 read as 156), a 16-bit
RGB or RGBA page and a 16-bit palette at 8 bits, a 16-bit MinIsWhite page not inverted (its
negative), an RGB + unspecified extra band (near-infrared) with the band dropped, all without a
word, and a float64 page "not a readable image". Now the layouts Pillow decodes as tifffile
would are read to the same samples, the others refused in one line naming ``pip install
tifffile`` (or, as with tifffile, the channel layout)."""
from __future__ import annotations

import sys

import numpy as np
import pytest
import tifffile

from mutualfuse import image_io
from mutualfuse.errors import InputError

G = np.tile(np.linspace(0.0, 1.0, 40), (24, 1))


def _palette16(path):
    idx = (G * 15).astype(np.uint8)
    cmap = np.zeros((3, 256), np.uint16)
    cmap[0, :16] = np.arange(16) * 4369
    cmap[1, :16] = 65535 - np.arange(16) * 4369
    cmap[2, :16] = 1000
    tifffile.imwrite(path, idx, photometric="palette", colormap=cmap)


READ_ALIKE = {
    "gray8": lambda p: tifffile.imwrite(p, (G * 255).astype(np.uint8)),
    "gray16": lambda p: tifffile.imwrite(p, (1000 + G * 3000).astype(np.uint16)),
    "int16": lambda p: tifffile.imwrite(p, (G * 2000 - 1000).astype(np.int16)),
    "uint32": lambda p: tifffile.imwrite(p, (G * 60000).astype(np.uint32)),
    "float32": lambda p: tifffile.imwrite(p, (G * 30 + 10).astype(np.float32)),
    "rgb8": lambda p: tifffile.imwrite(p, (np.stack([G, G[::-1], G * 0.5], -1) * 255).astype(np.uint8)),
    "miniswhite8": lambda p: tifffile.imwrite(p, (G * 255).astype(np.uint8), photometric="miniswhite"),
    "palette16": _palette16,
}

REFUSED = {
    "int8": (lambda p: tifffile.imwrite(p, (G * 200 - 100).astype(np.int8)), "pip install tifffile"),
    "rgb16": (lambda p: tifffile.imwrite(p, (np.stack([G] * 3, -1) * 65535).astype(np.uint16)), "pip install tifffile"),
    "rgba16": (lambda p: tifffile.imwrite(p, (np.stack([G] * 4, -1) * 65535).astype(np.uint16), photometric="rgb",
                                          extrasamples=[2]), "pip install tifffile"),
    "miniswhite16": (lambda p: tifffile.imwrite(p, (G * 60000).astype(np.uint16), photometric="miniswhite"),
                     "pip install tifffile"),
    "float64": (lambda p: tifffile.imwrite(p, G * 30), "pip install tifffile"),
    "rgb_nir": (lambda p: tifffile.imwrite(p, (np.stack([G] * 4, -1) * 255).astype(np.uint8), photometric="rgb",
                                           extrasamples=[0]), "its extra sample is not alpha"),
}


def test_pillow_reads_what_tifffile_reads(tmp_path, monkeypatch):
    # one test over every layout: the 16-bit palette was read at 8 bits (the others as a guard)
    want = {}
    for name, make in READ_ALIKE.items():
        make(tmp_path / f"{name}.tif")
        want[name] = image_io.read_samples(tmp_path / f"{name}.tif")
    monkeypatch.setitem(sys.modules, "tifffile", None)  # `import tifffile` raises ImportError
    for name in READ_ALIKE:
        got, depth, reader = image_io.read_samples(tmp_path / f"{name}.tif")
        assert reader == "pillow", name
        assert depth == want[name][1], name
        assert got.shape == want[name][0].shape, name
        np.testing.assert_array_equal(got.astype(np.float64), want[name][0].astype(np.float64), err_msg=name)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_layouts_pillow_misreads_are_refused(tmp_path, monkeypatch, name):
    make, words = REFUSED[name]
    path = tmp_path / f"{name}.tif"
    make(path)
    monkeypatch.setitem(sys.modules, "tifffile", None)
    with pytest.raises(InputError) as e:
        image_io.read_image(path)
    msg = str(e.value)
    assert msg.startswith(f"{path}: ") and "\n" not in msg
    assert words in msg


def test_unsigned32_over_16_bits_refused_by_its_values(tmp_path, monkeypatch):
    # Pillow decodes uint32 as int32: 3e9 came out negative; the values are the stored ones
    path = tmp_path / "u32.tif"
    tifffile.imwrite(path, np.array([[0, 1000, 3_000_000_000, 4_294_967_295]] * 8, np.uint32))
    monkeypatch.setitem(sys.modules, "tifffile", None)
    with pytest.raises(InputError, match=r"unsigned 32-bit TIFF samples with values 0\.\.4294967295"):
        image_io.read_image(path)
