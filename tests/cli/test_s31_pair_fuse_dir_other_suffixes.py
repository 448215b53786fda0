"""fuse-dir and images of suffixes it does not pair (WebP, GIF, PGM, ...), which `fuse` reads.

A WebP pair beside PNG pairs was left out without a word ("fused 1, failed 0", exit 0), and a
folder of WebP images was "no images found". Now the summary has a note counting them per
folder, and the refusal of a folder without pairable images names what it holds."""
from __future__ import annotations

import numpy as np
from PIL import Image

from mutualfuse.cli import main


def _img(path, seed):
    Image.fromarray(np.random.default_rng(seed).integers(0, 256, (24, 32), dtype=np.uint8)).save(path)


def test_other_image_suffixes_are_counted_in_a_note(tmp_path, capsys):
    da, db = tmp_path / "A", tmp_path / "B"
    da.mkdir(), db.mkdir()
    _img(da / "1.png", 1), _img(db / "1.png", 2)
    for i in (2, 3):
        _img(da / f"{i}.webp", 10 + i), _img(db / f"{i}.webp", 20 + i)
    _img(da / "4.pgm", 5), _img(db / "4.pgm", 6)
    (da / "notes.txt").write_text("not an image")
    rc = main(["fuse-dir", str(da), str(db), "-o", str(tmp_path / "O"), "--method", "average"])
    err = capsys.readouterr().err
    assert rc == 0, err
    assert sorted(p.name for p in (tmp_path / "O").iterdir()) == ["1.png"]
    for d in (da, db):
        assert f"note: {d}: 1 .pgm, 2 .webp file(s) left out: fuse-dir pairs .png .tif" in err, err
    assert ".txt" not in err


def test_a_folder_of_webp_images_is_not_no_images_found(tmp_path, capsys):
    da, db = tmp_path / "A", tmp_path / "B"
    da.mkdir(), db.mkdir()
    for i in (1, 2):
        _img(da / f"{i}.webp", i), _img(db / f"{i}.webp", 10 + i)
    rc = main(["fuse-dir", str(da), str(db), "-o", str(tmp_path / "O"), "--method", "average"])
    err = capsys.readouterr().err
    assert rc == 2
    lines = [x for x in err.splitlines() if x.strip()]
    assert len(lines) == 1, err
    assert "no images found" not in err
    assert f"{da} holds 2 .webp file(s); {db} holds 2 .webp file(s), which it does not pair" in err, err
    assert not (tmp_path / "O").exists()
