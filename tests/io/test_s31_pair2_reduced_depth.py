"""s31: colour of more than 8 bits that Pillow decodes at 8 (it has no 16-bit colour mode).

* A plain-text colour PPM (``P3``) with maxval over 255 is read at 16 bits, as a binary one
  (``P6``) is since 967b0db: it was read at 8 bits without a word.
* A 16-bit (or 12-bit) colour JPEG 2000 and a 10/12-bit AVIF are still decoded at 8 bits by
  Pillow, but the command says so in a note; they were fused and written at 8 bits silently.
  8-bit files of those formats get no such note."""
from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image, features

from mutualfuse.cli import main
from mutualfuse.image_io import read_image

H, W = 40, 48


def _values(seed=0, top=4095):
    return np.random.default_rng(seed).integers(0, top + 1, (H, W, 3))


def _p3(path, v, maxval, comment=True):
    with open(path, "w") as f:
        f.write(f"P3\n{'# made by a test' + chr(10) if comment else ''}{W} {H}\n{maxval}\n")
        for row in v:
            f.write(" ".join(str(int(x)) for x in row.ravel()) + "\n")
    return str(path)


def _p6(path, v, maxval):
    with open(path, "wb") as f:
        f.write(f"P6\n{W} {H}\n{maxval}\n".encode() + v.astype(">u2").tobytes())
    return str(path)


@pytest.mark.parametrize("maxval", [4095, 65535, 1000])
def test_a_plain_ppm_of_more_than_8_bits_is_read_at_16(tmp_path, maxval):
    v = _values(top=maxval)
    x, info = read_image(_p3(tmp_path / "a.ppm", v, maxval), normalize="full")
    assert info.bit_depth == 16 and info.mode == "RGB" and info.reduced == ""
    assert np.abs(x * 65535 - np.round(v / maxval * 65535)).max() < 1e-6
    y, _ = read_image(_p6(tmp_path / "b.ppm", v, maxval), normalize="full")  # as the binary PPM
    assert np.array_equal(x, y)


def test_fuse_writes_a_plain_12_bit_ppm_at_16_bits(tmp_path, capsys):
    a = _p3(tmp_path / "a.ppm", _values(1), 4095)
    b = _p3(tmp_path / "b.ppm", _values(2), 4095, comment=False)
    out = tmp_path / "f.tif"
    assert main(["fuse", a, b, "-o", str(out), "--method", "average", "--normalize", "full"]) == 0
    assert "16-bit colour" in capsys.readouterr().out
    import tifffile

    assert tifffile.imread(out).dtype == np.uint16


def test_a_plain_8_bit_ppm_is_left_to_pillow(tmp_path):
    v = _values(top=255)
    x, info = read_image(_p3(tmp_path / "a.ppm", v, 255))
    assert info.bit_depth == 8 and np.array_equal(np.round(x * 255), v)


def _ffmpeg(args, out):
    ffmpeg = pytest.importorskip("imageio_ffmpeg").get_ffmpeg_exe()
    raw = out.with_suffix(".raw")
    raw.write_bytes(np.random.default_rng(5).integers(0, 65536, (H, W, 3)).astype("<u2").tobytes())
    r = subprocess.run([ffmpeg, "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb48le", "-s", f"{W}x{H}",
                        "-i", str(raw), *args, str(out)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"this ffmpeg cannot write {out.suffix}: {r.stderr.strip()[:200]}")
    return str(out)


CASES = [
    ("jp2", ["-c:v", "libopenjpeg", "-pix_fmt", "rgb48le"], "jpg_2000", "16-bit colour JPEG 2000 read at 8 bits"),
    ("jp2", ["-c:v", "libopenjpeg", "-pix_fmt", "gbrp12le"], "jpg_2000", "12-bit colour JPEG 2000 read at 8 bits"),
    ("jp2", ["-c:v", "libopenjpeg", "-pix_fmt", "rgb24"], "jpg_2000", None),
    ("avif", ["-c:v", "libaom-av1", "-pix_fmt", "yuv444p10le", "-still-picture", "1", "-frames:v", "1"], "avif",
     "10-bit colour AVIF read at 8 bits"),
    ("avif", ["-c:v", "libaom-av1", "-pix_fmt", "yuv420p", "-still-picture", "1", "-frames:v", "1"], "avif", None),
]


@pytest.mark.parametrize(("ext", "args", "feature", "said"), CASES)
def test_colour_that_pillow_reads_at_8_bits_is_said(tmp_path, capsys, ext, args, feature, said):
    if not (features.check(feature) if feature in features.get_supported() else False):
        pytest.skip(f"this Pillow does not read {ext}")
    a = _ffmpeg(args, tmp_path / f"a.{ext}")
    with Image.open(a) as im:
        assert im.mode == "RGB"  # Pillow's 8-bit colour: what the note is about
    _, info = read_image(a)
    assert info.bit_depth == 8
    out = tmp_path / "f.png"
    assert main(["fuse", a, a, "-o", str(out), "--method", "average"]) == 0
    err = capsys.readouterr().err
    assert out.is_file()
    if said is None:
        assert info.reduced == "" and "read at 8 bits" not in err, err
    else:
        assert said in info.reduced, info
        assert f"note: {a}: {said} a sample" in err, err


def _sgi(path, channels, bpc):
    import struct

    v = np.random.default_rng(6).integers(0, 256 ** bpc, (channels, H, W)).astype(">u2" if bpc == 2 else "u1")
    head = struct.pack(">hbbHHHH", 474, 0, bpc, 3 if channels > 1 else 2, W, H, channels)
    head += struct.pack(">ii", 0, 256 ** bpc - 1) + b"\0" * 4 + b"test".ljust(80, b"\0") + struct.pack(">i", 0)
    path.write_bytes(head.ljust(512, b"\0") + v[:, ::-1, :].tobytes())  # rows stored bottom to top
    return str(path)


@pytest.mark.parametrize(("channels", "bpc", "said"), [(3, 2, "16-bit colour SGI read at 8 bits"),
                                                       (1, 2, "16-bit gray SGI read at 8 bits"), (3, 1, None)])
def test_a_16_bit_sgi_is_said(tmp_path, capsys, channels, bpc, said):
    a = _sgi(tmp_path / "a.sgi", channels, bpc)
    _, info = read_image(a)
    assert info.bit_depth == 8
    assert main(["fuse", a, a, "-o", str(tmp_path / "f.png"), "--method", "average"]) == 0
    err = capsys.readouterr().err
    if said is None:
        assert info.reduced == "" and "read at 8 bits" not in err, err
    else:
        assert f"note: {a}: {said} a sample" in err, err
