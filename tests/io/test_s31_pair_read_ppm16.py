"""A binary colour PPM of more than 8 bits a sample (``dcraw -4``'s linear 16-bit output, a
10/12-bit camera's frames): Pillow has no 16-bit colour mode and read it at 8 bits, so it was
fused (and written) at 8 bits without a word, while a 16-bit PGM was read at 16. Now its samples
are read at 16 bits, mapped from 0 … maxval as Pillow maps a PGM's."""
from __future__ import annotations

import numpy as np
import tifffile

from mutualfuse import image_io
from mutualfuse.cli import main


def _ppm(path, rgb, maxval):
    path.write_bytes(f"P6\n# made by a test\n{rgb.shape[1]} {rgb.shape[0]}\n{maxval}\n".encode()
                     + rgb.astype(">u2").tobytes())


def _pgm(path, gray, maxval):
    path.write_bytes(f"P5\n{gray.shape[1]} {gray.shape[0]}\n{maxval}\n".encode() + gray.astype(">u2").tobytes())


def test_12_bit_ppm_is_read_at_16_bits_as_a_pgm_is(tmp_path):
    rng = np.random.default_rng(3)
    rgb = rng.integers(0, 4096, (20, 30, 3))
    _ppm(tmp_path / "c.ppm", rgb, 4095)
    samples, depth, _ = image_io.read_samples(tmp_path / "c.ppm")
    assert depth == 16 and samples.dtype == np.uint16 and samples.shape == (20, 30, 3)
    np.testing.assert_array_equal(samples, np.round(rgb / 4095 * 65535).astype(np.uint16))
    for k in range(3):  # each channel as the PGM of its samples reads (Pillow's mapping)
        _pgm(tmp_path / f"g{k}.pgm", rgb[..., k], 4095)
        gray, gdepth, _ = image_io.read_samples(tmp_path / f"g{k}.pgm")
        assert gdepth == 16
        np.testing.assert_array_equal(samples[..., k].astype(np.int64), gray.astype(np.int64))
    # 16 bits stored as they are
    full = rng.integers(0, 65536, (8, 9, 3))
    _ppm(tmp_path / "f.ppm", full, 65535)
    np.testing.assert_array_equal(image_io.read_samples(tmp_path / "f.ppm")[0], full.astype(np.uint16))


def test_fuse_writes_a_16_bit_ppm_pair_at_16_bits(tmp_path, capsys):
    y, x = np.mgrid[0:24, 0:32]
    rgb = np.stack([x * 100, y * 150, (x + y) * 70], -1)  # 12-bit values, steps finer than 8 bits
    _ppm(tmp_path / "a.ppm", rgb, 4095)
    _ppm(tmp_path / "b.ppm", rgb[::-1], 4095)
    out = tmp_path / "f.tif"
    rc = main(["fuse", str(tmp_path / "a.ppm"), str(tmp_path / "b.ppm"), "-o", str(out), "--method", "average",
               "--normalize", "full", "-q"])
    assert rc == 0, capsys.readouterr().err
    got = tifffile.imread(out)
    assert got.dtype == np.uint16 and got.shape == (24, 32, 3)
    assert np.count_nonzero(got % 257) > got.size // 2  # not 8-bit values written at 16 bits (v * 257)
