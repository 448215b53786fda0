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
  seed standard deviation of that metric over every seeded variant in the tables (the spread
  of one run; √2 for a difference of two runs, 2 for roughly 95 %).

A claim **holds** when A is better beyond noise on at least half of the metrics and worse
beyond noise on fewer; it **does not hold** when A is worse beyond noise on more metrics than
it is better; otherwise it is **within noise**.

    python scripts/ablation_verdicts.py DIR
"""
from __future__ import annotations

import argparse
import csv
import json
import math
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


def read_table(path: Path) -> tuple[list[tuple[str, bool]], dict[str, list[list[float]]]]:
    """→ (columns as (label, higher_is_better), {row label: [per-seed values]}); the
    ``mean ± sd`` rows are skipped (recomputed here from their members)."""
    rows = list(csv.reader(path.open()))
    head = rows[0][5:-1]
    cols = [(h.rsplit(" ", 1)[0], h.endswith("↑")) for h in head]
    runs: dict[str, list[list[float]]] = defaultdict(list)
    for r in rows[1:]:
        label = r[1]
        if "(mean ± sd" in label or "" in r[5:-1]:
            continue
        base = label.split(" [", 1)[0]
        runs[base].append([float(x) for x in r[5:-1]])
    return cols, dict(runs)


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
    for n in (4, 5, 6, 7):
        p = tables_dir / f"table{n}.csv"
        if p.exists():
            tables[n] = read_table(p)
    # pooled seed variance per metric, over every variant with >= 2 seeds
    pooled: dict[str, list[float]] = defaultdict(list)
    for cols, runs in tables.values():
        for seeds in runs.values():
            if len(seeds) > 1:
                for j, (c, _) in enumerate(cols):
                    pooled[c].append(sd([s[j] for s in seeds]) ** 2)
    s_pool = {c: math.sqrt(mean(v)) for c, v in pooled.items()}
    print("Verdict rule: see scripts/ablation_verdicts.py (Welch t-test p < 0.05 where both sides have seeds; "
          "else a difference beyond 2·√2·s, s the pooled seed sd of the metric: "
          + ", ".join(f"{c} {v:.3g}" for c, v in s_pool.items()) + ").\n")
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
        for loser in losers:
            if winner not in runs or loser not in runs:
                print(f"- {winner} vs {loser}: not computed (missing rows)")
                continue
            better, worse, tie, unknown = [], [], [], []
            for j, (c, hib) in enumerate(cols):
                a = [s[j] for s in runs[winner]]
                b = [s[j] for s in runs[loser]]
                d = (mean(a) - mean(b)) * (1 if hib else -1)
                if len(a) > 1 and len(b) > 1:
                    p = float(ttest_ind(a, b, equal_var=False).pvalue)
                    sig = p < 0.05
                elif c in s_pool:
                    sig = abs(d) > 2 * math.sqrt(2) * s_pool[c]
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
            else:
                verdict = "within noise"
            print(f"- **{winner} vs {loser}: {verdict}** — better beyond noise on {', '.join(better) or 'none'}; "
                  f"worse beyond noise on {', '.join(worse) or 'none'}; within noise on {', '.join(tie) or 'none'}.")
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
