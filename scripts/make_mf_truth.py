"""Synthetic multi-focus pairs with a known truth (deterministic), for benchmarks/bench_quality.py.

    python scripts/make_mf_truth.py --data-root /data -o out/mf-truth

Truth: the six visible images of ``ir-vis/msrs-sample`` under the data root (MSRS, Tang et
al.; not training images: training uses train/roadscene only), converted to gray by BT.601
luma and rounded to 8 bits. Source ``a`` keeps a centred disc (radius = 0.3 × the shorter
side) sharp and blurs the rest with a Gaussian of σ = 3 (scipy.ndimage, reflected borders);
``b`` is the complement (disc blurred, the rest sharp). The mask is hard, so the truth is
exactly the sharp pixels of whichever source is in focus. Writes ``a/``, ``b/``, ``truth/``
(8-bit gray PNGs, same names). Existing files are rewritten identically. Bad input (no data root,
a data root without the set, a set without PNGs, ``-o`` an existing file) is a one-line
``make_mf_truth.py: error: ...`` with exit status 2 and nothing written.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

SIGMA = 3.0
RADIUS = 0.3
SET = "ir-vis/msrs-sample/vis"


def make_pairs(root: Path, out: Path) -> list[str]:
    """Write the pairs into ``out``; bad input is :class:`mutualfuse.errors.InputError` (one line),
    raised before anything is written."""
    from PIL import Image
    from scipy import ndimage

    from mutualfuse.errors import InputError

    src = root / SET
    if not src.is_dir():
        raise InputError(f"{src}: not found (needs the shared data root, which holds {SET})")
    names = sorted(p.name for p in src.iterdir() if p.suffix.lower() == ".png" and p.is_file())
    if not names:
        raise InputError(f"{src}: no .png images (the truth images)")
    for d in (out, out / "a", out / "b", out / "truth"):
        if d.exists() and not d.is_dir():
            raise InputError(f"{d}: exists and is not a folder (-o names the output folder)")
    for d in ("a", "b", "truth"):
        (out / d).mkdir(parents=True, exist_ok=True)
    for n in names:
        rgb = np.asarray(Image.open(src / n).convert("RGB"), dtype=np.float64)
        y = np.round(rgb @ np.array([0.299, 0.587, 0.114])).clip(0, 255)
        h, w = y.shape
        yy, xx = np.mgrid[0:h, 0:w]
        disc = (yy - (h - 1) / 2) ** 2 + (xx - (w - 1) / 2) ** 2 <= (RADIUS * min(h, w)) ** 2
        blur = ndimage.gaussian_filter(y, SIGMA, mode="reflect")
        a = np.where(disc, y, blur)
        b = np.where(disc, blur, y)
        for d, img in (("truth", y), ("a", a), ("b", b)):
            Image.fromarray(np.round(img).clip(0, 255).astype(np.uint8)).save(out / d / n)
    return names


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-root", default=os.environ.get("MUTUALFUSE_DATA"))
    ap.add_argument("-o", "--out", required=True)
    args = ap.parse_args()
    if not args.data_root:
        ap.error("the data root: pass --data-root or set MUTUALFUSE_DATA")
    names = make_pairs(Path(args.data_root), Path(args.out))
    print(f"{len(names)} pairs in {args.out}")


if __name__ == "__main__":
    import sys as _sys

    from mutualfuse.errors import FuseError

    try:
        _sys.exit(main())
    except FuseError as _e:  # bad input: one line, exit 2 (was exit 1, or a traceback for -o FILE)
        print(f"make_mf_truth.py: error: {_e}", file=_sys.stderr)
        _sys.exit(2)
