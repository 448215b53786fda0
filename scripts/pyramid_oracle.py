"""How sharp can a pyramid *selection* be? Hard max-abs selection per Laplacian band on TNO.

    MUTUALFUSE_DATA=/data python scripts/pyramid_oracle.py [--set ir-vis/tno] [--levels 4 5]

For every pair of the set it splits both sources into the Laplacian pyramid of the
``output="pyramid"`` head (:mod:`mutualfuse.model.pyramid`; sides cropped to a multiple of
2^(levels−1)), keeps in every detail band the coefficient of larger magnitude (the classic
``lp`` rule, a hard 0/1 weight per coefficient — the sharpest thing a per-band convex blend can
do at one coefficient), takes the base band as the average or the maximum, collapses, clips to
[0, 1] and prints the mean EI and SF (VIFB conventions, 0–255) beside the sources'. It shows
which EI/SF targets a pyramid blend can reach without adding contrast (docs/training.md).
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
import torch

from mutualfuse.image_io import read_gray_float
from mutualfuse.metrics.gradient import ei, sf
from mutualfuse.model.pyramid import collapse_pyramid, laplacian_pyramid


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-root", default=os.environ.get("MUTUALFUSE_DATA"))
    ap.add_argument("--set", default="ir-vis/tno")
    ap.add_argument("--levels", type=int, nargs="+", default=[4, 5])
    args = ap.parse_args()
    if not args.data_root:
        ap.error("give --data-root or set MUTUALFUSE_DATA")
    root = Path(args.data_root) / args.set
    roles = ("ir", "vis") if (root / "ir").is_dir() else ("a", "b")
    names = sorted(p.name for p in (root / roles[0]).iterdir() if p.is_file())
    rows = []
    for n in names:
        x, y = (read_gray_float(root / r / n).astype(np.float64) for r in roles)
        row = {"EI A": ei(x * 255), "EI B": ei(y * 255), "SF A": sf(x * 255), "SF B": sf(y * 255)}
        for L in args.levels:
            m = 2 ** (L - 1)
            h, w = x.shape[0] - x.shape[0] % m, x.shape[1] - x.shape[1] % m
            tx, ty = (torch.from_numpy(t[:h, :w].copy())[None, None] for t in (x, y))
            bx, by = laplacian_pyramid(tx, L), laplacian_pyramid(ty, L)
            details = [torch.where(u.abs() >= v.abs(), u, v) for u, v in zip(bx[:-1], by[:-1])]
            for base_name, base in (("avg", (bx[-1] + by[-1]) / 2), ("max", torch.maximum(bx[-1], by[-1]))):
                f = collapse_pyramid(details + [base])[0, 0].clamp(0, 1).numpy() * 255
                row[f"EI L{L} {base_name}"] = ei(f)
                row[f"SF L{L} {base_name}"] = sf(f)
        rows.append(row)
    print(f"# {args.set}: {len(rows)} pairs, means (A = {roles[0]}, B = {roles[1]})")
    for k in rows[0]:
        print(f"{k:12s} {np.mean([r[k] for r in rows]):8.2f}")
    return 0


if __name__ == "__main__":
    import sys as _sys

    from mutualfuse.errors import FuseError

    try:
        _sys.exit(main())
    except (FuseError, FileNotFoundError) as _e:  # bad input (data root, weights, names): one line
        print(f"{_sys.argv[0].rsplit('/', 1)[-1]}: error: {_e}", file=_sys.stderr)
        _sys.exit(2)
