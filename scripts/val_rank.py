"""Mean rank of the rows of several ``scripts/val_quality.py`` outputs, ranked together.

Usage: python scripts/val_rank.py [--task ir-vis|multi-focus|medical] runs-log/val_a.txt runs-log/val_b.txt

Each output line of val_quality.py (``NAME SETTINGS  col value  col value ...``) is a candidate;
the columns common to every line are ranked as val_quality.py ranks one invocation's rows
(:func:`val_quality.mean_ranks`; 1 = highest value; the duplicates val_sf / val_ei / val_qabf of
the paper-metric columns left out, as there), so that candidates evaluated in different runs on
the same validation data can be compared. Prints the rows best first. ``--task`` ranks over that
task's columns only (:data:`TASK_COLUMNS`), as the per-task settings of the shipped weights were
chosen (docs/training.md, "Per-task settings").
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from val_quality import DUPLICATES, mean_ranks  # noqa: E402

#: which validation columns belong to which task: the RoadScene pairs' own columns (``val_*``) and
#: IR–VIS extra sets for ``ir-vis``; the synthetic multi-focus PSNR for ``multi-focus``; the medical
#: extra sets for ``medical``
TASK_COLUMNS = {
    "ir-vis": lambda c: (c.startswith("val_") and c != "val_mf_psnr") or c.startswith(("tno40_", "kaist-sample_")),
    "multi-focus": lambda c: c == "val_mf_psnr",
    "medical": lambda c: c.startswith(("ct-mr-harvard_", "pet-mri_", "spect-mri_")),
}


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


def columns(rows: list[tuple[str, dict[str, float]]], task: str | None = None) -> list[str]:
    """The columns every row has, less val_sf / val_ei / val_qabf when the paper metrics are there;
    only ``task``'s (:data:`TASK_COLUMNS`) when given."""
    common = set.intersection(*(set(v) for _, v in rows))
    if "val_EI" in common:
        common -= set(DUPLICATES)
    if task is not None:
        common = {c for c in common if TASK_COLUMNS[task](c)}
    return sorted(common)


def ranked(rows: list[tuple[str, dict[str, float]]], task: str | None = None) -> list[tuple[float, str]]:
    """(mean rank, name), best first, over the columns every row has (paper-metric duplicates out),
    only ``task``'s (:data:`TASK_COLUMNS`) when given."""
    cols = columns(rows, task)
    means = mean_ranks([{c: v[c] for c in cols} for _, v in rows])
    return sorted(zip(means, (n for n, _ in rows)))


class RankError(ValueError):
    """Files that hold no result lines to rank (one line, exit status 2)."""


def main() -> int:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", choices=sorted(TASK_COLUMNS), default=None,
                    help="rank over this task's validation columns only")
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    rows = []
    for f in args.files:
        try:
            text = Path(f).read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise RankError(f"{f}: not a text file (the output of scripts/val_quality.py)") from None
        except IsADirectoryError:
            raise RankError(f"{f}: is a folder (give val_quality.py output files)") from None
        except FileNotFoundError:
            raise
        except OSError as e:
            raise RankError(f"{f}: cannot read it ({e.strerror or e})") from None
        try:
            found = parse_rows(text.splitlines())
        except (ValueError, IndexError):
            raise RankError(f"{f}: a line holding val_sf is not val_quality.py's NAME SETTINGS  col value ...") from None
        if not found:
            raise RankError(f"{f}: no result line (val_quality.py's lines hold val_sf and its values)")
        rows += found
    if len(rows) < 2:
        raise RankError(f"{len(rows)} result line in {', '.join(args.files)}: ranking needs at least two")
    cols = columns(rows, args.task)
    if not cols:
        raise RankError(f"no {args.task or ''} columns common to every line".replace("  ", " "))
    for m, name in ranked(rows, args.task):
        print(f"{m:6.2f}  {name}")
    print(f"({len(cols)} columns{', task ' + args.task if args.task else ''}: {', '.join(cols)})")
    return 0


if __name__ == "__main__":
    import sys as _sys

    from mutualfuse.errors import FuseError

    try:
        _sys.exit(main())
    except (FuseError, RankError, FileNotFoundError) as _e:  # bad input (data root, weights, names): one line
        print(f"{_sys.argv[0].rsplit('/', 1)[-1]}: error: {_e}", file=_sys.stderr)
        _sys.exit(2)
