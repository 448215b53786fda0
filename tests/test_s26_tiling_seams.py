"""Session 26 tiling audit: ``--tile-overlap 0`` on a side that is a multiple of the tile makes
tiles that abut, and ``tiled_fuse`` then blends nothing: each border is a hard cut between two
independent fusions. With the shipped ``default`` network on a 256x256 crop of TNO 02,
``--tile 128 --tile-overlap 0`` drew a visible cross (70 of 256 rows jumped by 20+ grey levels
more than untiled across column 128; none with ``--tile-overlap 32``), while the help says
"blended seamlessly" and the note said only "blended over 0px". The note now says that abutting
tiles are not blended and their borders can show."""
from __future__ import annotations

import numpy as np
import pytest

from mutualfuse import Fuser
from mutualfuse.cli import main as cli_main
from mutualfuse.tiling import describe_tiles, iter_tiles

UNBLENDED = "abutting tiles are not blended: their borders can show as seams"


def _pair(h, w):
    rng = np.random.default_rng(26)
    return rng.integers(0, 256, (h, w), dtype=np.uint8), rng.integers(0, 256, (h, w), dtype=np.uint8)


@pytest.mark.parametrize("h,w,tile", [(256, 256, 128), (256, 300, 128), (64, 96, 32)])
def test_tiles_that_abut_are_said_to_be_unblended(h, w, tile):
    # the premise: some neighbouring tiles share no pixel at all
    xs = sorted({(x0, x1) for _, _, x0, x1, _ in iter_tiles(h, w, tile, 0)})
    ys = sorted({(y0, y1) for y0, y1, *_ in iter_tiles(h, w, tile, 0)})
    assert any(a1 == b0 for (_, a1), (b0, _) in zip(xs + ys, (xs + ys)[1:]))
    assert UNBLENDED in describe_tiles(h, w, tile, 0)


@pytest.mark.parametrize("h,w,tile,overlap", [(256, 256, 128, 8), (270, 360, 64, 0), (100, 1000, 64, 0),
                                              (256, 256, 128, 64)])
def test_overlapping_tiles_are_not_said_to_be_unblended(h, w, tile, overlap):
    """An overlap of 0 on sides that are no multiple of the tile still overlaps (tiles are spread
    evenly), and any overlap > 0 blends: no such words there."""
    assert "not blended" not in describe_tiles(h, w, tile, overlap)


def test_the_hard_border_is_real_for_a_local_method():
    """What the words are for: ``lp`` (a Laplacian pyramid, not pointwise) fused in abutting
    128-px tiles jumps across the tile border at column 128 far more than untiled; with an
    overlap the border is blended away."""
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[0:256, 0:256]
    a = np.clip(128 + 60 * np.sin(xx / 9.0) * np.cos(yy / 13.0) + rng.normal(0, 8, (256, 256)), 0, 255).astype(np.uint8)
    b = np.clip(128 + 60 * np.cos(xx / 7.0 + yy / 11.0) + rng.normal(0, 8, (256, 256)), 0, 255).astype(np.uint8)

    untiled = Fuser("lp").fuse(a, b).astype(np.float64)
    hard = Fuser("lp", tile=128, tile_overlap=0)
    out = hard.fuse(a, b)

    def jump(tiled, c):  # how much the tiled result's change from untiled steps across column c
        d = tiled.astype(np.float64) - untiled
        return float(np.abs(d[:, c] - d[:, c - 1]).mean())

    blended = Fuser("lp", tile=128, tile_overlap=32).fuse(a, b)
    others = max(jump(t, c) for t in (out, blended) for c in (100, 110, 120, 136, 146, 156))
    assert jump(out, 128) > 3 * others, (jump(out, 128), others)
    assert jump(blended, 128) <= others, (jump(blended, 128), others)
    assert any(UNBLENDED in n for n in hard.report.notes), hard.report.notes


def test_the_command_prints_it(tmp_path, capsys):
    from PIL import Image

    a, b = _pair(256, 256)
    Image.fromarray(a).save(tmp_path / "a.png")
    Image.fromarray(b).save(tmp_path / "b.png")
    assert cli_main(["fuse", str(tmp_path / "a.png"), str(tmp_path / "b.png"), "-o", str(tmp_path / "f.png"),
                     "--method", "average", "--tile", "128", "--tile-overlap", "0"]) == 0
    err = capsys.readouterr().err
    assert "note: tiled: 4 independent 128px tiles blended over 0px (" + UNBLENDED in err, err
