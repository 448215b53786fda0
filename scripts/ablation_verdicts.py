#!/usr/bin/env python
"""Paper vs ours for the ablation Tables 4–7, and a verdict per claim (docs/ablations.md).

Reads the CSV tables that ``mutualfuse benchmark --tables 4,5,6,7 --out DIR`` wrote
(``DIR/tables/table{4,5,6,7}.csv``: one row per trained variant, seeds as separate rows) and
the paper's values (``mutualfuse/data/paper_tables.json``), and prints Markdown.

Verdict rule (stated in the output too). For each claim "A beats B" and each metric column
(with its direction):

* both A and B trained with several seeds: Welch's t-test on the per-seed means; the
  difference counts when p < 0.05;
* otherwise (one run each): the difference counts when it exceeds 2·√2·s, s the pooled
  seed standard deviation of that metric over every seeded variant in the tables, each variant
  counted once although several tables show it (the spread of one run; √2 for a difference
  of two runs, 2 for roughly 95 %).

The p-values are per metric, not corrected for the eight metrics compared; each verdict line is
followed by the p-values (or the differences and the threshold) it rests on.

A claim **holds** when A is better beyond noise on at least half of the metrics and worse
beyond noise on fewer; it **does not hold** when A is worse beyond noise on more metrics than
it is better; it is **within noise** when no metric differs beyond noise; otherwise it is
**mixed** (some metrics differ beyond noise, too few or in both directions).

Under a table it notes what makes its means no comparison of the full set: a run over a subset of
the set's pairs (``--quick``, ``--pairs``: the title the benchmark records beside the CSV, "2 of 21
pairs"), a row whose mean misses pairs that failed (``n_ok`` < ``n_pairs``), and a row left out
because a cell is empty (weights missing, a metric that failed).

    python scripts/ablation_verdicts.py DIR
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import os
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAPER = ROOT / "src/mutualfuse/data/paper_tables.json"

#: (table, claimed winner, losers, the paper's claim in words)
CLAIMS = [
    (4, "Ours-Net", ["VIF-Net"], "our res-block multi-scale network beats VIF-Net (both Mean-SSIM, concatenation)"),
    (5, "Ours(Var)", ["Ours(Mean)"], "the variance-selected SSIM loss beats the mean SSIM loss"),
    (6, "Mapping", ["Concat", "Add"], "the feature mutual mapping beats concatenation and addition"),
    (7, "3-layers", ["4-layers", "5-layers"], "three encoder levels are best (deeper does not help)"),
]


class TableError(ValueError):
    """A table CSV that is not what ``mutualfuse benchmark`` writes."""


def read_table(path: Path) -> tuple[list[tuple[str, bool]], dict[str, list[list[float]]]]:
    """→ (columns as (label, higher_is_better), {row label: [per-seed values]}); the
    ``mean ± sd`` rows are skipped (recomputed here from their members). The weights names
    of a row's seeds (``label [name]``) are in :func:`read_table_members`."""
    cols, runs, _ = read_table_members(path)
    return cols, runs


def table_notes(path: Path) -> list[str]:
    """What makes the means of the table CSV at ``path`` no comparison over the full set, one line
    each (none for a complete table, as the committed docs/results/ablations): a subset of the
    set's pairs (the title in ``path``'s ``.meta.json``, which the benchmark writes beside it), rows
    whose mean misses failed pairs, rows left out for an empty cell."""
    notes = []
    meta = path.with_name(path.name + ".meta.json")
    try:
        title = json.loads(meta.read_text(encoding="utf-8")).get("title", "") if meta.exists() else ""
    except (OSError, UnicodeDecodeError, ValueError, AttributeError):
        title = ""
    m = re.search(r"(\d+) of (\d+) pairs", title if isinstance(title, str) else "")
    if m and m.group(1) != m.group(2):
        notes.append(f"means over {m.group(1)} of the set's {m.group(2)} pairs (--quick / --pairs): "
                     "not a comparison over the whole set")
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    for r in rows[1:]:
        label = r[1]
        if "(mean ± sd" in label:
            continue
        empty = [h.rsplit(" ", 1)[0] for h, x in zip(rows[0][5:-1], r[5:-1]) if x == ""]
        if empty:
            notes.append(f"{label}: left out (no value for {', '.join(empty)})")
        elif r[3].isdigit() and r[4].isdigit() and int(r[4]) < int(r[3]):
            notes.append(f"{label}: mean over {r[4]} of {r[3]} pairs (the others failed)")
    return notes


def read_table_members(path: Path) -> tuple[list[tuple[str, bool]], dict[str, list[list[float]]],
                                            dict[str, list[str]]]:
    """:func:`read_table` and {row label: [weights name of each seed, or "" when the row names none]}.
    A file that is not a benchmark table is a :class:`TableError`."""
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise TableError(f"cannot read it ({getattr(e, 'strerror', None) or e})") from None
    if not rows or len(rows[0]) < 7 or rows[0][:2] != ["row_id", "method"] \
            or not all(h.endswith(("↑", "↓")) for h in rows[0][5:-1]):
        raise TableError("not a table CSV of `mutualfuse benchmark` (header row_id,method,kind,n_pairs,n_ok,"
                         "<metric ↑/↓>...,note)")
    head = rows[0][5:-1]
    cols = [(h.rsplit(" ", 1)[0], h.endswith("↑")) for h in head]
    runs: dict[str, list[list[float]]] = defaultdict(list)
    members: dict[str, list[str]] = defaultdict(list)
    for i, r in enumerate(rows[1:], start=2):
        if len(r) != len(rows[0]):
            raise TableError(f"line {i} has {len(r)} fields, the header {len(rows[0])}")
        label = r[1]
        if "(mean ± sd" in label or "" in r[5:-1]:
            continue
        base, _, name = label.partition(" [")
        try:
            values = [float(x) for x in r[5:-1]]
        except ValueError as e:
            raise TableError(f"line {i}: {e}") from None
        runs[base].append(values)
        members[base].append(name.rstrip("]"))
    return cols, dict(runs), dict(members)


def mean(v):
    return sum(v) / len(v)


def sd(v):
    m = mean(v)
    return math.sqrt(sum((x - m) ** 2 for x in v) / (len(v) - 1))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dir", metavar="DIR", help="the --out folder of `mutualfuse benchmark --tables 4,5,6,7`, or a "
                                               "folder holding its table4..7.csv (docs/results/ablations)")
    out = Path(ap.parse_args(argv).dir)
    # the benchmark writes DIR/tables/table4.csv; the committed copy (docs/results/ablations)
    # holds the CSVs directly
    tables_dir = out if not (out / "tables").is_dir() and any((out / f"table{n}.csv").exists() for n in (4, 5, 6, 7)) \
        else out / "tables"
    if not any((tables_dir / f"table{n}.csv").exists() for n in (4, 5, 6, 7)):
        print(f"ablation_verdicts.py: error: {out / 'tables'}: no table4..7.csv (write them with "
              f"`mutualfuse benchmark --tables 4,5,6,7 --out {out}`)", file=sys.stderr)
        return 2
    from scipy.stats import ttest_ind

    paper = {t["table"]: t for t in json.loads(PAPER.read_text())["tables"]}
    tables = {}
    members = {}
    notes: dict[int, list[str]] = {}
    for n in (4, 5, 6, 7):
        p = tables_dir / f"table{n}.csv"
        if p.exists():
            try:
                cols, runs, names = read_table_members(p)
            except TableError as e:
                print(f"ablation_verdicts.py: error: {p}: {e}", file=sys.stderr)
                return 2
            tables[n] = (cols, runs)
            members[n] = names
            notes[n] = table_notes(p)
    # pooled seed variance per metric, over every variant with >= 2 seeds, each variant once:
    # a variant shown in several tables (Ours(Mean) in 4 and 5, Concat in 5 and 6, Mapping in 6
    # and 7) is the same weights, recognised by its seeds' weights names
    pooled: dict[str, list[float]] = defaultdict(list)
    seen: set = set()
    for n, (cols, runs) in tables.items():
        for label, seeds in runs.items():
            names = members[n][label]
            key = tuple(sorted(names)) if all(names) else (n, label)
            if len(seeds) > 1 and key not in seen:
                seen.add(key)
                for j, (c, _) in enumerate(cols):
                    pooled[c].append(sd([s[j] for s in seeds]) ** 2)
    s_pool = {c: math.sqrt(mean(v)) for c, v in pooled.items()}
    print("Verdict rule: see scripts/ablation_verdicts.py (Welch t-test p < 0.05 where both sides have seeds; "
          "else a difference beyond 2·√2·s, s the pooled seed sd of the metric: "
          + (", ".join(f"{c} {v:.3g}" for c, v in s_pool.items())
             or "none measured, no variant in these tables has several seeds") + ").\n")
    for n, winner, losers, words in CLAIMS:
        if n not in tables:
            print(f"### Table {n}\n\nnot computed\n")
            continue
        cols, runs = tables[n]
        pt = paper[n]
        print(f"### Table {n}: {words}\n")
        shown = [c for c, _ in cols]
        print("| row | " + " | ".join(f"{c} {'↑' if h else '↓'}" for c, h in cols) + " |")
        print("|---|" + "---:|" * len(cols))
        for r in pt["rows"]:
            print(f"| paper: {r['method']} | " + " | ".join(r["values"].get(c, "—") for c in shown) + " |")
        for label, seeds in runs.items():
            cells = []
            for j in range(len(cols)):
                v = [s[j] for s in seeds]
                cells.append(f"{mean(v):.4f} ± {sd(v):.4f}" if len(v) > 1 else f"{v[0]:.4f}")
            tag = f" ({len(seeds)} seeds)" if len(seeds) > 1 else ""
            print(f"| ours: {label}{tag} | " + " | ".join(cells) + " |")
        print()
        for note in notes[n]:
            print(f"- note: {note}")
        for loser in losers:
            if winner not in runs or loser not in runs:
                print(f"- {winner} vs {loser}: not computed (missing rows)")
                continue
            better, worse, tie, unknown, basis = [], [], [], [], []
            for j, (c, hib) in enumerate(cols):
                a = [s[j] for s in runs[winner]]
                b = [s[j] for s in runs[loser]]
                d = (mean(a) - mean(b)) * (1 if hib else -1)
                if len(a) > 1 and len(b) > 1:
                    p = float(ttest_ind(a, b, equal_var=False).pvalue)
                    sig = p < 0.05
                    basis.append(f"{c} {p:.2g}")
                elif c in s_pool:
                    thr = 2 * math.sqrt(2) * s_pool[c]
                    sig = abs(d) > thr
                    basis.append(f"{c} {d:+.3g}/{thr:.3g}")
                else:
                    unknown.append(c)
                    continue
                (better if sig and d > 0 else worse if sig else tie).append(c)
            if unknown:
                print(f"- {winner} vs {loser}: no verdict: no seed spread measured for {', '.join(unknown)}")
                continue
            if len(better) * 2 >= len(cols) and len(worse) < len(better):
                verdict = "holds"
            elif len(worse) > len(better):
                verdict = "does not hold"
            elif not better and not worse:
                verdict = "within noise"
            else:
                verdict = "mixed"
            print(f"- **{winner} vs {loser}: {verdict}** — better beyond noise on {', '.join(better) or 'none'}; "
                  f"worse beyond noise on {', '.join(worse) or 'none'}; within noise on {', '.join(tie) or 'none'}.")
            kind = ("Welch p (uncorrected)" if len(runs[winner]) > 1 and len(runs[loser]) > 1
                    else f"difference ({winner} − {loser}, + = {winner} better) / threshold 2·√2·s")
            print(f"  {kind}: {', '.join(basis)}.")
        print()
    return 0


if __name__ == "__main__":
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:  # `... | head`: the reader left; no traceback (as the mutualfuse commands)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 141
    raise SystemExit(code)
