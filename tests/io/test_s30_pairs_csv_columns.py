"""A pairs list (``fuse-dir --pairs``, ``train``'s lists) whose row has a name holding a comma
written without CSV's quotes was read with its columns shifted (``ir/x,1.png`` as a = ``ir/x``),
and reported as "ir/x not found"; a row of four or more columns had its extra columns ignored
without a word. Both are now a problem of that row saying what is wrong."""
from __future__ import annotations

import os

import numpy as np
from PIL import Image

from mutualfuse.io.pairing import read_pairs_csv


def _png(path, seed=0):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.random.default_rng(seed).integers(0, 256, (12, 16), dtype=np.uint8)).save(path)


def test_unquoted_comma_names_and_extra_columns_are_problems_of_their_row(tmp_path):
    _png(tmp_path / "ir" / "x,1.png", 1)
    _png(tmp_path / "vis" / "x,1.png", 2)
    _png(tmp_path / "ir" / "2.png", 3)
    _png(tmp_path / "vis" / "2.png", 4)
    lst = tmp_path / "l.csv"
    lst.write_text('ir/x,1.png,vis/x,1.png\n"ir/x,1.png","vis/x,1.png"\nir/2.png,vis/2.png,o.png,note\n'
                   "ir/2.png,vis/2.png,o2.png\n")
    rows, bad = read_pairs_csv(lst)
    assert [(r.line, r.a.name, r.b.name, r.out) for r in rows] == [(2, "x,1.png", "x,1.png", None),
                                                                 (4, "2.png", "2.png", "o2.png")]
    assert [i for i, _ in bad] == [1, 3]
    assert "columns 1-2 joined by a comma name an existing file" in bad[0][1] and "quote" in bad[0][1]
    assert bad[1][1].startswith("row has 4 columns; a pairs list has a,b[,out]")


def test_fuse_dir_names_the_row_and_fuses_the_others(tmp_path, capsys):
    from mutualfuse.cli import main

    _png(tmp_path / "ir" / "x,1.png", 1)
    _png(tmp_path / "vis" / "x,1.png", 2)
    _png(tmp_path / "ir" / "2.png", 3)
    _png(tmp_path / "vis" / "2.png", 4)
    lst = tmp_path / "l.csv"
    lst.write_text("ir/x,1.png,vis/x,1.png\nir/2.png,vis/2.png\n")
    rc = main(["fuse-dir", "--pairs", str(lst), "-o", str(tmp_path / "out"), "--method", "average", "-q"])
    err = capsys.readouterr().err
    assert rc == 2
    assert "l.csv:1" in err and "quote a name that holds a comma" in err
    assert "not found" not in err
    assert os.listdir(tmp_path / "out") == ["2.png"]
