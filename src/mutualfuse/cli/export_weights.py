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
    p.add_argument("checkpoint", help="checkpoint file (OUT/last.ckpt of `mutualfuse train`)")
    p.add_argument("-o", "--out", required=True, help="output weights file (.safetensors)")
    p.add_argument("-q", "--quiet", action="store_true", help="do not print the output path")
    p.set_defaults(func=run)


def _same_file(p: Path, q: Path) -> bool:
    try:
        return p.exists() and q.exists() and os.path.samefile(p, q)
    except OSError:
        return False


def run(args: argparse.Namespace) -> int:
    from ..errors import ParameterError, WeightsError
    from ..image_io import check_writable
    from ..model import ModelConfig, build_model
    from ..train.checkpoint import load_checkpoint
    from ..weights import save_weights, sidecar_path

    ckpt, out = Path(args.checkpoint), Path(args.out)
    try:
        same = _same_file(ckpt, out) or ckpt.resolve() == out.resolve()
    except (OSError, RuntimeError):  # a symlink loop
        same = False
    if same:
        raise ParameterError(f"{out}: output is the checkpoint itself; choose another file name")
    side = sidecar_path(out)
    try:
        side_same = _same_file(ckpt, side) or ckpt.resolve() == side.resolve()
    except (OSError, RuntimeError):
        side_same = False
    if side_same:  # the sidecar would be written over the checkpoint
        raise ParameterError(f"{out}: its sha256 sidecar {side} is the checkpoint itself; choose another file name")
    if side.is_dir():
        raise ParameterError(f"{side}: is a directory; the sha256 sidecar of {out} goes there")
    if out.suffix.lower() != ".safetensors":
        raise ParameterError(f"{out}: weights are written as .safetensors; use that suffix")
    check_writable(out, inputs=(ckpt,), formats={".safetensors"})
    if ckpt.is_file() and ckpt.suffix.lower() == ".safetensors":
        raise WeightsError(f"{ckpt}: is already a weights file; export-weights reads a training checkpoint (last.ckpt)")
    st = load_checkpoint(ckpt)
    if not isinstance(st, dict) or not {"model", "config"} <= set(st):
        keys = sorted(map(str, st))[:4] if isinstance(st, dict) else type(st).__name__
        raise WeightsError(f"{ckpt}: not a mutualfuse training checkpoint (no model/config entries; has {keys})")
    try:
        cfg = json.loads(st["config"])
        mcfg = ModelConfig.from_dict(cfg["model"])
        model = build_model(mcfg)
        model.load_state_dict(st["model"])
        step = int(st.get("step", 0))
        elapsed = float(st.get("elapsed", 0.0))
    except (ValueError, TypeError, KeyError, RuntimeError) as e:
        if isinstance(e, KeyError):
            msg = f"missing entry {e.args[0]!r}"
        else:
            msg = str(e).strip().splitlines()[0][:150] if str(e).strip() else type(e).__name__
        raise WeightsError(f"{ckpt}: checkpoint does not hold a usable model ({msg})") from None
    meta = {"steps": str(step), "train_config": json.dumps(cfg), "wall_time_s": f"{elapsed:.1f}"}
    written = save_weights(out, model, mcfg, meta)
    if not args.quiet:
        print(written)
    return 0
