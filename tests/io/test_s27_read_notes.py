"""What ``fuse`` says of inputs whose reading is approximate or whose range it did not know
(session 27).

* A CMYK JPEG without an ICC profile is turned into RGB by Pillow's plain formula, as one with a
  CMYK profile is; with a profile a note said so, without one nothing was said. Now a note says
  its colours are approximate. An RGB JPEG without a profile gets no note, as before.
* A float TIFF of 0-255 values (saved from an 8-bit pipeline) is outside [0, 1], so ``auto``
  stretches it by its percentiles; the note said only "scaled by percentile". It now says that
  its samples lie within 0..255, as 8-bit values do, and how to fuse them as v/255. A float
  TIFF in [0, 1] is read as it is and gets no note; kelvin-like values (beyond 255) get the plain
  note. The fused values are unchanged (the note is all that changed).
"""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mutualfuse.cli import main
from mutualfuse.image_io import embedded_profile_note, read_image
from tolerance import assert_close

tifffile = pytest.importorskip("tifffile")

H, W = 40, 48
RNG = np.random.default_rng(2727)
G8 = RNG.integers(0, 256, (H, W), dtype=np.uint8)
CMYK = RNG.integers(0, 256, (H, W, 4), dtype=np.uint8)


def _fuse(tmp_path, capsys, a, b, out="o.tif") -> tuple[str, np.ndarray]:
    o = tmp_path / out
    assert main(["fuse", str(a), str(b), "-o", str(o), "--method", "average"]) == 0
    err = capsys.readouterr().err
    return err, (tifffile.imread(o) if out.endswith(".tif") else np.asarray(Image.open(o)))


def test_a_cmyk_jpeg_without_a_profile_is_said_to_be_approximate(tmp_path, capsys):
    cmyk, rgb = tmp_path / "print.jpg", tmp_path / "photo.jpg"
    Image.fromarray(CMYK, mode="CMYK").save(cmyk, quality=95)
    Image.fromarray(np.stack([G8] * 3, -1)).save(rgb, quality=95)
    with Image.open(cmyk) as im:
        assert im.mode == "CMYK" and not im.info.get("icc_profile")
    note = embedded_profile_note(cmyk)
    assert note == (f"{cmyk}: CMYK image without an ICC profile: its CMYK samples are turned into RGB by the plain "
                    "formula R = (255 - C)(255 - K)/255 (G, B likewise) and taken as sRGB, so colours are "
                    "approximate (no colour management; for faithful colours convert it to RGB with the press "
                    "profile it was made for)")
    assert embedded_profile_note(rgb) is None  # an RGB JPEG without a profile: nothing to say
    err, _ = _fuse(tmp_path, capsys, cmyk, rgb, "o.png")
    assert f"note: {note}\n" in err and "photo.jpg: " not in err, err


def test_a_0_255_float_tiff_is_said_to_hold_8bit_values(tmp_path, capsys):
    f255, f01, g8 = tmp_path / "f255.tif", tmp_path / "f01.tif", tmp_path / "g8.png"
    tifffile.imwrite(f255, G8.astype(np.float32))
    tifffile.imwrite(f01, G8.astype(np.float32) / 255)
    Image.fromarray(G8).save(g8)
    x, info = read_image(f255)
    assert info.normalization == "percentile"
    lo, hi = np.percentile(G8.astype(np.float64), [0.1, 99.9])
    assert np.array_equal(x, np.clip((G8 - lo) / (hi - lo), 0, 1))  # the mapping itself is as before
    err, _ = _fuse(tmp_path, capsys, f255, f01)
    assert (f"note: {f255}: float input scaled by percentile (p0.1 → 0, p99.9 → 1, clipped); its samples lie "
            "within 0..255, as 8-bit values do: to fuse them as v/255, save it as 8-bit or divide it by 255 "
            "(its samples are outside [0, 1]") in err, err
    assert str(f01) not in err  # in [0, 1]: read as it is, nothing to say
    # the way the note names: the same values divided by 255 fuse as the 8-bit image does
    err, fused01 = _fuse(tmp_path, capsys, f01, f01, "a.tif")
    _, fused8 = _fuse(tmp_path, capsys, g8, g8, "b.tif")
    assert err.count("note:") == 0
    assert_close(fused01, (fused8.astype(np.float64) / 255).astype(np.float32))  # a float32 output


def test_floats_beyond_255_get_the_plain_note(tmp_path, capsys):
    kelvin = tmp_path / "k.tif"
    tifffile.imwrite(kelvin, (290 + G8 / 25).astype(np.float32))
    err, _ = _fuse(tmp_path, capsys, kelvin, kelvin)
    assert f"note: {kelvin}: float input scaled by percentile (its samples are outside [0, 1]" in err, err
    assert "0..255" not in err
    # --normalize percentile was asked for: no word on 8-bit values either
    f255 = tmp_path / "f255.tif"
    tifffile.imwrite(f255, G8.astype(np.float32))
    assert main(["fuse", str(f255), str(f255), "-o", str(tmp_path / "p.tif"), "--method", "average",
                 "--normalize", "percentile"]) == 0
    assert "0..255" not in capsys.readouterr().err
