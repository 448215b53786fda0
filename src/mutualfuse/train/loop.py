"""The training loop: single process, or one process per device under ``torchrun``."""
from __future__ import annotations

import csv
import json
import math
import os
import platform
import random
import signal
import sys
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch.utils.data import DataLoader
from torch.utils.data.distributed import DistributedSampler

from safetensors import SafetensorError

from ..errors import FuseError, InputError, ParameterError, WeightsError
from ..losses import LOSSES, loss_source, truth_loss
from ..model import ModelConfig, build_model, count_parameters
from ..io.atomic import write_failure
from ..io.signals import note_stop
from ..weights import save_weights
from .checkpoint import LAST, checkpoint_digest, checkpoint_step, load_checkpoint, save_checkpoint, write_reason
from .config import TrainConfig, cpu_bf16_wanted, cpu_has_native_bf16
from .paths import PATH_RECORDS, record_paths
from .data import (PairCrops, data_root_origin, duplicate_pairs, find_pairs, pair_label, resolve_data_root,
                   split_pairs)

#: the run's record of its data: the seed, the data root and which pairs were held out for
#: validation ("set/name" of every pair), written to ``out_dir`` at the start of every run
SPLIT = "split.json"


class TrainingDiverged(FuseError, FloatingPointError):
    """The training loss became NaN or infinite: a one-line error (exit 2) naming the step."""


class TrainingOutputError(FuseError):
    """A file of the run could not be written (a full disk, a folder removed under the run): a
    one-line error (exit 2) naming the file, why, and the checkpoint that ``--resume`` continues."""


class TrainingPeerError(FuseError):
    """Under ``torchrun``, another process of the run left (its own refusal, a crash) while this
    one waited for it to compare what they found: a one-line error (exit 2) pointing at that
    process's own message, instead of the communication library's text as an internal error."""


def _peer_reason(e: BaseException) -> str:
    """The gist of a torch.distributed communication error, without gloo's source location and
    advice: ``"[.../pair.cc:553] Connection closed by peer [127.0.0.1]:41345. This is ..."``
    → ``"Connection closed by peer [127.0.0.1]:41345"``."""
    import re

    text = " ".join(str(e).split())
    text = re.sub(r"^\[[^\]]*\]\s*", "", text)
    return (text.split(". ")[0].rstrip(".") or type(e).__name__)[:160]


def _peer_lost(e: BaseException) -> bool:
    """Whether a RuntimeError raised by torch.distributed during training says that another process
    of the group went away: gloo's "Connection closed by peer" / "Connection reset by peer" (other
    backend failures, NCCL's included, are left as they are)."""
    text = str(e)
    return "Connection closed by peer" in text or "Connection reset by peer" in text


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl+C (SIGINT) or SIGTERM stopped the run; the message (one line) says at which step and
    where the run can be resumed from (``mutualfuse train`` prints it and exits 128 + the signal's
    number: 130 for Ctrl+C, 143 for SIGTERM)."""


def _ignore_stop_signals(worker_id: int) -> None:
    """``worker_init_fn`` of the data loader's workers: Ctrl+C reaches every process of the
    terminal's group, and a worker that stopped on it broke the main process's orderly stop
    (the main process stops them when it is done)."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)

#: fault injection for the resume test: SIGKILL this process right after this step
_KILL_AT = int(os.environ.get("MUTUALFUSE_FAULT_KILL_AT_STEP", "0") or 0)

CSV_FIELDS = ["step", "epoch", "loss", "val_loss", "lr", "images_per_s", "elapsed_s",
              "val_sf", "val_ei", "val_qabf", "val_mf_psnr"]


@contextmanager
def token_budget_during(model: torch.nn.Module, budget: int | None):
    """Run the block with ``model.cfg.token_budget = budget`` (the shared config of the network
    and its mapping), then restore it; ``budget`` None changes nothing
    (``TrainConfig.train_token_budget``)."""
    cfg = getattr(model, "cfg", None)
    if budget is None or cfg is None:
        yield
        return
    old = cfg.token_budget
    cfg.token_budget = budget
    try:
        yield
    finally:
        cfg.token_budget = old


def init_from_weights(model: torch.nn.Module, spec: str) -> dict[str, list[str]]:
    """Initialise ``model`` from the weights ``spec`` (see ``TrainConfig.init_weights``).

    Returns ``{"copied": [...], "tiled": [...], "fresh": [...], "unused": [...]}`` (tensor
    names; "unused" = stored tensors the model has no place for, e.g. ``enc_y`` of a
    two-encoder file in a ``shared_encoder`` model). A stored
    tensor of the right name whose shape fits neither way is a :class:`ParameterError`.
    """
    from ..weights import read_weights

    try:
        state, _, _ = read_weights(spec)
    except FuseError as e:
        raise ParameterError(f"init_weights: {e}") from None
    own = model.state_dict()
    report: dict[str, list[str]] = {"copied": [], "tiled": [], "fresh": [],
                                    "unused": sorted(set(state) - set(own))}
    new = {}
    for name, t in own.items():
        src = state.get(name)
        if src is None:
            report["fresh"].append(name)
            continue
        src = src.to(t.dtype)
        if src.shape == t.shape:
            new[name] = src
            report["copied"].append(name)
        elif src.dim() == t.dim() and src.shape[1:] == t.shape[1:] and src.shape[0] and t.shape[0] % src.shape[0] == 0:
            new[name] = src.repeat(t.shape[0] // src.shape[0], *([1] * (t.dim() - 1)))
            report["tiled"].append(name)
        else:
            raise ParameterError(f"init_weights {spec}: tensor {name} has shape {list(src.shape)}, "
                                 f"the model needs {list(t.shape)}")
    model.load_state_dict({**own, **new})
    return report


def param_groups(model: torch.nn.Module, lr_mult: dict[str, float]) -> list[dict]:
    """Adam parameter groups: one per ``TrainConfig.lr_mult`` prefix (in the mapping's order; a
    parameter goes to the longest prefix it starts with, so ``{enc: 2, enc_x.conv: 3}`` trains
    ``enc_x.conv*`` at 3 and the rest of ``enc*`` at 2 in either order), then the rest at
    multiplier 1. Each group carries its ``lr_mult``. A prefix that matches no parameter is a
    :class:`ParameterError` (a misspelt name would otherwise change nothing), and so is one whose
    parameters all go to longer prefixes (it would change nothing either). Until 2026-12-07 a
    parameter went to the first prefix in the mapping's order, and a longer prefix after a shorter
    one was refused as matching no parameter; configs accepted then get the same groups now."""
    named = list(model.named_parameters())
    owner = {}
    for n, _ in named:
        matches = [prefix for prefix in lr_mult if n.startswith(prefix)]
        if matches:
            owner[n] = max(matches, key=len)
    groups = []
    for prefix, mult in lr_mult.items():
        ps = [p for n, p in named if owner.get(n) == prefix]
        if not ps:
            longer = sorted({owner[n] for n, _ in named if n.startswith(prefix)})
            if longer:
                raise ParameterError(f"training config: lr_mult prefix {prefix!r}: every parameter it matches is "
                                     f"under a longer prefix ({', '.join(map(repr, longer))}), so it changes nothing")
            raise ParameterError(f"training config: lr_mult prefix {prefix!r} matches no parameter of the model")
        groups.append({"params": ps, "lr_mult": float(mult)})
    rest = [p for n, p in named if n not in owner]
    if rest:
        groups.append({"params": rest, "lr_mult": 1.0})
    return groups


def lr_at(cfg: TrainConfig, step: int) -> float:
    """Learning rate of optimiser step ``step`` (1-based): a pure function, so resume is exact."""
    if cfg.lr_schedule == "constant":
        return cfg.lr
    if cfg.warmup_steps and step <= cfg.warmup_steps:
        return cfg.lr * step / cfg.warmup_steps
    span = max(1, cfg.steps - cfg.warmup_steps)
    t = min(1.0, (step - cfg.warmup_steps) / span)
    lo = cfg.lr * cfg.min_lr_ratio
    return lo + 0.5 * (cfg.lr - lo) * (1 + math.cos(math.pi * t))


def check_out_dir(out: str | os.PathLike) -> None:
    """Refuse an ``out_dir`` that cannot become a folder of run files, before anything is read or
    written (one-line :class:`ParameterError`): an existing file, a path under a file, a parent
    folder that is not writable."""
    p = Path(out)
    if p.exists() and not p.is_dir():
        raise ParameterError(f"{p}: output path exists and is not a folder (out_dir)")
    q = p
    while not q.exists() and q != q.parent:
        q = q.parent
    # the path first, as every command words its output (mutualfuse.wording.in_the_way): was "out_dir P: Q is ..."
    if q.exists() and not q.is_dir():
        raise ParameterError(f"{p}: {q} exists and is not a folder (out_dir)")
    if q.is_dir() and not os.access(q, os.W_OK | os.X_OK):
        raise ParameterError(f"{p}: {q} is not writable (out_dir)")


def check_time_limit(time_limit_s: float | None) -> None:
    """``--time-limit`` must be None or a number of seconds > 0 (one-line :class:`ParameterError`)."""
    if time_limit_s is not None and not (time_limit_s > 0):
        raise ParameterError(f"--time-limit must be a number of seconds > 0, got {time_limit_s}")


#: the settings a ``--resume`` may change: how and how long the run goes, not what it computes
#: (``steps`` only up from the checkpoint's step). Everything else of the stored training config
#: (seed, data, batch, crop, learning rate and schedule, loss, precision, warm start, model) must
#: equal the checkpoint's: :meth:`Trainer.resume` refuses a difference (docs/training.md).
RESUME_MAY_CHANGE = ("steps", "out_dir", "checkpoint_every", "val_every", "log_every", "threads",
                     "channels_last", "data.root", "data.num_workers")


def _flat(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"data": {"crop": 8}}`` → ``{"data.crop": 8}`` (one level: the model and data sections)."""
    out = {}
    for k, v in d.items():
        if k in ("model", "data") and not prefix and isinstance(v, dict):
            out.update(_flat(v, f"{k}."))
        else:
            out[prefix + k] = v
    return out


def _saved_flat(saved: dict[str, Any]) -> dict[str, Any]:
    """A training config as stored in a checkpoint, flattened (:func:`_flat`), with the defaults
    of the keys it lacks (written before the field existed; a model field through
    :class:`ModelConfig`)."""
    saved = dict(saved)
    defaults = TrainConfig().to_dict()
    try:
        saved_model = ModelConfig.from_dict(saved.get("model") or {}).to_dict()
    except (TypeError, ValueError):
        saved_model = saved.get("model") or {}
    return _flat({**defaults, **saved, "model": saved_model,
                  "data": {**defaults["data"], **(saved.get("data") or {})}})


def resume_differences(saved: dict[str, Any], cfg: TrainConfig) -> list[tuple[str, Any, Any]]:
    """``(key, checkpoint's value, cfg's value)`` for every experiment setting (all but
    :data:`RESUME_MAY_CHANGE`) where the training config ``saved`` (as stored in a checkpoint)
    differs from ``cfg``. A key the checkpoint lacks (written before the field existed) counts as
    that field's default, as does a model field (through :class:`ModelConfig`)."""
    old = _saved_flat(saved)
    new = _flat(cfg.to_dict())
    return [(k, old.get(k), new[k]) for k in new
            if k not in RESUME_MAY_CHANGE and _comparable(k, old.get(k)) != _comparable(k, new[k])]


def _comparable(key: str, value: Any) -> Any:
    """A config value as :func:`resume_differences` compares it: ``data.sets`` without a folder's
    trailing slash (``--sets train/roadscene/``, as a shell completes it, is the set
    ``train/roadscene``: the same pairs, named the same in the checkpoint; it was refused as "a
    different config"); every other value as it is."""
    if key == "data.sets" and isinstance(value, list):
        return [v.rstrip("/") or v if isinstance(v, str) else v for v in value]
    return value


def resume_notes(st: dict[str, Any], cfg: TrainConfig, now: dict[str, Any]) -> list[str]:
    """What a ``--resume`` changes that :data:`RESUME_MAY_CHANGE` allows, one clause each: the
    stderr notes of :func:`train`, so that an accepted change is never silent. ``st``: the
    checkpoint; ``now``: this invocation's ``threads``, ``world``, ``device`` and ``data_root``
    (what the checkpoint records of its run, since 2026-12-06, is compared where it has it).

    Numbers that change: ``steps`` under the cosine schedule (a function of ``steps``: the next
    step's learning rate then and now), and the arithmetic of the steps (threads, memory layout,
    processes, device), after which the run is no longer bit for bit the uninterrupted one."""
    try:
        old = _saved_flat(json.loads(st["config"]))
    except (KeyError, TypeError, ValueError, RecursionError):
        return []
    new = _flat(cfg.to_dict())
    step = int(st.get("step", 0))
    notes = []
    if old.get("steps") != cfg.steps:
        said = f"steps {old.get('steps')} -> {cfg.steps}"
        if cfg.lr_schedule == "cosine":
            try:
                import dataclasses

                before = lr_at(dataclasses.replace(cfg, steps=int(old["steps"])), step + 1)
            except (TypeError, ValueError, KeyError):
                before = None
            then = "" if before is None else f", the old schedule's {before:.3g}"
            said += (f" (the cosine schedule is a function of steps: step {step + 1} trains at lr "
                     f"{lr_at(cfg, step + 1):.3g}{then}; the steps taken followed the old one)")
        else:
            said += " (constant lr: the same run, longer or shorter)"
        notes.append(said)
    bits = "the run then equals an uninterrupted one to float rounding, not bit for bit"
    threads_then = st.get("threads")
    if _is_count(threads_then) and threads_then != now.get("threads"):
        notes.append(f"CPU threads {threads_then} -> {now.get('threads')} (sums in another order: {bits})")
    elif not _is_count(threads_then) and old.get("threads") != cfg.threads:
        notes.append(f"threads {old.get('threads')} -> {cfg.threads} (sums in another order: {bits})")
    if old.get("channels_last") != cfg.channels_last:
        notes.append(f"channels_last {json.dumps(old.get('channels_last'))} -> {json.dumps(cfg.channels_last)} "
                     f"(memory layout: {bits})")
    world = st.get("world")
    if _is_count(world) and world != now.get("world"):
        notes.append(f"processes {world} -> {now.get('world')} (the same samples in each step's global batch of "
                     f"{cfg.batch_size}, reduced in another order: {bits})")
    device = st.get("device")
    if isinstance(device, str) and device != now.get("device"):
        notes.append(f"device {device} -> {now.get('device')} (other kernels, and bf16 autocast on CUDA with amp: "
                     f"not bit for bit the run that stayed on {device})")
    root = st.get("data_root")
    if isinstance(root, str) and root != now.get("data_root"):
        notes.append(f"data read from {now.get('data_root')}, the checkpoint's from {root} (the same pairs, "
                     f"byte for byte)")
    quiet = [f"{k} {json.dumps(old.get(k))} -> {json.dumps(new[k])}"
             for k in ("checkpoint_every", "val_every", "log_every", "data.num_workers") if old.get(k) != new[k]]
    if quiet:
        notes.append(", ".join(quiet) + " (the numbers do not change)")
    return notes


def loss_source_note(st: dict[str, Any], now: dict[str, str] | None) -> str | None:
    """A ``--resume`` note when the loss of one's own (``now``, :func:`mutualfuse.losses.loss_source`)
    is not the code the checkpoint ``st`` recorded (another file, or the file changed since): the
    steps from here follow the code imported now."""
    try:
        then = json.loads(st["run_meta"]["loss_source"])
    except (KeyError, TypeError, ValueError, RecursionError):
        return None
    if not isinstance(then, dict) or now is None:
        return None
    if then.get("file") != now.get("file"):
        return (f"loss {now['loss']!r} now from {now.get('file') or now.get('module')}, the checkpoint's from "
                f"{then.get('file') or then.get('module')} (the steps from here follow the code imported now)")
    if then.get("sha256") and now.get("sha256") and then["sha256"] != now["sha256"]:
        return (f"loss {now['loss']!r}: {now['file']} changed since the checkpoint (sha256 {then['sha256'][:12]} -> "
                f"{now['sha256'][:12]}; the steps from here follow the code as it is now)")
    return None


def _is_count(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 1


def check_resumable(p: Path, st: dict[str, Any], cfg: TrainConfig) -> int:
    """The checks of a ``--resume`` that need only the checkpoint ``st`` (read from ``p``) and the
    config, not the data: the same experiment settings (:func:`resume_differences`) and a step
    not past ``cfg.steps``. Returns the checkpoint's step; one-line ParameterError otherwise.
    :func:`train` runs them before the training images are read, so a wrong ``--resume`` fails
    at once."""
    try:
        saved = json.loads(st["config"])
        if not isinstance(saved, dict):
            raise ValueError("not a mapping")
    except (KeyError, TypeError, ValueError, RecursionError):  # RecursionError: JSON nested too deep
        raise ParameterError(f"{p}: checkpoint holds no readable training config; cannot check that "
                             f"--resume continues the same run") from None
    diffs = resume_differences(saved, cfg)
    if diffs:
        what = "model config" if any(k.startswith("model.") for k, _, _ in diffs) else "config"
        listed = "; ".join(f"{k}: {json.dumps(a)} in the checkpoint, {json.dumps(b)} now" for k, a, b in diffs[:6])
        more = f" (and {len(diffs) - 6} more)" if len(diffs) > 6 else ""
        raise ParameterError(
            f"{p}: checkpoint was trained with a different {what}: {listed}{more}; --resume continues the same "
            f"experiment (it may change only {', '.join(RESUME_MAY_CHANGE)}): use another --out for a new run")
    try:
        step = int(st["step"])
    except (KeyError, TypeError, ValueError):
        raise WeightsError(f"{p}: not a resumable checkpoint (no step number)") from None
    if step > cfg.steps:
        raise ParameterError(f"{p}: checkpoint is at step {step}, past steps {cfg.steps}: set steps "
                             f"(or --steps) to at least {step} to continue the run")
    return step


def _pair_digest(a: Path, b: Path) -> str:
    """16 hex digits of a sha256 over the sha256 of pair ``(a, b)``'s two files (their bytes)."""
    import hashlib

    from ..io.digest import sha256_file

    def one(p: Path) -> str:
        try:
            return sha256_file(p)
        except OSError:  # reading it for training says what is wrong
            return f"unreadable:{p}"

    return hashlib.sha256(f"{one(a)}\0{one(b)}".encode()).hexdigest()[:16]


def _dist_env() -> tuple[int, int, int]:
    """``(world_size, rank, local_rank)`` (:func:`mutualfuse.dist_env.dist_env`, shared with fuse-dir)."""
    from ..dist_env import dist_env

    rank, world, local = dist_env()
    return world, rank, local


def _batches(sampler: DistributedSampler, per_rank: int) -> list[list[int]]:
    idx = list(sampler)
    n = len(idx) // per_rank
    return [idx[i * per_rank : (i + 1) * per_rank] for i in range(n)]


class _BatchPlan:
    """The batches of ``(epoch, index)`` keys of optimiser steps ``start + 1`` … ``steps``, epoch
    by epoch in the sampler's order (seeded by the epoch), so that one data loader serves the
    whole run: its worker processes start once, not once per epoch (an epoch of 213 pairs is 13
    steps of batch 16, and restarting workers every 13 steps starved a GPU)."""

    def __init__(self, sampler: DistributedSampler, per_rank: int, steps_per_epoch: int,
                 epoch_offset: int, start: int, steps: int):
        self.sampler, self.per_rank, self.spe = sampler, per_rank, steps_per_epoch
        self.offset, self.start, self.steps = epoch_offset, start, steps

    def __len__(self) -> int:
        return max(0, self.steps - self.start)

    def __iter__(self):
        step = self.start
        while step < self.steps:
            epoch, skip = divmod(step, self.spe)
            epoch += self.offset
            self.sampler.set_epoch(epoch)
            for idx in _batches(self.sampler, self.per_rank)[skip:]:
                yield [(epoch, i) for i in idx]
                step += 1
                if step >= self.steps:
                    return


def _describe_user_error(e: BaseException) -> str:
    """``Type: message (file, line N)``, the innermost frame outside mutualfuse and torch: where a
    loss of one's own failed, in one line."""
    import traceback

    pkg = Path(__file__).resolve().parents[1]
    skip = (pkg, Path(torch.__file__).resolve().parent)
    frames = [fr for fr in traceback.extract_tb(e.__traceback__)
              if not fr.filename.startswith("<") and not any(Path(fr.filename).resolve().is_relative_to(d) for d in skip)]
    where = f" ({frames[-1].filename}, line {frames[-1].lineno})" if frames else ""
    return f"{type(e).__name__}: {' '.join(str(e).split())[:200]}{where}"


class Trainer:
    """Runs :class:`TrainConfig` to ``cfg.steps`` optimiser steps, resumable at any checkpoint."""

    def __init__(self, cfg: TrainConfig, data_root: str | None = None, device: str = "auto",
                 progress: bool = True, time_limit_s: float | None = None, started: float | None = None,
                 notes: bool = True, warm_start: bool = True, record_paths: str | None = None):
        #: when the invocation started (``time.perf_counter()``): ``time_limit_s`` counts from it,
        #: reading the data included; by default, now
        self.started = time.perf_counter() if started is None else started
        if not isinstance(cfg, TrainConfig):
            raise ParameterError(f"Trainer takes a TrainConfig, got {type(cfg).__name__} (train() also reads a "
                                 f"mapping, a config file or a recipe name)")
        cfg.validate()  # fields set after construction (cfg.steps = 0) are checked here
        self.cfg = cfg
        #: print the run's notes on stderr (data found, warm start, CPU precision)
        self.notes = notes
        check_time_limit(time_limit_s)
        #: stop after this many seconds of this invocation (checkpoint and final weights as at
        #: the end; the weights record the step reached); None = run to ``cfg.steps``
        self.time_limit_s = time_limit_s
        self.stopped_early = False
        if record_paths is not None and record_paths not in PATH_RECORDS:
            raise ParameterError(f"record_paths must be one of {', '.join(PATH_RECORDS)}, got {record_paths!r}")
        #: how the final weights record the run's local paths (:func:`mutualfuse.train.paths.record_paths`):
        #: the one given, else (:meth:`resume`) the checkpoint's, else ``full``; kept in the checkpoints
        #: so that a resume and ``export-weights`` of them record them the same way
        self.record_paths = record_paths or "full"
        self._record_paths_given = record_paths is not None
        #: the signal (name) that asked the running loop to stop after its step (Ctrl+C: "SIGINT")
        self.stop_signal: str | None = None
        self.world, self.rank, self.local_rank = _dist_env()
        if cfg.batch_size % self.world:
            raise ParameterError(f"batch_size {cfg.batch_size} is not divisible by the {self.world} processes")
        self.per_rank = cfg.batch_size // self.world
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        if device == "cuda":
            if not torch.cuda.is_available():
                raise ParameterError("--device cuda: CUDA is not available on this machine")
            torch.cuda.set_device(self.local_rank)
            self.device = torch.device("cuda", self.local_rank)
            torch.backends.cudnn.benchmark = True  # fixed crop size: pick the fastest kernels once
        else:
            self.device = torch.device("cpu")
        if self.world > 1 and not dist.is_initialized():
            dist.init_process_group(backend="nccl" if self.device.type == "cuda" else "gloo")
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        self.progress = progress and self.rank == 0
        self.out = Path(cfg.out_dir)
        try:
            loss_fn = LOSSES[cfg.loss]
        except KeyError:
            raise ParameterError(f"loss must be one of {sorted(LOSSES)}, got {cfg.loss!r}") from None
        if cfg.lr_schedule not in ("constant", "cosine"):
            raise ParameterError(f"lr_schedule must be 'constant' or 'cosine', got {cfg.lr_schedule!r}")
        params = dict(cfg.loss_params or {})
        #: where a loss of one's own comes from (:func:`mutualfuse.losses.loss_source`; None for a
        #: built-in loss): recorded in the checkpoints and weights, compared by ``--resume``
        self.loss_source = loss_source(cfg.loss)
        if self.loss_source is not None:  # its contract checked on every call, failures in one line
            self._loss_when = "on a probe before training"
            self.loss_fn = lambda x, y, f: self._user_loss(loss_fn, params, x, y, f)
            side = min(cfg.data.crop, 512)  # a batch of two: a loss that is one value per image fails here
            z = torch.rand(2, 1, side, side, dtype=torch.float32, generator=torch.Generator().manual_seed(0))
            probe = self.loss_fn(z, z.flip(-1), z.clone().requires_grad_(True))
            if not bool(torch.isfinite(probe)) or probe.grad_fn is None:
                self._loss_when += f" (x, y, f: (2, 1, {side}, {side}) float32 crops in [0, 1])"
                raise self._user_loss_error(f"returned {float(probe.detach())!r}" if not bool(torch.isfinite(probe)) else
                                            "returned a value that does not depend on f (no gradient reaches "
                                            "the network)")
            self._loss_when = ""
        else:
            self.loss_fn = (lambda x, y, f: loss_fn(x, y, f, **params)) if params else loss_fn
        # unknown or unusable loss parameters, and a crop the loss cannot take (the SSIM window is
        # 11 px), are config errors, found on a probe of the crop's size (at most 512², a crop larger
        # than the images is refused once they are read) before any data is read (they failed in
        # the first step, after the output folder was made)
        try:
            side = min(cfg.data.crop, 512)
            z = torch.rand(1, 1, side, side, dtype=torch.float64)
            if self.loss_source is None:  # a loss of one's own was probed above
                self.loss_fn(z, z, z)
        except TypeError as e:
            raise ParameterError(f"loss_params {params} do not fit loss {cfg.loss!r}: {e}") from None
        except ParameterError as e:  # a bad value of a loss parameter (sigma 0, select_window 'box'), not the crop
            raise ParameterError(f"loss {cfg.loss!r}: loss_params {params} refused: {e}") from None
        except (ValueError, RuntimeError) as e:
            said = f" with loss_params {params}" if params else ""
            raise ParameterError(f"loss {cfg.loss!r}{said} cannot train on data.crop {cfg.data.crop} "
                                 f"({' '.join(str(e).split())[:200]})") from None
        self.memory_format = torch.channels_last if cfg.channels_last else torch.contiguous_format

        root = resolve_data_root(data_root, cfg.data.root)
        self.data_root = root
        pairs = []
        sets_found = []
        seen: dict[Path, str] = {}
        for s in cfg.data.sets:
            where = (root / s).resolve()
            if where in seen:  # its pairs twice: the same pair could be trained on and held out
                raise ParameterError(f"data.sets lists the folder {root / s} twice ({seen[where]!r} and {s!r})")
            seen[where] = s
            if not (root / s).exists():  # say where the root came from: $MUTUALFUSE_DATA wins over data.root
                raise InputError(f"{root / s}: training set folder (or .csv pairs list) not found "
                                 f"({data_root_origin(data_root, cfg.data.root)})")
            # the sizes of every pair checked from the image headers
            found = find_pairs(root / s, roles=cfg.data.roles)
            sets_found.append((s, found))
            pairs += found
        first_of: dict[Path, str] = {}
        for s, found in sets_found:  # a CSV list may point into another set: one pair in two sets
            for a, _ in found:       # could be trained on and held out (as a set listed twice)
                key = a.resolve()
                if key in first_of and first_of[key] != s:
                    raise ParameterError(f"data.sets: {a} is a first image in both {first_of[key]!r} and {s!r}; "
                                         f"a pair must be in one set only (it could be trained on and held out)")
                first_of.setdefault(key, s)
        dups = duplicate_pairs(pairs)
        if dups:
            (ca, cb), (fa, fb) = dups[0]
            more = f" (and {len(dups) - 1} more such pair{'s' if len(dups) > 2 else ''})" if len(dups) > 1 else ""
            raise ParameterError(f"data: the pair {ca}, {cb} is a byte-identical copy of the pair {fa}, {fb}{more}; "
                                 "a pair must be in the data once (a copy could be trained on and held out): "
                                 "remove the copies")
        out_real = self.out.resolve()
        for where, s in seen.items():
            if out_real == where or where in out_real.parents:
                raise ParameterError(f"{self.out}: the output folder is inside the training set {root / s} "
                                     f"(out_dir); write the run elsewhere (-o)")
        if len(pairs) <= cfg.data.val_pairs:
            raise ParameterError(f"data.val_pairs {cfg.data.val_pairs} would hold out every pair: only {len(pairs)} "
                                 f"found in {', '.join(cfg.data.sets)}; lower data.val_pairs (--val-pairs) or add pairs")
        #: the training data as "set/name" of every pair, stored in checkpoints: a resume refuses
        #: another list (pairs added or removed change the seeded hold-out and the epochs)
        self.pair_names = [f"{s.rstrip('/') or s}/{pair_label(root / s, a)}"  # "set/" given: one slash
                           for s, found in sets_found for a, _ in found]
        self.sets_found = [(s, len(found)) for s, found in sets_found]
        #: a digest of each pair's two files (their bytes), in the order of :attr:`pair_names`,
        #: stored in checkpoints: a resume whose pairs have the checkpoint's names but other
        #: contents (another copy of the data under --data-root) is refused
        self.pair_digests = [_pair_digest(a, b) for _, found in sets_found for a, b in found]
        if self.world > 1:  # e.g. a node whose copy of the data differs: its ranks' shards would not fit
            self._same_data_on_every_rank(pairs, root)
            self._same_loss_on_every_rank()
        train_pairs, val_pairs = split_pairs(pairs, cfg.data.val_pairs, cfg.seed)
        #: the same split of :attr:`pair_names` (what ``split.json`` records)
        self.train_names, self.val_names = split_pairs(self.pair_names, cfg.data.val_pairs, cfg.seed)
        if len(train_pairs) < cfg.batch_size:
            raise ParameterError(f"{len(train_pairs)} training pairs (of {len(pairs)}, data.val_pairs "
                                 f"{cfg.data.val_pairs} held out) is fewer than batch_size {cfg.batch_size}")

        # the network before the images are decoded: a wrong warm start or lr_mult fails at once
        torch.manual_seed(cfg.seed)
        np.random.seed(cfg.seed)
        random.seed(cfg.seed)
        if self.device.type == "cpu":
            torch.use_deterministic_algorithms(True, warn_only=True)
            # subnormal gradients (from saturated blend weights) made CPU backward steps 4×
            # slower in the pilot runs; flushing them to zero changes nothing measurable.
            # NumPy computes (and caches) its float limits on first use; computed after the
            # flush, float32's smallest subnormal comes out as 0 and NumPy warns about it, so
            # they are computed first.
            for t in (np.float16, np.float32, np.float64, np.longdouble):
                np.finfo(t)
            torch.set_flush_denormal(True)
        try:
            self.model = build_model(cfg.model)
        except (ValueError, TypeError, KeyError) as e:  # a model setting its own checks let through
            raise ParameterError(f"training config: model: {' '.join(str(e).split())[:200] or type(e).__name__}"
                                 ) from None
        # ``warm_start`` False: the run resumes from a checkpoint, whose weights replace these; the
        # warm-start file is then not read (it may have moved since the run began)
        self.init_report = (init_from_weights(self.model, cfg.init_weights)
                            if cfg.init_weights and warm_start else None)
        self.model = self.model.to(self.device, memory_format=self.memory_format)
        self.opt = torch.optim.Adam(param_groups(self.model, cfg.lr_mult), lr=cfg.lr)

        self.train_set = PairCrops(train_pairs, cfg.data.crop, cfg.seed, hflip=cfg.data.hflip,
                                   multifocus=cfg.data.multifocus, multifocus_sigma=cfg.data.multifocus_sigma,
                                   multifocus_psf=cfg.data.multifocus_psf,
                                   multifocus_breathing=tuple(cfg.data.multifocus_breathing),
                                   with_truth=cfg.truth_weight > 0, swap=cfg.data.swap,
                                   blackout=cfg.data.blackout, normalize=cfg.data.normalize,
                                   percentiles=cfg.data.percentiles)
        self.val_set = (PairCrops(val_pairs, cfg.data.crop, cfg.seed, center=True, normalize=cfg.data.normalize,
                                  percentiles=cfg.data.percentiles) if val_pairs else None)
        self.sampler = DistributedSampler(self.train_set, num_replicas=self.world, rank=self.rank,
                                          shuffle=True, seed=cfg.seed, drop_last=True)
        self.steps_per_epoch = len(self.sampler) // self.per_rank

        self.ddp = None
        if self.world > 1:
            self.ddp = torch.nn.parallel.DistributedDataParallel(
                self.model, device_ids=[self.local_rank] if self.device.type == "cuda" else None)
        self.step = 0
        self.elapsed = 0.0
        #: the step of the last checkpoint written by this process (None: none yet)
        self.checkpoint_step: int | None = None
        self.use_amp = bool(cfg.amp and self.device.type == "cuda")
        #: bf16 autocast of the training forward on CPU (``TrainConfig.cpu_amp``); validation
        #: stays float32 so that its numbers compare across runs and machines
        self.cpu_bf16 = self.device.type == "cpu" and cpu_bf16_wanted(cfg.cpu_amp, cpu_has_native_bf16)

    # -- a loss of one's own ---------------------------------------------------------
    def _user_loss_error(self, what: str) -> ParameterError:
        src = self.loss_source or {}
        where = f" of {src['file']}" if src.get("file") else f" of module {src.get('module')}"
        when = self._loss_when or (f"at step {self.step + 1}" + (
            f" (the last checkpoint, step {self.checkpoint_step}, is where --resume continues)"
            if self.checkpoint_step else ""))
        contract = ("" if what.startswith("failed") else "; a loss must return a finite floating-point tensor of "
                    "one element that depends on f (mutualfuse.losses.register_loss)")
        return ParameterError(f"loss {self.cfg.loss!r}{where} {what} {when}{contract}")

    def _user_loss(self, fn, params: dict[str, Any], x: torch.Tensor, y: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
        """``fn(x, y, f, **params)`` of a loss of one's own, held to the contract of
        :func:`mutualfuse.losses.register_loss`: an exception, or a value that is not a
        floating-point tensor of one element, is a one-line :class:`ParameterError` naming the
        loss, its file and the step (or the probe); the value is returned as a 0-d tensor."""
        try:
            out = fn(x, y, f, **params)
        except Exception as e:  # noqa: BLE001 - whatever the user's loss raises
            said = f" with loss_params {params}" if params else ""
            raise self._user_loss_error(f"failed{said} ({_describe_user_error(e)})") from None
        if not isinstance(out, torch.Tensor) or not out.is_floating_point() or out.numel() != 1:
            got = (f"a {out.dtype} tensor of shape {tuple(out.shape)}" if isinstance(out, torch.Tensor)
                   else f"a {type(out).__name__}")
            raise self._user_loss_error(f"returned {got}")
        return out.reshape(())

    # -- processes ---------------------------------------------------------------
    def _gather(self, value: Any, what: str) -> list[Any]:
        """``value`` of every process, by rank (``torch.distributed.all_gather_object``). A process
        that left before it (a refusal of its own: under ``torchrun --nnodes``, a node without the
        data folder, say) broke the exchange: a one-line :class:`TrainingPeerError` saying so, on
        the processes still there, not gloo's message as an internal error (exit 1). ``what``: what
        the processes were comparing."""
        out: list[Any] = [None] * self.world
        try:
            dist.all_gather_object(out, value)
        except RuntimeError as e:  # gloo: "Connection closed by peer", a timeout (DistBackendError included)
            raise TrainingPeerError(
                f"rank {self.rank} of {self.world}: another process of this run stopped before the processes "
                f"compared {what} ({_peer_reason(e)}): its own error line, on its machine, says why") from None
        return out

    def _same_data_on_every_rank(self, pairs: list[tuple[Path, Path]], root: Path) -> None:
        """Under torchrun every process must have found the same pairs, by name and content (the
        sha256 of their files, :attr:`pair_digests`; until 2026-12-06 by file size, which let an
        edited image of the same size through): each draws its shard of the epoch from its own
        list, so lists that differ (a node whose copy of the data has a file more, fewer or
        changed) would train on overlapping or missing shards, or on other images. A difference
        is a one-line :class:`ParameterError` on every process."""
        import hashlib

        h = hashlib.sha256()
        for name, digest in zip(self.pair_names, self.pair_digests):
            h.update(f"{name}\0{digest}\n".encode("utf-8", "surrogateescape"))  # a non-UTF-8 name: its bytes
        everyone = self._gather((len(pairs), h.hexdigest(), str(root)), "their training data")
        bad = next((r for r, v in enumerate(everyone) if v[:2] != everyone[0][:2]), None)
        if bad is not None:
            (n0, _, root0), (n1, _, root1) = everyone[0], everyone[bad]
            how = " (the same number, other names or contents)" if n0 == n1 else ""
            raise ParameterError(f"the {self.world} processes found different training data: rank 0 {n0} pairs in "
                                 f"{root0}, rank {bad} {n1} in {root1}{how}; every process must read the same "
                                 f"pairs (under torchrun --nnodes, the same data on every node)")

    def _same_loss_on_every_rank(self) -> None:
        """Under torchrun every process must train with the same code of a loss of one's own (each
        imports it itself, ``--import``): a node with another version of the file would average
        gradients of another loss. Compared by the file's sha256 (:func:`mutualfuse.losses.loss_source`);
        a difference is a one-line :class:`ParameterError` on every process."""
        src = self.loss_source or {}
        everyone = self._gather((src.get("sha256", ""), src.get("file", "")), "the code of their loss")
        bad = next((r for r, v in enumerate(everyone) if v[0] != everyone[0][0]), None)
        if bad is not None:
            def said(r: int) -> str:
                digest, file = everyone[r]
                return f"rank {r} {file or 'a file'} (sha256 {digest[:12] or 'unread'})"

            raise ParameterError(f"the {self.world} processes imported different code for the loss {self.cfg.loss!r}: "
                                 f"{said(0)}, {said(bad)}; every process must --import the same file (under "
                                 f"torchrun --nnodes, the same version on every node)")

    def same_resume_point_on_every_rank(self) -> None:
        """After :meth:`resume` under torchrun: every process must have resumed the same checkpoint
        (step and digest), e.g. not one node from ``OUT/last.ckpt`` and another, whose ``OUT`` is a
        folder of its own, from nothing; a one-line :class:`ParameterError` on every process."""
        if self.world <= 1:
            return
        mine = (self.step, getattr(self, "resumed_digest", None), str(self.out))
        everyone = self._gather(mine, "the checkpoint they resume")
        bad = next((r for r, v in enumerate(everyone) if v[:2] != everyone[0][:2]), None)
        if bad is None:
            return

        def said(r: int) -> str:
            step, digest, out = everyone[r]
            if digest is None:
                return f"rank {r} found no checkpoint in {out}"
            return f"rank {r} resumes {Path(out) / LAST} at step {step}"

        other = " (another file at the same step)" if everyone[0][0] == everyone[bad][0] else ""
        raise ParameterError(f"--resume: {said(0)}, {said(bad)}{other}; every process must resume the same "
                             f"checkpoint (under torchrun --nnodes, an --out folder that every node reads)")

    # -- state -----------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        st = {
            "model": self.model.state_dict(),
            "optimizer": self.opt.state_dict(),
            "step": self.step,
            "elapsed": self.elapsed,
            "config": json.dumps(self.cfg.to_dict()),
            "torch_rng": torch.get_rng_state(),
            "pairs": list(self.pair_names),
            "pair_sha256": list(self.pair_digests),
            "run_meta": self.run_metadata(),
            "record_paths": self.record_paths,
            # what a resume compares to say what it changes (:func:`resume_notes`)
            **self._run_setting(),
        }
        if self.device.type == "cuda":
            st["cuda_rng"] = torch.cuda.get_rng_state(self.device)
        return st

    def _run_setting(self) -> dict[str, Any]:
        """How this invocation runs (not what it computes): threads, processes, device, data root."""
        return {"threads": torch.get_num_threads(), "world": self.world, "device": self.device.type,
                "data_root": str(self.data_root.resolve())}

    def run_metadata(self) -> dict[str, str]:
        """What the final weights' metadata says of the run besides its config, steps and time
        (machine, precision, the last logged training loss and the last validation when they are
        of the current step), also kept in every checkpoint so that ``export-weights`` of the
        last checkpoint writes the same metadata as ``final.safetensors``."""
        meta = {
            "machine": f"{platform.machine()} {platform.processor() or ''} {torch.get_num_threads()} threads, "
            f"{'cuda:' + torch.cuda.get_device_name(self.device) if self.device.type == 'cuda' else 'cpu'}, "
            f"{self.world} process(es)",
            "precision": self.precision,
        }
        logged = getattr(self, "last_logged_loss", None)
        if logged and logged[0] == self.step and math.isfinite(logged[1]):
            meta["final_train_loss"] = f"{logged[1]:.6f}"
        if self.loss_source is not None:  # which code the loss was: a weights file says where it came from
            meta["loss_source"] = _json_text(self.loss_source, indent=None)
        meta["train_data"] = _json_text(self.train_data_record(), indent=None)
        last_val = getattr(self, "last_validation", None)
        if last_val and last_val["step"] == self.step:  # the card of one's own weights shows them
            meta["validation"] = json.dumps({k: (round(v, 6) if isinstance(v, float) else v)
                                             for k, v in last_val.items()})
        return meta

    def train_data_record(self) -> dict[str, Any]:
        """What the weights and checkpoints record of the data (``train_data`` metadata): the data
        root, the pairs per set, how many trained and how many were held out, a sha256 over every
        pair's name and file digests (:attr:`pair_names`, :attr:`pair_digests`: equal for the same
        data, whatever folder holds it), and how the images were read: the intensity policy of
        ``mutualfuse fuse`` the run read them with (``data.normalize``, ``data.percentiles``: fuse
        with the same ``--normalize`` and ``--percentiles`` so that the network sees what it was
        trained on; ``auto`` and 0.1, 99.9 are ``fuse``'s defaults)."""
        import hashlib

        # a name that is not UTF-8 (a lone surrogate in Python) hashed as its bytes on disk
        h = hashlib.sha256("\n".join(f"{n}\t{d}" for n, d in zip(self.pair_names, self.pair_digests)
                                     ).encode("utf-8", "surrogateescape"))
        return {"data_root": str(self.data_root.resolve()), "sets": dict(self.sets_found),
                "train_pairs": len(self.train_names), "held_out": len(self.val_names),
                "pairs_sha256": h.hexdigest(),
                "normalize": self.cfg.data.normalize, "percentiles": [float(v) for v in self.cfg.data.percentiles],
                "colour": "BT.601 luma"}

    def resume(self, path: str | os.PathLike | None = None) -> bool:
        p = Path(path) if path else self.out / LAST
        if not p.exists():
            return False
        st = load_checkpoint(p)
        step = check_resumable(p, st, self.cfg)
        if "pairs" in st and list(st["pairs"]) != self.pair_names:
            old_p, new_p = list(st["pairs"]), self.pair_names
            gone, added = sorted(set(old_p) - set(new_p)), sorted(set(new_p) - set(old_p))
            eg = ", ".join([f"missing {n}" for n in gone[:2]] + [f"new {n}" for n in added[:2]]) or "another order"
            raise ParameterError(f"{p}: the training pairs differ from the checkpoint's ({len(old_p)} pairs then, "
                                 f"{len(new_p)} now; {eg}): --resume needs the same data (use another --out)")
        digests = st.get("pair_sha256")  # checkpoints since 2026-12-06
        if isinstance(digests, list) and len(digests) == len(self.pair_digests) and digests != self.pair_digests:
            changed = [n for n, x, y in zip(self.pair_names, digests, self.pair_digests) if x != y]
            n = f"{len(changed)} of the {len(digests)} pairs differ" if len(changed) > 1 else \
                f"1 of the {len(digests)} pairs differs"
            raise ParameterError(f"{p}: {n} in content from the checkpoint's, e.g. {changed[0]} (the same names, "
                                 f"other bytes, in {self.data_root}): "
                                 f"--resume needs the data the run trained on (use another --out)")
        try:  # the config matched; a state that does not fit it (another version's network) is the file's
            self.model.load_state_dict(st["model"])
            self.opt.load_state_dict(st["optimizer"])
            elapsed = float(st.get("elapsed", 0.0))
            torch.set_rng_state(st["torch_rng"])
            if "cuda_rng" in st and self.device.type == "cuda":
                torch.cuda.set_rng_state(st["cuda_rng"], self.device)
        except KeyError as e:
            raise WeightsError(f"{p}: not a resumable checkpoint (no {e.args[0]!r} entry)") from None
        except (RuntimeError, ValueError, TypeError, AttributeError) as e:
            why = " ".join(str(e).split())[:200] or type(e).__name__
            raise WeightsError(f"{p}: the checkpoint's state does not fit the model and optimiser of its config "
                               f"({why}); it cannot be resumed: use another --out for a new run") from None
        self.step = step
        self.checkpoint_step = step
        self.elapsed = elapsed
        self._restore_last_logged(st.get("run_meta"), step)
        if not self._record_paths_given and st.get("record_paths") in PATH_RECORDS:
            self.record_paths = st["record_paths"]  # the run's choice, kept without --record-paths again
        #: what this resume changes of the run (:func:`resume_notes`), said on stderr by :func:`train`
        self.resume_notes = resume_notes(st, self.cfg, self._run_setting())
        note = loss_source_note(st, self.loss_source)
        if note:
            self.resume_notes.append(note)
        #: the checkpoint's digest, which every process of a torchrun must share
        self.resumed_digest = checkpoint_digest(p)
        return True

    def _restore_last_logged(self, run_meta: Any, step: int) -> None:
        """The last logged training loss and validation of the checkpoint's step, from its
        ``run_meta``: a resume that runs no step (final weights missing, or a ``--time-limit`` run
        given ``--steps`` at its step) writes weights and a checkpoint with the same ``final loss``
        and ``validation`` the checkpoint recorded (they were dropped until 2026-12-07)."""
        if not isinstance(run_meta, dict):
            return
        try:
            loss = float(run_meta["final_train_loss"])
            if math.isfinite(loss):
                self.last_logged_loss = (step, loss)
        except (KeyError, TypeError, ValueError):
            pass
        try:
            val = json.loads(run_meta["validation"])
            if isinstance(val, dict) and val.get("step") == step:
                self.last_validation = val
        except (KeyError, TypeError, ValueError):
            pass

    # -- loop ------------------------------------------------------------------
    def _loader(self, start: int):
        """One data loader for optimiser steps ``start + 1`` … ``cfg.steps`` (:class:`_BatchPlan`)."""
        workers = self.cfg.data.num_workers
        extra = {"prefetch_factor": 4} if workers else {}
        plan = _BatchPlan(self.sampler, self.per_rank, self.steps_per_epoch, self.cfg.data.epoch_offset,
                          start, self.cfg.steps)
        if workers:
            extra["worker_init_fn"] = _ignore_stop_signals
        # its own generator: a data loader draws a seed for its workers when it starts, from
        # torch's global generator by default, whose state the checkpoints keep; a resumed run
        # (one loader more) then saved another state than the uninterrupted run. The samples are
        # pure functions of (seed, epoch, index) and do not use it
        gen = torch.Generator().manual_seed(self.cfg.seed)
        return DataLoader(self.train_set, batch_sampler=plan, num_workers=workers,
                          pin_memory=self.device.type == "cuda", generator=gen, **extra)

    @property
    def precision(self) -> str:
        """The arithmetic of the training forward, as recorded in the weights' metadata."""
        return "bf16 autocast" if (self.cpu_bf16 or self.use_amp) else "float32"

    def _autocast(self):
        """Autocast of validation forwards: bf16 on CUDA with ``amp``, else float32."""
        if self.use_amp:
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return nullcontext()

    def _train_autocast(self):
        """Autocast of training forwards: as :meth:`_autocast`, plus bf16 on CPU with ``cpu_amp``."""
        if self.cpu_bf16:
            return torch.autocast("cpu", dtype=torch.bfloat16)
        return self._autocast()

    @torch.no_grad()
    def validate(self) -> float | None:
        """Validation loss on the held-out pairs' centre crops (``val_metrics`` has the rest)."""
        if self.val_set is None:
            return None
        self.model.eval()
        losses = []
        self._loss_when = f"in the validation at step {self.step}"  # a loss of one's own that fails says so
        for i in range(len(self.val_set)):
            a, b = self.val_set[i]
            a, b = a[None].to(self.device), b[None].to(self.device)
            with self._autocast():
                f = self.model(a, b)
            losses.append(float(self.loss_fn(a, b, f.float())))
        self._loss_when = ""
        self.model.train()
        return float(np.mean(losses))

    @torch.no_grad()
    def val_metrics(self) -> dict[str, float]:
        """Quality on the held-out pairs (:func:`validation_quality`), at full size or on their centre
        ``data.val_crop`` crops. What does not depend on the network (the crops, the synthetic
        multi-focus pairs of ``val_mf_psnr``) is prepared at the first validation and kept: every
        validation of the run scores the same arrays (they were made again at each one)."""
        if self.val_set is None:
            return {}
        if getattr(self, "_val_prepared", None) is None:
            self._val_prepared = prepare_validation(self.val_set.images, self.cfg.data.val_crop)
        self.model.eval()
        out = validation_quality(self.model, self.val_set.images, self.device, self._autocast,
                                 prepared=self._val_prepared)
        self.model.train()
        return out

    def _say_validation_cost(self, seconds: float, bar=None) -> None:
        """Once per invocation, a note when a validation at full size took far longer than the
        run's steps (over 5 s and over 10 times the steps' time so far): where the time of a quick
        run goes, and the key that makes it proportionate (``data.val_crop``)."""
        if getattr(self, "_val_cost_said", False) or not self.notes or self.cfg.data.val_crop:
            return
        self._val_cost_said = True
        if seconds > 5.0 and seconds > 10 * max(self.elapsed, 1e-9):
            side = max(max(a.shape) for a, _ in self.val_set.images)
            n = len(self.val_set)
            note = (f"note: validating {n} held-out pair{'s' if n > 1 else ''} at full size (up to {side} px) took "
                    f"{seconds:.1f} s, against {self.elapsed:.1f} s of training steps so far; data.val_crop: N "
                    f"(--val-crop N) scores their centre N×N crops instead (docs/training.md)")
            if bar is not None:  # above the progress bar, which stays whole
                bar.write(note, file=sys.stderr)
            else:
                print(note, file=sys.stderr)

    def _csv(self):
        """``log.csv`` open for the rows of this invocation: its header and the rows up to the
        resumed step, written to a temporary renamed over it (:func:`mutualfuse.io.atomic.atomic_write`),
        then opened to append. It was emptied and written again in place: a resume that failed
        there (a full disk, ``ulimit -f``) or was stopped there (Ctrl+C, a kill) left the log cut
        short, the rows of the steps already trained lost."""
        from ..io.atomic import atomic_write

        path = self.out / "log.csv"
        rows = []
        if path.exists():  # keep only rows up to the resumed step
            rows = _log_rows(path, self.step)
        try:
            with atomic_write(path) as tmp, open(tmp, "w", newline="") as fh:
                w = csv.DictWriter(fh, fieldnames=CSV_FIELDS)
                w.writeheader()
                w.writerows(rows)
        except InputError as e:  # atomic_write's wording of a full disk: said as the run's other files are
            raise self._cannot_write(path, e, at_step=False) from None
        fh = open(path, "a", newline="")
        return fh, csv.DictWriter(fh, fieldnames=CSV_FIELDS)

    def _tb(self):
        try:
            from torch.utils.tensorboard import SummaryWriter
        except Exception:  # noqa: BLE001 - tensorboard is an optional extra
            return None
        tb = self.out / "tb"
        try:
            os.fspath(tb).encode("utf-8")
        except UnicodeEncodeError:  # TensorBoard encodes its file names as UTF-8: its writer raised (internal error)
            if self.notes:
                from ..image_io import _one_line_path

                print(_one_line_path(f"note: {tb}: TensorBoard scalars not written (TensorBoard takes only UTF-8 "
                                     f"file names; log.csv has the same numbers)"), file=sys.stderr)
            return None
        return SummaryWriter(log_dir=str(tb), purge_step=self.step + 1)

    def _time_up(self, t_start: float) -> bool:
        """Whether this invocation's ``time_limit_s`` has passed since ``t_start`` (every process agrees: under
        torchrun the flag is all-reduced, so no rank stops alone)."""
        if self.time_limit_s is None:
            return False
        up = time.perf_counter() - t_start >= self.time_limit_s
        if self.world > 1:
            t = torch.tensor([1.0 if up else 0.0], device=self.device)
            dist.all_reduce(t, op=dist.ReduceOp.MAX)
            up = bool(t.item() > 0)
        return up

    def checkpoint(self) -> None:
        if self.rank == 0:
            self._check_pending_loss()  # never a diverged state in the checkpoint --resume continues
            try:
                save_checkpoint(self.out / LAST, self.state())
            except FuseError as e:  # the disk is full, the folder went away: the old checkpoint is kept
                raise TrainingOutputError(f"{e} at step {self.step}; {self._resume_point()}") from None
            self.checkpoint_step = self.step

    def _check_pending_loss(self) -> None:
        """Read a loss the lazy loop (:meth:`_lazy_loss_reads`) has not read yet: a non-finite one
        stops the run before its diverged state is written (:class:`TrainingDiverged`)."""
        pending, self._pending_loss = getattr(self, "_pending_loss", None), None
        if pending is not None:
            value = float(pending[0])
            if not math.isfinite(value):
                raise self._diverged(value, pending[1])

    def _lazy_loss_reads(self) -> bool:
        """Whether the loss is read back only on the steps that log it (or write a checkpoint):
        on one CUDA device, so that the GPU is not idle while each step's value is copied."""
        return self.device.type == "cuda" and self.world == 1

    def _resume_point(self) -> str:
        """Where an interrupted run continues from, as the file on disk says (one clause)."""
        at = checkpoint_step(self.out / LAST)
        if at is None:
            return f"no checkpoint in {self.out}, nothing to resume"
        return f"the last checkpoint, {self.out / LAST}, is at step {at}: --resume continues from it"

    def _cannot_write(self, path: Path, e: OSError, at_step: bool = True) -> TrainingOutputError:
        """The one-line error of a run file that could not be written: the file, why, the step
        (``at_step``) and where ``--resume`` continues from."""
        step = f" at step {self.step}" if at_step else ""
        return TrainingOutputError(f"{path}: cannot write ({write_reason(e)}){step}; {self._resume_point()}")

    def _write_text(self, path: Path, text: str) -> None:
        """``text`` written to ``path`` as UTF-8, atomically (a temporary renamed over it, umask
        respected: :func:`mutualfuse.io.atomic.atomic_write`); a failure is a
        :class:`TrainingOutputError` and leaves ``path`` as it was (``path.write_text`` emptied
        it first: a resume that failed there, or was stopped there, left an empty file)."""
        from ..io.atomic import atomic_write

        try:
            with atomic_write(path) as tmp:
                tmp.write_bytes(text.encode("utf-8"))
        except (OSError, InputError) as e:  # InputError: atomic_write's own wording of an OSError
            raise self._cannot_write(path, e) from None

    def split_record(self) -> dict[str, Any]:
        """What ``split.json`` holds: the seed, the data root, the sets with their pair counts, and
        the held-out and training pairs as "set/name" (a pure function of the pairs found and the
        seed: the same data and seed give the same split)."""
        return {"seed": self.cfg.seed, "data_root": str(self.data_root.resolve()),
                "sets": {s: n for s, n in self.sets_found}, "val_pairs": list(self.val_names),
                "train_pairs": list(self.train_names)}

    def _defer_stop_signals(self):
        """While the steps run (one process, main thread): the first Ctrl+C (SIGINT) or SIGTERM
        only asks the loop to stop after the step under way (:attr:`stop_signal`), which then
        writes a checkpoint there; a second one stops at once (KeyboardInterrupt). A signal
        that is ignored (``nohup``) stays ignored. Returns the undo (idempotent), which puts
        the previous handlers back."""
        import threading

        self.stop_signal = None
        self._leaving = False
        previous: dict[int, Any] = {}

        def restore() -> None:
            while previous:
                sig, prev = previous.popitem()
                signal.signal(sig, prev)

        if self.world > 1 or threading.current_thread() is not threading.main_thread():
            return restore  # under torchrun every rank would have to agree on the step: stop at once

        def handler(signum, frame):
            if self.stop_signal is not None:
                if self._leaving:  # the steps are over (the data workers stopping): the checkpoint comes
                    return
                raise KeyboardInterrupt
            self.stop_signal = signal.Signals(signum).name
            note_stop(signum)  # the command's exit status: 128 + signum (143 for SIGTERM)
            if self.notes:  # os.write: safe while the main thread is inside a print
                start = "\n" if self.progress else ""  # off the progress bar's line
                os.write(2, f"{start}mutualfuse train: {self.stop_signal}: stopping after the step under way, "
                            f"with a checkpoint (again to stop at once)\n".encode())

        for sig in (signal.SIGINT, signal.SIGTERM):
            prev = signal.getsignal(sig)
            if prev is not signal.SIG_IGN and prev is not None:
                previous[sig] = prev
                signal.signal(sig, handler)
        return restore

    def _interrupted(self, clean: bool) -> TrainingInterrupted:
        """What a stop by Ctrl+C says: with ``clean``, the loop stopped after a step and wrote a
        checkpoint there; otherwise it stopped at once and the last checkpoint (if any) is the
        resume point."""
        last = self.out / LAST
        of = f"step {self.step} of {self.cfg.steps}"
        if clean:
            return TrainingInterrupted(f"interrupted ({self.stop_signal}) at {of}: checkpoint {last} written; "
                                       f"the same command with --resume continues the run")
        at = checkpoint_step(last)  # what the file holds: a second Ctrl+C may have stopped (or not) its write
        if at is None:
            return TrainingInterrupted(f"interrupted at {of}; no checkpoint in {self.out}, nothing to resume")
        return TrainingInterrupted(f"interrupted at {of}; the last checkpoint, {last}, is at step {at}: the "
                                   f"same command with --resume continues from it")

    def _close_run_files(self, *files: Any) -> None:
        """Close the progress bar, ``log.csv`` and the TensorBoard writer (``None``: not open),
        each of them, where the caller's signal handlers are back: a Ctrl+C or SIGTERM that comes
        meanwhile (the second of a stop, or one at the end of the last step; TensorBoard's writer
        flushes and joins its thread) is :class:`TrainingInterrupted` naming the checkpoint that
        ``--resume`` continues. It was a bare ``KeyboardInterrupt`` that replaced the run's own
        message: the command said "interrupted", not the step nor the checkpoint."""
        stopped = False
        for f in files:
            if f is None:
                continue
            try:
                f.close()
            except KeyboardInterrupt:
                stopped = True
        if stopped:
            raise self._interrupted(clean=False) from None

    def _diverged(self, value: float, step: int) -> TrainingDiverged:
        where = (f"the last checkpoint, {self.out / LAST}, is at step {self.checkpoint_step}"
                 if self.checkpoint_step is not None else "no checkpoint was written")
        return TrainingDiverged(f"the training loss became {value} at step {step} (lr {lr_at(self.cfg, step):g}): "
                                f"the run diverged; {where}. Try a lower lr or check the training images")

    def run(self) -> dict[str, Any]:
        cfg = self.cfg
        net = self.ddp or self.model
        self.model.train()
        csv_fh = writer = tb = bar = None
        if self.rank == 0:
            try:
                self.out.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise ParameterError(f"{self.out}: cannot create the output folder ({e.strerror or e}; out_dir)") from None
            self._write_text(self.out / "config.json", json.dumps(cfg.to_dict(), indent=2))
            self._write_text(self.out / SPLIT, _json_text(self.split_record()))
            if self.notes and self.step == 0:
                counts = ", ".join(f"{s} {n}" for s, n in self.sets_found)
                from ..image_io import _one_line_path  # a name that is not UTF-8 shown escaped, as errors show it

                print(_one_line_path(f"mutualfuse train: {len(self.pair_names)} pairs in {self.data_root} ({counts}); "
                                     f"{len(self.val_names)} held out for validation by seed {cfg.seed} (listed in "
                                     f"{self.out / SPLIT})"), file=sys.stderr)
            try:
                csv_fh, writer = self._csv()
            except OSError as e:
                raise self._cannot_write(self.out / "log.csv", e, at_step=False) from None
            tb = self._tb()
            if self.notes and cfg.cpu_amp != "off" and self.device.type == "cpu":
                print(f"cpu_amp {cfg.cpu_amp}: training forward in {self.precision}"
                      + ("" if self.cpu_bf16 else " (this CPU has no native bf16)"), file=sys.stderr)
            if self.notes and self.init_report and self.step == 0:
                r = self.init_report
                print(f"init_weights {cfg.init_weights}: {len(r['copied'])} tensors copied, {len(r['tiled'])} tiled, "
                      f"{len(r['fresh'])} fresh ({', '.join(r['fresh'][:4]) or 'none'}), "
                      f"{len(r['unused'])} unused ({', '.join(r['unused'][:4]) or 'none'})", file=sys.stderr)
            if self.notes and self.step == 0 and cfg.lr_schedule == "cosine" and cfg.warmup_steps >= cfg.steps:
                # e.g. a recipe's 50 warm-up steps under --steps 20: said, not refused (a short trial run)
                print(f"note: warmup_steps {cfg.warmup_steps} >= steps {cfg.steps}: the learning rate rises to "
                      f"{lr_at(cfg, cfg.steps):.3g} at most and never reaches lr {cfg.lr:g}, nor decays",
                      file=sys.stderr)
            if self.progress:
                from tqdm import tqdm

                bar = tqdm(total=cfg.steps, initial=self.step, unit="step", dynamic_ncols=True, file=sys.stderr)
        t_last = t_rate = time.perf_counter()
        imgs_since = 0
        last_loss = float("nan")
        # on one CUDA device the loss is read back (a host-device sync) only on the steps that log
        # it, so that the GPU is not idle while each step's value is copied; elsewhere every step.
        # A loss not read yet is read before a checkpoint is written (:meth:`checkpoint`)
        lazy = self._lazy_loss_reads()
        self._pending_loss = None
        restore_signals = self._defer_stop_signals()
        try:
            for batch in self._loader(self.step):
                nxt = self.step + 1
                epoch = (nxt - 1) // self.steps_per_epoch + cfg.data.epoch_offset
                a, b = batch[0], batch[1]
                a = a.to(self.device, non_blocking=True)
                b = b.to(self.device, non_blocking=True)
                lr = lr_at(cfg, nxt)
                for group in self.opt.param_groups:
                    group["lr"] = lr * group.get("lr_mult", 1.0)  # checkpoints before lr_mult: 1
                with self._train_autocast(), token_budget_during(self.model, cfg.train_token_budget):
                    f = net(a.contiguous(memory_format=self.memory_format),
                            b.contiguous(memory_format=self.memory_format))
                loss = self.loss_fn(a, b, f.float().contiguous())
                if cfg.truth_weight > 0:
                    t, m = batch[2].to(self.device, non_blocking=True), batch[3].to(self.device, non_blocking=True)
                    loss = loss + cfg.truth_weight * truth_loss(f.float(), t, m, grad_weight=cfg.truth_grad_weight)
                if not lazy and not torch.isfinite(loss):
                    raise self._diverged(loss.item(), nxt)
                self.opt.zero_grad(set_to_none=True)
                loss.backward()
                self.opt.step()
                self.step = nxt
                imgs_since += a.shape[0] * self.world
                time_up = self._time_up(self.started)
                val_due = bool(cfg.val_every and self.step % cfg.val_every == 0) or self.step == cfg.steps or time_up
                log_due = self.step % cfg.log_every == 0 or val_due or self.step == 1
                if lazy and not log_due:
                    self._pending_loss = (loss.detach(), self.step)
                else:
                    self._pending_loss = None
                    last_loss = float(loss.detach())
                    if not math.isfinite(last_loss):  # lazy: found at the first step that reads it
                        raise self._diverged(last_loss, self.step)
                    if self.world > 1:
                        t = torch.tensor([last_loss], device=self.device)
                        dist.all_reduce(t)
                        last_loss = float(t) / self.world
                    self.last_logged_loss = (self.step, last_loss)
                now = time.perf_counter()
                self.elapsed += now - t_last
                t_last = now
                rate = None
                if log_due:  # images/s since the previous logged step (validation time excluded)
                    rate = imgs_since / max(now - t_rate, 1e-9)
                    t_rate, imgs_since = now, 0
                val = None
                vm: dict[str, float] = {}
                if val_due:
                    if self.rank == 0:
                        t_val = time.perf_counter()
                        if bar is not None and self.val_set is not None:  # a bar standing still said why
                            bar.set_description_str(f"validating {len(self.val_set)} pair"
                                                    f"{'s' if len(self.val_set) > 1 else ''}", refresh=True)
                        val = self.validate()
                        vm = self.val_metrics()
                        if bar is not None:
                            bar.set_description_str("", refresh=False)
                        self.last_validation = {"step": self.step, "val_loss": val, **vm}
                        self._say_validation_cost(time.perf_counter() - t_val, bar)
                    t_last = t_rate = time.perf_counter()
                if self.rank == 0:
                    if log_due:
                        try:
                            writer.writerow({"step": self.step, "epoch": epoch, "loss": f"{last_loss:.6f}",
                                             "val_loss": "" if val is None else f"{val:.6f}", "lr": f"{lr:.6g}",
                                             "images_per_s": f"{rate:.3f}", "elapsed_s": f"{self.elapsed:.1f}",
                                             **{k: f"{v:.4f}" for k, v in vm.items()}})
                            csv_fh.flush()
                        except OSError as e:
                            raise self._cannot_write(self.out / "log.csv", e) from None
                        if tb is not None:
                            tb.add_scalar("loss/train", last_loss, self.step)
                            tb.add_scalar("speed/images_per_s", rate, self.step)
                            if val is not None:
                                tb.add_scalar("loss/val", val, self.step)
                            for k, v in vm.items():
                                tb.add_scalar(f"val/{k[4:]}", v, self.step)
                    if bar is not None:
                        if log_due:
                            bar.set_postfix(loss=f"{last_loss:.4f}", img_s=f"{rate:.1f}",
                                            **({"val": f"{val:.4f}"} if val is not None else {}))
                        bar.update(1)
                if cfg.checkpoint_every and self.step % cfg.checkpoint_every == 0:
                    self.checkpoint()
                if _KILL_AT and self.step == _KILL_AT and self.rank == 0:  # fault injection (tests)
                    os.kill(os.getpid(), signal.SIGKILL)
                if time_up:
                    self.stopped_early = self.step < cfg.steps
                    break
                if self.stop_signal is not None:  # Ctrl+C: stop after this step, checkpointed below
                    self._leaving = True
                    break
            restore_signals()
            if self.stop_signal is not None and self.step < cfg.steps and not self.stopped_early:
                if self.checkpoint_step != self.step:
                    self.checkpoint()
                raise self._interrupted(clean=True)
            self.checkpoint()
        except KeyboardInterrupt as e:
            if isinstance(e, TrainingInterrupted):
                raise
            raise self._interrupted(clean=False) from None
        finally:
            restore_signals()
            self._close_run_files(bar, csv_fh, tb)
        # loss None (JSON null) when this invocation ran no step (resumed at its end)
        result = {"step": self.step, "loss": last_loss if math.isfinite(last_loss) else None,
                  "elapsed_s": self.elapsed}
        if self.stopped_early:
            result["stopped_early"] = True
        if self.rank == 0:
            meta = {
                "steps": str(self.step),
                "train_config": json.dumps(cfg.to_dict()),
                "wall_time_s": f"{self.elapsed:.1f}",
                **self.run_metadata(),
            }
            if math.isfinite(last_loss):  # none when this invocation ran no step (resumed at its end)
                meta["final_train_loss"] = f"{last_loss:.6f}"
            if self.stopped_early:
                meta["stopped"] = (f"time limit {self.time_limit_s:g} s reached at step {self.step} of {cfg.steps} "
                                   f"(the learning-rate schedule did not finish)")
            meta = record_paths(meta, self.record_paths)
            final = self.out / "final.safetensors"
            try:
                result["weights"] = str(save_weights(final, self.model, cfg.model, meta))
            except (OSError, InputError, SafetensorError) as e:  # the checkpoint at this step is written
                why = write_reason(e)
                raise TrainingOutputError(f"{final}: cannot write the final weights ({why}); the checkpoint "
                                          f"{self.out / LAST} holds them (step {self.step}): `mutualfuse "
                                          f"export-weights {self.out / LAST} -o WEIGHTS.safetensors` writes "
                                          f"them elsewhere") from None
            except KeyboardInterrupt:  # as one in the close above: the checkpoint of this step is the resume point
                raise self._interrupted(clean=False) from None
        return result


def _json_text(record: Any, indent: int | None = 2) -> str:
    """``record`` as JSON text for a file of the run (``split.json``; with ``indent`` None, without
    the final line break, a metadata value of the checkpoints and weights): names as they are
    (``ensure_ascii=False``), unless one of them holds a character UTF-8 cannot hold: a file name
    that is not UTF-8 (``caf\\xe9.png`` from a Latin-1 system), which Python gives as a lone
    surrogate, was an internal error (``UnicodeEncodeError``) with an empty ``split.json`` left;
    such a record is written with JSON's ``\\u`` escapes, which read back to the same names."""
    text = json.dumps(record, indent=indent, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(record, indent=indent)
    return text + "\n" if indent is not None else text


def _log_rows(path: Path, up_to: int) -> list[dict[str, str]]:
    """The rows of a run's ``log.csv`` up to step ``up_to``, in the columns of :data:`CSV_FIELDS`:
    what a resumed run keeps. Lines that do not read as a row with a step number (cut short by a
    kill, edited by hand) and columns not of this version are left out, not an error."""
    rows = []
    with open(path, newline="", encoding="utf-8", errors="replace") as fh:
        try:
            for r in csv.DictReader(fh):
                try:
                    step = int(r.get("step") or "")
                except (TypeError, ValueError):
                    continue
                if step <= up_to:
                    rows.append({k: v for k, v in r.items() if k in CSV_FIELDS and v is not None})
        except csv.Error:  # a line the reader cannot take: the rows before it are kept
            pass
    return rows


def validation_multifocus(b: np.ndarray, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(truth, a, b) of the ``i``-th validation pair's synthetic multi-focus pair, made from its
    visible image ``b`` (fixed seed per pair, σ in 2–3): the pairs of ``val_mf_psnr``."""
    from .data import synthetic_multifocus

    return synthetic_multifocus(b, np.random.default_rng([12345, i]), (2.0, 3.0))


def centre_crop(a: np.ndarray, crop: int) -> np.ndarray:
    """The centre ``crop``×``crop`` of a gray image, reflect-padded first where it is smaller (the
    centre crops of the held-out pairs, as :class:`~mutualfuse.train.data.PairCrops` takes them)."""
    h, w = a.shape
    if h < crop or w < crop:
        a = np.pad(a, ((0, max(0, crop - h)), (0, max(0, crop - w))), mode="reflect")
        h, w = a.shape
    y, x = (h - crop) // 2, (w - crop) // 2
    return np.ascontiguousarray(a[y:y + crop, x:x + crop])


def prepare_validation(images: list[tuple[np.ndarray, np.ndarray]], crop: int = 0) -> list[tuple[np.ndarray, ...]]:
    """What :func:`validation_quality` scores, without the network: per held-out pair ``(a, b,
    truth, ma, mb)``, the pair (its centre ``crop`` crop when ``crop`` > 0, else at full size) and the
    synthetic multi-focus pair made from its visible image (:func:`validation_multifocus`). A pure
    function of the images: a trainer makes it once and validates on it every time."""
    out = []
    for i, (a, b) in enumerate(images):
        if crop:
            a, b = centre_crop(a, crop), centre_crop(b, crop)
        out.append((a, b, *validation_multifocus(b, i)))
    return out


@torch.no_grad()
def validation_quality(model: torch.nn.Module, images: list[tuple[np.ndarray, np.ndarray]],
                       device: torch.device | str = "cpu", autocast=nullcontext,
                       prepared: list[tuple[np.ndarray, ...]] | None = None) -> dict[str, float]:
    """Quality on held-out pairs at full size, the numbers a recipe is chosen by.

    ``images``: gray float pairs in [0, 1] (IR, visible). ``val_sf``, ``val_ei``, ``val_qabf``:
    means of VIFB's SF, EI and Q^AB/F of the fused pairs (0–255); ``val_mf_psnr``: mean PSNR
    (dB, peak 1) to the truth of synthetic multi-focus pairs made from the visible images
    (fixed seed per pair, σ in 2–3). ``model`` is used as given (put it in eval mode first).
    ``prepared``: :func:`prepare_validation` of ``images`` (made here when None; a trainer keeps
    its own, at full size or on centre crops, ``data.val_crop``).
    """
    from ..metrics import ei, qabf, sf

    if prepared is None:
        prepared = prepare_validation(images)
    out: dict[str, list[float]] = {"val_sf": [], "val_ei": [], "val_qabf": [], "val_mf_psnr": []}
    for a, b, truth, ma, mb in prepared:
        ta = torch.from_numpy(a)[None, None].to(device)
        tb = torch.from_numpy(b)[None, None].to(device)
        with autocast():
            f = model(ta, tb).float().clamp(0, 1)
        f8 = f[0, 0].cpu().numpy() * 255.0
        with np.errstate(divide="ignore", invalid="ignore"):  # a flat pair: Q^AB/F is 0/0 = NaN, unwarned
            out["val_sf"].append(sf(f8))
            out["val_ei"].append(ei(f8))
            out["val_qabf"].append(qabf(a * 255.0, b * 255.0, f8))
        with autocast():
            g = model(torch.from_numpy(ma)[None, None].to(device),
                      torch.from_numpy(mb)[None, None].to(device)).float().clamp(0, 1)
        mse = float(((g[0, 0].cpu().numpy() - truth) ** 2).mean())
        out["val_mf_psnr"].append(10 * math.log10(1.0 / max(mse, 1e-12)))
    return {k: float(np.mean(v)) for k, v in out.items()}


@torch.no_grad()
def validation_blackout(model: torch.nn.Module, images: list[tuple[np.ndarray, np.ndarray]],
                        device: torch.device | str = "cpu") -> dict[str, float]:
    """How well a model takes the other source where one source has no signal (held-out pairs).

    For every pair (IR, visible) and each role in turn, that source is set to exactly 0 in a
    fixed random region (:func:`~mutualfuse.train.data.smooth_mask` > 0.5, seed ``[54321, i]``,
    the same region for both roles). With no signal in one source, the only content there is
    the other source's, so the fused image should equal it: ``val_black_psnr`` is the PSNR (dB,
    peak 1) of the fused image against the intact source inside the region, from the mean squared
    error over both roles (so that a model exact in one role and wrong in the other scores
    low), averaged over pairs. Not part of the trainer's log (validation scripts call it).
    """
    from .data import smooth_mask

    vals = []
    for i, (a, b) in enumerate(images):
        m = smooth_mask(a.shape, np.random.default_rng([54321, i])) > 0.5
        if not m.any():
            continue
        mses = []
        for dark_first in (True, False):
            x = np.where(m, 0.0, a).astype(np.float32) if dark_first else a
            y = b if dark_first else np.where(m, 0.0, b).astype(np.float32)
            f = model(torch.from_numpy(np.ascontiguousarray(x))[None, None].to(device),
                      torch.from_numpy(np.ascontiguousarray(y))[None, None].to(device)).float().clamp(0, 1)
            keep = b if dark_first else a
            mses.append(float(((f[0, 0].cpu().numpy() - keep)[m] ** 2).mean()))
        vals.append(10 * math.log10(1.0 / max(float(np.mean(mses)), 1e-12)))
    return {"val_black_psnr": float(np.mean(vals))}


def _weights_at(path: Path, step: int, cfg: TrainConfig, paths: str = "full") -> bool:
    """Whether ``path`` holds a run's final weights at ``step`` of ``cfg`` (its metadata's step and
    training config; not a time-limited stop) with its paths recorded as ``paths`` says
    (:func:`~mutualfuse.train.paths.record_paths`), so that a resume at the end has nothing to write."""
    if not path.is_file():
        return False
    try:
        from safetensors import safe_open

        with safe_open(str(path), "pt") as fh:
            meta = fh.metadata() or {}
        stored = json.loads(meta.get("train_config", "null"))
    except Exception:  # noqa: BLE001 - unreadable: written again from the checkpoint
        return False
    if meta.get("recorded_paths", "full") != paths:  # e.g. a finished run resumed with --record-paths name
        return False
    diffs = resume_differences(stored, cfg) if isinstance(stored, dict) else [("train_config", None, None)]
    if paths != "full" and diffs:  # the file records the paths shortened: compare them shortened
        mine = _flat(json.loads(record_paths({"train_config": json.dumps(cfg.to_dict())}, paths)["train_config"]))
        diffs = [d for d in diffs if d[0] not in ("init_weights", "data.sets") or mine.get(d[0]) != d[1]]
    return (meta.get("steps") == str(step) and "stopped" not in meta and isinstance(stored, dict)
            and not diffs and stored.get("steps") == cfg.steps)


def _final_weights_why(path: Path, step: int) -> str:
    """Why a resume with nothing to train writes ``path`` (the run's final weights), in words."""
    if not path.is_file():
        return f"its final weights are missing: {path} written from the checkpoint"
    try:
        from safetensors import safe_open

        with safe_open(str(path), "pt") as fh:
            meta = fh.metadata() or {}
    except Exception:  # noqa: BLE001 - unreadable: written again from the checkpoint
        return f"{path} cannot be read: written again from the checkpoint"
    if meta.get("stopped"):
        return (f"{path} recorded a stop ({meta['stopped']}); written again from the checkpoint (the same "
                f"tensors) as the weights of a finished {step}-step run")
    return f"{path} records another run setting: written again from the checkpoint (the same tensors)"


def _flushes_denormals() -> bool:
    """Whether ``torch.set_flush_denormal(True)`` is in effect (torch has no getter)."""
    return torch.tensor([1e-40], dtype=torch.float32).mul(1.0).item() == 0.0


@contextmanager
def _process_state_kept():
    """Put back what a run changes in the process (a notebook goes on after :func:`train`): torch's
    thread count (``threads``), its deterministic-algorithms and flush-denormal modes (set for CPU
    runs), and the global torch, NumPy and ``random`` generators (seeded by ``seed``). Each run
    sets them itself, so two runs in one process are the same as in two processes."""
    threads = torch.get_num_threads()
    det = torch.are_deterministic_algorithms_enabled()
    det_warn = torch.is_deterministic_algorithms_warn_only_enabled()
    flush = _flushes_denormals()
    rng = (torch.get_rng_state(), np.random.get_state(), random.getstate())
    try:
        yield
    finally:
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(det, warn_only=det_warn)
        torch.set_flush_denormal(flush)
        torch.set_rng_state(rng[0])
        np.random.set_state(rng[1])
        random.setstate(rng[2])


def as_train_config(cfg: Any) -> TrainConfig:
    """``cfg`` as a checked :class:`TrainConfig`: one itself (its fields checked again, since they
    may have been set after construction), a mapping (as a YAML file's), or a config file path or
    shipped recipe name (``"finetune-default"``, ``"paper"``). Anything else is a
    :class:`ParameterError`."""
    if isinstance(cfg, TrainConfig):
        return cfg.validate()
    if isinstance(cfg, dict):
        return TrainConfig.from_dict(cfg)
    if isinstance(cfg, (str, os.PathLike)):
        from .recipes import resolve_config

        return TrainConfig.load(resolve_config(os.fspath(cfg)))
    raise ParameterError(f"training config must be a TrainConfig, a mapping, a config file or a recipe name, "
                         f"got {type(cfg).__name__}")


def train(cfg: TrainConfig | dict | str | os.PathLike, data_root: str | None = None, resume: bool = False,
          device: str = "auto", progress: bool = True, time_limit_s: float | None = None,
          notes: bool = True, record_paths: str | None = None) -> dict[str, Any]:
    """Run ``cfg`` (from its last checkpoint with ``resume``); ``time_limit_s`` stops it after that
    many seconds of this call, with a checkpoint and final weights as at the end (the weights'
    ``stopped`` metadata says where; the learning-rate schedule, a function of ``cfg.steps``,
    has then not finished). Returns step, loss, elapsed time and the weights' path.

    ``record_paths``: how the final weights record the run's local paths (data root, output
    folder, warm-start weights, a loss of one's own's file): ``full``, ``name`` or ``none``
    (:mod:`mutualfuse.train.paths`); None: a resumed run's own choice, else ``full``.

    Without ``resume`` an ``out_dir`` that holds a checkpoint is refused (a run is never silently
    restarted over another); with it, the checkpoint must be of the same experiment
    (:meth:`Trainer.resume`). Resumed at its last step with its final weights written, nothing is
    trained or rewritten: the result then has ``up_to_date`` True (and no loss).

    ``cfg``: a :class:`TrainConfig`, a mapping, a config file or a recipe name
    (:func:`as_train_config`). ``progress``: the tqdm bar; ``notes``: the run's notes (data
    found, resume, warm start); both on stderr, nothing goes to stdout. Every refusal is a
    :class:`~mutualfuse.errors.FuseError` (``ParameterError``, ``InputError``, ...) with a one-line
    message; Ctrl+C raises :class:`TrainingInterrupted` (a ``KeyboardInterrupt``) after writing a
    checkpoint. torch's thread count, its deterministic and flush-denormal modes and the global
    random generators are as before the call when it returns or raises."""
    started = time.perf_counter()
    cfg = as_train_config(cfg)
    with _process_state_kept():
        return _train(cfg, data_root, resume, device, progress, time_limit_s, notes, started, record_paths)


def _train(cfg: TrainConfig, data_root: str | None, resume: bool, device: str, progress: bool,
           time_limit_s: float | None, notes: bool, started: float,
           record_paths: str | None = None) -> dict[str, Any]:
    check_time_limit(time_limit_s)
    if record_paths is not None and record_paths not in PATH_RECORDS:
        raise ParameterError(f"record_paths must be one of {', '.join(PATH_RECORDS)}, got {record_paths!r}")
    check_out_dir(cfg.out_dir)
    last = Path(cfg.out_dir) / LAST
    if not resume and last.exists():  # before anything is read or written: never restart over a run
        raise ParameterError(f"{last} exists: use --resume to continue it, or another --out")
    final = Path(cfg.out_dir) / "final.safetensors"
    if not last.exists() and final.exists():  # a finished run whose checkpoint was deleted (to save space)
        also = " (and --resume has no checkpoint to continue)" if resume else ""
        raise ParameterError(f"{final} exists without {last}: {cfg.out_dir} holds a finished run, which a new "
                             f"run would write over{also}; use another --out")
    if resume and last.exists():  # the checks that need no data, before the images are read
        check_resumable(last, load_checkpoint(last), cfg)
    try:
        trainer = Trainer(cfg, data_root=data_root, device=device, progress=progress, time_limit_s=time_limit_s,
                          started=started, notes=notes, warm_start=not (resume and last.exists()),
                          record_paths=record_paths)
    except BaseException:  # a refusal after the process group started (the data's checks under torchrun):
        if dist.is_available() and dist.is_initialized():  # a process leaving with a live gloo group
            dist.destroy_process_group()                  # aborted ("terminate called without an active exception")
        raise
    if notes and resume and not last.exists() and trainer.rank == 0:  # said once every check has passed
        print(f"mutualfuse train: no checkpoint in {cfg.out_dir}: starting a new run", file=sys.stderr)
    distributed = dist.is_available() and dist.is_initialized()
    try:
        if resume:
            trainer.resume()
            trainer.same_resume_point_on_every_rank()
            if notes and trainer.rank == 0:  # an accepted change is said, never silent
                for note in getattr(trainer, "resume_notes", []):
                    print(f"mutualfuse train: --resume {last} (step {trainer.step}): {note}", file=sys.stderr)
        final = trainer.out / "final.safetensors"
        if trainer.step >= cfg.steps and _weights_at(final, trainer.step, cfg, trainer.record_paths):
            # resumed at its end, with its final weights written: nothing to train, nothing rewritten
            return {"step": trainer.step, "up_to_date": True, "weights": str(final)}
        if resume and trainer.step >= cfg.steps and notes and trainer.rank == 0:
            # nothing to train, but the final weights are written (again): said, never silent (until
            # the s31 audit a time-limited run resumed with --steps at its step rewrote them without a word)
            from ..image_io import _one_line_path  # a name's line break or escape shown escaped

            print(_one_line_path(f"mutualfuse train: {cfg.out_dir} is at step {trainer.step} of {cfg.steps}: "
                                 f"nothing to train; {_final_weights_why(final, trainer.step)}"), file=sys.stderr)
        try:
            result = trainer.run()
        except RuntimeError as e:  # a process of the run gone mid-run (its refusal, killed): not an internal error
            if not (distributed and _peer_lost(e)):
                raise
            held = checkpoint_step(last)
            then = f"; {last} holds step {held}: --resume continues from it" if held is not None else ""
            raise TrainingPeerError(f"rank {trainer.rank} of {trainer.world}: another process of this run stopped "
                                    f"during step {trainer.step + 1} ({_peer_reason(e)}): its own output says why "
                                    f"(a process killed, e.g. for memory, prints nothing){then}") from None
        if distributed:  # every rank waits for rank 0's final checkpoint and weights
            dist.barrier()
        return result
    finally:
        if distributed:  # shut the gloo/NCCL threads down (exiting with a live group aborts)
            # first drop the DDP wrapper: its reducer holds the group and its pending work, which
            # would otherwise be freed at interpreter exit, after the group's threads are gone (a
            # rank aborted there once under load: "terminate called without an active exception")
            import gc

            trainer.ddp = None
            del trainer
            gc.collect()
            dist.destroy_process_group()
