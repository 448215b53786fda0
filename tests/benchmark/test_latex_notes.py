"""The LaTeX tables carry what the Markdown prints under a table: legend, row notes, table notes."""
from __future__ import annotations

from test_table_io import _table

from mutualfuse.benchmark.table import read_latex, to_latex, to_markdown


def test_latex_prints_the_legend_and_every_note_in_ascii_latex():
    t = _table("bold")
    t.notes.append("VIF left out (σ ≥ 2, 3 × slower, ± sd)")
    tex = to_latex(t)
    block = tex.split(r"\end{tabular}", 1)[1]
    assert r"\footnotesize" in block and block.rstrip().endswith(r"\end{table}")
    for text in (r"$^\dagger$ mean over fewer pairs", "D (partial): failed on 1 of 10 pairs", "E: no weights",
                 r"VIF left out ($\sigma$ $\geq$ 2, 3 $\times$ slower, $\pm$ sd)", r"$\uparrow$ higher is better"):
        assert text in block
    assert all(ord(ch) < 128 or ch in "–—" for ch in block), "pdflatex's utf8 input has no arrows or Greek"
    md = to_markdown(t)
    assert md.count("\n- ") == block.count(r"\par") - 2  # one line per note in both (legend and \smallskip aside)
    back = read_latex(tex)  # the notes do not disturb reading the values back
    assert back.values["B"] == [24.6654, 1.144, 0.9164]


def test_paper_vs_ours_csv_has_the_relative_difference_the_markdown_prints():
    import csv
    import io

    from mutualfuse.benchmark.paper import Cell, to_csv, to_markdown

    cells = [Cell(2, "Lytro", "IFCNN", "EI", "70.7663", 70.0, "method:ifcnn", "differs"),
             Cell(2, "Lytro", "IFCNN", "SCD", "0.0000", 0.1, "method:ifcnn", "differs"),
             Cell(2, "Lytro", "IFCNN", "SF", "19.4004", None, None, "not run")]
    rows = list(csv.DictReader(io.StringIO(to_csv(cells))))
    assert float(rows[0]["rel_diff"]) == (70.0 - 70.7663) / 70.7663
    assert rows[1]["rel_diff"] == "" and rows[2]["rel_diff"] == ""  # paper 0; not run
    assert "-1.08 %" in to_markdown(cells)
