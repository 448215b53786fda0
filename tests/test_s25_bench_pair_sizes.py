"""Session 25 (Q4): a pair of a set whose two images differ in size, or that has two images in one
folder (``c02.png`` and ``c02.bmp``), is one problem of the set,
found before any work, and the pair is left out: one problem line naming both files, the table
says "2 of 3 pairs" with a note naming the pair, its rows keep their marks, and the paper view
says the means are no reproduction check. Before, every row failed on that pair (one problem
line per row), every row was printed with ``†`` and left unranked (the table had no marks at
all) and the title said "3 of 3 pairs"."""
from __future__ import annotations

import numpy as np
from PIL import Image

from mutualfuse.benchmark.table import read_csv


def _set(root, sizes):
    rng = np.random.default_rng(3)
    for role in ("a", "b"):
        (root / "medical" / "ct-mr" / role).mkdir(parents=True, exist_ok=True)
    for n, (ha, hb) in sizes.items():
        for role, (h, w) in (("a", ha), ("b", hb)):
            img = rng.integers(0, 256, (h, w)).astype(np.uint8)
            Image.fromarray(img).save(root / "medical" / "ct-mr" / role / f"{n}.png")


def _argv(tmp_path, *more):
    (tmp_path / "nofig.yaml").write_text("figures: []\n")
    return ["benchmark", "--data-root", str(tmp_path / "data"), "--out", str(tmp_path / "out"), "--cache",
            str(tmp_path / "cache"), "--tables", "3", "--methods", "average,cvt", "--weights", "none",
            "--fast-metrics", "--figures", str(tmp_path / "nofig.yaml"), "-q", *more]


def test_a_pair_of_two_sizes_is_one_problem_and_left_out(tmp_path, capsys):
    from mutualfuse.cli import main

    _set(tmp_path / "data", {"c01": ((64, 56), (64, 56)), "c02": ((56, 72), (56, 72)),
                             "c03": ((64, 64), (64, 56))})
    rc = main(_argv(tmp_path))
    out, err = capsys.readouterr()
    assert rc == 1 and out == "", (rc, out, err)
    problems = [ln for ln in err.splitlines() if ln.startswith("mutualfuse: problem: ")]
    d = tmp_path / "data" / "medical" / "ct-mr"
    b3, a3 = d / "b" / "c03.png", d / "a" / "c03.png"
    assert problems == [f"mutualfuse: problem: set medical/ct-mr: {b3}: size 56x64 differs from {a3} (64x64): "
                        "pair c03 left out (a pair's two images must have one size)"], err
    assert "Traceback" not in err
    md = (tmp_path / "out" / "tables" / "table3.md").read_text()
    assert "2 of 3 pairs" in md and "pair c03 of medical/ct-mr left out" in md
    assert "†" not in md and "color:red" in md  # every row over the same pairs: ranked and marked
    t = read_csv((tmp_path / "out" / "tables" / "table3.csv").read_text())
    assert set(t.values) == {"AVERAGE", "CVT"}
    view = (tmp_path / "out" / "tables" / "paper_vs_ours.md").read_text()
    cvt = [ln for ln in view.splitlines() if ln.startswith("| 3 | 4.5 | CVT | EN |")]
    assert len(cvt) == 1 and "2 of the set's 3 pairs" in cvt[0] and "not a reproduction check" in cvt[0], cvt


def test_a_set_whose_every_pair_has_two_sizes_stops_before_any_work(tmp_path, capsys):
    from one_line_error import assert_one_line_error

    _set(tmp_path / "data", {"c01": ((48, 40), (40, 48))})
    assert_one_line_error(capsys, _argv(tmp_path), "set medical/ct-mr: no usable pair in", "differ in size",
                          "Table 3 needs it")
    assert not (tmp_path / "out").exists() and not (tmp_path / "cache").exists()


def test_a_pair_with_two_images_in_one_folder_is_one_problem_and_left_out(tmp_path, capsys):
    """``b/c02.png`` and ``b/c02.bmp``: which one is the pair's was a silent guess (the last by name)."""
    from mutualfuse.cli import main

    _set(tmp_path / "data", {"c01": ((64, 56), (64, 56)), "c02": ((56, 72), (56, 72)),
                             "c03": ((64, 64), (64, 64))})
    b = tmp_path / "data" / "medical" / "ct-mr" / "b"
    Image.fromarray(np.zeros((56, 72), np.uint8)).save(b / "c02.bmp")
    rc = main(_argv(tmp_path))
    out, err = capsys.readouterr()
    assert rc == 1 and out == "", (rc, out, err)
    problems = [ln for ln in err.splitlines() if ln.startswith("mutualfuse: problem: ")]
    assert problems == [f"mutualfuse: problem: set medical/ct-mr: 2 images for pair c02 ({b / 'c02.bmp'}, "
                        f"{b / 'c02.png'}); pair c02 left out (keep one)"], err
    md = (tmp_path / "out" / "tables" / "table3.md").read_text()
    assert "2 of 3 pairs" in md and "pair c02 of medical/ct-mr left out" in md and "†" not in md
