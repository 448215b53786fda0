"""Validation numbers of shipped or trained weights, optionally with model-config overrides.

    MUTUALFUSE_DATA=/data python scripts/val_quality.py --weights default \\
        --override blend_temperature=1 --override blend_temperature=0.5

Scores the held-out validation pairs of a training config (default ``configs/pyramid-g5.yaml``:
the same ``val_pairs`` split by the same seed as the run that made ``default``) with the
trainer's own :func:`mutualfuse.train.loop.validation_quality` (SF, EI, Q^AB/F of the fused
IR–VIS pairs, PSNR on synthetic multi-focus pairs; with ``--blackout`` also
:func:`~mutualfuse.train.loop.validation_blackout`), once per ``--override`` (``KEY=VALUE`` of
the model config, several joined by commas; none = the weights as shipped). Never touches a test set.
"""
from __future__ import annotations

import argparse
import ast


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", default="default")
    ap.add_argument("--config", default="configs/pyramid-g5.yaml")
    ap.add_argument("--data-root", default=None)
    ap.add_argument("--override", action="append", default=[], help="KEY=VALUE[,KEY=VALUE...] of the model config, one evaluation each; repeatable")
    ap.add_argument("--blackout", action="store_true",
                    help="also val_black_psnr (train.loop.validation_blackout): one source black in a region")
    args = ap.parse_args()
    import torch

    from mutualfuse.train.config import TrainConfig
    from mutualfuse.train.data import PairCrops, find_pairs, resolve_data_root, split_pairs
    from mutualfuse.train.loop import validation_blackout, validation_quality
    from mutualfuse.weights import load_model

    torch.set_num_threads(1)
    cfg = TrainConfig.load(args.config)
    root = resolve_data_root(args.data_root, cfg.data.root)
    pairs = [p for s in cfg.data.sets for p in find_pairs(root / s)]
    _, val = split_pairs(pairs, cfg.data.val_pairs, cfg.seed)
    images = PairCrops(val, cfg.data.crop, cfg.seed, center=True).images
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
        print(f"{args.weights} {ov or '(as shipped)':<28} " + "  ".join(f"{k} {v:.4f}" for k, v in q.items()), flush=True)


if __name__ == "__main__":
    main()
