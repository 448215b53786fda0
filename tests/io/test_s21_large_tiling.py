"""Planning the exact-streaming windows of a large image (audit s21, large images).

``plan_windows`` is called several times a run (the memory check, the progress count, the
forward). It tried every column count from 1 for each row count and summed the windows' area
over every (row, column) pair: 22 s for a 40000² image each time, about 1 s at 20000². The
grid it chooses is unchanged: the same plans as the former search (``_reference_plan``, its
code) on many sizes, found with one split of the columns per row count.
"""
from __future__ import annotations

import random

import pytest

from mutualfuse import tiling
from mutualfuse.tiling import _axis_splits, plan_windows


def _reference_plan(h, w, halo, m, max_pixels):
    """The search plan_windows made until 2026-12-06 (exhaustive over the column counts)."""
    max_pixels = max(max_pixels, (4 * halo + m) ** 2)
    if h * w <= max_pixels:
        return [((0, h, 0, w), (0, h, 0, w))]
    best = None
    for ny in range(1, h // m + 1):
        ys = _axis_splits(h, ny, m)
        hh = max(b - a for a, b in ys)
        win_h = min(h, hh + 2 * halo)
        if win_h * min(w, m + 2 * halo) > max_pixels and ny < h // m:
            continue
        for nx in range(1, w // m + 1):
            xs = _axis_splits(w, nx, m)
            ww = max(b - a for a, b in xs)
            win_w = min(w, ww + 2 * halo)
            if win_h * win_w <= max_pixels or (ny == h // m and nx == w // m):
                area = sum((min(h, b + halo) - max(0, a - halo)) * (min(w, d + halo) - max(0, c - halo))
                           for a, b in ys for c, d in xs)
                if best is None or area < best[0]:
                    best = (area, ys, xs)
                break
        if ny > 64 and best is not None:
            break
    _, ys, xs = best
    return [((a, b, c, d), (max(0, a - halo), min(h, b + halo), max(0, c - halo), min(w, d + halo)))
            for a, b in ys for c, d in xs]


def _cases():
    rng = random.Random(21)
    out = [(rng.randrange(1, 300) * 8, rng.randrange(1, 300) * 8, rng.choice([16, 24, 32, 40, 48]), 8,
            rng.choice([4096, 20000, 100000, 400000])) for _ in range(150)]
    out += [(8 * k, 8 * j, 40, 8, 4096) for k in range(1, 40, 5) for j in range(1, 200, 41)]  # nothing fits
    out += [(4 * k, 4 * j, 32, 4, 10000) for k in range(1, 60, 9) for j in range(1, 60, 13)]
    out += [(2048, 2048, 40, 8, 400000), (1080, 1920, 40, 8, 400000), (2160, 3840, 40, 8, 400000),
            (96, 12000, 40, 8, 400000), (12000, 96, 40, 8, 400000)]
    return out


def test_the_plan_is_the_exhaustive_searchs():
    for case in _cases():
        assert plan_windows(*case) == _reference_plan(*case), case


@pytest.mark.parametrize("h,w", [(40000, 40000), (20000, 20000), (1000, 200000), (200000, 1000)])
def test_a_huge_image_is_planned_with_one_split_of_the_columns_per_row_count(monkeypatch, h, w):
    calls = []
    real = tiling._axis_splits

    def counted(n, parts, m):
        calls.append(n)
        return real(n, parts, m)

    monkeypatch.setattr(tiling, "_axis_splits", counted)
    plan = plan_windows(h, w, 40, 8, 400000)
    # every window within the budget, the cores tile the image exactly
    assert all((Y1 - Y0) * (X1 - X0) <= 400000 for _, (Y0, Y1, X0, X1) in plan)
    assert sum((y1 - y0) * (x1 - x0) for (y0, y1, x0, x1), _ in plan) == h * w
    # one split of the rows and at most one of the columns per row count tried: 86-130 splits
    # here, against 1338-22101 by the former search (which split the columns for every column
    # count from 1 up to the first that fits)
    assert len(calls) <= 300, len(calls)


# -- the `tiled:` note's layout (tiling.describe_tiles) ------------------------------------------

def _actual_layout(h, w, tile, overlap):
    """Tile sizes and overlaps as tiled_fuse cuts them (iter_tiles), measured on the tiles."""
    overlap = max(0, min(overlap, tile // 2))
    tiles = list(tiling.iter_tiles(h, w, tile, overlap))
    sizes = {(y1 - y0, x1 - x0) for y0, y1, x0, x1, _ in tiles}
    ys = sorted({(y0, y1) for y0, y1, *_ in tiles})
    xs = sorted({(x0, x1) for _, _, x0, x1, _ in tiles})
    laps = [a1 - b0 for (a0, a1), (b0, b1) in zip(ys, ys[1:])] + [a1 - b0 for (a0, a1), (b0, b1) in zip(xs, xs[1:])]
    return len(tiles), sizes, min(laps), max(laps)


@pytest.mark.parametrize("h,w,tile,overlap", [(270, 360, 271, 64), (270, 360, 64, 32), (270, 360, 16, 64),
                                              (4096, 4096, 2048, 64), (4096, 4096, 2112, 64), (301, 77, 33, 5),
                                              (100, 1000, 64, 0)])
def test_the_note_gives_the_tiles_and_overlaps_actually_used(h, w, tile, overlap):
    n, sizes, lo, hi = _actual_layout(h, w, tile, overlap)
    (th, tw), = sizes
    size = f"{tw}px" if tw == th else f"{tw}x{th}px"
    over = f"{lo}px" if lo == hi else f"{lo}-{hi}px"
    assert tiling.describe_tiles(h, w, tile, overlap) == f"{n} independent {size} tiles blended over {over}"


def test_a_tile_that_halves_the_image_overlaps_by_half_a_tile():
    """--tile 2048 on a 4096² image: 3x3 tiles overlapping by 1024 px (two would not overlap),
    2.25x the pixels of the image; the note said "blended over 64px"."""
    assert tiling.describe_tiles(4096, 4096, 2048, 64) == "9 independent 2048px tiles blended over 1024px"
    assert tiling.describe_tiles(4096, 4096, 2112, 64) == "4 independent 2112px tiles blended over 128px"
    assert tiling.describe_tiles(270, 360, 271, 64) == "2 independent 271x270px tiles blended over 182px"


# -- a tile size that does not waste pixels on overlap (tiling.fitted_tile) ----------------------

def test_fitted_tile_keeps_the_tile_count_with_the_smallest_tile():
    rng = random.Random(5)
    for _ in range(1500):
        h, w = rng.randrange(16, 3000), rng.randrange(16, 3000)
        tile, overlap = rng.randrange(16, 1200), rng.choice([0, 1, 8, 32, 64, 200])
        f = tiling.fitted_tile(h, w, tile, overlap)
        assert 16 <= f <= tile
        assert tiling.count_tiles(h, w, f, overlap) <= tiling.count_tiles(h, w, tile, overlap)
        if h > f or w > f:  # tiled: every overlap at least the one the caller's tile would have
            o = min(overlap, f // 2)
            for n in (h, w):
                starts, t = tiling.tile_starts(n, f, o), min(f, n)
                assert all(a + t - b >= min(overlap, tile // 2) for a, b in zip(starts, starts[1:])), \
                    (h, w, tile, overlap, f)
        if max(16, 2 * min(overlap, tile // 2)) < f < tile:  # one pixel less makes more tiles
            assert tiling.count_tiles(h, w, f - 1, overlap) > tiling.count_tiles(h, w, tile, overlap)


def test_fitted_tile_on_the_sizes_the_memory_refusal_suggests():
    # 13500x13400 (the refusal in docs/inputs.md suggests --tile 4096): same 4x4 tiles, 3423 px
    assert tiling.describe_tiles(13500, 13400, 4096, 64) == "16 independent 4096px tiles blended over 961-995px"
    assert tiling.fitted_tile(13500, 13400, 4096, 64) == 3423
    assert tiling.describe_tiles(13500, 13400, 3423, 64) == "16 independent 3423px tiles blended over 64-98px"
    assert tiling.fitted_tile(300, 200, 4096, 64) == 4096  # not tiled: unchanged


# -- blended tiles of a classical method run without PyTorch ------------------------------------

def test_average_with_tiles_does_not_import_torch(tmp_path):
    """tiling.py imported torch at its top, so `fuse --method average --tile 64` imported PyTorch
    (1.4 s of its 1.7 s, measured; 0.3 s without --tile): docs/inputs.md says a classical method
    runs without it."""
    import subprocess
    import sys
    from importlib.resources import files

    samples = files("mutualfuse") / "data/samples/tno-01"
    code = ("import sys\nfrom mutualfuse.cli import main\n"
            f"rc = main(['fuse', {str(samples / 'a.png')!r}, {str(samples / 'b.png')!r}, '-o', "
            f"{str(tmp_path / 'f.png')!r}, '--method', 'average', '-q', '--tile', '64'])\n"
            "print(rc, 'torch' in sys.modules)\n")
    got = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert got.stdout.split() == ["0", "False"], (got.stdout, got.stderr)
    assert (tmp_path / "f.png").exists()
