"""Loose ends of image reading (session 26).

* Palette, MinIsWhite and bilevel TIFFs compressed with LZW or CCITT G4 (Pillow writes palette
  and bilevel TIFFs so) were refused without the optional ``imagecodecs`` package ("without it
  only gray ... TIFFs are read"), although Pillow decodes them: they now read through Pillow as
  their uncompressed copies read through tifffile (a palette's indices looked up in the file's
  ColorMap by the same code).
* A CMYK JPEG's embedded CMYK profile was noted as "its samples are fused as stored, taken as
  sRGB": they are converted to RGB by Pillow's plain formula first; the note says so.
* Integer TIFF samples outside 0..65535 (an int16 CT slice in Hounsfield units, int32 counts) were
  refused without a way forward ("signed 16-bit TIFF with negative values is not supported",
  "unsupported TIFF sample type int32"); the refusal now names the values and the float route,
  which the test takes.
"""
from __future__ import annotations

import struct

import numpy as np
import pytest
import tifffile
from PIL import Image

from mutualfuse.image_io import embedded_profile_note, read_samples
from one_line_error import assert_one_line_error

RNG = np.random.default_rng(26)
G8 = RNG.integers(0, 256, (40, 56), dtype=np.uint8)
RGB8 = RNG.integers(0, 256, (40, 56, 3), dtype=np.uint8)


from tiff_codecs import no_codecs  # noqa: E402,F401  (the fixture)


def _compression(path) -> str:
    with tifffile.TiffFile(path) as tf:
        return tf.pages[0].compression.name


def _pair(tmp_path, name, im: Image.Image, compression: str, **kw):
    packed, plain = tmp_path / f"{name}_{compression}.tif", tmp_path / f"{name}.tif"
    im.save(packed, compression=compression, **kw)
    im.save(plain, **kw)  # uncompressed: tifffile decodes it itself
    assert _compression(plain) == "NONE"
    return packed, plain


@pytest.mark.parametrize("kind", ["palette", "palette-gray", "palette-4bit", "miniswhite", "bilevel-lzw",
                                  "bilevel-g4", "bilevel-miniswhite-g4"])
def test_a_compressed_palette_miniswhite_or_bilevel_tiff_reads_as_its_uncompressed_copy(tmp_path, no_codecs, kind):
    kw = {}
    if kind == "palette":
        im = Image.fromarray(RGB8).quantize(16)
    elif kind == "palette-gray":
        im = Image.fromarray(G8).convert("P")
    elif kind == "palette-4bit":
        im, kw = Image.fromarray(RGB8).quantize(16), {"bits": 4}
    elif kind == "miniswhite":
        im, kw = Image.fromarray(G8), {"tiffinfo": {262: 0}}
    elif kind == "bilevel-miniswhite-g4":  # a fax page
        im, kw = Image.fromarray(G8 > 128), {"tiffinfo": {262: 0}}
    else:
        im = Image.fromarray(G8 > 128)
    comp = "group4" if kind.endswith("g4") else "tiff_lzw"
    packed, plain = _pair(tmp_path, kind, im, comp, **kw)
    with tifffile.TiffFile(packed) as tf:
        want_phot = {"miniswhite": 0, "bilevel-lzw": 1, "bilevel-g4": 1, "bilevel-miniswhite-g4": 0}.get(kind, 3)
        assert int(tf.pages[0].photometric) == want_phot
        assert tf.pages[0].compression.name in ("LZW", "CCITT_T6", "CCITTFAX4")
    got, depth, reader = read_samples(packed)
    ref, ref_depth, ref_reader = read_samples(plain)
    assert (reader, ref_reader) == ("pillow", "tiff")
    assert depth == ref_depth == 8
    np.testing.assert_array_equal(got, ref)
    # and what the reference is: the displayed values
    if kind == "miniswhite":
        np.testing.assert_array_equal(got, G8)
    elif kind.startswith("bilevel"):
        np.testing.assert_array_equal(got, np.where(G8 > 128, 255, 0))
    elif kind == "palette-gray":
        assert got.ndim == 2
        np.testing.assert_array_equal(got, G8)
    else:
        assert got.shape == RGB8.shape
        np.testing.assert_array_equal(got, np.asarray(im.convert("RGB")))


def test_fuse_reads_a_palette_lzw_tiff_pair(tmp_path, capsys, no_codecs):
    from mutualfuse.cli import main

    a, a_plain = _pair(tmp_path, "a", Image.fromarray(RGB8).quantize(32), "tiff_lzw")
    b, b_plain = _pair(tmp_path, "b", Image.fromarray(RGB8[::-1]).quantize(32), "tiff_lzw")
    assert main(["fuse", str(a), str(b), "-o", str(tmp_path / "f1.png"), "--method", "average", "-q"]) == 0
    assert main(["fuse", str(a_plain), str(b_plain), "-o", str(tmp_path / "f2.png"), "--method", "average",
                 "-q"]) == 0
    capsys.readouterr()
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "f1.png")),
                                  np.asarray(Image.open(tmp_path / "f2.png")))


def test_a_16bit_palette_lzw_tiff_is_still_refused_naming_imagecodecs(tmp_path, capsys, no_codecs):
    """A 16-bit palette is no layout Pillow decodes: still the one line naming the package."""
    idx = RNG.integers(0, 300, (20, 24), dtype=np.uint16)
    cmap = RNG.integers(0, 65536, (3, 65536), dtype=np.uint16)
    tifffile.imwrite(tmp_path / "p16.tif", idx, photometric="palette", colormap=cmap, compression="zlib")
    assert_one_line_error(capsys, ["fuse", str(tmp_path / "p16.tif"), str(tmp_path / "p16.tif"), "-o",
                                   str(tmp_path / "o.png"), "--method", "average"],
                          "p16.tif: TIFF compressed with ADOBE_DEFLATE", "pip install imagecodecs",
                          "palette TIFFs are read (through Pillow)")
    assert not (tmp_path / "o.png").exists()


def _icc(desc: str, space: bytes, cls: bytes) -> bytes:
    """A minimal ICC v2 header + ``desc`` tag (what :func:`icc_profile_name` reads)."""
    a = desc.encode("ascii") + b"\0"
    data = b"desc\0\0\0\0" + struct.pack(">I", len(a)) + a + b"\0" * 12 + b"\0" * 67
    data += b"\0" * (-len(data) % 4)
    off = 128 + 4 + 12
    header = (struct.pack(">I", off + len(data)) + b"none" + bytes([2, 0x10, 0, 0]) + cls + space + b"Lab "
              + b"\0" * 12 + b"acsp" + b"\0" * 88)
    assert len(header) == 128
    return header + struct.pack(">I", 1) + struct.pack(">4sII", b"desc", off, len(data)) + data


def test_a_cmyk_jpeg_profile_note_says_the_samples_are_converted_not_fused_as_stored(tmp_path):
    f = tmp_path / "print.jpg"
    Image.fromarray(RGB8).convert("CMYK").save(f, icc_profile=_icc("U.S. Web Coated (SWOP) v2", b"CMYK", b"prtr"))
    note = embedded_profile_note(f)
    assert note is not None and note.startswith(f"{f}: embedded ICC profile 'U.S. Web Coated (SWOP) v2' (CMYK) "
                                                "not applied"), note
    assert "fused as stored" not in note and "R = (255 - C)(255 - K)/255" in note, note
    # the formula the note states is what the reading does
    with Image.open(f) as im:
        cmyk = np.asarray(im, dtype=np.float64)
    got, depth, _ = read_samples(f)
    want = np.rint((255 - cmyk[..., :3]) * (255 - cmyk[..., 3:]) / 255)
    assert depth == 8 and np.abs(got.astype(np.float64) - want).max() <= 1  # Pillow's integer rounding


def test_an_rgb_profile_note_is_unchanged(tmp_path):
    f = tmp_path / "adobe.jpg"
    Image.fromarray(RGB8).save(f, icc_profile=_icc("Adobe RGB (1998)", b"RGB ", b"mntr"))
    assert embedded_profile_note(f) == (f"{f}: embedded ICC profile 'Adobe RGB (1998)' (RGB) not applied: its "
                                        "samples are fused as stored, taken as sRGB (no colour management; the "
                                        "output carries no profile)")


# int16 and int8 (-50..50) fit signed 16 bits: read since s27 (tests/io/test_s27_read_signed_tiff.py)
@pytest.mark.parametrize("dtype,lo,hi,what", [(np.int32, -40000, 2000, "signed 32-bit"),
                                              (np.int32, 0, 100000, "signed 32-bit"),
                                              (np.uint32, 0, 100000, "unsigned 32-bit")])
def test_an_integer_tiff_outside_16_bits_is_refused_with_the_float_route(tmp_path, capsys, dtype, lo, hi, what):
    ct = np.linspace(lo, hi, 40 * 48).reshape(40, 48).astype(dtype)
    f = tmp_path / "ct.tif"
    tifffile.imwrite(f, ct)
    assert_one_line_error(capsys, ["fuse", str(f), str(f), "-o", str(tmp_path / "o.png"), "--method", "average"],
                          f"ct.tif: {what} TIFF samples with values {int(ct.min())}..{int(ct.max())}, outside 0..65535",
                          "save it as a float32 TIFF", "tifffile.imread(IN).astype('float32')")
    assert not (tmp_path / "o.png").exists()
    # the route the message names: the float32 copy is read, scaled by its percentiles
    tifffile.imwrite(tmp_path / "ct32.tif", tifffile.imread(f).astype("float32"))
    from mutualfuse.image_io import read_image

    x, info = read_image(tmp_path / "ct32.tif")
    assert info.normalization == "percentile" and x.min() == 0.0 and x.max() == 1.0


def _png(path, depth: int, ctype: int, rows: list[bytes], w: int, h: int) -> None:
    """A PNG of unfiltered ``rows`` (Pillow cannot write 16-bit gray + alpha)."""
    import zlib

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    data = zlib.compress(b"".join(b"\0" + r for r in rows))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, 0))
                     + chunk(b"IDAT", data) + chunk(b"IEND", b""))


def _header_cases(tmp_path) -> dict:
    """name → path of inputs whose colour the header must tell as the reading does."""
    f = {}
    pal = Image.fromarray(RGB8).quantize(16)
    for name, ext in (("palette", "png"), ("palette", "gif"), ("palette", "tif")):
        f[f"{name}.{ext}"] = tmp_path / f"{name}.{ext}"
        pal.save(f[f"{name}.{ext}"])
    gray_pal = Image.fromarray(G8).convert("P")
    for ext in ("png", "gif", "tif"):
        f[f"gray-palette.{ext}"] = tmp_path / f"gray-palette.{ext}"
        gray_pal.save(f[f"gray-palette.{ext}"])
    cmap = np.zeros((3, 256), np.uint16)
    cmap[0] = np.arange(256) * 257  # a red lookup table: colour entries
    f["imagej-lut.tif"] = tmp_path / "imagej-lut.tif"
    tifffile.imwrite(f["imagej-lut.tif"], G8, imagej=True, colormap=cmap)
    f["palette-tifffile.tif"] = tmp_path / "palette-tifffile.tif"
    tifffile.imwrite(f["palette-tifffile.tif"], G8 // 16, photometric="palette", colormap=cmap)
    ga = RNG.integers(0, 65536, (12, 16, 2), dtype=np.uint16).astype(">u2")
    f["gray-alpha-16.png"] = tmp_path / "gray-alpha-16.png"
    _png(f["gray-alpha-16.png"], 16, 4, [r.tobytes() for r in ga], 16, 12)
    c16 = RNG.integers(0, 65536, (12, 16, 3), dtype=np.uint16).astype(">u2")
    f["rgb-16.png"] = tmp_path / "rgb-16.png"
    _png(f["rgb-16.png"], 16, 2, [r.tobytes() for r in c16], 16, 12)
    f["gray-alpha-8.png"] = tmp_path / "gray-alpha-8.png"
    Image.fromarray(G8).convert("LA").save(f["gray-alpha-8.png"])
    f["cmyk.jpg"] = tmp_path / "cmyk.jpg"
    Image.fromarray(RGB8).convert("CMYK").save(f["cmyk.jpg"])
    f["gray-16.tif"] = tmp_path / "gray-16.tif"
    tifffile.imwrite(f["gray-16.tif"], G8.astype(np.uint16) * 200)
    f["rgb-16.tif"] = tmp_path / "rgb-16.tif"
    tifffile.imwrite(f["rgb-16.tif"], RGB8.astype(np.uint16) * 200, photometric="rgb")
    f["bilevel.png"] = tmp_path / "bilevel.png"
    Image.fromarray(G8 > 100).save(f["bilevel.png"])
    return f


def test_the_header_tells_colour_as_the_reading_reads_it(tmp_path):
    """``header_reads_as_colour`` (for the memory pre-check): a colour palette (PNG, GIF, TIFF) was
    counted gray (its RGB buffers, 5x a gray input's for a classical method, not counted), a 16-bit
    gray + alpha PNG counted RGB (Pillow opens it as RGBA: a bound above the need, which could
    refuse a pair that fits)."""
    from mutualfuse.image_io import header_reads_as_colour, read_image

    want = {"palette.png": True, "palette.gif": True, "palette.tif": True, "gray-palette.png": False,
            "gray-palette.gif": False, "gray-palette.tif": False, "imagej-lut.tif": False,
            "palette-tifffile.tif": True, "gray-alpha-16.png": False, "rgb-16.png": True, "gray-alpha-8.png": False,
            "cmyk.jpg": True, "gray-16.tif": False, "rgb-16.tif": True, "bilevel.png": False}
    for name, path in _header_cases(tmp_path).items():
        x, _ = read_image(path)
        assert (x.ndim == 3) == want[name], name  # the cases are what they say
        assert header_reads_as_colour(path) is want[name], name
