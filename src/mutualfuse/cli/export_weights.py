"""``mutualfuse export-weights CKPT -o OUT.safetensors``: the model of a training checkpoint as weights."""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path


def add_parser(sub) -> None:
    p = sub.add_parser("export-weights", help="turn a training checkpoint into a .safetensors weights file",
                       description="Write the model of a training checkpoint (OUT/last.ckpt) as safetensors + .sha256, "
                       "e.g. to use a run that was stopped early.")
    p.add_argument("checkpoint", help="checkpoint file (OUT/last.ckpt of `mutualfuse train`), or a weights file "
                   "with --record-paths (a copy of it recording its local paths so)")
    from .common import non_empty

    p.add_argument("-o", "--out", required=True, type=non_empty, help="output weights file (.safetensors)")
    p.add_argument("--record-paths", choices=("full", "name", "none"), metavar="{full,name,none}",
                   help="how the weights record the run's local paths (data root, output folder, warm-start weights, "
                   "a loss of one's own's file): full, name (each path's last part only) or none (no folders; "
                   "files by name); default: as the run chose (mutualfuse train --record-paths), else full "
                   "(docs/training.md, Sharing weights)")
    p.add_argument("-q", "--quiet", action="store_true", help="do not print the output path")
    p.set_defaults(func=run)


def _same_file(p: Path, q: Path) -> bool:
    try:
        return p.exists() and q.exists() and os.path.samefile(p, q)
    except OSError:
        return False


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0][:150] if text else type(e).__name__


def _mismatch(want: dict, got: dict) -> str:
    """'' when ``got`` has exactly ``want``'s tensor names and shapes, else what differs (one line)."""
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    shapes = [k for k in want if k in got and tuple(got[k].shape) != tuple(want[k].shape)]
    parts = []
    if shapes:
        k = shapes[0]
        parts.append(f"{len(shapes)} of other shapes, e.g. {k}: {tuple(got[k].shape)} in the checkpoint, "
                     f"{tuple(want[k].shape)} by the config")
    if missing:
        parts.append(f"{len(missing)} missing, e.g. {missing[0]}")
    if extra:
        parts.append(f"{len(extra)} unexpected, e.g. {extra[0]}")
    return "; ".join(parts)


def _rewrite_weights(src: Path, out: Path, args: argparse.Namespace) -> int:
    """``export-weights WEIGHTS.safetensors --record-paths HOW -o OUT``: a copy of a weights file
    (digest verified) whose metadata records the run's local paths as HOW says; the tensors and
    every other metadata entry are as they were (for the weights of a run whose checkpoint is gone)."""
    from safetensors import SafetensorError

    from ..errors import InputError, WeightsError
    from ..image_io import _one_line_path  # a name's line break or escape shown escaped, as errors show it
    from ..train.checkpoint import write_reason
    from ..train.paths import record_paths
    from ..weights import load_model, save_weights

    from ..weights import unchecked_note

    model, meta = load_model(str(src))
    unchecked = unchecked_note(str(src), meta)
    meta = {k: v for k, v in meta.items() if k not in ("format", "model_config", "tensors_sha256")}
    before = meta.get("recorded_paths", "full")
    if before != "full" and args.record_paths == "full":
        raise WeightsError(f"{src}: records its paths as {before!r} already; the full paths are not in it to "
                           f"record again (export them from the run's checkpoint)")
    try:
        written = save_weights(out, model, model.cfg, record_paths(meta, args.record_paths))
    except (SafetensorError, OSError, InputError) as e:
        if isinstance(e, InputError) and not isinstance(e.__context__, OSError):
            raise
        raise WeightsError(f"{out}: cannot write the weights ({write_reason(e)})") from None
    if unchecked and not args.quiet:  # the copy's digest records the content as read, not a checked one
        import sys

        print(_one_line_path(f"note: {unchecked}; the copy's tensors_sha256 records the tensors as read from it"),
              file=sys.stderr)
    if not args.quiet:
        print(_one_line_path(written))
    return 0


def run(args: argparse.Namespace) -> int:
    import torch

    from ..errors import ParameterError, WeightsError
    from ..image_io import _one_line_path, check_writable
    from ..model import ModelConfig, build_model
    from ..train.checkpoint import load_checkpoint
    from ..weights import save_weights, sidecar_path

    ckpt, out = Path(args.checkpoint), Path(args.out)
    try:
        same = _same_file(ckpt, out) or ckpt.resolve() == out.resolve()
    except (OSError, RuntimeError):  # a symlink loop
        same = False
    # the input as it is read below: a weights file (rewritten with --record-paths) or a checkpoint
    what = "weights file" if ckpt.suffix.lower() == ".safetensors" else "checkpoint"
    if same:
        raise ParameterError(f"{out}: output is the {what} itself; choose another file name")
    side = sidecar_path(out)
    try:
        side_same = _same_file(ckpt, side) or ckpt.resolve() == side.resolve()
    except (OSError, RuntimeError):
        side_same = False
    if side_same:  # the sidecar would be written over the checkpoint
        raise ParameterError(f"{out}: its sha256 sidecar {side} is the {what} itself; choose another file name")
    if side.is_dir():
        raise ParameterError(f"{side}: is a directory; the sha256 sidecar of {out} goes there")
    # the string as typed: Path() dropped the slash of `-o w.safetensors/`, which wrote w.safetensors, exit 0;
    # a folder, '-' and a wrong suffix are said as every command says them (a folder was "weights are
    # written as .safetensors; use that suffix")
    from .common import refuse_in_the_way

    refuse_in_the_way(args.out)  # `-o afile/w.safetensors`: said as every command says it
    check_writable(args.out, inputs=(ckpt,), formats={".safetensors"})
    if ckpt.is_dir():  # the run's folder (OUT) for the checkpoint in it
        inside = ckpt / "last.ckpt"
        hint = f"; its checkpoint is {inside}" if inside.is_file() else " (a run's folder holds it as last.ckpt)"
        raise ParameterError(f"{ckpt}: is a folder; export-weights reads a training checkpoint file{hint}")
    if ckpt.is_file() and ckpt.suffix.lower() == ".safetensors":
        if args.record_paths is None:
            raise WeightsError(f"{ckpt}: is already a weights file; export-weights reads a training checkpoint "
                               f"(last.ckpt), or a weights file with --record-paths (a copy recording the paths so)")
        return _rewrite_weights(ckpt, out, args)
    st = load_checkpoint(ckpt)
    if not isinstance(st, dict) or not {"model", "config"} <= set(st):
        keys = sorted(map(str, st))[:4] if isinstance(st, dict) else type(st).__name__
        raise WeightsError(f"{ckpt}: not a mutualfuse training checkpoint (no model/config entries; has {keys})")

    def unusable(msg: str) -> WeightsError:
        return WeightsError(f"{ckpt}: checkpoint does not hold a usable model ({msg})")

    try:
        cfg = json.loads(st["config"])
        model_cfg = cfg["model"]
    except KeyError as e:
        raise unusable(f"missing entry {e.args[0]!r} in its config") from None
    except ValueError as e:
        raise unusable(f"its config is not JSON: {_first_line(e)}") from None
    except TypeError:
        raise unusable("its config is not a JSON object") from None
    try:
        mcfg = ModelConfig.from_dict(model_cfg)
        model = build_model(mcfg)
        step = int(st.get("step", 0))
        elapsed = float(st.get("elapsed", 0.0))
    except KeyError as e:  # an unknown architecture, fusion, ... (not a missing entry)
        raise unusable(f"model config: {e.args[0] if e.args else 'KeyError'}") from None
    except (ValueError, TypeError, RuntimeError) as e:
        raise unusable(_first_line(e)) from None
    state = st["model"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise unusable("its model entry is not a set of tensors")
    mismatch = _mismatch(model.state_dict(), state)
    if mismatch:  # the first line of torch's error was "Error(s) in loading state_dict for FMMNet:"
        raise WeightsError(f"{ckpt}: the checkpoint's model tensors do not match its model config ({mismatch})")
    bad = next((k for k, v in state.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())), None)
    if bad is not None:  # was refused naming the output (save_weights), as if the output were at fault
        raise WeightsError(f"{ckpt}: the checkpoint's model holds NaN or infinite values (tensor {bad}): "
                           "the run diverged; export an earlier checkpoint")
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        raise unusable(_first_line(e)) from None
    meta = {"steps": str(step), "train_config": json.dumps(cfg), "wall_time_s": f"{elapsed:.1f}"}
    # machine, precision, last loss and validation (checkpoints since 2026-12-06); the data record and
    # a loss of one's own's source (since 2026-12-07)
    run_meta = st.get("run_meta")
    if isinstance(run_meta, dict):
        meta.update({k: v for k, v in run_meta.items()
                     if k in ("machine", "precision", "final_train_loss", "validation", "loss_source", "train_data")
                     and isinstance(v, str)})
    planned = cfg.get("steps") if isinstance(cfg, dict) else None
    if isinstance(planned, int) and not isinstance(planned, bool) and step < planned:
        # as a --time-limit stop's final weights say it (their card's "stopped:" line): a checkpoint
        # of a run that had not finished, exported, looked like a finished run's weights
        meta["stopped"] = (f"exported from a checkpoint at step {step} of {planned} (the learning-rate schedule "
                           f"did not finish)")
    from ..train.paths import PATH_RECORDS, record_paths

    how = args.record_paths or (st.get("record_paths") if st.get("record_paths") in PATH_RECORDS else "full")
    meta = record_paths(meta, how)
    from safetensors import SafetensorError

    from ..errors import InputError
    from ..train.checkpoint import write_reason

    try:
        written = save_weights(out, model, mcfg, meta)
    except (SafetensorError, OSError, InputError) as e:  # a full disk: atomic, nothing is left behind
        if isinstance(e, InputError) and not isinstance(e.__context__, OSError):
            raise  # a refused output path: its own one line
        raise WeightsError(f"{out}: cannot write the weights ({write_reason(e)})") from None
    if not args.quiet:
        print(_one_line_path(written))
    return 0
