"""Session 21 review: the ``tiled:`` note of :attr:`Fuser.report` (and so of ``mutualfuse fuse
--tile``) names the tiles and overlaps that the fusion cuts (``tiling.describe_tiles``), not
the requested tile size and ``min(overlap, tile // 2)``: a 271 tile of a 360x270 image is two
271x270 tiles overlapping by 182 px, which the note called "271px tiles blended over 64px"."""
from __future__ import annotations

import numpy as np

from mutualfuse import Fuser
from mutualfuse.cli import main as cli_main
from mutualfuse.tiling import describe_tiles


def _pair(h, w):
    rng = np.random.default_rng(2)
    return rng.integers(0, 256, (h, w), dtype=np.uint8), rng.integers(0, 256, (h, w), dtype=np.uint8)


def _tiled_note(f):
    (note,) = [n for n in f.report.notes if n.startswith("tiled: ")]
    return note


def test_the_note_names_the_tiles_and_overlaps_cut():
    f = Fuser("average", tile=271)
    f.fuse(*_pair(270, 360))
    assert _tiled_note(f).startswith("tiled: 2 independent 271x270px tiles blended over 182px ("), _tiled_note(f)
    assert f.report.tiles == 2


def test_the_note_agrees_with_describe_tiles_for_other_layouts():
    for (h, w), tile, overlap in (((96, 200), 64, 32), ((130, 130), 48, 10), ((64, 300), 100, 0)):
        f = Fuser("average", tile=tile, tile_overlap=overlap)
        f.fuse(*_pair(h, w))
        assert _tiled_note(f) == (f"tiled: {describe_tiles(h, w, tile, overlap)} "
                                  "(each tile fused alone: average sees only that tile)")


def test_the_command_prints_it(tmp_path, capsys):
    from PIL import Image

    a, b = _pair(270, 360)
    Image.fromarray(a).save(tmp_path / "a.png")
    Image.fromarray(b).save(tmp_path / "b.png")
    assert cli_main(["fuse", str(tmp_path / "a.png"), str(tmp_path / "b.png"), "-o", str(tmp_path / "f.png"),
                     "--method", "average", "--tile", "271"]) == 0
    assert "note: tiled: 2 independent 271x270px tiles blended over 182px" in capsys.readouterr().err
