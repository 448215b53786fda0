"""Copy a finished run's weights into the package as a shipped file, and print its registry entry.

Usage: python scripts/ship_run.py runs/pyramid-g2 fmm-pyramid-roadscene-mf-cpu.safetensors [--init-name blend]

Reads ``RUN/final.safetensors`` (digest-checked), writes ``src/mutualfuse/weights/FILE`` with the
same tensors and metadata and copies the run's log and config to ``runs-log/<run>/``. With
``--init-name NAME``, a stored ``train_config.init_weights`` that is a shipped name (``"default"``,
``"paper"``) or the path of a shipped file (or of a file with its tensors) is rewritten to ``NAME``: runs started while that
name still named the file now shipped as NAME (checked: the two names' sha256 must be equal in
the shipped table, or the file's sha256 equal to NAME's), so that the stored config keeps naming
the weights it started from after the name moves on; ``--init-label TEXT`` writes TEXT instead
(for a warm start that leaves the shipped table). ``--blend-temperature T`` stores an inference
temperature chosen on validation in the shipped model config; ``--token-budget N`` the inference
token budget (a run that trained its mapping on a pooled grid stores its training budget);
``--map-min-pool N`` the inference minimum pool of the mapping. Prints the sha256 and the last
validation metrics for ``weights/shipped.py``.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from ship_ablations import last_validation  # noqa: E402
from ship_variant import renamed_init  # noqa: E402


def _same_tensors(a: Path, b: Path) -> bool:
    """Whether two weights files hold the same tensors (names, dtypes, shapes, values), whatever
    their model configs' inference settings (both digest-checked by ``read_weights``)."""
    import torch

    from mutualfuse.weights import read_weights

    sa, sb = read_weights(a)[0], read_weights(b)[0]
    return sa.keys() == sb.keys() and all(
        sa[k].dtype == sb[k].dtype and sa[k].shape == sb[k].shape and torch.equal(sa[k], sb[k]) for k in sa)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("run", type=Path)
    ap.add_argument("file")
    ap.add_argument("--init-name", default=None)
    ap.add_argument("--init-label", default=None,
                    help="replace a stored init_weights of 'default' by this text (the warm start is being "
                         "retired from the shipped table, so --init-name cannot name it)")
    ap.add_argument("--blend-temperature", type=float, default=None,
                    help="store this inference temperature in the shipped model config (chosen on validation)")
    ap.add_argument("--token-budget", type=int, default=None,
                    help="store this inference token budget in the shipped model config (0 = exact)")
    ap.add_argument("--map-min-pool", type=int, default=None,
                    help="store this inference minimum pool of the mapping in the shipped model config")
    args = ap.parse_args()
    from safetensors import safe_open

    from mutualfuse.model import build_model
    from mutualfuse.weights import HERE, SHIPPED, read_weights, save_weights, sha256_file

    src = args.run / "final.safetensors"
    state, cfg, _ = read_weights(src)
    with safe_open(str(src), framework="pt") as fh:
        meta = dict(fh.metadata() or {})
    tc = json.loads(meta["train_config"])
    init = tc.get("init_weights")
    if args.init_name and init in SHIPPED and init != args.init_name:
        # a warm start named by a shipped name that is about to name another file (`default`
        # moving on, `paper` retrained): name the same bytes by their new name (checked)
        try:
            meta = renamed_init(meta, args.init_name, SHIPPED)
        except ValueError as e:
            raise SystemExit(str(e)) from None
        tc = json.loads(meta["train_config"])
    elif args.init_name and init and init.endswith(".safetensors"):
        # a warm start given as a path to a shipped file, or to a file with the same tensors (a run's
        # final weights shipped with other inference settings): name it (checked)
        if sha256_file(ROOT / init) != SHIPPED[args.init_name].sha256 and \
                not _same_tensors(ROOT / init, HERE / SHIPPED[args.init_name].file):
            raise SystemExit(f"--init-name {args.init_name}: {init} is not the file shipped under that name "
                             "and does not hold its tensors")
        tc["init_weights"] = args.init_name
        meta["train_config"] = json.dumps(tc)
    if args.init_label and tc.get("init_weights") == "default":
        tc["init_weights"] = args.init_label
        meta["train_config"] = json.dumps(tc)
    from dataclasses import replace

    if args.blend_temperature is not None:
        cfg = replace(cfg, blend_temperature=args.blend_temperature)
    if args.map_min_pool is not None:
        cfg = replace(cfg, map_min_pool=args.map_min_pool)
    if args.token_budget is not None:
        cfg = replace(cfg, token_budget=args.token_budget or None)
    for k in ("format", "model_config", "tensors_sha256"):
        meta.pop(k, None)
    net = build_model(cfg)
    net.load_state_dict(state)
    dst = save_weights(HERE / args.file, net, cfg, meta)
    (HERE / (args.file + ".sha256")).unlink(missing_ok=True)  # the shipped table holds the digest
    logdir = ROOT / "runs-log" / args.run.name
    logdir.mkdir(parents=True, exist_ok=True)
    for name in ("log.csv", "config.json"):
        shutil.copy(args.run / name, logdir / name)
    print(f"{dst}  sha256 {sha256_file(dst)}")
    print("validation=" + repr(last_validation(args.run / "log.csv")))
    return 0


if __name__ == "__main__":
    import sys as _sys

    from mutualfuse.errors import FuseError

    try:
        _sys.exit(main())
    except (FuseError, FileNotFoundError) as _e:  # bad input (data root, weights, names): one line
        print(f"{_sys.argv[0].rsplit('/', 1)[-1]}: error: {_e}", file=_sys.stderr)
        _sys.exit(2)
