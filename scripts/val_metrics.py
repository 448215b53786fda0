"""Validation-split quality of any weights, with the numbers the training log records.

    MUTUALFUSE_DATA=/data python scripts/val_metrics.py default cosine runs/x/final.safetensors

For each weights (shipped name or file): the validation loss of its own training loss is not
comparable across losses, so this prints the loss-independent columns of ``log.csv``:
``val_sf``, ``val_ei``, ``val_qabf`` (means over the 8 held-out RoadScene pairs, seed 0, at
full size) and ``val_mf_psnr`` (synthetic multi-focus pairs from the held-out visible images),
computed by :meth:`mutualfuse.train.loop.Trainer.val_metrics`, the same code as during training.
"""
from __future__ import annotations

import argparse
import os

import torch


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("weights", nargs="+")
    ap.add_argument("--data-root", default=os.environ.get("MUTUALFUSE_DATA"))
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    from mutualfuse.train.config import DataConfig, TrainConfig
    from mutualfuse.train.loop import Trainer
    from mutualfuse.weights import load_model

    torch.set_num_threads(args.threads)
    print(f"{'weights':<40} {'val_sf':>8} {'val_ei':>8} {'val_qabf':>9} {'val_mf_psnr':>12}")
    for spec in args.weights:
        net, _ = load_model(spec)
        cfg = TrainConfig(model=net.cfg, data=DataConfig(sets=["train/roadscene"], val_pairs=8, crop=128),
                          threads=args.threads, out_dir="/nonexistent")
        tr = Trainer(cfg, data_root=args.data_root, device="cpu", progress=False)
        tr.model = net
        m = tr.val_metrics()
        print(f"{spec:<40} {m['val_sf']:>8.3f} {m['val_ei']:>8.3f} {m['val_qabf']:>9.4f} {m['val_mf_psnr']:>12.3f}",
              flush=True)


if __name__ == "__main__":
    import sys as _sys

    from mutualfuse.errors import FuseError

    try:
        _sys.exit(main())
    except (FuseError, FileNotFoundError) as _e:  # bad input (data root, weights, names): one line
        print(f"{_sys.argv[0].rsplit('/', 1)[-1]}: error: {_e}", file=_sys.stderr)
        _sys.exit(2)
