"""s22 follow-up: ``fuse-stack``'s memory check before reading counted every image as gray
(8 bytes a pixel) though an RGB stack's fusions hold their RGB images and Y/Cb/Cr planes and
recombine colour results, as a pair does (``Fuser.min_memory(..., colour=k)``). It now counts
the RGB images of the fusion at the peak, read from the headers (``header_is_colour``): two for
a stack of two or more RGB images (one TIFF of RGB planes included) when colour is kept. Limits
are simulated (a patched :func:`mutualfuse.runner.available_memory`); nothing here allocates
more than a few MB. The bound stays below a measured peak: docs/inputs.md, "Stacks"."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mutualfuse import runner
from mutualfuse.api import Fuser
from one_line_error import assert_one_line_error

N = 128  # side
COUNT = 5  # images in a stack: held_images(5) == 5, 48 bytes a pixel counted gray for `lp`


def _png(path, colour, seed):
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (N, N, 3) if colour else (N, N), dtype=np.uint8)).save(path)
    return str(path)


@pytest.fixture()
def limited(monkeypatch):
    # 80 bytes a pixel: more than the 48 counted for a gray stack of 5, less than the
    # 120 counted for an RGB one since s27 (168 before; the recombination of two RGB images'
    # result, a block of rows at a time since s27) and the ~96 for one RGB image among gray ones
    monkeypatch.setattr(runner, "available_memory", lambda: 80 * N * N)


def test_a_colour_stack_that_cannot_fit_is_refused(tmp_path, capsys, limited):
    files = [_png(tmp_path / f"c{i}.png", True, i) for i in range(COUNT)]
    out = tmp_path / "f.png"
    assert_one_line_error(capsys, ["fuse-stack", *files, "-o", str(out), "--method", "lp"],
                          files[0], f"fusing this {N}x{N} stack with method lp needs at least", "GB of memory")
    assert not out.exists()
    # one RGB image among gray ones: a fusion with one RGB input (96 bytes a pixel counted since s27)
    mixed = [files[0]] + [_png(tmp_path / f"g{i}.png", False, 10 + i) for i in range(1, COUNT)]
    assert_one_line_error(capsys, ["fuse-stack", *mixed, "-o", str(out), "--method", "lp"], files[0],
                          "needs at least")
    assert not out.exists()


def test_a_tiff_of_rgb_planes_is_refused(tmp_path, capsys, limited):
    import tifffile

    rng = np.random.default_rng(0)
    tif = tmp_path / "z.tif"
    tifffile.imwrite(tif, rng.integers(0, 256, (COUNT, N, N, 3), dtype=np.uint8), photometric="rgb")
    out = tmp_path / "f.png"
    assert_one_line_error(capsys, ["fuse-stack", str(tif), "-o", str(out), "--method", "lp"], str(tif),
                          "needs at least")
    assert not out.exists()


def test_a_gray_stack_of_the_same_size_still_fuses(tmp_path, capsys, limited):
    from mutualfuse.cli import main

    files = [_png(tmp_path / f"g{i}.png", False, i) for i in range(COUNT)]
    out = tmp_path / "f.png"
    assert main(["fuse-stack", *files, "-o", str(out), "--method", "lp"]) == 0
    capsys.readouterr()
    assert out.exists()


def test_the_counted_colour(tmp_path):
    from mutualfuse.cli.fuse_stack import colour_held

    f = Fuser("lp")
    c = [_png(tmp_path / f"c{i}.png", True, i) for i in range(3)]
    g = [_png(tmp_path / f"g{i}.png", False, i) for i in range(3)]
    assert colour_held(f, g) == 0
    for files, k in ((c, 2), (c[:1] + g, 1), (c[:2] + g, 2)):
        assert colour_held(f, files) == k
    assert colour_held(f, c[:1], planes=5) == 2  # a TIFF of RGB planes
    f.chroma = "gray"  # gray results: at most one RGB input in a fusion
    assert colour_held(f, c) == 1
