"""``average`` stacks are the mean of all N images (s24, P5).

A stack is reduced by pairwise fusions (``Fuser.fuse_stack``, ``fuse-stack``, the web page's
stack), and ``average``'s pairwise fusion is ½ x + ½ y: through a tree of N images that is not a
power of two the images got unequal weights (N = 3: ¼, ¼, ½; N = 5: ⅛, ⅛, ¼, ¼, ¼; in
``sequential`` order the last image ½, the first 1/2^(N−1)). A user who asks for the average of a
stack expects the mean of all N: every fusion of a mean method now weights its two sides by the
number of images under each (``mutualfuse.api.reduce_stack(..., counts=True)``). The non-linear
methods fuse as before (checked against their explicit pairwise tree)."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mutualfuse import Fuser
from mutualfuse.api import reduce_stack
from tolerance import assert_close

ORDERS = ("tree", "spread", "sequential")


def _planes(n: int, colour: bool = False, seed: int = 0, size: tuple[int, int] = (16, 24)) -> list[np.ndarray]:
    rng = np.random.default_rng([seed, n])
    return [rng.random(size + (3,) if colour else size) for _ in range(n)]


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("n", [3, 5, 6, 7])
def test_average_of_a_stack_is_numpys_mean(n, order):
    planes = _planes(n)
    fuser = Fuser("average")
    out = fuser.fuse_stack(planes, order=order)  # before: N = 3 tree off by up to ~0.2 (weights 1/4, 1/4, 1/2)
    assert_close(out, np.mean(planes, axis=0), dtype="float64")
    assert fuser.report.fusions == n - 1


@pytest.mark.parametrize("n", [2, 4, 8])
def test_a_power_of_two_stack_is_the_mean_as_before(n):
    planes = _planes(n)
    assert_close(Fuser("average").fuse_stack(planes), np.mean(planes, axis=0), dtype="float64")


def test_each_plane_weighs_one_nth():
    """Plane k is 1 at pixel k and 0 elsewhere: the result at pixel k is plane k's weight."""
    n = 7
    planes = []
    for k in range(n):
        x = np.zeros((16, 64))
        x[0, k] = 1.0
        planes.append(x)
    for order in ORDERS:
        w = np.asarray(Fuser("average").fuse_stack(planes, order=order))[0, :n]
        assert_close(w, np.full(n, 1.0 / n), dtype="float64", msg=order)  # before (tree): 1/8 .. 1/4


def test_colour_stack_under_chroma_mean_is_the_rgb_mean():
    planes = _planes(5, colour=True)
    out = Fuser("average", chroma="mean").fuse_stack(planes)
    assert_close(out, np.mean(planes, axis=0), dtype="float64")


def test_colour_stack_luminance_is_the_mean_of_the_luminances():
    """Other chroma rules combine Cb/Cr pairwise (as for a pair); the luminance is the mean. Low
    saturation, so that no recombination leaves the RGB gamut (its clipping would move Y)."""
    from mutualfuse.color import rgb_to_ycbcr

    rng = np.random.default_rng(3)
    planes = [np.clip(g[..., None] + 0.05 * (rng.random((16, 24, 3)) - 0.5), 0, 1)
              for g in (0.2 + 0.6 * rng.random((16, 24)) for _ in range(5))]
    out = Fuser("average", chroma="saturation").fuse_stack(planes)
    want = np.mean([rgb_to_ycbcr(p)[..., 0] for p in planes], axis=0)
    assert_close(rgb_to_ycbcr(out)[..., 0], want, dtype="float64")


def test_uint8_stack_is_the_rounded_mean():
    rng = np.random.default_rng(11)
    planes = [rng.integers(0, 256, (16, 24), dtype=np.uint8) for _ in range(3)]
    out = Fuser("average").fuse_stack(planes)
    assert out.dtype == np.uint8
    exact = np.mean([p / 255.0 for p in planes], axis=0) * 255
    assert np.abs(out.astype(np.float64) - exact).max() <= 0.5 + 1e-9  # the mean, rounded (before: up to ~64 off)


def test_fuse_stack_command_average_is_the_mean(tmp_path, capsys):
    from mutualfuse.cli import main

    rng = np.random.default_rng(5)
    planes = [rng.integers(0, 256, (32, 40), dtype=np.uint8) for _ in range(3)]
    for i, p in enumerate(planes):
        Image.fromarray(p).save(tmp_path / f"z{i}.png")
    rc = main(["fuse-stack", str(tmp_path / "z0.png"), str(tmp_path / "z1.png"), str(tmp_path / "z2.png"),
               "-o", str(tmp_path / "out.png"), "--method", "average"])
    capsys.readouterr()
    assert rc == 0
    out = np.asarray(Image.open(tmp_path / "out.png")).astype(np.float64)
    exact = np.mean([p / 255.0 for p in planes], axis=0) * 255
    assert np.abs(out - exact).max() <= 0.5 + 1e-9


@pytest.mark.parametrize("method", ["max", "lp"])
def test_non_linear_methods_fuse_as_their_pairwise_tree(method):
    """Only the mean methods are weighted: ``max`` and ``lp`` give what their explicit pairwise
    fusions give (tree of 5: ((1, 2), 3), (4, 5)); sequential: (((1, 2), 3), 4), 5)."""
    planes = _planes(5, size=(64, 64))  # lp's pyramid needs more than 16x24
    f = Fuser(method)
    tree = f.fuse(f.fuse(f.fuse(planes[0], planes[1]), planes[2]), f.fuse(planes[3], planes[4]))
    assert np.array_equal(f.fuse_stack(planes, order="tree"), tree)
    seq = planes[0]
    for p in planes[1:]:
        seq = f.fuse(seq, p)
    assert np.array_equal(f.fuse_stack(planes, order="sequential"), seq)


def test_reduce_stack_counts():
    """``counts=True``: fuse(x, y, nx, ny) with the number of images under each side; a weighted
    mean of the sides is the mean of all in every order."""
    vals = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0]
    for order in ORDERS:
        got = reduce_stack(len(vals), lambda i: vals[i], lambda x, y, nx, ny: (nx * x + ny * y) / (nx + ny), order,
                           counts=True)
        assert got == pytest.approx(np.mean(vals), rel=1e-12), order
    calls = []
    reduce_stack(5, lambda i: i, lambda x, y, nx, ny: calls.append((nx, ny)) or x, "tree", counts=True)
    assert calls == [(1, 1), (2, 1), (1, 1), (3, 2)]
