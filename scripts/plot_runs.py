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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("logs", nargs="+")
    ap.add_argument("--labels", nargs="+")
    ap.add_argument("-o", "--out", required=True)
    args = ap.parse_args()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = args.labels or args.logs
    keys = [("val_sf", "SF (val)"), ("val_ei", "EI (val)"), ("val_qabf", "Qabf (val)"),
            ("val_mf_psnr", "multi-focus PSNR dB (val)"), ("loss", "training loss (mean of 10 rows)")]
    fig, axes = plt.subplots(1, len(keys), figsize=(4 * len(keys), 3.2))
    for path, label in zip(args.logs, labels):
        rows = list(csv.DictReader(open(path)))
        for ax, (k, title) in zip(axes, keys):
            pts = [(int(r["step"]), float(r[k])) for r in rows if r.get(k)]
            if not pts:
                continue
            x, y = map(np.array, zip(*pts))
            if k == "loss":
                y = np.convolve(y, np.ones(10) / 10, mode="valid")
                x = x[len(x) - len(y):]
            ax.plot(x, y, marker="o" if k != "loss" else None, ms=3, label=label)
            ax.set_title(title, fontsize=9)
            ax.set_xlabel("step", fontsize=8)
            ax.tick_params(labelsize=7)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(args.out)


if __name__ == "__main__":
    import sys as _sys

    from mutualfuse.errors import FuseError

    try:
        _sys.exit(main())
    except (FuseError, FileNotFoundError) as _e:  # bad input (data root, weights, names): one line
        print(f"{_sys.argv[0].rsplit('/', 1)[-1]}: error: {_e}", file=_sys.stderr)
        _sys.exit(2)
