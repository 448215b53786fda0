"""s30 reproduction audit: an infinite mean in ``evaluate``'s and the benchmark's LaTeX tables.

``PSNR@vifb`` of a fused image equal to its (identical) sources is +inf; the LaTeX table printed the
cell as ``inf`` (Python's word, not a number in a paper) where ``$\\infty$`` belongs. The CSV keeps
``inf``, which ``float()`` (and pandas' default reader) reads back as infinity."""
from __future__ import annotations

import csv
import math

import numpy as np
from PIL import Image

from mutualfuse.benchmark.table import Column, Row, Table, read_latex, to_latex
from mutualfuse.cli import main

RNG = np.random.default_rng(30)


def test_to_latex_writes_infinities_as_math_and_reads_them_back():
    t = Table(id="t", title="T", columns=[Column("PSNR", "PSNR@vifb", True), Column("EN", "EN@vifb", True)],
              rows=[Row("a", "a", {"PSNR": math.inf, "EN": 6.5}), Row("b", "b", {"PSNR": -math.inf, "EN": 6.25})],
              marking="bold")
    tex = to_latex(t)
    # +inf is the best PSNR (bold since the marks rank infinities, test_s30_repro_inf_best)
    assert r"a & \textbf{$\infty$} & " in tex and r"b & $-\infty$ & " in tex, tex
    assert " inf " not in tex and "& inf" not in tex, tex
    back = read_latex(tex)
    assert back.values["a"][0] == math.inf and back.values["b"][0] == -math.inf
    assert back.values["a"][1] == 6.5


def test_evaluate_latex_and_csv_of_an_infinite_psnr(tmp_path, capsys):
    src = RNG.integers(0, 256, (40, 48), dtype=np.uint8)
    other = RNG.integers(0, 256, (40, 48), dtype=np.uint8)
    for d in ("a", "b", "same", "other"):
        (tmp_path / d).mkdir()
    Image.fromarray(src).save(tmp_path / "a" / "01.png")
    Image.fromarray(src).save(tmp_path / "b" / "01.png")
    Image.fromarray(src).save(tmp_path / "same" / "01.png")
    Image.fromarray(other).save(tmp_path / "other" / "01.png")
    tex, out_csv = tmp_path / "r.tex", tmp_path / "r.csv"
    rc = main(["evaluate", "-q", "--a", str(tmp_path / "a"), "--b", str(tmp_path / "b"),
               "--fused", str(tmp_path / "same"), "--fused", str(tmp_path / "other"),
               "--metrics", "PSNR@vifb", "EN@vifb", "-o", str(tex), "-o", str(out_csv)])
    assert rc == 0, capsys.readouterr().err
    text = tex.read_text()
    assert r"same & \textbf{$\infty$} & " in text, text
    assert "& inf " not in text and "inf:" not in text, text  # nor a note naming a cell "inf"
    assert "Infinite mean" in text and "PSNR@vifb" in text
    rows = list(csv.DictReader(out_csv.open()))
    assert [float(r["PSNR@vifb"]) for r in rows if r["method"] == "same"] == [math.inf, math.inf]
    assert all(math.isfinite(float(r["PSNR@vifb"])) for r in rows if r["method"] == "other")
