"""``--tile-overlap`` above half of ``--tile`` was reduced to TILE/2 without a word (s28 notes):
``fuse --tile 256 --tile-overlap 200`` blended over at most 128 px and said nothing of it. Every
command that takes the option (fuse, fuse-dir, fuse-video, fuse-stack, fuse-volume) now says it in
one note line; an overlap not smaller than the tile (tiles that never advance) is a one-line error,
exit 2, nothing written; a negative one was already refused by argparse. The default (64) of a
small tile is reduced as before, without a note (the user asked for nothing)."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mutualfuse.cli import main
from one_line_error import assert_one_line_error

NOTE = ("note: --tile-overlap 200 reduced to 128, half of --tile 256: an overlap is at most half the tile, so that "
        "the blend ramps at a tile's two sides do not overlap")


def _pair(tmp_path, h: int = 300, w: int = 300) -> tuple[str, str]:
    rng = np.random.default_rng(0)
    out = []
    for n in "ab":
        p = tmp_path / f"{n}.png"
        Image.fromarray(rng.integers(0, 256, (h, w), dtype=np.uint8)).save(p)
        out.append(str(p))
    return out[0], out[1]


def _notes(capsys, argv: list[str]) -> list[str]:
    rc = main(argv)
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    return [line for line in cap.err.splitlines() if line.startswith("note: ")]


def test_fuse_says_the_overlap_was_reduced(tmp_path, capsys):
    a, b = _pair(tmp_path)
    notes = _notes(capsys, ["fuse", a, b, "-o", str(tmp_path / "f.png"), "--method", "average",
                            "--tile", "256", "--tile-overlap", "200"])
    assert notes[0] == NOTE, notes
    assert any(n.startswith("note: tiled: 4 independent 256px tiles") for n in notes), notes


def test_the_reduced_overlap_fuses_as_half_the_tile(tmp_path, capsys):
    """The note tells the truth: 40 over tiles of 64 is the output of 32 (a non-pointwise method,
    whose result depends on the tiles' layout: 24 gives another)."""
    a, b = _pair(tmp_path)
    for o in ("40", "32", "24"):
        assert main(["fuse", a, b, "-o", str(tmp_path / f"{o}.png"), "--method", "lp", "--tile", "64",
                     "--tile-overlap", o, "-q"]) == 0
    got = {o: np.asarray(Image.open(tmp_path / f"{o}.png")) for o in ("40", "32", "24")}
    assert np.array_equal(got["40"], got["32"]) and not np.array_equal(got["24"], got["32"])


@pytest.mark.parametrize("extra", [["--tile", "256", "--tile-overlap", "128"], ["--tile", "64"],
                                   ["--tile", "100"], ["--tile-overlap", "64"], ["--tile", "256", "--tile-overlap",
                                                                                  "200", "-q"]])
def test_no_note_where_nothing_asked_was_reduced(tmp_path, capsys, extra):
    """Half the tile exactly, the default 64 of a tile of 64 or 100 (reduced to 32 / 50 as
    before), the default given without --tile, and -q (no notes at all)."""
    a, b = _pair(tmp_path)
    notes = _notes(capsys, ["fuse", a, b, "-o", str(tmp_path / "f.png"), "--method", "average", *extra])
    assert not any("reduced to" in n for n in notes), notes


@pytest.mark.parametrize("tile,overlap", [(256, 256), (64, 1000), (16, 16)])
def test_an_overlap_not_smaller_than_the_tile_is_refused(tmp_path, capsys, tile, overlap):
    a, b = _pair(tmp_path)
    out = tmp_path / "f.png"
    err = assert_one_line_error(capsys, ["fuse", a, b, "-o", str(out), "--method", "average", "--tile", str(tile),
                                         "--tile-overlap", str(overlap)])
    assert err == (f"mutualfuse: error: --tile-overlap {overlap} must be smaller than --tile {tile} (an overlap is "
                   f"at most half the tile, {tile // 2})\n"), err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "b.png"]


def test_a_negative_overlap_is_refused(tmp_path, capsys):
    a, b = _pair(tmp_path)
    assert_one_line_error(capsys, ["fuse", a, b, "-o", str(tmp_path / "f.png"), "--method", "average", "--tile",
                                   "64", "--tile-overlap", "-1"], "--tile-overlap", "must be at least 0, got -1")
    assert not (tmp_path / "f.png").exists()


def test_fuse_dir_says_it_once(tmp_path, capsys):
    for d in ("A", "B"):
        (tmp_path / d).mkdir()
    for i in range(2):
        a, b = _pair(tmp_path)
        (tmp_path / "a.png").rename(tmp_path / "A" / f"{i}.png")
        (tmp_path / "b.png").rename(tmp_path / "B" / f"{i}.png")
    notes = _notes(capsys, ["fuse-dir", str(tmp_path / "A"), str(tmp_path / "B"), "-o", str(tmp_path / "out"),
                            "--method", "average", "--tile", "256", "--tile-overlap", "200"])
    assert notes.count(NOTE) == 1, notes
    assert_one_line_error(capsys, ["fuse-dir", str(tmp_path / "A"), str(tmp_path / "B"), "-o", str(tmp_path / "o2"),
                                   "--method", "average", "--tile", "256", "--tile-overlap", "300"],
                          "--tile-overlap 300 must be smaller than --tile 256")
    assert not (tmp_path / "o2").exists()


def test_fuse_stack_says_it(tmp_path, capsys):
    a, b = _pair(tmp_path)
    notes = _notes(capsys, ["fuse-stack", a, b, "-o", str(tmp_path / "f.png"), "--method", "average",
                            "--tile", "256", "--tile-overlap", "200"])
    assert NOTE in notes, notes


def test_fuse_video_says_it(tmp_path, capsys):
    pytest.importorskip("imageio_ffmpeg")
    from test_s24_video_helpers import video8

    va, vb = video8(tmp_path / "a.mp4", 2, 48, 64, 5, False), video8(tmp_path / "b.mp4", 2, 48, 64, 5, False, seed=1)
    notes = _notes(capsys, ["fuse-video", str(va), str(vb), "-o", str(tmp_path / "f.mp4"), "--method", "average",
                            "--tile", "32", "--tile-overlap", "20"])
    assert ("note: --tile-overlap 20 reduced to 16, half of --tile 32: an overlap is at most half the tile, so that "
            "the blend ramps at a tile's two sides do not overlap") in notes, notes


def test_fuse_volume_says_it(tmp_path, capsys):
    nib = pytest.importorskip("nibabel")
    rng = np.random.default_rng(0)
    for n in "ab":
        nib.save(nib.Nifti1Image(rng.random((40, 40, 2)).astype(np.float32), np.eye(4)), str(tmp_path / f"{n}.nii.gz"))
    notes = _notes(capsys, ["fuse-volume", str(tmp_path / "a.nii.gz"), str(tmp_path / "b.nii.gz"), "-o",
                            str(tmp_path / "f.nii.gz"), "--method", "average", "--tile", "32", "--tile-overlap", "20"])
    assert any(n.startswith("note: --tile-overlap 20 reduced to 16, half of --tile 32") for n in notes), notes


def test_the_helper():
    from mutualfuse.tiling import check_overlap, effective_overlap

    assert effective_overlap(256, 200) == 128 and effective_overlap(256, 64) == 64
    assert check_overlap(256, 128) is None and check_overlap(256, 0) is None
    assert check_overlap(256, 200, cli=False).startswith("tile_overlap=200 reduced to 128, half of tile=256: ")
    from mutualfuse.errors import ParameterError

    with pytest.raises(ParameterError, match=r"^tile_overlap=256 must be smaller than tile=256 "):
        check_overlap(256, 256, cli=False)
