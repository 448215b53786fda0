"""``mutualfuse evaluate --out FILE.md`` / ``FILE.tex``: the means as a Markdown or LaTeX table to
paste into a paper (best of each column in bold by the metric's direction), read back equal to
the CSV's means at the printed decimals."""
from __future__ import annotations

import csv

import numpy as np
import pytest
from PIL import Image

from mutualfuse.benchmark.table import read_latex, read_markdown
from mutualfuse.cli import main
from one_line_error import assert_one_line_error

KEYS = ["EN@vifb", "SF@vifb", "Qabf@vifb", "Qsf@liu"]


def _folders(root):
    rng = np.random.default_rng(0)
    for d in ("a", "b", "max", "avg"):
        (root / d).mkdir()
    for i in range(3):
        a, b = (rng.integers(0, 256, (48, 64), dtype=np.uint8) for _ in range(2))
        for d, x in (("a", a), ("b", b), ("max", np.maximum(a, b)),
                     ("avg", ((a.astype(int) + b) // 2).astype(np.uint8))):
            Image.fromarray(x).save(root / d / f"{i}.png")


def _args(root, out):
    return ["evaluate", "--a", str(root / "a"), "--b", str(root / "b"), "--fused", str(root / "max"),
            "--fused", str(root / "avg"), "--metrics", *KEYS, "-o", str(out), "-q"]


@pytest.mark.parametrize("suffix,reader", [(".md", read_markdown), (".tex", read_latex)])
def test_the_means_table_reads_back_as_the_csv_means(tmp_path, capsys, suffix, reader):
    _folders(tmp_path)
    assert main(_args(tmp_path, tmp_path / "r.csv")) == 0
    assert main(_args(tmp_path, tmp_path / f"r{suffix}")) == 0
    capsys.readouterr()
    rows = [r for r in csv.DictReader((tmp_path / "r.csv").open()) if r["image"] == "mean"]
    means = {r["method"]: [float(r[k]) for k in KEYS] for r in rows}
    got = reader((tmp_path / f"r{suffix}").read_text())
    assert set(got.values) == {"max", "avg"}
    for m, vals in means.items():
        assert got.values[m] == [round(v, 4) for v in vals], (m, got.values[m], vals)
    for j, key in enumerate(KEYS):  # bold: the best by the metric's direction (Qsf: closest to 0)
        best = max(means, key=lambda m: -abs(means[m][j]) if key == "Qsf@liu" else means[m][j])
        assert got.styles[best][j] == "bold" and all(got.styles[m][j] is None for m in means if m != best), key


def test_a_metric_undefined_for_every_image_prints_missing(tmp_path, capsys):
    _folders(tmp_path)
    out = tmp_path / "r.md"
    argv = _args(tmp_path, out)
    argv[argv.index("Qsf@liu")] = "VIF@nestfuse"  # needs 65 px a side: not computed on 48x64
    assert main(argv) == 0
    capsys.readouterr()
    text = out.read_text()
    assert read_markdown(text).values["max"][-1] is None and "VIF@nestfuse: not computed for 3 image(s)" in text


def test_other_suffixes_are_refused_naming_the_formats(tmp_path, capsys):
    _folders(tmp_path)
    assert_one_line_error(capsys, _args(tmp_path, tmp_path / "r.txt"),
                          "r.txt: unsupported output format '.txt'; use .csv, .json, .md, .tex")


def test_several_outputs_from_one_run(tmp_path, capsys):
    _folders(tmp_path)
    argv = _args(tmp_path, tmp_path / "r.csv") + ["--out", str(tmp_path / "r.tex"), "-o", str(tmp_path / "r.md")]
    assert main(argv) == 0
    capsys.readouterr()
    assert all((tmp_path / f"r{s}").exists() for s in (".csv", ".tex", ".md"))
    assert_one_line_error(capsys, _args(tmp_path, tmp_path / "r.csv") + ["-o", str(tmp_path / "r.csv")],
                          "the same file is given twice")
