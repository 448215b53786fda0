"""The memory check before a fusion (``cli.fuse.check_fits``, ``Fuser.min_memory``) counted every
image of a pair as gray: 8 bytes a pixel. An RGB image is held as float64 RGB (24) and, while the
luminances are fused, as its Y plane and Cb/Cr (32 more), and a colour result is recombined
through three float64 RGB arrays: measured on one thread (docs/inputs.md, "Any size; memory
linear in the image"), ``lp`` peaks about 165 bytes a pixel higher for an RGB + gray pair and
190-200 higher for RGB + RGB (8- or 16-bit) than the 24 the check counted. The bound now counts
the colour inputs, read from the headers, and stays below those measured figures (a lower bound:
never refusing a run that fits). Limits are simulated (a patched
:func:`mutualfuse.runner.available_memory`); nothing here allocates more than a few MB."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mutualfuse import image_io, runner
from mutualfuse.api import Fuser
from one_line_error import assert_one_line_error

#: measured growth of the peak RSS per pixel (1024² → 2048², one thread, `lp`; docs/inputs.md)
MEASURED_LP = {0: 129, 1: 164, 2: 188}  # bytes a pixel for 0, 1 and 2 RGB inputs (8-bit)


def _png(path, n, colour, seed):
    rng = np.random.default_rng(seed)
    shape = (n, n, 3) if colour else (n, n)
    Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8)).save(path)
    return str(path)


@pytest.mark.parametrize("method", ["lp", "average"])
def test_the_bound_counts_colour_inputs_and_stays_below_the_measured_peak(method):
    f = Fuser(method)
    h = w = 2048
    gray = f.min_memory(h, w, 2)
    per_px = {c: f.min_memory(h, w, 2, colour=c) / (h * w) for c in (0, 1, 2)}
    assert per_px[0] * h * w == gray == 24 * h * w  # gray pairs: counted as before
    # each RGB input: 16 more bytes decoded and 32 while the luminances fuse, or the recombination
    assert per_px[1] >= per_px[0] + 48 and per_px[2] >= per_px[1] + 16, per_px
    for c in (1, 2):  # a lower bound, with margin, of what was measured
        assert per_px[c] <= 0.85 * MEASURED_LP[c], (c, per_px[c], MEASURED_LP[c])
    f.chroma = "gray"  # no recombination: the luminance fusion alone
    assert f.min_memory(h, w, 2, colour=2) == gray + 64 * h * w


def test_the_network_bound_adds_the_colour_inputs():
    f = Fuser("default", device="cpu")
    h = w = 2048
    gray = f.min_memory(h, w, 2)
    assert f.min_memory(h, w, 2, colour=1) == gray + 32 * h * w
    assert f.min_memory(h, w, 2, colour=2) == gray + 64 * h * w
    f.tile = 512
    assert f.min_memory(h, w, 2, colour=2) == f.min_memory(h, w, 2) + 64 * h * w


def test_header_colour(tmp_path):
    from mutualfuse.cli.fuse import header_is_colour

    import tifffile

    assert header_is_colour(_png(tmp_path / "c.png", 16, True, 0))
    assert not header_is_colour(_png(tmp_path / "g.png", 16, False, 0))
    rgba = tmp_path / "rgba.png"
    Image.new("RGBA", (16, 16), (1, 2, 3, 4)).save(rgba)
    assert header_is_colour(str(rgba))
    pal = tmp_path / "p.png"  # a palette: gray or colour only when decoded, so counted gray
    Image.new("L", (16, 16), 7).convert("P").save(pal)
    assert not header_is_colour(str(pal))
    t16 = tmp_path / "c16.tif"
    tifffile.imwrite(t16, np.zeros((16, 16, 3), np.uint16), photometric="rgb")
    assert header_is_colour(str(t16))
    g16 = tmp_path / "g16.tif"
    tifffile.imwrite(g16, np.zeros((16, 16), np.uint16))
    assert not header_is_colour(str(g16))
    assert not header_is_colour(str(tmp_path / "missing.png"))
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    assert not header_is_colour(str(bad))


def test_a_colour_pair_that_cannot_fit_is_refused_a_gray_one_of_the_same_size_is_not(tmp_path, capsys,
                                                                                          monkeypatch):
    n = 128
    ca, cb = _png(tmp_path / "ca.png", n, True, 1), _png(tmp_path / "cb.png", n, True, 2)
    ga, gb = _png(tmp_path / "ga.png", n, False, 3), _png(tmp_path / "gb.png", n, False, 4)
    # 60 bytes a pixel available: more than the 24 counted for a gray pair, less than the
    # 96 counted for an RGB pair since s27 (144 before, when the recombination took 72 bytes a pixel)
    monkeypatch.setattr(runner, "available_memory", lambda: 60 * n * n)
    reads = []
    real = image_io.read_image
    monkeypatch.setattr(image_io, "read_image", lambda *x, **k: reads.append(x) or real(*x, **k))
    out = tmp_path / "f.png"
    line = assert_one_line_error(capsys, ["fuse", ca, cb, "-o", str(out), "--method", "lp"],
                                 ca, f"fusing this {n}x{n} pair with method lp needs at least", "GB of memory")
    assert not out.exists() and reads == [], line
    # RGB + gray: refused too (72 bytes a pixel counted since s27, 120 before)
    assert_one_line_error(capsys, ["fuse", ca, gb, "-o", str(out), "--method", "lp"], ca, "needs at least")
    from mutualfuse.cli import main

    assert main(["fuse", ga, gb, "-o", str(out), "--method", "lp"]) == 0
    capsys.readouterr()
    assert out.exists()
