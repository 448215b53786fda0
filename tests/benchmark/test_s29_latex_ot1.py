"""Session 29: LaTeX output (``evaluate -o r.tex``, the benchmark's tables) prints names as written
under LaTeX's default OT1 font encoding, and asks for xcolor only where it colours.

Until 2026-12-07 ``|``, ``<`` and ``>`` went through unescaped (OT1 prints them as an em dash, ¡ and
¿: a method ``a|b`` read ``a—b`` in the PDF), and every table's header said it required xcolor,
also the bold/italic ones that use no colour."""
from __future__ import annotations

import pytest
from test_table_io import _table

from mutualfuse.benchmark.table import read_latex, tex_escape, tex_text, to_latex


def test_bar_and_angle_brackets_are_escaped_and_read_back():
    assert tex_escape("a|b<c>d") == r"a\textbar{}b\textless{}c\textgreater{}d"
    assert tex_text("|Δmean| < 1 ≤ 2") == r"\textbar{}Δmean\textbar{} \textless{} 1 $\leq$ 2"
    t = _table("bold")
    t.rows[1].label = "B|<x>"
    tex = to_latex(t)
    assert r"B\textbar{}\textless{}x\textgreater{} &" in tex
    body = tex.split(r"\midrule", 1)[1].split(r"\bottomrule", 1)[0]
    assert "|" not in body and "<" not in body and ">" not in body
    back = read_latex(tex)
    assert back.values["B|<x>"] == [24.6654, 1.144, 0.9164]
    assert "A_1 | x & y" in back.values  # the older fixture's label still reads back


@pytest.mark.parametrize("marking, colour", [("bold", False), ("bold-italic", False), ("none", False),
                                             ("red-blue-brown", True)])
def test_xcolor_is_asked_for_only_by_a_coloured_marking(marking, colour):
    tex = to_latex(_table(marking))
    first = tex.splitlines()[0]
    assert first.startswith(r"% requires \usepackage{booktabs}")
    assert ("xcolor" in first) is colour
    assert (r"\textcolor" in tex) is colour
