"""The table writers: Markdown, CSV and LaTeX read back to the same values and marks."""
from __future__ import annotations

import math

import pytest

from mutualfuse.benchmark.table import (Column, Row, Table, read_csv, read_latex, read_markdown, to_csv, to_latex,
                                        to_markdown)


def _table(marking: str) -> Table:
    cols = [Column("EI", "EI@vifb", True), Column("CE", "CE@vifb", False), Column("MS_SSIM", "MS_SSIM@rfn-nest", True)]
    rows = [
        Row("method:a", "A_1 | x & y", {"EI": 44.90541234, "CE": 1.342, "MS_SSIM": 0.84}, 10, 10),
        Row("method:b", "B", {"EI": 24.6654, "CE": 1.1440, "MS_SSIM": 0.9164}, 10, 10),
        Row("method:c", "C", {"EI": 42.48889999, "CE": 1.6235, "MS_SSIM": 0.9053}, 10, 10),
        Row("method:d", "D (partial)", {"EI": 99.0, "CE": 0.1, "MS_SSIM": 0.99}, 10, 9, note="failed on 1 of 10 pairs"),
        Row("ablation:t/e", "E", {"EI": None, "CE": None, "MS_SSIM": None}, 10, 0, "ablation", "no weights"),
        Row("method:f", "F", {"EI": 1.0, "CE": 2.0, "MS_SSIM": 0.1}, 10, 10),
    ]
    return Table("table1", "Table 1: test", cols, rows, marking)


EXPECTED_STYLES = {
    # EI (higher): A, C, B, F; CE (lower): B, A, C, F; MS_SSIM (higher): B, C, A, F.
    # D (partial) and E (missing) take no mark.
    "red-blue-brown": {"A_1 | x & y": ["red", "blue", "brown"], "B": ["brown", "red", "red"],
                       "C": ["blue", "brown", "blue"], "D (partial)": [None, None, None], "E": [None, None, None],
                       "F": [None, None, None]},
    "bold-italic": {"A_1 | x & y": ["bold", "italic", None], "B": [None, "bold", "bold"], "C": ["italic", None, "italic"],
                    "D (partial)": [None, None, None], "E": [None, None, None], "F": [None, None, None]},
}


@pytest.mark.parametrize("marking", list(EXPECTED_STYLES))
@pytest.mark.parametrize("fmt", ["markdown", "latex"])
def test_printed_round_trip_keeps_values_and_marks(marking, fmt):
    t = _table(marking)
    back = read_markdown(to_markdown(t)) if fmt == "markdown" else read_latex(to_latex(t))
    assert list(back.values) == [r.label for r in t.rows]
    for r in t.rows:
        for c, got in zip(t.columns, back.values[r.label]):
            v = r.values[c.label]
            assert got == (None if v is None else round(v, 4))
    assert back.styles == EXPECTED_STYLES[marking]


def test_csv_round_trip_is_exact():
    t = _table("bold")
    back = read_csv(to_csv(t))
    for r in t.rows:
        assert back.values[r.label] == [r.values[c.label] for c in t.columns]
    assert back.headings == ["EI ↑", "CE ↓", "MS_SSIM ↑"]


def test_markdown_shows_arrows_partial_and_missing():
    md = to_markdown(_table("bold"))
    assert "| Methods | EI ↑ | CE ↓ | MS_SSIM ↑ |" in md
    assert "99.0000†" in md and "| E | — | — | — |" in md
    assert "- E: no weights" in md


def test_latex_is_booktabs_with_escaped_labels():
    tex = to_latex(_table("red-blue-brown"))
    for s in (r"\toprule", r"\midrule", r"\bottomrule", r"A\_1 \textbar{} x \& y", r"MS\_SSIM$\uparrow$", r"CE$\downarrow$",
              r"\textcolor{red}{44.9054}"):
        assert s in tex


def test_ties_share_a_mark():
    cols = [Column("EN", "EN@rfn-nest", True)]
    rows = [Row(f"m:{i}", str(i), {"EN": v}, 1, 1) for i, v in enumerate([7.53191, 7.53189, 7.5, 7.4])]
    ranks = Table("t", "t", cols, rows, "red-blue-brown").ranks()
    assert ranks[("m:0", "EN")] == ranks[("m:1", "EN")] == 1  # both print 7.5319
    assert ranks[("m:2", "EN")] == 2 and ranks[("m:3", "EN")] == 3
    assert not math.isnan(rows[0].values["EN"])


def test_seed_means_row_prints_mean_and_sd_and_members_take_no_mark():
    """Ablation rows matched by several seeds get a ``mean ± sd`` row (ranked); the members
    are printed but not ranked, and both printed formats read back to the mean."""
    from mutualfuse.benchmark.runner import seed_means

    cols = [Column("EI", "EI@vifb", True), Column("CE", "CE@vifb", False)]
    members = [
        Row("ablation:table6/Add[s0]", "Add [s0]", {"EI": 40.0, "CE": 1.0}, 21, 21, "ablation", ranked=False),
        Row("ablation:table6/Add[s1]", "Add [s1]", {"EI": 42.0, "CE": 2.0}, 21, 21, "ablation", ranked=False),
        Row("ablation:table6/Add[s2]", "Add [s2]", {"EI": 44.0, "CE": 3.0}, 21, 21, "ablation", ranked=False),
    ]
    other = Row("ablation:table6/Concat", "Concat", {"EI": 41.0, "CE": 1.5}, 21, 21, "ablation")
    rows = seed_means(members + [other], ["Add"] * 3 + [""], cols)
    assert [r.label for r in rows] == ["Add (mean ± sd of 3)", "Add [s0]", "Add [s1]", "Add [s2]", "Concat"]
    mean = rows[0]
    assert mean.values == {"EI": 42.0, "CE": 2.0}
    assert mean.spread == {"EI": 2.0, "CE": 1.0}  # sample sd (ddof 1) of 40, 42, 44 and of 1, 2, 3
    t = Table("table6", "Table 6: test", cols, rows, "bold")
    md = to_markdown(t)
    assert "| Add (mean ± sd of 3) | **42.0000 ± 2.0000** | 2.0000 ± 1.0000 |" in md
    assert "| Add [s2] | 44.0000 | 3.0000 |" in md  # the best EI, but a member: no mark
    assert "| Concat | 41.0000 | **1.5000** |" in md
    for back in (read_markdown(md), read_latex(to_latex(t))):
        assert back.values["Add (mean ± sd of 3)"] == [42.0, 2.0]
        assert back.styles["Add [s2]"] == [None, None]


def test_seed_means_with_a_failed_member_is_partial():
    from mutualfuse.benchmark.runner import seed_means

    cols = [Column("EI", "EI@vifb", True)]
    members = [Row("a[s0]", "A [s0]", {"EI": 1.0}, 4, 4, "ablation", ranked=False),
               Row("a[s1]", "A [s1]", {"EI": 3.0}, 4, 3, "ablation", ranked=False)]
    mean = seed_means(members, ["A", "A"], cols)[0]
    assert mean.partial and mean.values == {"EI": 2.0}
