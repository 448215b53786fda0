"""The paper's printed Tables 1–7 (transcribed once into ``mutualfuse/data/paper_tables.json``)
and the "paper vs reproduced" view: for every printed cell, the paper's value, ours, the
difference, and whether it reproduces.

"Reproduced" uses the criterion of the conformance README and ``tests/metrics/test_paper_tables.py``:
our mean rounds to the paper's 4-decimal value, or differs from it by at most 5e-5.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from importlib import resources

from .table import Table, fmt

REPRODUCE_ATOL = 5e-5

#: why Table 1's cells are no reproduction check (docs/benchmark.md, "Paper vs reproduced")
TABLE1_PAIRS = "the paper's Table 1 is over 10 TNO pairs it does not name, ours over the set's pairs: not a reproduction check"

#: the banner of a run where a set is not the paper's set (:func:`mutualfuse.benchmark.specs.paper_set_note`)
OTHER_SET_WARNING = ("A set of this data root is not the paper's set (its table's note and each cell's note say "
                     "which pairs it lacks or holds besides): those cells are not a reproduction check.")

#: the banner of a run whose means are over a subset of the pairs (--quick, --pairs N)
SUBSET_WARNING = ("Means over a subset of each set's pairs (--quick / --pairs N; each cell's note says how many), "
                  "not over the paper's pairs: the differences are not a reproduction check.")


#: the banner of a run where a compared row's mean misses pairs that failed (the row's ``†``)
PARTIAL_WARNING = ("A compared row's mean misses pairs that failed (marked † in its table; the problems list "
                   "them): its cells are means over fewer pairs than the set's, not a reproduction check.")


def load_paper_tables() -> dict:
    """The transcription: ``{"tables": [{"table": 1, "columns": [...], "rows": [...]}, ...]}``."""
    text = resources.files("mutualfuse").joinpath("data/paper_tables.json").read_text(encoding="utf-8")
    return json.loads(text)


def reproduces(ours: float, paper: float, decimals: int = 4) -> bool:
    return round(ours, decimals) == paper or abs(ours - paper) <= REPRODUCE_ATOL


@dataclass
class Cell:
    table: int
    section: str
    method: str
    metric: str
    paper_text: str
    ours: float | None
    row_id: str | None
    status: str  # reproduced, differs, not run, missing
    why: str = ""
    #: ours is a mean over a subset of the set's pairs (--pairs / --quick): not a reproduction check
    subset: bool = False
    #: ours is over a set that is not the paper's (pairs lacking or added): not a reproduction check
    other_set: bool = False
    #: ours is the mean of a row some of whose pairs failed (``†``): not a reproduction check
    partial: bool = False

    @property
    def paper(self) -> float:
        return float(self.paper_text)

    @property
    def diff(self) -> float | None:
        return None if self.ours is None else self.ours - self.paper

    @property
    def rel_diff(self) -> float | None:
        """(ours − paper) / |paper| (a fraction; the Markdown view prints it in %), None where the
        paper's value is 0 or ours is missing."""
        d = self.diff
        return None if d is None or self.paper == 0 else d / abs(self.paper)


def compare(tables: dict[str, Table], ours_id: str, quick: bool = False) -> list[Cell]:
    """Every printed cell against the reproduced tables (``tables["table1"]`` …)."""
    doc = load_paper_tables()
    cells = []
    for t in doc["tables"]:
        ours_table = tables.get(f"table{t['table']}")
        for row in t["rows"]:
            rid = row.get("ours")
            if rid == "weights:default":
                rid = ours_id
            ours_row = None
            if rid and ours_table is not None:
                ours_row = next((r for r in ours_table.rows if r.id == rid or r.id.startswith(rid + "[")), None)
            for metric, text in row["values"].items():
                val = None
                subset = partial = False
                if rid is None:
                    status, why = "not run", row.get("why_not", "")
                elif ours_table is None:
                    status, why = "not run", f"table{t['table']} was not computed in this run"
                elif ours_row is None:
                    status, why = "not run", f"{rid} is not a row of this run (left out by the options?)"
                elif metric not in {c.label for c in ours_table.columns}:
                    status, why = "not run", "column left out (--quick / --fast-metrics leave out the slow metrics)"
                else:
                    val = ours_row.values.get(metric)
                    if val is None:
                        status, why = "missing", ours_row.note or "no value"
                    else:
                        status = "reproduced" if reproduces(val, float(text)) else "differs"
                        why = ""
                        if ours_row.partial:  # it said "mean over 7 of 8 pairs" beside "reproduced", no banner
                            partial = True
                            why = (f"mean over {ours_row.n_ok} of {ours_row.n_pairs} pairs (the others failed): "
                                   "not a reproduction check")
                        if 0 < ours_row.n_pairs < ours_table.set_pairs:
                            subset = True
                            why = (why + "; " if why else "") + (
                                f"{ours_row.n_pairs} of the set's {ours_table.set_pairs} pairs (--pairs / --quick): "
                                "not a reproduction check")
                other = bool(val is not None and ours_table is not None and ours_table.other_set)
                if other:
                    why = (why + "; " if why else "") + ours_table.other_set
                if t["table"] == 1 and val is not None:  # docs/benchmark.md: not a reproduction check
                    why = (why + "; " if why else "") + TABLE1_PAIRS
                if row.get("note"):
                    why = (why + "; " if why else "") + row["note"]
                cells.append(Cell(t["table"], t["section"], row["method"], metric, text, val, rid, status, why,
                                  subset, other, partial))
    return cells


def summary(cells: list[Cell]) -> dict[str, int]:
    out: dict[str, int] = {}
    for c in cells:
        out[c.status] = out.get(c.status, 0) + 1
    return out


def to_markdown(cells: list[Cell], quick: bool = False) -> str:
    s = summary(cells)
    lines = ["## Paper vs reproduced", ""]
    lines.append(f"{len(cells)} printed cells of the paper's Tables 1–7: "
                 + ", ".join(f"{n} {k}" for k, n in sorted(s.items())) + ". "
                 "Reproduced = our mean rounds to the paper's 4-decimal value or is within 5e-5 of it.")
    if quick or any(c.subset for c in cells):
        lines.append("")
        lines.append(f"**{SUBSET_WARNING}**")
    if any(c.other_set for c in cells):
        lines += ["", f"**{OTHER_SET_WARNING}**"]
    if any(c.partial for c in cells):
        lines += ["", f"**{PARTIAL_WARNING}**"]
    lines += ["", "| table | sec. | method | metric | paper | ours | ours − paper | rel. | status | note |",
              "|---:|---|---|---|---:|---:|---:|---:|---|---|"]
    for c in cells:
        d, r = c.diff, c.rel_diff
        rel = "" if r is None else f"{100 * r:+.2f} %"
        lines.append(f"| {c.table} | {c.section} | {c.method} | {c.metric} | {c.paper_text} | "
                     f"{fmt(c.ours, 4) if c.ours is not None else ''} | {'' if d is None else f'{d:+.4f}'} | {rel} | "
                     f"{'**reproduced**' if c.status == 'reproduced' else c.status} | {c.why.replace('|', '/')} |")
    return "\n".join(lines) + "\n"


def to_csv(cells: list[Cell]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["table", "section", "method", "metric", "paper", "ours", "diff", "rel_diff", "status", "row_id",
                "note"])
    for c in cells:
        w.writerow([c.table, c.section, c.method, c.metric, c.paper_text, "" if c.ours is None else repr(c.ours),
                    "" if c.diff is None else repr(c.diff), "" if c.rel_diff is None else repr(c.rel_diff),
                    c.status, c.row_id or "", c.why])
    return buf.getvalue()
