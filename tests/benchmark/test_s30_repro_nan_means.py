"""s30 reproduction audit: a benchmark table's NaN or infinite mean says why.

A metric undefined on a pair (NaN: 0/0 in the metric) or infinite on it makes the row's mean NaN or
infinite; the benchmark's tables printed ``nan`` / ``inf`` cells without a word, where ``evaluate``'s
tables name the column and the images. Now the row's note (Markdown, CSV ``note``, LaTeX) names the
column, how many pairs and the first."""
from __future__ import annotations

import csv
import os
import subprocess
import sys
import textwrap

from bench_roots import tno_pairs  # tests/ is on sys.path

MODULE = textwrap.dedent('''
    from mutualfuse.metrics import register_metric

    @register_metric("Halfnan@own", direction="higher")
    def halfnan(a, b, f):
        return float("nan") if a.shape[0] == 56 else 1.0

    @register_metric("Halfinf@own", direction="higher")
    def halfinf(a, b, f):
        return float("inf") if a.shape[0] == 56 else 1.0
''')


def test_a_nan_or_infinite_mean_is_explained_in_the_row_note(tmp_path):
    tno_pairs(tmp_path, 30)
    (tmp_path / "halfnan.py").write_text(MODULE)
    env = dict(os.environ, OMP_NUM_THREADS="1", XDG_CACHE_HOME=str(tmp_path / "xdg"))
    p = subprocess.run([sys.executable, "-m", "mutualfuse", "benchmark", "-q", "--data-root", str(tmp_path / "data"),
                        "--out", str(tmp_path / "out"), "--cache", str(tmp_path / "cache"), "--tables", "none",
                        "--sets", "ir-vis/tno", "--weights", "none", "--methods", "average", "--fast-metrics",
                        "--figures", str(tmp_path / "nofig.yaml"), "--import", "halfnan.py",
                        "--extra-metrics", "Halfnan@own", "Halfinf@own"],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    tdir = tmp_path / "out" / "tables"
    row = next(r for r in csv.DictReader((tdir / "ir-vis-tno.csv").open(encoding="utf-8")) if r["method"] == "AVERAGE")
    assert row["Halfnan@own ↑"] == "nan" and row["Halfinf@own ↑"] == "inf"
    assert "Halfnan@own is undefined (NaN" in row["note"] and "on 1 of 2 pairs (first: 02)" in row["note"], row
    assert "Halfinf@own is infinite" in row["note"], row
    md = (tdir / "ir-vis-tno.md").read_text(encoding="utf-8")
    assert "- AVERAGE: Halfnan@own is undefined (NaN" in md, md
    tex = (tdir / "ir-vis-tno.tex").read_text(encoding="utf-8")
    assert "Halfnan@own is undefined (NaN" in tex and r"$\infty$" in tex
