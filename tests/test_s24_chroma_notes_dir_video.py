"""s24: a typed ``--chroma`` that changed nothing is said by ``fuse-dir`` (once in its summary, with
the number of pairs) and by ``fuse-video`` too, as ``fuse`` and ``fuse-stack`` say it (8e25542);
both dropped it. The default rule says nothing."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _notes(err: str) -> list[str]:
    return [ln for ln in err.splitlines() if ln.startswith("note: --chroma")]


def _run(capsys, argv):
    from mutualfuse.cli import main

    rc = main(argv)
    out, err = capsys.readouterr()
    assert rc == 0, (rc, out, err)
    return err


def test_fuse_dir_counts_the_pairs_a_typed_chroma_did_nothing_for(tmp_path, capsys):
    rng = np.random.default_rng(3)
    for d in ("a", "b"):
        (tmp_path / d).mkdir()
        for k in range(3):
            shape = (20, 24, 3) if (d == "b" and k == 2) else (20, 24)
            Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8)).save(tmp_path / d / f"{k}.png")
    argv = ["fuse-dir", str(tmp_path / "a"), str(tmp_path / "b"), "--method", "average"]
    err = _run(capsys, argv + ["-o", str(tmp_path / "o1"), "--chroma", "mean"])
    assert _notes(err) == [
        "note: --chroma mean had no effect: both inputs are gray (the output is gray) (2 pair(s))",
        "note: --chroma mean had no effect: only b (the second input) is colour, and its Cb/Cr are kept under "
        "every rule but gray (saturation, a, b and mean choose between two colour inputs) (1 pair(s))"], err
    assert not _notes(_run(capsys, argv + ["-o", str(tmp_path / "o2")])), "the default rule says nothing"


def test_fuse_video_says_a_typed_chroma_did_nothing_for_two_gray_videos(tmp_path, capsys):
    pytest.importorskip("imageio_ffmpeg")
    from test_s24_video_helpers import video8

    a = video8(tmp_path / "a.mp4", 3, 16, 24, 10, colour=False, seed=1)
    b = video8(tmp_path / "b.mp4", 3, 16, 24, 10, colour=False, seed=2)
    c = video8(tmp_path / "c.mp4", 3, 16, 24, 10, colour=True, seed=3)
    argv = ["fuse-video", str(a), str(b), "--method", "average"]
    err = _run(capsys, argv + ["-o", str(tmp_path / "o1.mp4"), "--chroma", "a"])
    assert _notes(err) == ["note: --chroma a had no effect: both inputs are gray (the output is gray)"], err
    err = _run(capsys, ["fuse-video", str(a), str(c), "--method", "average", "-o", str(tmp_path / "o2.mp4"),
                        "--chroma", "mean"])
    assert [n.split(",")[0] for n in _notes(err)] == [
        "note: --chroma mean had no effect: only b (the second input) is colour"], err
    assert not _notes(_run(capsys, argv + ["-o", str(tmp_path / "o3.mp4")]))
