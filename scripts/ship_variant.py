"""Ship a shipped model's tensors under a new file with other inference settings stored.

Usage: python scripts/ship_variant.py centred fmm-pyramid-centred-bright-roadscene-mf-cpu.safetensors base_brightness=50
       python scripts/ship_variant.py centred-6000 FILE --init-name pyramid-long

Reads the shipped file NAME (digest-checked), changes the given inference-only fields of its
model config (those :func:`mutualfuse.weights.load_model` accepts as overrides: a setting chosen
on validation, like the temperature), and writes ``src/mutualfuse/weights/FILE`` with the same
tensors and training metadata. With ``--init-name NEW``, a stored warm start
(``train_config.init_weights``) that is a shipped name is rewritten to NEW, checked to name the
same file (equal sha256 in the shipped table): for when a name such as ``default`` moves on to
other weights and the file it named keeps a new name. Prints the sha256 for
``weights/shipped.py``; the registry entry (name, description, config = NAME's) is written by hand.
"""
from __future__ import annotations

import argparse
import ast
import json
from pathlib import Path


def renamed_init(meta: dict[str, str], new: str, shipped) -> dict[str, str]:
    """``meta`` with its stored warm start renamed to ``new`` when both shipped names have the same
    sha256 in ``shipped`` (name -> entry with ``.sha256``); raises ValueError otherwise."""
    tc = json.loads(meta["train_config"])
    old = tc.get("init_weights")
    if old not in shipped:
        raise ValueError(f"stored warm start {old!r} is not a shipped name")
    if new not in shipped or shipped[new].sha256 != shipped[old].sha256:
        raise ValueError(f"--init-name {new}: not the file `{old}` names now")
    tc["init_weights"] = new
    return {**meta, "train_config": json.dumps(tc)}


def write_variant(src: Path, dst: Path, settings: dict, init_name: str | None = None, shipped=None) -> Path:
    """Write ``dst`` with ``src``'s tensors and training metadata, ``settings`` (inference-only
    model-config fields) changed, and the stored warm start renamed to ``init_name`` (checked
    against ``shipped``). ``src`` is digest-checked on reading."""
    from safetensors import safe_open

    from mutualfuse.weights import load_model, save_weights

    net, _ = load_model(src, **settings)  # validates the keys (inference-only) and the values
    with safe_open(str(src), framework="pt") as fh:
        meta = {k: v for k, v in (fh.metadata() or {}).items() if k not in ("format", "model_config", "tensors_sha256")}
    if init_name is not None:
        meta = renamed_init(meta, init_name, shipped)
    return save_weights(dst, net, net.cfg, meta)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("name", help="a shipped weights name")
    ap.add_argument("file", help="the new file's name under src/mutualfuse/weights/")
    ap.add_argument("settings", nargs="*", metavar="KEY=VALUE")
    ap.add_argument("--init-name", default=None,
                    help="rename the stored warm start (a shipped name) to this shipped name of the same file")
    args = ap.parse_args()
    from mutualfuse.weights import HERE, SHIPPED, sha256_file

    if not args.settings and args.init_name is None:
        ap.error("nothing to change: give KEY=VALUE settings or --init-name")
    kw = {}
    for item in args.settings:
        k, v = item.split("=", 1)
        kw[k.strip()] = ast.literal_eval(v.strip())
    try:
        dst = write_variant(HERE / SHIPPED[args.name].file, HERE / args.file, kw, args.init_name, SHIPPED)
    except ValueError as e:
        raise SystemExit(str(e))
    (HERE / (args.file + ".sha256")).unlink(missing_ok=True)  # the shipped table holds the digest
    print(f"{dst}  sha256 {sha256_file(dst)}")
    return 0


if __name__ == "__main__":
    import sys as _sys

    from mutualfuse.errors import FuseError

    try:
        _sys.exit(main())
    except (FuseError, FileNotFoundError) as _e:  # bad input (data root, weights, names): one line
        print(f"{_sys.argv[0].rsplit('/', 1)[-1]}: error: {_e}", file=_sys.stderr)
        _sys.exit(2)
