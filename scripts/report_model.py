"""Score a trained model against the pixel average on TNO and draw the docs figures.

    python scripts/report_model.py --weights default --data-root $MUTUALFUSE_DATA \
        --log runs/cpu/log.csv --name cpu

Writes (under --out, default docs/figures):
  tno_<name>.csv            per-pair scores of the model and of the average (EN, SD, SF, AG, Qabf
                            by default)
  tno_contact_<name>.png    IR | VIS | fused for 6 pairs
  loss_<name>.png           training / validation loss curve (from the run's log.csv; with --log)
and prints the mean table and, per metric, whether the model beats the average (each metric's own
direction: higher, lower or closer to 0 is better); exit status 0 when it beats it on every
metric, 1 otherwise, 2 on bad input.

The metrics are chosen as `mutualfuse evaluate` chooses them (mutualfuse.evaluation.select_metrics:
--metrics keys, bare names where unambiguous, and --profile names, e.g. --profile paper; --import
MODULE for metrics or profiles of one's own); the default is EN, SD, SF and AG of VIFB and its
Q^AB/F, labelled by their short names. Metrics are computed on the 8-bit images as written to disk,
for both methods.
"""
from __future__ import annotations

import argparse
import csv
import os
import sys
from pathlib import Path

import numpy as np
from PIL import Image

#: the default columns (``--metrics``): the five of the docs' TNO tables
DEFAULT_METRICS = ["EN@vifb", "SD@vifb", "SF@vifb", "AG@vifb", "Qabf@vifb"]


def columns(metrics: list[str] | None, profiles: list[str] | None) -> dict[str, str]:
    """``{column label: registered metric key}`` as ``mutualfuse evaluate --metrics ... --profile ...``
    chooses them, labels included (:func:`mutualfuse.evaluation.select_metrics`; neither:
    :data:`DEFAULT_METRICS`). Without a profile, where the command labels every column by its
    key, the columns get the metrics' short names (``EN`` for ``EN@vifb``) if no two share one."""
    from mutualfuse.evaluation import select_metrics

    if not metrics and not profiles:
        metrics = DEFAULT_METRICS
    chosen = select_metrics(metrics or None, profiles or None)
    short = [key.split("@")[0] for key in chosen.values()]
    if profiles or len(set(short)) < len(short):
        return dict(chosen)
    return dict(zip(short, chosen.values()))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", default="default")
    ap.add_argument("--data-root", default=os.environ.get("MUTUALFUSE_DATA"))
    ap.add_argument("--set", default="ir-vis/tno")
    ap.add_argument("--log", help="training log.csv for the loss curve")
    ap.add_argument("--name", default="default")
    ap.add_argument("--out", default="docs/figures")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--metrics", nargs="+", action="extend", metavar="KEY",
                    help="metric keys, as `mutualfuse evaluate --metrics` takes them (default: "
                         + " ".join(DEFAULT_METRICS) + ")")
    ap.add_argument("--profile", action="append", metavar="NAME",
                    help="metric profile(s), as `mutualfuse evaluate --profile` takes them (e.g. paper, vifb)")
    ap.add_argument("--import", dest="imports", action="append", default=[], metavar="MODULE",
                    help="import a module of one's own first (metrics or profiles it registers)")
    args = ap.parse_args()
    if not args.data_root:
        sys.exit("report_model: pass --data-root or set MUTUALFUSE_DATA")
    if args.imports:
        from mutualfuse.plugins import import_user_modules

        import_user_modules(args.imports)
    cols = columns(args.metrics, args.profile)  # an unknown key or profile: one line, before any work
    labels = list(cols)
    if args.log and not Path(args.log).is_file():  # before the pairs are fused, not after
        raise FileNotFoundError(f"{args.log}: training log not found (--log)")
    from tqdm import tqdm

    from mutualfuse.api import Fuser
    from mutualfuse.metrics import METRICS as REG, goodness

    root = Path(args.data_root) / args.set
    names = sorted(p.name for p in (root / "ir").iterdir())
    fuser = Fuser(args.weights, device=args.device)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows, sheet = [], []
    for n in tqdm(names, desc="TNO", file=sys.stderr):
        ir = np.asarray(Image.open(root / "ir" / n).convert("L"))
        vis = np.asarray(Image.open(root / "vis" / n).convert("L"))
        fused = fuser.fuse(ir, vis)  # uint8 in, uint8 out (rounded as when written)
        avg = np.floor((ir.astype(np.int32) + vis + 1) / 2).astype(np.uint8)  # rounded half up
        for method, f in (("model", fused), ("average", avg)):
            rows.append({"pair": n, "method": method, **{lab: float(REG.get(key)(ir, vis, f)) for lab, key in cols.items()}})
        if len(sheet) < 6 and n in ("01.png", "02.png", "05.png", "07.png", "11.png", "17.png"):
            sheet.append((ir, vis, fused))
    with open(out / f"tno_{args.name}.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["pair", "method", *labels])
        w.writeheader()
        for r in rows:
            w.writerow({k: (f"{v:.6f}" if isinstance(v, float) else v) for k, v in r.items()})
    means = {m: {l: float(np.mean([r[l] for r in rows if r["method"] == m])) for l in labels} for m in ("model", "average")}
    print(f"| {args.set} ({len(names)} pairs), mean | " + " | ".join(labels) + " |")
    print("|---|" + "---|" * len(labels))
    for m in ("model", "average"):
        print(f"| {m} | " + " | ".join(f"{means[m][l]:.4f}" for l in labels) + " |")
    beats = {l: goodness(cols[l], means["model"][l]) > goodness(cols[l], means["average"][l]) for l in labels}
    print("model beats average on: " + ", ".join(f"{l}={'yes' if v else 'NO'}" for l, v in beats.items()))
    _contact_sheet(sheet, out / f"tno_contact_{args.name}.png")
    if args.log:
        _loss_plot(Path(args.log), out / f"loss_{args.name}.png", args.name)
    return 0 if all(beats.values()) else 1


def _contact_sheet(triples, path: Path, height: int = 180) -> None:
    rows = []
    for trip in triples:
        tiles = []
        for im in trip:
            h, w = im.shape
            tiles.append(np.asarray(Image.fromarray(im).resize((max(1, round(w * height / h)), height), Image.BICUBIC)))
        gap = np.full((height, 4), 255, np.uint8)
        rows.append(np.concatenate([tiles[0], gap, tiles[1], gap, tiles[2]], 1))
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 4), (0, width - r.shape[1])), constant_values=255) for r in rows]
    Image.fromarray(np.concatenate(rows, 0)).save(path)


def _loss_plot(log: Path, path: Path, name: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps, loss, vsteps, vloss = [], [], [], []
    with open(log) as fh:
        for r in csv.DictReader(fh):
            steps.append(int(r["step"]))
            loss.append(float(r["loss"]))
            if r["val_loss"]:
                vsteps.append(int(r["step"]))
                vloss.append(float(r["val_loss"]))
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=120)
    ax.plot(steps, loss, lw=0.6, alpha=0.6, label="train (batch)")
    if len(loss) > 20:
        k = 20
        sm = np.convolve(loss, np.ones(k) / k, mode="valid")
        ax.plot(steps[k - 1 :], sm, lw=1.2, label=f"train ({k}-point mean)")
    if vloss:
        ax.plot(vsteps, vloss, "o-", ms=3, label="validation (8 held-out pairs)")
    ax.set_xlabel("step")
    ax.set_ylabel("1 - Var-SSIM")
    ax.set_ylim(0, min(1.1, max(loss) * 1.05))
    ax.set_title(f"training loss ({name})")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)


if __name__ == "__main__":
    import sys as _sys

    from mutualfuse.errors import FuseError

    try:
        _sys.exit(main())
    except (FuseError, FileNotFoundError) as _e:  # bad input (data root, weights, names): one line
        print(f"{_sys.argv[0].rsplit('/', 1)[-1]}: error: {_e}", file=_sys.stderr)
        _sys.exit(2)
