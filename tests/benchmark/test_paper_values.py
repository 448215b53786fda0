"""The transcription of the paper's Tables 1–7 (mutualfuse/data/paper_tables.json): every cell the
paper prints is there, equal to the printed string, with its table, section and source lines."""
from __future__ import annotations

import re

import pytest

from mutualfuse.benchmark.paper import load_paper_tables
from mutualfuse.benchmark.specs import IRVIS_COLUMNS, MEDICAL_COLUMNS, MULTIFOCUS_COLUMNS, column_keys

PAPER_MD = "paper/unsupervised-image-fusion-feature-mutual-mapping.md"
HEADINGS = {"$Q^{ab/f}$": "Qabf", "$MS_{-}SSIM$": "MS_SSIM"}


def _printed_tables(text: str) -> list[dict[str, dict[str, str]]]:
    """Every tab-separated table of the paper's Markdown: [{method: {column: printed value}}]."""
    lines = text.split("\n")
    out = []
    for i, ln in enumerate(lines):
        if "\tEI\t" in ln and (ln.startswith("Methods") or ln.startswith("\t")):
            cols = [HEADINGS.get(h.strip(), h.strip()) for h in ln.split("\t")[1:]]
            rows = {}
            for row in lines[i + 1:]:
                parts = row.split("\t")
                if len(parts) != len(cols) + 1:
                    break
                rows[parts[0].strip()] = {c: re.sub(r"</?b>", "", v).strip() for c, v in zip(cols, parts[1:])}
            out.append(rows)
    return out


def test_every_printed_cell_is_transcribed(shared):
    printed = _printed_tables((shared / PAPER_MD).read_text())
    doc = load_paper_tables()
    assert [t["table"] for t in doc["tables"]] == [1, 2, 3, 4, 5, 6, 7]
    assert len(printed) == 7
    n = 0
    for t, rows in zip(doc["tables"], printed):
        got = {r["method"]: r["values"] for r in t["rows"]}
        assert got == rows, f"table {t['table']}"
        n += sum(len(v) for v in rows.values())
    assert n == 351  # 13x8 + 11x7 + 10x9 + 2x8 + 2x8 + 3x8 + 3x8


def test_every_cell_has_its_table_section_and_source_lines():
    doc = load_paper_tables()
    for t in doc["tables"]:
        assert re.fullmatch(r"4\.\d(\.\d)?", t["section"])
        a, b = map(int, t["source_lines"].split("-"))
        assert b - a == len(t["rows"])  # the heading line and one line per row
        assert t["marking"] in ("bold-italic", "red-blue-brown", "bold")
        for r in t["rows"]:
            assert list(r["values"]) == t["columns"]
            for v in r["values"].values():
                assert re.fullmatch(r"\d+\.\d{4}", v), v
            assert r["ours"] is not None or r["why_not"]


@pytest.mark.parametrize("table,columns", [(1, IRVIS_COLUMNS), (2, MULTIFOCUS_COLUMNS), (3, MEDICAL_COLUMNS),
                                           (4, IRVIS_COLUMNS), (7, IRVIS_COLUMNS)])
def test_our_tables_have_the_papers_columns(table, columns):
    doc = load_paper_tables()
    assert tuple(doc["tables"][table - 1]["columns"]) == columns
    assert set(columns) <= set(column_keys())


def test_row_mapping_points_at_rows_we_build():
    from mutualfuse.methods import METHODS

    for t in load_paper_tables()["tables"]:
        for r in t["rows"]:
            o = r["ours"]
            if o is None:
                continue
            kind, _, name = o.partition(":")
            if kind == "method":
                assert name in METHODS
            elif kind == "reference":
                assert name.startswith("ifcnn/")
            elif kind == "ablation":
                assert name == f"table{t['table']}/{r['method']}"
            else:
                assert o == "weights:default"
