"""Agreement of our classical baselines with the authors' Matlab outputs: Pearson r and grey-level differences.

Two sources of authors' outputs:

* ``--reference FILE.npz`` (default: ``tests/methods/data/baseline_reference.npz``,
  ``baseline_reference_cbf_mgff.npz`` and ``baseline_reference_mst.npz``): files that
  ``scripts/record_baseline_reference.py`` writes (inputs and the authors' uint8 outputs of one
  central crop);
* ``--fused DIR --data ROOT --pairs 01,02``: full-size fused images the authors' code wrote as
  ``DIR/<method>_<pair>.png`` for the TNO pairs ``ROOT/ir-vis/tno/{ir,vis}/<pair>.png``.

For each method and image it prints Pearson r, max and mean |difference| in grey levels and the
fraction of pixels that differ, after mapping our output to uint8 as the authors' wrappers do
(``im2uint8``). Options per method (``OPTIONS``) select the authors' variant where ours has a
choice (``msvd``: VIFB's gray branch rescales with ``mat2gray``).

Usage::

    python scripts/baseline_agreement.py
    python scripts/baseline_agreement.py --fused /tmp/vifb-out --data /work/shared/data --pairs 01,02
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
DEFAULT_REFS = [REPO / "tests" / "methods" / "data" / "baseline_reference.npz",
                REPO / "tests" / "methods" / "data" / "baseline_reference_cbf_mgff.npz",
                REPO / "tests" / "methods" / "data" / "baseline_reference_mst.npz"]
OPTIONS = {"msvd": {"mat2gray": True}, "gtf": {"solver": "irn"}}


def die(msg: str) -> None:
    print(f"baseline_agreement: {msg}", file=sys.stderr)
    sys.exit(2)


def im2uint8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.floor(np.clip(x, 0, 1) * 255 + 0.5), 0, 255).astype(np.uint8)


def compare(method: str, ir: np.ndarray, vis: np.ndarray, theirs: np.ndarray) -> dict:
    from mutualfuse.methods import fuse_gray

    ours = im2uint8(fuse_gray(method, ir / 255.0, vis / 255.0, **OPTIONS.get(method, {}))).astype(float)
    theirs = theirs.astype(float)
    d = np.abs(ours - theirs)
    return {"r": float(np.corrcoef(ours.ravel(), theirs.ravel())[0, 1]), "max": float(d.max()),
            "mean": float(d.mean()), "differ": float((d > 0).mean())}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reference", type=Path, default=None)
    ap.add_argument("--fused", type=Path, default=None)
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--pairs", default="01")
    ap.add_argument("--methods", default=None, help="default: every method in the files")
    args = ap.parse_args(argv)
    methods = [m for m in args.methods.split(",") if m] if args.methods else None
    rows = []
    if args.fused is None:
        paths = [args.reference] if args.reference else [f for f in DEFAULT_REFS if f.is_file()]
        for ref_path in paths:
            if not ref_path.is_file():
                die(f"{ref_path}: not found")
            ref = np.load(ref_path)
            meta = json.loads(str(ref["meta"]))
            for m in (methods or meta["methods"]):
                if m not in ref.files:
                    if methods and args.reference:
                        die(f"{ref_path}: no recorded output for {m!r} (has {', '.join(meta['methods'])})")
                    continue
                rows.append((m, f"{meta['pair']} crop {meta['crop']}", compare(m, ref["ir"], ref["vis"], ref[m])))
    else:
        methods = methods or ["msvd", "gtf"]
        if args.data is None:
            die("--fused needs --data (the root holding ir-vis/tno)")
        for p in args.pairs.split(","):
            ims = []
            for kind in ("ir", "vis"):
                f = args.data / "ir-vis" / "tno" / kind / f"{p}.png"
                if not f.is_file():
                    die(f"{f}: not found")
                ims.append(np.asarray(Image.open(f).convert("L")))
            for m in methods:
                f = args.fused / f"{m}_{p}.png"
                if not f.is_file():
                    die(f"{f}: not found")
                theirs = np.asarray(Image.open(f).convert("L"))
                if theirs.shape != ims[0].shape:
                    die(f"{f}: shape {theirs.shape} differs from the input's {ims[0].shape}")
                rows.append((m, f"tno/{p} {ims[0].shape[1]}x{ims[0].shape[0]}", compare(m, ims[0], ims[1], theirs)))
    print(f"{'method':<8}{'image':<34}{'Pearson r':>11}{'max |d|':>9}{'mean |d|':>10}{'differ':>9}")
    for m, name, s in rows:
        print(f"{m:<8}{name:<34}{s['r']:>11.6f}{s['max']:>9.0f}{s['mean']:>10.4f}{s['differ']:>9.2%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
