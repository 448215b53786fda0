"""s24: row labels in the Markdown tables escape what Markdown would format (``r*2*/out`` showed
``2`` in italics, ``a_b_`` and ``<b>`` and backquotes likewise; only ``|`` was escaped), and read
back as written. Found by the evaluate audit (a ``--fused`` folder's name is a row label)."""
from __future__ import annotations

import pytest

from mutualfuse.benchmark.table import Column, Row, Table, read_markdown, to_markdown

LABELS = ["r*2*/out", "a_b_c", "x\\", "x\\|y", "<b>bold</b>", "`code`", "A | B", "plain [x](y)"]


def _table(labels):
    cols = [Column("EI", "EI@vifb", True), Column("SF", "SF@vifb", True)]
    rows = [Row(f"fused:{k}", lab, {"EI": 1.0 + k, "SF": 2.0 + k}, 3, 3, note="a note" if k == 0 else "")
            for k, lab in enumerate(labels)]
    return Table("table1", "Table 1: test", cols, rows, "bold")


def test_labels_are_escaped_and_read_back():
    md = to_markdown(_table(LABELS))
    rows = {ln.split(" | ")[0] for ln in md.splitlines() if ln.startswith("| ") and "---" not in ln}
    assert {"| r\\*2\\*/out", "| a\\_b\\_c", "| x\\\\", "| x\\\\\\|y", "| \\<b>bold\\</b>", "| \\`code\\`",
            "| A \\| B", "| plain [x](y)"} <= rows, rows
    assert "- r\\*2\\*/out: a note" in md.splitlines()
    back = read_markdown(md)
    assert list(back.values) == LABELS
    for k, lab in enumerate(LABELS):
        assert back.values[lab] == [pytest.approx(1.0 + k), pytest.approx(2.0 + k)]
