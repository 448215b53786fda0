"""README.md's "Use" line for ``mutualfuse evaluate ... --out results.csv`` said "a row per folder";
the file holds a row per image of every --fused folder and a ``mean`` row per folder (session 31,
docs walk: a user reading results.csv for one row per method got three)."""
from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
from PIL import Image

from mutualfuse.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_says_what_evaluate_out_csv_holds(tmp_path, capsys):
    rng = np.random.default_rng(0)
    for d in ("a", "b", "f1", "f2"):
        (tmp_path / d).mkdir()
        for name in ("01.png", "02.png"):
            Image.fromarray(rng.integers(0, 256, (24, 32), dtype=np.uint8)).save(tmp_path / d / name)
    out = tmp_path / "results.csv"
    rc = main(["evaluate", "--a", str(tmp_path / "a"), "--b", str(tmp_path / "b"), "--fused", str(tmp_path / "f1"),
               "--fused", str(tmp_path / "f2"), "--metrics", "EN@vifb", "--out", str(out), "-q"])
    capsys.readouterr()
    assert rc == 0
    rows = list(csv.DictReader(out.open()))
    assert [(r["folder"].rsplit("/", 1)[-1], r["image"]) for r in rows] == [
        ("f1", "01"), ("f1", "02"), ("f1", "mean"), ("f2", "01"), ("f2", "02"), ("f2", "mean")]
    line = next(x for x in README.read_text(encoding="utf-8").splitlines()
                if x.startswith("mutualfuse evaluate") and "--out results.csv" in x)
    comment = line.split("#", 1)[1]
    assert not re.search(r"\ba row per folder\b", comment), line
    assert "per image" in comment and "mean" in comment, line
