"""``mutualfuse evaluate`` reads every file as ``mutualfuse fuse`` reads it (audit s14).

A source with an EXIF orientation and the fused image ``fuse`` wrote for it line up (the fused
file is stored upright), and a 16-bit colour PNG / TIFF is scored at its full 16 bits, as the
metric functions score the same uint16 array.
"""
from __future__ import annotations

import argparse
import csv

import numpy as np
import pytest
from PIL import Image

from png_files import png16_colour
import mutualfuse.metrics as M
from mutualfuse.cli import evaluate as E
from mutualfuse.errors import InputError


def _run(argv):
    p = argparse.ArgumentParser(prog="mutualfuse")
    E.add_parser(p.add_subparsers())
    args = p.parse_args(["evaluate", *argv])
    return args.func(args)


def _pair(h=72, w=96, seed=0):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    a = np.clip(60 + 2 * x + rng.normal(0, 9, (h, w)), 0, 255).astype(np.uint8)
    b = np.clip(200 - 2 * y + rng.normal(0, 9, (h, w)), 0, 255).astype(np.uint8)
    return a, b


def _folders(tmp_path, *roles):
    out = {}
    for r in roles:
        (tmp_path / r).mkdir()
        out[r] = tmp_path / r
    return out


def test_sources_with_exif_orientation_line_up_with_their_upright_fused_image(tmp_path):
    d = _folders(tmp_path, "a", "b", "f")
    a, b = _pair()
    for arr, role in ((a, "a"), (b, "b")):
        im = Image.fromarray(arr)
        ex = im.getexif()
        ex[0x0112] = 6  # stored as is, displayed rotated 90° clockwise
        im.save(d[role] / "01.png", exif=ex)
    A, B = np.rot90(a, -1), np.rot90(b, -1)  # as displayed, as `fuse` reads them
    F = np.maximum(A, B)
    Image.fromarray(np.ascontiguousarray(F)).save(d["f"] / "01.png")  # what `fuse --method max` writes
    out = tmp_path / "r.csv"
    assert _run(["--a", str(d["a"]), "--b", str(d["b"]), "--fused", str(d["f"]), "--metrics", "Qabf@vifb",
                 "EI@vifb", "--out", str(out), "-q"]) == 0
    row = next(csv.DictReader(open(out)))
    assert float(row["Qabf@vifb"]) == M.METRICS.get("Qabf@vifb")(A, B, F)
    assert float(row["EI@vifb"]) == M.METRICS.get("EI@vifb")(A, B, F)
    assert np.array_equal(E.read_gray(d["a"] / "01.png"), A)


@pytest.mark.parametrize("fmt", ["png", "tif"])
def test_16_bit_colour_fused_images_are_scored_at_16_bits(tmp_path, fmt):
    tifffile = pytest.importorskip("tifffile")
    d = _folders(tmp_path, "a", "b", "f")
    a, b = _pair()
    Image.fromarray(a).save(d["a"] / "01.png")
    Image.fromarray(b).save(d["b"] / "01.png")
    rng = np.random.default_rng(1)
    rgb16 = (np.dstack([np.maximum(a, b), a, b]).astype(np.uint16) * 257
             + rng.integers(0, 257, (*a.shape, 3))).astype(np.uint16)
    if fmt == "png":
        png16_colour(d["f"] / "01.png", rgb16)
    else:
        tifffile.imwrite(d["f"] / "01.tif", rgb16)
    g = E.read_gray(d["f"] / f"01.{fmt}")
    assert g.dtype == np.uint16 and np.array_equal(g, M.to_gray(rgb16))  # not Pillow's 8-bit truncation
    out = tmp_path / "r.csv"
    assert _run(["--a", str(d["a"]), "--b", str(d["b"]), "--fused", str(d["f"]), "--metrics", "Qabf@vifb",
                 "SD@vifb", "--out", str(out), "-q"]) == 0
    row = next(csv.DictReader(open(out)))
    for key in ("Qabf@vifb", "SD@vifb"):
        assert float(row[key]) == M.METRICS.get(key)(a, b, rgb16)


def test_a_float_image_is_a_one_line_error_naming_the_file(tmp_path):
    tifffile = pytest.importorskip("tifffile")
    p = tmp_path / "f.tif"
    tifffile.imwrite(p, np.random.default_rng(0).random((16, 16)).astype(np.float32))
    with pytest.raises(InputError) as ei:
        E.read_gray(p)
    assert str(p) in str(ei.value) and "float" in str(ei.value) and "\n" not in str(ei.value)


def test_help_names_every_profile_and_says_what_the_default_holds(capsys):
    p = argparse.ArgumentParser(prog="mutualfuse")
    E.add_parser(p.add_subparsers())
    with pytest.raises(SystemExit):
        p.parse_args(["evaluate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for name in M.PROFILES:
        assert name in text
    fast_checked = {n for n in M.METRICS.names() if M.METRICS.meta(n)["checked"] and not M.METRICS.meta(n)["slow"]}
    left_out = fast_checked - set(M.resolve().values())  # the default set leaves these out ...
    assert left_out and {M.METRICS.meta(n)["source"] for n in left_out} <= {"liu", "han"}
    assert "every fast conformance-checked metric" not in text  # ... so it is not "every" one
    assert "rfn-nest, nestfuse and VIFB" in text and "in 'liu'" in text
    assert "with --profile, added to its columns" in text


def test_repeated_metrics_options_add_up(tmp_path):
    """``--metrics Qabf --metrics SF``: both columns (the second option replaced the first)."""
    d = _folders(tmp_path, "a", "b", "f")
    a, b = _pair()
    for role, arr in (("a", a), ("b", b), ("f", np.maximum(a, b))):
        Image.fromarray(arr).save(d[role] / "01.png")
    out = tmp_path / "r.csv"
    assert _run(["--a", str(d["a"]), "--b", str(d["b"]), "--fused", str(d["f"]), "--metrics", "Qabf",
                 "--metrics", "SF@vifb", "EI", "--out", str(out), "-q"]) == 0
    assert next(csv.reader(open(out)))[3:] == ["Qabf@vifb", "SF@vifb", "EI@vifb"]
