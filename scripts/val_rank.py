"""Mean rank of the rows of several ``scripts/val_quality.py`` outputs, ranked together.

Usage: python scripts/val_rank.py runs-log/val_a.txt runs-log/val_b.txt

Each output line of val_quality.py (``NAME SETTINGS  col value  col value ...``) is a candidate;
the columns common to every line are ranked as val_quality.py ranks one invocation's rows
(:func:`val_quality.mean_ranks`; 1 = highest value; the duplicates val_sf / val_ei / val_qabf of
the paper-metric columns left out, as there), so that candidates evaluated in different runs on
the same validation data can be compared. Prints the rows best first.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from val_quality import DUPLICATES, mean_ranks  # noqa: E402


def parse_rows(lines) -> list[tuple[str, dict[str, float]]]:
    """(name, {column: value}) of every result line (comments and the mean-rank lines skipped)."""
    out = []
    for line in lines:
        toks = line.split()
        if not toks or line.startswith("#") or "val_sf" not in toks:
            continue
        i = toks.index("val_sf")
        vals = {toks[k]: float(toks[k + 1]) for k in range(i, len(toks) - 1, 2)}
        out.append((" ".join(toks[:i]), vals))
    return out


def columns(rows: list[tuple[str, dict[str, float]]]) -> list[str]:
    """The columns every row has, less val_sf / val_ei / val_qabf when the paper metrics are there."""
    common = set.intersection(*(set(v) for _, v in rows))
    if "val_EI" in common:
        common -= set(DUPLICATES)
    return sorted(common)


def ranked(rows: list[tuple[str, dict[str, float]]]) -> list[tuple[float, str]]:
    """(mean rank, name), best first, over the columns every row has (paper-metric duplicates out)."""
    cols = columns(rows)
    means = mean_ranks([{c: v[c] for c in cols} for _, v in rows])
    return sorted(zip(means, (n for n, _ in rows)))


def main() -> int:
    rows = [r for f in sys.argv[1:] for r in parse_rows(Path(f).read_text().splitlines())]
    if len(rows) < 2:
        raise SystemExit("val_rank.py: need at least two result lines")
    for m, name in ranked(rows):
        print(f"{m:6.2f}  {name}")
    print(f"({len(columns(rows))} columns)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
