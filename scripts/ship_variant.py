"""Ship a shipped model's tensors under a new file with other inference settings stored.

Usage: python scripts/ship_variant.py centred fmm-pyramid-centred-bright-roadscene-mf-cpu.safetensors base_brightness=50

Reads the shipped file NAME (digest-checked), changes the given inference-only fields of its
model config (those :func:`mutualfuse.weights.load_model` accepts as overrides: a setting chosen
on validation, like the temperature), and writes ``src/mutualfuse/weights/FILE`` with the same
tensors and training metadata. Prints the sha256 for ``weights/shipped.py``; the registry entry
(name, description, config = NAME's) is written by hand.
"""
from __future__ import annotations

import argparse
import ast


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("name", help="a shipped weights name")
    ap.add_argument("file", help="the new file's name under src/mutualfuse/weights/")
    ap.add_argument("settings", nargs="+", metavar="KEY=VALUE")
    args = ap.parse_args()
    from safetensors import safe_open

    from mutualfuse.weights import HERE, SHIPPED, load_model, save_weights, sha256_file

    kw = {}
    for item in args.settings:
        k, v = item.split("=", 1)
        kw[k.strip()] = ast.literal_eval(v.strip())
    net, _ = load_model(args.name, **kw)  # validates the keys (inference-only) and the values
    with safe_open(str(HERE / SHIPPED[args.name].file), framework="pt") as fh:
        meta = {k: v for k, v in (fh.metadata() or {}).items() if k not in ("format", "model_config", "tensors_sha256")}
    dst = save_weights(HERE / args.file, net, net.cfg, meta)
    (HERE / (args.file + ".sha256")).unlink(missing_ok=True)  # the shipped table holds the digest
    print(f"{dst}  sha256 {sha256_file(dst)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
