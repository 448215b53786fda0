"""Plot the validation metrics of training runs side by side (docs/training.md).

    python scripts/plot_runs.py runs-log/default/log.csv runs-log/default-g0/log.csv \
        --labels "grad 0.2" "grad 0" -o docs/figures/val_default_candidates.png

Four panels: val_sf, val_ei, val_qabf (held-out RoadScene pairs) and val_mf_psnr (synthetic
multi-focus pairs from the held-out visible images) against the optimiser step, plus the
training loss (a running mean over 10 logged rows) in a fifth panel.
"""
from __future__ import annotations

import argparse
import csv

import numpy as np


class LogError(ValueError):
    """A log that is not a ``mutualfuse train`` log.csv, or options that do not fit the logs (one line)."""


def read_log(path: str) -> list[dict]:
    """The rows of a training run's ``log.csv`` (the header names ``step``); anything else is a
    :class:`LogError` naming the file."""
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            rows = list(reader)
            fields = reader.fieldnames or []
    except UnicodeDecodeError:
        raise LogError(f"{path}: not a text file (a training run's log.csv is CSV text)") from None
    except IsADirectoryError:
        raise LogError(f"{path}: is a folder (give the run's log.csv)") from None
    except OSError as e:
        raise LogError(f"{path}: cannot read it ({e.strerror or e})") from None
    except csv.Error as e:
        raise LogError(f"{path}: not a CSV file ({e})") from None
    if "step" not in fields or "loss" not in fields:
        raise LogError(f"{path}: not a training log (no step and loss columns: the log.csv that mutualfuse train "
                       "writes in its output folder)")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("logs", nargs="+")
    ap.add_argument("--labels", nargs="+", help="one label per log, in their order (default: the paths)")
    ap.add_argument("-o", "--out", required=True)
    args = ap.parse_args()
    labels = args.labels or args.logs
    if len(labels) != len(args.logs):  # zip() dropped the logs without a label
        raise LogError(f"--labels: {len(labels)} label(s) for {len(args.logs)} logs: give one per log, in their order")
    keys = [("val_sf", "SF (val)"), ("val_ei", "EI (val)"), ("val_qabf", "Qabf (val)"),
            ("val_mf_psnr", "multi-focus PSNR dB (val)"), ("loss", "training loss (mean of 10 rows)")]
    series = []  # (label, key, x, y), every log read and checked before the figure is drawn
    for path, label in zip(args.logs, labels):
        rows = read_log(path)
        found = 0
        for k, _ in keys:
            try:
                pts = [(int(r["step"]), float(r[k])) for r in rows if r.get(k)]
            except (TypeError, ValueError):
                raise LogError(f"{path}: a row's step or {k} is not a number") from None
            if pts:
                found += 1
                series.append((label, k, *map(np.array, zip(*pts))))
        if not found:
            raise LogError(f"{path}: no rows to plot (no logged step)")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(keys), figsize=(4 * len(keys), 3.2))
    panel = {k: (ax, title) for ax, (k, title) in zip(axes, keys)}
    for label, k, x, y in series:
        ax, title = panel[k]
        if k == "loss":  # a running mean over 10 logged rows (all of them in a shorter log)
            n = min(10, len(y))
            y = np.convolve(y, np.ones(n) / n, mode="valid")
            x = x[len(x) - len(y):]
        ax.plot(x, y, marker="o" if k != "loss" else None, ms=3, label=label)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        ax.tick_params(labelsize=7)
    next(ax for ax in axes if ax.lines).legend(fontsize=7)  # the first panel with lines (every log has a loss)
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(args.out)


if __name__ == "__main__":
    import sys as _sys

    from mutualfuse.errors import FuseError

    try:
        _sys.exit(main())
    except (FuseError, LogError, FileNotFoundError) as _e:  # bad input (data root, weights, names): one line
        print(f"{_sys.argv[0].rsplit('/', 1)[-1]}: error: {_e}", file=_sys.stderr)
        _sys.exit(2)
