#!/usr/bin/env python
"""Ship the trained ablation variants (issue 11) as named weights.

For every finished run ``RUNS/<variant>-s<seed>/final.safetensors`` (scripts/run_ablations.sh):
copies the weights to ``src/mutualfuse/weights/ablation-<variant>-s<seed>.safetensors``, keeps
the run's ``config.json`` and ``log.csv`` under ``runs-log/ablation/<variant>-s<seed>/``, and
regenerates ``src/mutualfuse/weights/ablations.py`` (name, file, sha256, description taken
from the first comment line of ``configs/ablation/<variant>.yaml`` and the run's budget from its
``config.json``, validation metrics of the run's last logged validation). Registered variants
that RUNS does not hold stay registered as they are (their files are checked first).

Every run is checked before anything is written (final.safetensors, config.json, log.csv and
its config present and readable); a problem is a one-line error with exit status 2 and nothing
is written. The weights, kept logs and the registry are written to temporary files first and
renamed into place only when all of them were written.

    python scripts/ship_ablations.py [RUNS]        (default runs/ablation)
"""
from __future__ import annotations

import argparse
import ast
import csv
import json
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
        _umask_mode(dst)
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
    _umask_mode(dst)  # safetensors creates 0600
    return "float16"


def _umask_mode(path: Path) -> None:
    """Give ``path`` the mode a new file gets under the umask (temporary files start 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)


WDIR = ROOT / "src/mutualfuse/weights"
LOGS = ROOT / "runs-log/ablation"
CONFIGS = ROOT / "configs/ablation"
TRAINED_ON = ("train/roadscene minus 8 held-out validation pairs (and synthetic multi-focus pairs made from "
              "their visible images); no test-set images")


def last_validation(log: Path) -> tuple[tuple[str, float], ...]:
    rows = list(csv.DictReader(log.open()))
    for r in reversed(rows):
        vals = [(k, float(v)) for k, v in r.items() if k.startswith("val_") and v not in ("", None)]
        if vals:
            return tuple((k.removeprefix("val_"), v) for k, v in vals)
    return ()


class ShipError(Exception):
    """Bad input: a one-line error, nothing written."""


def registered(path: Path) -> list[dict]:
    """The entries of an existing generated registry (``ShippedWeights(...)`` keyword literals)."""
    if not path.exists():
        return []
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        return [{k.arg: ast.literal_eval(k.value) for k in node.keywords}
                for node in ast.walk(tree)
                if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "ShippedWeights"]
    except (OSError, SyntaxError, ValueError, UnicodeDecodeError) as e:
        raise ShipError(f"{path}: cannot read the registry ({e})") from None


def check_run(final: Path) -> dict:
    """Everything shipping the run of ``final`` needs, read before anything is written."""
    run_dir = final.parent
    variant, seed = run_dir.name.rsplit("-s", 1)
    cfg = CONFIGS / f"{variant}.yaml"
    if not seed.isdigit():
        raise ShipError(f"{run_dir}: not a <variant>-s<seed> run folder")
    if not cfg.is_file():
        raise ShipError(f"{run_dir}: no {cfg} for variant {variant!r} (only configs/ablation/*.yaml variants "
                        "are shipped)")
    for f in ("config.json", "log.csv"):
        if not (run_dir / f).is_file():
            raise ShipError(f"{run_dir / f}: missing (a run of `mutualfuse train` writes it)")
    try:
        tc = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
        budget = f"{int(tc['steps'])} steps (batch {int(tc['batch_size'])}, {int(tc['data']['crop'])}x" \
                 f"{int(tc['data']['crop'])} crops)"
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError) as e:
        raise ShipError(f"{run_dir / 'config.json'}: not a training config ({type(e).__name__}: {e})") from None
    try:
        from safetensors import safe_open

        with safe_open(str(final), framework="pt") as fh:
            machine = str((fh.metadata() or {}).get("machine", ""))
    except Exception as e:  # noqa: BLE001 - any unreadable file is bad input here
        raise ShipError(f"{final}: not a safetensors weights file ({e})") from None
    try:
        validation = last_validation(run_dir / "log.csv")
    except (OSError, ValueError, csv.Error, UnicodeDecodeError) as e:
        raise ShipError(f"{run_dir / 'log.csv'}: not a training log ({e})") from None
    try:  # its first comment line is the description
        lines = cfg.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise ShipError(f"{cfg}: cannot read it ({getattr(e, 'strerror', None) or e})") from None
    if not lines or not lines[0].startswith("#") or not lines[0].lstrip("# ").strip():
        raise ShipError(f"{cfg}: its first line is not the comment that describes the variant")
    first = lines[0].lstrip("# ").strip()
    desc = first.split(". ", 1)[1] if ". " in first else first
    try:
        cfg_rel = str(cfg.relative_to(ROOT))
    except ValueError:
        cfg_rel = str(cfg)
    where = "GPU" if "cuda" in machine else "CPU"  # the machine line `mutualfuse train` stores
    return {"final": final, "run": run_dir.name, "seed": seed, "cfg": cfg_rel, "validation": validation,
            "desc": f"{desc} Seed {seed}; {budget}, {where} ({cfg_rel})"}


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
    registry = WDIR / "ablations.py"
    try:
        todo = [check_run(f) for f in sorted(runs.glob("*-s*/final.safetensors"))]
        new_names = {f"ablation-{t['run']}" for t in todo}
        kept = [e for e in registered(registry) if e.get("name") not in new_names]
        for e in kept:  # a kept entry must still describe its file
            f = WDIR / str(e.get("file"))
            if not f.is_file() or sha256_file(f) != e.get("sha256"):
                raise ShipError(f"{f}: registered as {e.get('name')!r} but missing or not the recorded sha256; "
                                "ship its run too, or remove the entry")
    except ShipError as e:
        print(f"ship_ablations.py: error: {e}; nothing shipped", file=sys.stderr)
        return 2
    staged: list[tuple[Path, Path]] = []  # (temporary file, final place)
    made: list[Path] = []  # log folders this run created (removed again on failure)

    def stage(dst: Path) -> Path:
        tmp = dst.with_name(f".{dst.name}.tmp-{os.getpid()}")
        staged.append((tmp, dst))
        return tmp

    try:
        entries = []
        for t in todo:
            name = f"ablation-{t['run']}"
            dst = WDIR / f"{name}.safetensors"
            tmp = stage(dst)
            dtype = copy_weights(t["final"], tmp)
            keep = LOGS / t["run"]
            if not keep.is_dir():
                keep.mkdir(parents=True)
                made.append(keep)
            for f in ("config.json", "log.csv"):
                tf = stage(keep / f)
                shutil.copyfile(t["final"].parent / f, tf)
                _umask_mode(tf)
            entries.append(dict(name=name, file=dst.name, sha256=sha256_file(tmp),
                                description=t["desc"] + ("; stored as float16" if dtype == "float16" else ""),
                                trained_on=TRAINED_ON, config=t["cfg"], validation=t["validation"],
                                _size=tmp.stat().st_size))
        all_entries = sorted(kept + entries, key=lambda e: e["name"])
        out = ['"""The ablation variants of the paper\'s Tables 4–7 (issue 11, docs/ablations.md).', "",
               "Generated by ``scripts/ship_ablations.py`` from the runs of ``scripts/run_ablations.sh``",
               "(configs/ablation/*.yaml); do not edit by hand.", '"""',
               "from . import ShippedWeights, _register", "", "ENTRIES: list[ShippedWeights] = ["]
        for e in all_entries:
            out += ["    ShippedWeights("]
            out += [f"        {k}={e[k]!r}," for k in ("name", "file", "sha256", "description", "trained_on",
                                                        "config", "validation") if k in e]
            out += [f"        {k}={v!r}," for k, v in e.items()
                    if k not in ("name", "file", "sha256", "description", "trained_on", "config", "validation",
                                 "group", "_size")]
            out += ['        group="ablation",', "    ),"]
        out += ["]", "", "for _w in ENTRIES:", "    _register(_w)", ""]
        treg = stage(registry)
        treg.write_text("\n".join(out), encoding="utf-8")
        _umask_mode(treg)
    except BaseException as e:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        for d in reversed(made):
            shutil.rmtree(d, ignore_errors=True)
        if isinstance(e, OSError):
            print(f"ship_ablations.py: error: {e.filename or ''}: {e.strerror or e}; nothing shipped", file=sys.stderr)
            return 2
        raise
    for tmp, dst in staged:  # the registry last: it never names a file not yet in place
        os.replace(tmp, dst)
    for e in entries:
        print(f"shipped {e['name']}: {e['_size'] / 1e6:.2f} MB")
    if kept:
        print(f"kept {len(kept)} registered ablation weights that {runs} does not hold")
    print(f"{len(all_entries)} ablation weights registered in src/mutualfuse/weights/ablations.py")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
