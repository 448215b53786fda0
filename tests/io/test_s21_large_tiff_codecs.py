"""TIFFs whose compression this tifffile cannot decode (audit s21, large images).

tifffile decodes LZW, JPEG, ... only with the optional ``imagecodecs`` package, which
mutualfuse does not require. Such files (Pillow's and ImageMagick's LZW, JPEG-in-TIFF, the
exports of many thermal cameras and microscopes) were refused as "truncated or corrupt TIFF".
They are now read through Pillow (libtiff) where Pillow gives the samples at their full depth,
and otherwise refused in one line that says what to install.
"""
from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PIL import Image

from mutualfuse import image_io
from mutualfuse.errors import InputError
from mutualfuse.image_io import read_image, read_samples, read_tiff_stack

from one_line_error import assert_one_line_error


def _has_imagecodecs() -> bool:
    try:
        import imagecodecs  # noqa: F401
    except ImportError:
        return False
    return True


from tiff_codecs import no_codecs  # noqa: E402,F401  (the fixture)


def _samples(rng, shape, dtype):
    if np.dtype(dtype).kind == "f":
        return (rng.random(shape) * 300).astype(dtype)
    top = 4000 if np.dtype(dtype).itemsize == 2 else 255
    return (rng.random(shape) * top + (1000 if top == 4000 else 0)).astype(dtype)


@pytest.mark.parametrize("shape,dtype", [((40, 33), np.uint8), ((40, 33), np.uint16), ((40, 33), np.float32),
                                         ((40, 33, 3), np.uint8)])
@pytest.mark.parametrize("force", [False, True])
def test_an_lzw_tiff_reads_as_its_uncompressed_copy(tmp_path, request, shape, dtype, force):
    if force:
        request.getfixturevalue("no_codecs")
    rng = np.random.default_rng(3)
    arr = _samples(rng, shape, dtype)
    Image.fromarray(arr).save(tmp_path / "lzw.tif", compression="tiff_lzw")
    tifffile.imwrite(tmp_path / "plain.tif", arr)
    got, want = read_samples(tmp_path / "lzw.tif"), read_samples(tmp_path / "plain.tif")
    assert got[1] == want[1] and got[0].dtype == want[0].dtype
    np.testing.assert_array_equal(got[0], want[0])
    a, ia = read_image(tmp_path / "lzw.tif")
    b, ib = read_image(tmp_path / "plain.tif")
    np.testing.assert_array_equal(a, b)
    assert (ia.bit_depth, ia.normalization) == (ib.bit_depth, ib.normalization)


def test_the_orientation_of_an_lzw_tiff_is_applied(tmp_path, no_codecs):
    arr = _samples(np.random.default_rng(4), (30, 17), np.uint16)
    Image.fromarray(arr).save(tmp_path / "lzw.tif", compression="tiff_lzw", tiffinfo={274: 6})
    tifffile.imwrite(tmp_path / "plain.tif", arr, extratags=[(274, 3, 1, 6, True)])
    got = read_samples(tmp_path / "lzw.tif")[0]
    assert got.shape == (17, 30)
    np.testing.assert_array_equal(got, read_samples(tmp_path / "plain.tif")[0])
    assert image_io.header_size(tmp_path / "lzw.tif") == (30, 17)


def test_a_jpeg_tiff_is_read(tmp_path, no_codecs):
    rgb = np.zeros((48, 64, 3), np.uint8)
    rgb[..., 0] = 200
    rgb[:, 32:, 2] = 120
    Image.fromarray(rgb).save(tmp_path / "j.tif", compression="jpeg", quality=95)
    got, depth, _ = read_samples(tmp_path / "j.tif")
    assert got.shape == (48, 64, 3) and depth == 8
    assert np.abs(got.astype(int) - rgb).max() <= 8  # JPEG is lossy; the layout and colours are kept


def test_an_lzw_pyramid_is_read_at_its_full_level(tmp_path, no_codecs):
    arr = _samples(np.random.default_rng(5), (64, 48), np.uint8)
    with tifffile.TiffWriter(tmp_path / "p.tif") as tw:
        tw.write(arr, compression="zlib")
        tw.write(arr[::2, ::2], subfiletype=1, compression="zlib")
    np.testing.assert_array_equal(read_samples(tmp_path / "p.tif")[0], arr)


def test_fuse_reads_an_lzw_pair_as_the_uncompressed_pair(tmp_path, capsys, no_codecs):
    rng = np.random.default_rng(6)
    a, b = (_samples(rng, (40, 36), np.uint16) for _ in range(2))
    for name, arr in (("a", a), ("b", b)):
        Image.fromarray(arr).save(tmp_path / f"{name}_lzw.tif", compression="tiff_lzw")
        tifffile.imwrite(tmp_path / f"{name}.tif", arr)
    from mutualfuse.cli import main

    assert main(["fuse", str(tmp_path / "a_lzw.tif"), str(tmp_path / "b_lzw.tif"), "-o", str(tmp_path / "f1.tif"),
                 "--method", "average", "-q"]) == 0
    assert main(["fuse", str(tmp_path / "a.tif"), str(tmp_path / "b.tif"), "-o", str(tmp_path / "f2.tif"),
                 "--method", "average", "-q"]) == 0
    capsys.readouterr()
    np.testing.assert_array_equal(tifffile.imread(tmp_path / "f1.tif"), tifffile.imread(tmp_path / "f2.tif"))


def test_a_16bit_colour_lzw_tiff_is_refused_not_cut_to_8_bits(tmp_path, capsys, no_codecs):
    """Pillow reads 16-bit RGB TIFF as 8-bit RGB: that must not happen silently."""
    rgb = _samples(np.random.default_rng(7), (20, 24, 3), np.uint16)
    tifffile.imwrite(tmp_path / "c.tif", rgb, photometric="rgb", compression="zlib")
    tifffile.imwrite(tmp_path / "d.tif", rgb, photometric="rgb")
    with pytest.raises(InputError, match="imagecodecs"):
        read_samples(tmp_path / "c.tif")
    assert_one_line_error(capsys, ["fuse", str(tmp_path / "c.tif"), str(tmp_path / "d.tif"), "-o",
                                   str(tmp_path / "o.tif"), "--method", "average"],
                          "c.tif: TIFF compressed with ADOBE_DEFLATE", "pip install imagecodecs")
    assert not (tmp_path / "o.tif").exists()


def test_an_lzw_stack_names_the_missing_package(tmp_path, capsys, no_codecs):
    arr = _samples(np.random.default_rng(8), (16, 16), np.uint8)
    Image.fromarray(arr).save(tmp_path / "s.tif", compression="tiff_lzw", save_all=True,
                              append_images=[Image.fromarray(arr[::-1])])
    with pytest.raises(InputError, match=r"s\.tif: TIFF compressed with LZW.*pip install imagecodecs"):
        read_tiff_stack(tmp_path / "s.tif")


@pytest.mark.skipif(_has_imagecodecs(), reason="imagecodecs decodes LZW: tifffile reads the file itself")
def test_without_imagecodecs_the_lzw_file_is_not_called_corrupt(tmp_path):
    arr = _samples(np.random.default_rng(9), (20, 20), np.uint16)
    Image.fromarray(arr).save(tmp_path / "lzw.tif", compression="tiff_lzw")
    got = read_samples(tmp_path / "lzw.tif")
    np.testing.assert_array_equal(got[0], arr.astype(np.int32))
    assert got[2] == "pillow"
