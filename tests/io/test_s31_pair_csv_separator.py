"""A pairs list saved with semicolons or tabs (a spreadsheet in a comma-decimal locale): each
row was "row needs at least two columns a,b", which does not say that its separator is the
problem; now the row's failure names the separator it holds."""
from __future__ import annotations

from mutualfuse.io.pairing import read_pairs_csv


def test_semicolon_and_tab_rows_name_their_separator(tmp_path):
    lst = tmp_path / "pairs.csv"
    lst.write_text("a;b\nir/1.png;vis/1.png\nir/2.png\tvis/2.png\nir/3.png\n", encoding="utf-8")
    rows, bad = read_pairs_csv(lst)
    assert rows == []
    why = dict(bad)
    assert "it holds ';' instead" in why[1] and "it holds ';' instead" in why[2]
    assert "it holds a tab instead" in why[3]
    assert why[4] == "row needs at least two columns a,b"  # one path alone: nothing else to say
    # a file whose name holds a semicolon: no separator, a row of one path
    (tmp_path / "a;1.png").write_bytes(b"x")
    lst.write_text("a;1.png\n", encoding="utf-8")
    _, bad = read_pairs_csv(lst)
    assert bad == [(1, "row needs at least two columns a,b")]
