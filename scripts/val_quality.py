"""Validation numbers of shipped or trained weights, optionally with model-config overrides.

    MUTUALFUSE_DATA=/data python scripts/val_quality.py --weights default \\
        --override blend_temperature=1 --override blend_temperature=0.5

Scores the held-out validation pairs of a training config (default ``configs/pyramid-g5.yaml``:
the same ``val_pairs`` split by the same seed as the run that made ``default``) with the
trainer's own :func:`mutualfuse.train.loop.validation_quality` (SF, EI, Q^AB/F of the fused
IR–VIS pairs, PSNR on synthetic multi-focus pairs; with ``--blackout`` also
:func:`~mutualfuse.train.loop.validation_blackout`), once per ``--override`` (``KEY=VALUE`` of
the model config, several joined by commas; none = the weights as shipped). With
``--paper-metrics`` also the nine metrics of the paper's Table 1 (profile ``paper``: EI, SF, EN,
Qabf, SCD, MS_SSIM, MI, SD, VIF) of the fused IR–VIS validation pairs (full size, the fused
image rounded to 8 bits as saved), each as ``val_<name>``. With more than one evaluation, the
last line gives each one's mean rank over all columns (1 = best; every column is
higher-is-better; with ``--paper-metrics`` val_sf, val_ei and val_qabf, which the paper's EI,
SF and Qabf repeat, are left out of it). ``--extra-set DIR`` adds the same nine metrics on every
pair of another held-out folder (``a/``, ``b/`` under the data root), e.g. a medical set for a
setting that only medical pairs exercise; ``--disjoint-from TESTDIR`` leaves out of every extra set
the pairs that show nearly the same scene as a pair of TESTDIR
(:func:`mutualfuse.train.data.near_duplicates`, thumbnail correlation >= ``--disjoint-threshold``),
e.g. ``--extra-set ir-vis/tno40 --disjoint-from ir-vis/tno`` keeps the 20 of tno40's 40 pairs that
are neither copies nor re-crops nor close neighbouring frames of the TNO test pairs. Never touches
a test set.
"""
from __future__ import annotations

import argparse
import ast


#: the validation loop's own SF / EI / Q^AB/F columns, which the paper metrics' EI, SF and Qabf
#: repeat: left out of the mean rank when the paper metrics are there
DUPLICATES = ("val_sf", "val_ei", "val_qabf")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", default="default")
    ap.add_argument("--config", default="configs/pyramid-g5.yaml")
    ap.add_argument("--data-root", default=None)
    ap.add_argument("--override", action="append", default=[], help="KEY=VALUE[,KEY=VALUE...] of the model config, one evaluation each; repeatable")
    ap.add_argument("--blackout", action="store_true",
                    help="also val_black_psnr (train.loop.validation_blackout): one source black in a region")
    ap.add_argument("--paper-metrics", action="store_true",
                    help="also the paper profile's nine metrics of the fused validation IR-VIS pairs")
    ap.add_argument("--extra-set", action="append", default=[], metavar="DIR",
                    help="also the paper profile's metrics of every pair of DIR (a/ and b/ under the data root, "
                         "e.g. medical/ct-mr-harvard), as columns <DIR's last part>_<metric>; repeatable. Only "
                         "sets that no model trains on and that are not the targets' test sets")
    ap.add_argument("--disjoint-from", action="append", default=[], metavar="TESTDIR",
                    help="leave out of every --extra-set the pairs that nearly repeat a pair of TESTDIR "
                         "(a test set, e.g. ir-vis/tno); repeatable")
    ap.add_argument("--disjoint-threshold", type=float, default=0.8,
                    help="thumbnail correlation from which a pair counts as a near-duplicate (default 0.8)")
    args = ap.parse_args()
    import torch

    from pathlib import Path

    from mutualfuse.image_io import read_gray_float
    from mutualfuse.train.data import find_pairs, near_duplicates
    from mutualfuse.train.loop import validation_blackout, validation_quality
    from mutualfuse.weights import load_model

    torch.set_num_threads(1)
    root, images = validation_images(args.config, args.data_root)
    extra = {}
    tests = [p for t in args.disjoint_from for p in find_pairs(root / t)]
    for d in args.extra_set:
        ps = find_pairs(root / d)
        if tests:
            dup = near_duplicates(ps, tests, args.disjoint_threshold)
            out = {p for p, _, _ in dup}
            ps = [p for p in ps if p not in out]
            print(f"{d}: {len(ps)} pairs kept, {len(dup)} left out as near-duplicates of "
                  f"{', '.join(args.disjoint_from)}"
                  + "".join(f"{', ' if i else ': '}{p[0].stem}~{r[0].stem} {s:.3f}" for i, (p, s, r) in enumerate(dup)),
                  flush=True)
        if not ps:
            raise SystemExit(f"--extra-set {d}: no pairs under {root / d}")
        extra[Path(d).name] = [(read_gray_float(a), read_gray_float(b)) for a, b in ps]
    rows: list[tuple[str, dict[str, float]]] = []
    for ov in args.override or [""]:
        kw = {}
        for item in filter(None, ov.split(",")):
            k, v = item.split("=", 1)
            kw[k.strip()] = ast.literal_eval(v.strip())
        net, _ = load_model(args.weights, **kw)
        net.eval()
        q = validation_quality(net, images)
        if args.blackout:
            q.update(validation_blackout(net, images))
        if args.paper_metrics:
            q.update(paper_metrics(net, images))
        for name, imgs in extra.items():
            q.update({f"{name}_{k[4:]}": v for k, v in paper_metrics(net, imgs).items()})
        rows.append((ov or "(as shipped)", q))
        print(f"{args.weights} {ov or '(as shipped)':<28} " + "  ".join(f"{k} {v:.4f}" for k, v in q.items()), flush=True)
    if len(rows) > 1:
        drop = set(DUPLICATES) if args.paper_metrics else set()
        table = [{k: v for k, v in q.items() if k not in drop} for _, q in rows]
        ranks = mean_ranks(table)
        print(f"mean rank over {', '.join(table[0])}: "
              + ", ".join(f"{name} {r:.2f}" for (name, _), r in zip(rows, ranks))
              + f" -> {rows[min(range(len(rows)), key=ranks.__getitem__)][0]}")


def validation_images(config: str, data_root: str | None):
    """(data root, gray float validation pairs): the held-out pairs of a training config, at the
    size the trainer validates them (the same split by the same seed)."""
    from mutualfuse.train.config import TrainConfig
    from mutualfuse.train.data import PairCrops, find_pairs, resolve_data_root, split_pairs

    cfg = TrainConfig.load(config)
    root = resolve_data_root(data_root, cfg.data.root)
    pairs = [p for s in cfg.data.sets for p in find_pairs(root / s)]
    _, val = split_pairs(pairs, cfg.data.val_pairs, cfg.seed)
    return root, PairCrops(val, cfg.data.crop, cfg.seed, center=True).images


def paper_metrics(net, images) -> dict[str, float]:
    """Means of the ``paper`` profile's metrics over the fused validation pairs (0–255, fused rounded)."""
    import numpy as np
    import torch

    from mutualfuse.metrics import evaluate_pair

    acc: dict[str, list[float]] = {}
    with torch.no_grad():
        for a, b in images:
            f = net(torch.from_numpy(a)[None, None], torch.from_numpy(b)[None, None]).float().clamp(0, 1)
            f8 = np.round(f[0, 0].numpy() * 255.0).astype(np.uint8)
            a8, b8 = (np.round(x * 255.0).astype(np.uint8) for x in (a, b))
            for k, v in evaluate_pair(a8, b8, f8, profile="paper").items():
                acc.setdefault(f"val_{k}", []).append(v)
    return {k: float(np.mean(v)) for k, v in acc.items()}


def mean_ranks(rows: list[dict[str, float]]) -> list[float]:
    """Each row's mean over the columns of its rank (1 = highest value; ties share the mean rank)."""
    n = len(rows)
    total = [0.0] * n
    cols = list(rows[0])
    for c in cols:
        vals = [r[c] for r in rows]
        for i, v in enumerate(vals):
            above = sum(1 for u in vals if u > v)
            equal = sum(1 for u in vals if u == v)
            total[i] += above + (equal + 1) / 2
    return [t / len(cols) for t in total]


if __name__ == "__main__":
    import sys as _sys

    from mutualfuse.errors import FuseError

    try:
        _sys.exit(main())
    except (FuseError, FileNotFoundError) as _e:  # bad input (data root, weights, names): one line
        print(f"{_sys.argv[0].rsplit('/', 1)[-1]}: error: {_e}", file=_sys.stderr)
        _sys.exit(2)
