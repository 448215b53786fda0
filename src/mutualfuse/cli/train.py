"""``mutualfuse train --config FILE``."""
from __future__ import annotations

import argparse
import json
import sys


def add_parser(sub) -> None:
    p = sub.add_parser("train", help="train a fusion network on folders of registered pairs",
                       description="Train a fusion network (unsupervised, Var-SSIM loss). Run under torchrun for "
                       "several GPUs/nodes; every process reads the same config.")
    p.add_argument("--config", required=True, help="YAML, TOML or JSON training config (see configs/)")
    p.add_argument("--data-root", help="data root holding the config's sets (default: $MUTUALFUSE_DATA or the config's data.root)")
    p.add_argument("-o", "--out", help="output folder (overrides the config's out_dir)")
    p.add_argument("--steps", type=int, help="total optimiser steps (overrides the config)")
    p.add_argument("--seed", type=int, help="seed (overrides the config)")
    p.add_argument("--resume", action="store_true",
                   help="continue the run in OUT from OUT/last.ckpt (the same experiment: only steps, threads, "
                   "intervals, workers and the data location may change); without it an OUT holding a "
                   "checkpoint is refused")
    p.add_argument("--time-limit", type=float, metavar="SECONDS",
                   help="stop after this many seconds of this invocation, with a checkpoint and final weights as "
                   "at the end (they record the step reached; the learning-rate schedule has then not finished)")
    from .common import add_device, add_quiet

    add_device(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_quiet(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..train import TrainConfig, train

    from ..errors import ParameterError

    if args.steps is not None and args.steps < 1:
        raise ParameterError(f"--steps must be an integer >= 1, got {args.steps}")
    cfg = TrainConfig.load(args.config)
    if args.out:
        cfg.out_dir = args.out
    if args.steps is not None:
        cfg.steps = args.steps
    if args.seed is not None:
        cfg.seed = args.seed
    cfg.validate()  # again, with the command-line overrides
    result = train(cfg, data_root=args.data_root, resume=args.resume, device=args.device,
                   progress=not (args.no_progress or args.quiet), time_limit_s=args.time_limit,
                   notes=not args.quiet)
    if result.get("up_to_date"):  # resumed at its last step: nothing trained, nothing written
        print(f"mutualfuse train: {cfg.out_dir} is already at step {result['step']} of {cfg.steps}: nothing to do "
              f"(its weights: {result['weights']}; raise --steps to train further)", file=sys.stderr)
        return 0
    if result.get("stopped_early"):
        print(f"mutualfuse train: --time-limit {args.time_limit:g} s reached at step {result['step']} of "
              f"{cfg.steps}; checkpoint and weights written, the schedule did not finish", file=sys.stderr)
    if "weights" in result and not args.quiet:
        print(json.dumps(result))
    return 0

