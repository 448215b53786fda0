"""A pair whose two files are byte-identical copies of another pair's (a folder copied into a
second set, a pair saved under two names) is refused before training: the seeded hold-out could
put one copy in training and the other in validation (the path checks caught only the same file
listed twice)."""
from __future__ import annotations

import shutil

from mutualfuse.train.data import duplicate_pairs, find_pairs
from train_cli_helpers import cfg as _cfg
from train_cli_helpers import data as _data
from train_cli_helpers import png as _png
from train_cli_helpers import refused as _refused
from train_cli_helpers import train as _train


def test_copies_in_another_set_are_refused_before_anything_is_written(tmp_path, capsys):
    root = _data(tmp_path / "d", n=5)
    for role in ("ir", "vis"):  # set t: two of s's pairs copied, under other names, and one new pair
        (root / "t" / role).mkdir(parents=True)
        shutil.copyfile(root / "s" / role / "03.png", root / "t" / role / "x3.png")
        shutil.copyfile(root / "s" / role / "01.png", root / "t" / role / "x1.png")
    _png(root / "t" / "ir" / "new.png", 24, 32, 90)
    _png(root / "t" / "vis" / "new.png", 24, 32, 91)
    c = _cfg(tmp_path / "c.json", tmp_path / "out", **{"data.sets": ["s", "t"]})
    line = _refused(capsys, ["--config", str(c), "--data-root", str(root)],
                    ["t/ir/x1.png", "is a byte-identical copy of the pair", "s/ir/01.png", "(and 1 more such pair)",
                     "remove the copies"])
    assert "x3.png" not in line
    assert not (tmp_path / "out").exists()


def test_only_both_images_copied_is_a_copy(tmp_path, capsys):
    """Same infrared frame with another visible frame, or the same size: not a copy; trains."""
    root = _data(tmp_path / "d", n=5)
    shutil.copyfile(root / "s" / "ir" / "02.png", root / "s" / "ir" / "04.png")  # same IR, other visible
    pairs = find_pairs(root / "s")
    assert duplicate_pairs(pairs) == []
    shutil.copyfile(root / "s" / "vis" / "02.png", root / "s" / "vis" / "04.png")
    assert duplicate_pairs(find_pairs(root / "s")) == [(pairs[4], pairs[2])]
    _png(root / "s" / "vis" / "04.png", 24, 32, 77)  # rewritten: the same size, other bytes
    c = _cfg(tmp_path / "c.json", tmp_path / "out")
    rc, _, err = _train(capsys, "--config", str(c), "--data-root", str(root))
    assert rc == 0, err
