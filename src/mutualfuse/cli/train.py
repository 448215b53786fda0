"""``mutualfuse train --config FILE``."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from ..errors import FuseError


def add_parser(sub) -> None:
    p = sub.add_parser("train", help="train a fusion network on folders of registered pairs",
                       description="Train a fusion network (unsupervised, Var-SSIM loss). Run under torchrun for "
                       "several GPUs/nodes; every process reads the same config.")
    p.add_argument("--config", required=True,
                   help="YAML, TOML or JSON training config file, or the name of a recipe shipped with "
                        "mutualfuse: " + _recipe_names())
    p.add_argument("--sets", nargs="+", metavar="SET",
                   help="training sets under the data root (overrides data.sets): folders with two role "
                        "folders (ir/vis, ir/vi, infrared/visible, a/b, ct/mri, ...) or .csv pairs lists")
    p.add_argument("--roles", metavar="FIRST,SECOND",
                   help="the two role folders of every folder set, first role first (overrides data.roles), "
                        "e.g. --roles Inf,Vis")
    p.add_argument("--val-pairs", type=int, metavar="N",
                   help="pairs held out (by seed) for validation (overrides data.val_pairs)")
    p.add_argument("--val-crop", type=int, metavar="N",
                   help="score the held-out pairs' quality on their centre NxN crops, 0 = at full size "
                        "(overrides data.val_crop; default 0: full size, whose cost grows as the square of the "
                        "pixels)")
    p.add_argument("--import", dest="imports", action="append", default=[], metavar="MODULE",
                   help="import a module of your own first (a module name, a .py file or a package folder; "
                        "repeatable), e.g. one that registers a training loss with "
                        "mutualfuse.losses.register_loss, named by the config's loss (docs/training.md)")
    p.add_argument("--print-config", action="store_true",
                   help="print the resolved config (after the overrides) as YAML and exit: a start for your own")
    p.add_argument("--data-root", help="data root holding the config's sets (default: $MUTUALFUSE_DATA or the config's data.root)")
    p.add_argument("-o", "--out", help="output folder (overrides the config's out_dir)")
    p.add_argument("--steps", type=int, help="total optimiser steps (overrides the config)")
    p.add_argument("--seed", type=int, help="seed (overrides the config)")
    p.add_argument("--threads", type=int, metavar="N",
                   help="CPU threads of torch (overrides the config's threads; with neither, torch's default, "
                   "which follows OMP_NUM_THREADS); bit-identical runs need the same count, and a --resume may "
                   "change it (said on stderr)")
    p.add_argument("--resume", action="store_true",
                   help="continue the run in OUT from OUT/last.ckpt (the same experiment: only steps, threads, "
                   "intervals, workers, processes and the data location may change, each said on stderr; the "
                   "images must be the run's, byte for byte); without it an OUT holding a checkpoint is refused")
    p.add_argument("--time-limit", type=float, metavar="SECONDS",
                   help="stop after this many seconds of this invocation, with a checkpoint and final weights as "
                   "at the end (they record the step reached; the learning-rate schedule has then not finished)")
    p.add_argument("--record-paths", choices=("full", "name", "none"), metavar="{full,name,none}",
                   help="how the final weights record the run's local paths (data root, output folder, warm-start "
                   "weights, a loss of one's own's file): full (default), name (each path's last part only) or "
                   "none (no folders; files by name); the run's folder keeps them in full. A --resume keeps the "
                   "run's choice unless given (docs/training.md, Sharing weights)")
    from .common import add_device, add_quiet

    add_device(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_quiet(p)
    # words that belong to no option (``--resume runs/x/last.ckpt``): refused by run() with what
    # --resume takes, instead of argparse's bare "unrecognized arguments"
    p.add_argument("stray", nargs="*", help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def _stray_argument(word: str) -> str:
    """The one-line refusal of a word given to ``train`` outside any option; for a checkpoint, a
    run's folder or a weights file (a path after ``--resume``, which takes none), what to give."""
    from pathlib import Path

    from ..train.checkpoint import LAST

    p = Path(word)
    run = p if p.is_dir() else p.parent
    if (p.is_dir() and (p / LAST).is_file()) or (p.is_file() and p.suffix == ".ckpt"):
        return (f"{word}: train takes no checkpoint path: --resume continues {LAST} in the run's output folder; "
                f"give the folder as -o: -o {run} --resume")
    if p.is_file() and p.suffix == ".safetensors":
        return (f"{word}: train takes no weights file: --resume continues a run from the {LAST} in its output "
                f"folder (-o FOLDER --resume), not from weights; to start a new run from these weights, set "
                f"init_weights: {word} in the config")
    return f"train: unrecognized arguments: {word} (see mutualfuse train --help)"


def _recipe_names() -> str:
    from ..train.recipes import RECIPES

    return ", ".join(f"{n} ({RECIPES.entry(n).meta['summary']})" for n in RECIPES.names())


def _unknown_loss(e, args: argparse.Namespace) -> str:
    """The message of a config whose ``loss`` is not registered; when the output folder holds a
    checkpoint of a loss of one's own, which module and file it was (``--import`` it to resume)."""
    import json
    from pathlib import Path

    from ..train.checkpoint import LAST, load_checkpoint

    msg = str(e)
    out = args.out or e.out_dir
    last = Path(out) / LAST if out else None
    if last is None or not last.is_file():
        return msg
    try:
        src = json.loads(load_checkpoint(last)["run_meta"]["loss_source"])
        file, module = src.get("file") or "", src["module"]
    except Exception:  # noqa: BLE001 - an older or unreadable checkpoint: the plain message
        return msg
    imported = " (the --import given registered no such loss)" if args.imports else ""
    name = src.get("loss", e.loss)
    if not file:  # defined without a file (a notebook cell, ``python -c``): no module to name
        return (f"{last} was trained with the loss {name!r} of module {module}, defined without a file (e.g. in a "
                f"notebook), which is not registered{imported}: put it in a module and pass --import MODULE, or "
                f"resume from Python after registering it again")
    return (f"{last} was trained with the loss {name!r} of {file}, which is not imported"
            f"{imported}: pass --import {file} to resume it")


def _join_ranks_early(device: str) -> None:
    """Under ``torchrun`` on CPU (gloo), join the run's process group before this process can
    refuse the run. A process that refused before joining (under ``torchrun --nnodes 2``, a node
    without the config file or with an unwritable --out) left the others waiting in the join
    for the group's timeout (torch's default, 30 minutes; two nodes on one machine were still
    waiting when killed after 100 s); joined first, they
    learn it at their first exchange, in one line (:class:`~mutualfuse.train.loop.TrainingPeerError`).
    NCCL (CUDA) runs join in the trainer, which picks the GPU first, as before."""
    from ..dist_env import dist_env

    if dist_env()[1] <= 1:  # a bad or half-set environment (no MASTER_ADDR) is one line here
        return
    import torch
    import torch.distributed as dist

    if not dist.is_available() or dist.is_initialized():
        return
    if device in ("cuda", "auto") and torch.cuda.is_available():
        return  # (``--device cuda`` without CUDA: every process refuses it, in the group)
    dist.init_process_group(backend="gloo")


def run(args: argparse.Namespace) -> int:
    from ..io.signals import forget_stop

    forget_stop()  # the exit status of an interrupt is this run's signal's (a process may run several)
    _join_ranks_early(args.device)
    from ..train.ranks import RankReport

    ranks = RankReport.open()  # under torchrun (CPU): the run's store, where each process posts its line
    try:
        try:
            return _run(args)
        finally:  # a refusal, --print-config: leave the group (a process exiting inside it aborts)
            dist = sys.modules.get("torch.distributed")
            if dist is not None and dist.is_available() and dist.is_initialized():
                dist.destroy_process_group()
    except (FuseError, KeyboardInterrupt) as e:
        loop = sys.modules.get("mutualfuse.train.loop")  # (loaded when training has begun)
        if ranks is None and not (loop is not None and isinstance(e, loop.TrainingInterrupted)):
            raise  # one process: the command's own one-line error or "interrupted"
        return _say_once(ranks, e)


def _say_once(ranks, e: BaseException) -> int:
    """The line of a process of a run that stopped (``ranks``: a
    :class:`~mutualfuse.train.ranks.RankReport` under torchrun, else ``None``), printed once per
    node for all its processes (:func:`mutualfuse.train.ranks.report`) → the exit status."""
    from ..io.signals import stop_status
    from ..train.loop import TrainingInterrupted, TrainingPeerError
    from ..train.ranks import ERROR, INTERRUPT, PEER, report

    if isinstance(e, TrainingInterrupted):  # Ctrl+C: the step reached and where to resume
        report(ranks, INTERRUPT, "mutualfuse train: ", str(e))
        return stop_status()
    if isinstance(e, KeyboardInterrupt):
        cause = e.__context__  # torchrun's SIGTERM while this process was leaving for a reason of its own
        if not isinstance(cause, FuseError):
            report(ranks, INTERRUPT, "mutualfuse: ", "interrupted")
            return stop_status()
        e = cause
    report(ranks, PEER if isinstance(e, TrainingPeerError) else ERROR, "mutualfuse: error: ", str(e))
    return e.exit_code


def _run(args: argparse.Namespace) -> int:
    from ..train import TrainConfig, train
    from ..train.recipes import resolve_config

    from ..errors import ParameterError

    if args.stray:
        raise ParameterError(_stray_argument(args.stray[0]))
    if args.steps is not None and args.steps < 1:
        raise ParameterError(f"--steps must be an integer >= 1, got {args.steps}")
    from ..plugins import import_user_module
    from ..train.config import UnknownLossError

    for spec in args.imports:  # before the config names its loss (every torchrun rank runs this too)
        import_user_module(spec)
    try:
        cfg = TrainConfig.load(resolve_config(args.config))
    except UnknownLossError as e:  # a run of a loss of one's own, resumed without its module: say which
        raise ParameterError(_unknown_loss(e, args)) from None
    if args.out:
        cfg.out_dir = args.out
    if args.steps is not None:
        cfg.steps = args.steps
    if args.seed is not None:
        cfg.seed = args.seed
    if args.threads is not None:
        cfg.threads = args.threads
    if args.sets:
        cfg.data.sets = list(args.sets)
    if args.val_pairs is not None:
        cfg.data.val_pairs = args.val_pairs
    if args.val_crop is not None:
        cfg.data.val_crop = args.val_crop
    if args.roles is not None:
        roles = [r.strip() for r in args.roles.split(",")]
        if len(roles) != 2 or not all(roles):
            raise ParameterError(f"--roles {args.roles!r}: give the two role folders as FIRST,SECOND (e.g. Inf,Vis)")
        cfg.data.roles = roles
    try:
        cfg.validate()  # again, with the command-line overrides
    except ParameterError as e:  # name the option, not only the config key it set
        said = {"data.sets": "--sets", "data.roles": "--roles", "data.val_pairs": "--val-pairs",
                "data.val_crop": "--val-crop", "steps": "--steps",
                "seed": "--seed", "threads": "--threads"}
        opt = next((o for k, o in said.items() if f"training config: {k} must" in str(e) and getattr(
            args, o[2:].replace("-", "_")) is not None), None)
        raise ParameterError(f"{opt}: {e}" if opt else str(e)) from None
    if args.print_config:
        import yaml

        if args.data_root:  # the printed config, passed back, finds the same data
            cfg.data.root = args.data_root
        if os.environ.get("RANK", "0") not in ("", "0"):  # under torchrun rank 0 prints it, once (was once a process)
            return 0
        sys.stdout.write(yaml.safe_dump(cfg.to_dict(), sort_keys=False, default_flow_style=None))
        return 0
    out = Path(cfg.out_dir)
    if out.exists() and not out.is_dir():  # worded as every command's (was "out_dir X: exists and ...")
        from ..image_io import _one_line_path

        said = "--out" if args.out else "the config's out_dir"
        raise ParameterError(f"{_one_line_path(out)}: output path exists and is not a folder ({said})")
    from .common import refuse_in_the_way

    # `-o afile/run`: was "out_dir afile/run: afile is not a folder" (the option first)
    refuse_in_the_way(out, "--out" if args.out else "the config's out_dir", ParameterError)
    # Ctrl+C raises TrainingInterrupted: the step reached and where to resume (run() says it)
    result = train(cfg, data_root=args.data_root, resume=args.resume, device=args.device,
                   progress=not (args.no_progress or args.quiet), time_limit_s=args.time_limit,
                   notes=not args.quiet, record_paths=args.record_paths)
    if os.environ.get("RANK", "0") not in ("", "0"):  # under torchrun rank 0 says it, once
        return 0
    if result.get("up_to_date"):  # resumed at its last step: nothing trained, nothing written
        from ..image_io import _one_line_path  # a name's line break or escape shown escaped, as errors show it

        print(_one_line_path(f"mutualfuse train: {cfg.out_dir} is already at step {result['step']} of {cfg.steps}: "
                             f"nothing to do (its weights: {result['weights']}; raise --steps to train further)"),
              file=sys.stderr)
        return 0
    if result.get("stopped_early"):
        print(f"mutualfuse train: --time-limit {args.time_limit:g} s reached at step {result['step']} of "
              f"{cfg.steps}; checkpoint and weights written, the schedule did not finish", file=sys.stderr)
    if "weights" in result and not args.quiet:
        print(json.dumps(result))
    return 0

