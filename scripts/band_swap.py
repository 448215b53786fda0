"""Which pyramid bands make two shipped models differ: fuse a set with band weights taken from
one model in some bands and from the other in the rest, and score every mix.

Usage:
    MUTUALFUSE_DATA=/data python scripts/band_swap.py --models centred,default --set medical/ct-mr \
        [--out out/band_swap] [-j 1]

Both models must have the ``"pyramid"`` output with the same number of bands. For every subset
of bands given to the second model (the rest from the first; bands numbered 0 = finest ... n-1
= base) the pairs are fused with ``pyramid_blend`` of the mixed per-band weights (each model at
its own stored inference settings, the sources padded as the fuse path pads them) and scored
with ``mutualfuse evaluate --profile paper``; the means are printed as one table. A diagnostic
(it runs the networks' stages directly, not ``mutualfuse fuse``); the two unmixed rows equal
the models' own outputs up to the final 8-bit rounding.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def _band_weights(net, a, b):
    """The weight of X per band (band j at its own size), as ``FMMNet.decode`` computes it."""
    import torch

    with torch.no_grad():
        fx, fy = net.encode(a, b)
        out = net.decoder(net.fuse(fx, fy))
        return [w.to(a.dtype) for w in net._band_weights(out, a, b)]


def mixed_fusions(nets, a, b, mixes):
    """{mix: fused (B, 1, H, W)} for padded sources ``a``, ``b``: band j blended with the second
    network's weights where j is in the mix, the first's elsewhere (``pyramid_blend``)."""
    import torch

    from mutualfuse.model.pyramid import pyramid_blend

    ws = [_band_weights(m, a, b) for m in nets]
    out = {}
    with torch.no_grad():
        for s in mixes:
            out[s] = pyramid_blend([ws[1][j] if j in s else ws[0][j] for j in range(len(ws[0]))], a, b)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="centred,default", help="FIRST,SECOND shipped names or weights files")
    ap.add_argument("--set", default="medical/ct-mr", help="a set folder under the data root with a/ and b/")
    ap.add_argument("--data-root", default=os.environ.get("MUTUALFUSE_DATA"))
    ap.add_argument("--out", type=Path, default=REPO / "out" / "band_swap")
    ap.add_argument("-j", "--jobs", type=int, default=1)
    args = ap.parse_args()
    if not args.data_root:
        ap.error("give --data-root or set MUTUALFUSE_DATA")
    import torch
    from PIL import Image

    from mutualfuse.model.blocks import pad_to_multiple
    from mutualfuse.weights import load_model

    names = args.models.split(",")
    if len(names) != 2:
        ap.error("--models takes two names")
    nets = [load_model(n)[0].eval() for n in names]
    n = nets[0].cfg.pyramid_levels
    if any(m.cfg.output != "pyramid" or m.cfg.pyramid_levels != n for m in nets):
        ap.error("both models need the pyramid output with the same number of bands")
    if any(m.cfg.pyramid_gain or m.cfg.detail_gain != 1.0 for m in nets):
        ap.error("band gains (pyramid_gain, detail_gain) are not mixed by this diagnostic")
    root = Path(args.data_root) / args.set
    subdirs = sorted(p.name for p in root.iterdir() if p.is_dir())
    ra, rb = subdirs[:2]
    mixes = [frozenset(c) for k in range(n + 1) for c in itertools.combinations(range(n), k)]
    label = {s: (f"{names[0]} + {names[1]} in bands {','.join(map(str, sorted(s)))}" if 0 < len(s) < n
                 else names[1] if s else names[0]) for s in mixes}
    folders = {s: args.out / args.set.replace("/", "_") / ("mix-" + "".join(map(str, sorted(s))) if s else "mix-none")
               for s in mixes}
    for d in folders.values():
        d.mkdir(parents=True, exist_ok=True)
    mult = max(m.cfg.multiple for m in nets)
    for pa in sorted((root / ra).iterdir()):
        ims = [np.asarray(Image.open(p).convert("L"), dtype=np.float32) / 255 for p in (pa, root / rb / pa.name)]
        h, w = ims[0].shape
        a, b = (pad_to_multiple(torch.from_numpy(x)[None, None], mult) for x in ims)
        for s, f in mixed_fusions(nets, a, b, mixes).items():
            f = f[0, 0, :h, :w].clamp(0, 1)
            Image.fromarray(np.round(f.numpy() * 255).astype(np.uint8)).save(folders[s] / pa.name)
    res = args.out / f"scores_{args.set.replace('/', '_')}.json"
    cmd = [sys.executable, "-m", "mutualfuse", "evaluate", "--a", str(root / ra), "--b", str(root / rb),
           "--profile", "paper", "-o", str(res), "-j", str(args.jobs), "-q"]
    for d in folders.values():
        cmd += ["--fused", str(d)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)  # its per-image table: in the JSON
    scores = json.loads(res.read_text())
    by_folder = {str(d.resolve()): s for s, d in folders.items()}
    rows = {}
    for d in scores["methods"].values():
        rows[by_folder[str(Path(d["folder"]).resolve())]] = {k: float("nan") if v is None else float(v)  # null = NaN
                                                             for k, v in d["mean"].items()}
    metrics = list(next(iter(rows.values())))
    print(f"# band_swap  models={names}  set={args.set}  bands 0 (finest) .. {n - 1} (base)")
    print("| bands from " + names[1] + " | " + " | ".join(metrics) + " |")
    print("|---|" + "---|" * len(metrics))
    for s in mixes:
        print(f"| {label[s]} | " + " | ".join(f"{rows[s][m]:.4g}" for m in metrics) + " |")
    return 0


if __name__ == "__main__":
    import sys as _sys

    from mutualfuse.errors import FuseError

    try:
        _sys.exit(main())
    except (FuseError, FileNotFoundError) as _e:  # bad input (data root, weights, names): one line
        print(f"{_sys.argv[0].rsplit('/', 1)[-1]}: error: {_e}", file=_sys.stderr)
        _sys.exit(2)
