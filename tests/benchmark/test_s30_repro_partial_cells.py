"""s30 reproduction audit: "paper vs reproduced" cells of a row whose mean misses failed pairs.

A row some of whose pairs failed (``†`` in its table) had its cells marked ``reproduced`` or
``differs`` against the paper with only "mean over 7 of 8 pairs" in the note, and no banner (a subset
run and another set get one): a reproduction claimed over fewer pairs than the paper's. The note says
it is no reproduction check now, and the view opens with a banner."""
from __future__ import annotations

from mutualfuse.benchmark import paper as paper_view
from mutualfuse.benchmark.table import Column, Row, Table


def _table3(n_ok: int) -> Table:
    doc = paper_view.load_paper_tables()
    t3 = next(t for t in doc["tables"] if t["table"] == 3)
    row = next(r for r in t3["rows"] if r.get("ours") == "reference:ifcnn/medical/max-code")
    values = {m: float(v) for m, v in row["values"].items()}  # ours equal to the paper's printed values
    cols = [Column(m, m, True) for m in values]
    return Table("table3", "T3", cols, [Row("reference:ifcnn/medical/max-code", "IFCNN(max-code)", values, 8, n_ok,
                                            "reference")], set_pairs=8)


def test_cells_of_a_row_with_failed_pairs_are_no_reproduction_check():
    cells = [c for c in paper_view.compare({"table3": _table3(7)}, "weights:paper")
             if c.row_id == "reference:ifcnn/medical/max-code" and c.ours is not None]
    assert cells and all(c.partial for c in cells)
    assert all("mean over 7 of 8 pairs" in c.why and "not a reproduction check" in c.why for c in cells), cells[0].why
    assert paper_view.PARTIAL_WARNING in paper_view.to_markdown(cells)
    from mutualfuse.benchmark.report import cells_html

    assert "misses pairs that failed" in cells_html(cells, False)


def test_cells_of_a_complete_row_have_no_such_note():
    cells = [c for c in paper_view.compare({"table3": _table3(8)}, "weights:paper")
             if c.row_id == "reference:ifcnn/medical/max-code" and c.ours is not None]
    assert cells and not any(c.partial for c in cells) and all(c.status == "reproduced" for c in cells)
    assert paper_view.PARTIAL_WARNING not in paper_view.to_markdown(cells)
