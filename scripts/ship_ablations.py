#!/usr/bin/env python
"""Ship the trained ablation variants (issue 11) as named weights.

For every finished run ``RUNS/<variant>-s<seed>/final.safetensors`` (scripts/run_ablations.sh):
copies the weights to ``src/mutualfuse/weights/ablation-<variant>-s<seed>.safetensors``, keeps
the run's ``config.json`` and ``log.csv`` under ``runs-log/ablation/<variant>-s<seed>/``, and
regenerates ``src/mutualfuse/weights/ablations.py`` (name, file, sha256, description taken
from the first comment line of ``configs/ablation/<variant>.yaml``, validation metrics of the
run's last logged validation).

    python scripts/ship_ablations.py [RUNS]        (default runs/ablation)
"""
from __future__ import annotations

import argparse
import csv
import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from mutualfuse.io.digest import sha256_file  # noqa: E402

#: files larger than this are stored as float16 (the depth-4/5 variants: 4.8 / 19 MB in float32)
HALF_ABOVE_BYTES = 2_000_000


def copy_weights(src: Path, dst: Path) -> str:
    """Copy a weights file; above :data:`HALF_ABOVE_BYTES` store its tensors as float16 (the
    metadata digest recomputed, ``stored_dtype`` saying so). → the stored dtype."""
    if src.stat().st_size <= HALF_ABOVE_BYTES:
        shutil.copyfile(src, dst)
        return "float32"
    import torch
    from safetensors import safe_open
    from safetensors.torch import save_file

    from mutualfuse.weights import tensors_digest

    with safe_open(str(src), framework="pt") as fh:
        meta = dict(fh.metadata() or {})
        tensors = {k: fh.get_tensor(k).to(torch.float16).contiguous() for k in fh.keys()}
    meta["tensors_sha256"] = tensors_digest(meta["model_config"], tensors)
    meta["stored_dtype"] = "float16 (converted from the float32 training weights by scripts/ship_ablations.py)"
    save_file(tensors, str(dst), metadata=meta)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(dst, 0o666 & ~umask)  # safetensors creates 0600; keep the mode a copy would get
    return "float16"

WDIR = ROOT / "src/mutualfuse/weights"
TRAINED_ON = ("train/roadscene minus 8 held-out validation pairs (and synthetic multi-focus pairs made from "
              "their visible images); no test-set images")


def last_validation(log: Path) -> tuple[tuple[str, float], ...]:
    rows = list(csv.DictReader(log.open()))
    for r in reversed(rows):
        vals = [(k, float(v)) for k, v in r.items() if k.startswith("val_") and v not in ("", None)]
        if vals:
            return tuple((k.removeprefix("val_"), v) for k, v in vals)
    return ()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog="Rewrites src/mutualfuse/weights/ablations.py; refuses (exit 2) when RUNS "
                                        "holds no finished run, so that the shipped registry is never emptied.")
    ap.add_argument("runs", nargs="?", default=str(ROOT / "runs/ablation"), metavar="RUNS",
                    help="folder of the runs RUNS/<variant>-s<seed>/final.safetensors (default runs/ablation)")
    runs = Path(ap.parse_args(argv).runs)
    if not runs.is_dir():
        print(f"ship_ablations.py: error: {runs}: no such folder (the runs of scripts/run_ablations.sh); "
              "nothing shipped, src/mutualfuse/weights/ablations.py left as it is", file=sys.stderr)
        return 2
    if not any(runs.glob("*-s*/final.safetensors")):
        print(f"ship_ablations.py: error: {runs}: no finished run (<variant>-s<seed>/final.safetensors); "
              "nothing shipped, src/mutualfuse/weights/ablations.py left as it is", file=sys.stderr)
        return 2
    entries = []
    for final in sorted(runs.glob("*-s*/final.safetensors")):
        run = final.parent.name  # e.g. var-mapping-s0
        variant, seed = run.rsplit("-s", 1)
        cfg = ROOT / "configs/ablation" / f"{variant}.yaml"
        if not cfg.exists():
            print(f"skip {run}: no {cfg.relative_to(ROOT)}")
            continue
        name = f"ablation-{run}"
        dst = WDIR / f"{name}.safetensors"
        dtype = copy_weights(final, dst)
        keep = ROOT / "runs-log/ablation" / run
        keep.mkdir(parents=True, exist_ok=True)
        for f in ("config.json", "log.csv"):
            shutil.copyfile(final.parent / f, keep / f)
        first = cfg.read_text().splitlines()[0].lstrip("# ").strip()
        desc = first.split(". ", 1)[1] if ". " in first else first
        entries.append((name, dst.name, sha256_file(dst), f"{desc} Seed {seed}; 500 steps (batch 4, 128x128 crops), "
                        f"2-core CPU ({cfg.relative_to(ROOT)})" + ("; stored as float16" if dtype == "float16" else ""), str(cfg.relative_to(ROOT)),
                        last_validation(final.parent / "log.csv")))
        print(f"shipped {name}: {dst.stat().st_size / 1e6:.2f} MB")
    out = ['"""The ablation variants of the paper\'s Tables 4–7 (issue 11, docs/ablations.md).', "",
           "Generated by ``scripts/ship_ablations.py`` from the runs of ``scripts/run_ablations.sh``",
           "(configs/ablation/*.yaml); do not edit by hand.", '"""',
           "from . import ShippedWeights, _register", "", "ENTRIES: list[ShippedWeights] = ["]
    for name, file, sha, desc, cfgp, val in entries:
        out += ["    ShippedWeights(", f"        name={name!r},", f"        file={file!r},", f"        sha256={sha!r},",
                f"        description={desc!r},", f"        trained_on={TRAINED_ON!r},", f"        config={cfgp!r},",
                f"        validation={val!r},", '        group="ablation",', "    ),"]
    out += ["]", "", "for _w in ENTRIES:", "    _register(_w)", ""]
    (WDIR / "ablations.py").write_text("\n".join(out))
    print(f"{len(entries)} ablation weights registered in src/mutualfuse/weights/ablations.py")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
