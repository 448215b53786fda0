"""Quality targets of the shipped models (issue 10): one table per test set, targets marked.

Usage:
    MUTUALFUSE_DATA=/data python benchmarks/bench_quality.py [--models default,paper] [--out out/bench_quality]
        [--sets tno,lytro,medical,mf-truth] [--baselines average,cbf,dwt] [-j 2]
    No quick setting: its smallest run, ``--sets medical --models default --baselines average -j 1``
    (8 CT-MR pairs), took 275 s wall and 20.5 s of CPU at load average 13 on a shared 2-core
    machine (2026-12-07, ``/usr/bin/time``).

For every set it fuses every pair with each shipped network weights (``mutualfuse fuse-dir``,
the code path a user runs) and each classical baseline, scores the fused images with
``mutualfuse evaluate`` under the paper's metric profile (``--profile paper``: Tables 1–3's
metric set and conventions) and prints the means per set, with IFCNN(max) from the published
outputs under the data root where they exist (Lytro, medical) and the paper's "Ours" row.

* ``tno``: ir-vis/tno, 21 pairs, 9 paper metrics; target: ≥ paper's Ours on EI, SF and Qabf,
  ahead of ``cbf`` on ≥ 6 of 9.
* ``lytro``: multi-focus/lytro, 20 pairs, Table 2's 7 metrics; target: ahead of IFCNN(max) on all 7.
* ``medical``: medical/ct-mr c01–c08, Table 3's 9 metrics; target: ahead of IFCNN(max) on ≥ 7.
* ``mf-truth``: synthetic multi-focus pairs with a known truth (``scripts/make_mf_truth.py``:
  the six visible images of ir-vis/msrs-sample, none of them a training image; a centred disc
  sharp in one source, the rest in the other, Gaussian σ = 3): PSNR and SSIM to the truth and
  mean-intensity drift; target: above ``dwt``, far above the average, |Δmean| < 1 grey level.
* A shipped model that records per-task settings (``default``) runs as a user gets it: task
  mode ``auto`` (each pair at the settings of the task :func:`mutualfuse.tasks.detect_task`
  finds; ``fuse-dir`` without ``--task``).
* ``--mean-maps``: the ``default`` model once more with its deepest mutual maps replaced by
  their global means (``mutualfuse.model`` stages), at the same settings per pair, to show that
  the mapping matters.
* ``--task-settings``: every shipped model that records per-task settings gets two more rows:
  ``NAME[stored]`` (``--task stored``: the stored settings, one compromise for every task) and
  ``NAME[TASK]`` (``--task TASK`` for the set's task: tno: ir-vis; lytro, mf-truth: multi-focus;
  medical: medical); ``default[stored]`` and ``default[TASK]`` are marked against the targets too
  (with ``--mean-maps`` each also with its own global-mean-maps row, at the same settings).

Fused images are cached under ``--out`` (a rerun only fuses what is missing); a network's folder
is named by its row name and the first 12 hex digits of its weights' sha256 (and, for a
``NAME[TASK]`` row, the task's settings), so other weights or settings under the same row name
are never scored from another model's cached images; an image is written under a temporary name
and renamed, so an interrupted run leaves no truncated image that a rerun would score (the
global-mean-maps rows' images were written in place before session 26). The data root is
``--data-root``, else ``$MUTUALFUSE_DATA``; a missing one, an unknown set or baseline, or weights
that cannot be read is one line ``bench_quality.py: error: …`` with exit status 2. Not a unit test:
it prints numbers; the targets are marked ✓/✗ and nothing is rounded up.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

REPO = Path(__file__).resolve().parents[1]

SETS = {
    "tno": ("ir-vis/tno", "ir", "vis", None,
            ["EI", "SF", "EN", "Qabf", "SCD", "MS_SSIM", "MI", "SD", "VIF"]),
    "lytro": ("multi-focus/lytro", "a", "b", "reference/ifcnn/multi-focus/max",
              ["EI", "SF", "EN", "SCD", "MI", "SD", "VIF"]),
    "medical": ("medical/ct-mr", "a", "b", "reference/ifcnn/medical/max",
                ["EI", "SF", "EN", "Qabf", "SCD", "MS_SSIM", "MI", "SD", "VIF"]),
}

#: the paper's "Ours" rows (Tables 1–3; Table 1 is over the paper's own 10 TNO pairs)
PAPER_OURS = {  # the paper's printed "Ours" rows (Tables 1-3; src/mutualfuse/data/paper_tables.json)
    "tno": {"EI": 45.5980, "SF": 11.5680, "Qabf": 0.5581, "VIF": 0.7897, "SD": 93.0976},
    "lytro": {"EI": 77.1693, "SF": 21.3001, "EN": 7.5381, "SCD": 1.1038, "MI": 15.0763, "SD": 135.1799,
              "VIF": 1.4193},
    "medical": {"EI": 88.2840, "SF": 25.7036, "EN": 6.0503, "Qabf": 0.6289, "SCD": 1.4161, "MS_SSIM": 0.9231,
                "MI": 12.1005, "SD": 77.8152, "VIF": 1.1499},
}

LOWER_IS_BETTER: set[str] = set()  # every paper metric is higher-is-better

#: each set's fusion task (mutualfuse.tasks.TASKS), for --task-settings
SET_TASK = {"tno": "ir-vis", "lytro": "multi-focus", "medical": "medical", "mf-truth": "multi-focus"}


def _task_rows(models: list[str], task: str) -> list[tuple[str, str, str]]:
    """(row name, shipped weights, ``--task``) of every shipped model recording per-task settings:
    ``NAME[stored]`` and ``NAME[TASK]``."""
    from mutualfuse.weights import SHIPPED

    out = []
    for m in models:
        name, w = _split(m)
        if w in SHIPPED and task in dict(SHIPPED[w].tasks):
            out += [(f"{name}[stored]", w, "stored"), (f"{name}[{task}]", w, task)]
    return out


def _cli(*args: str) -> None:
    cmd = [sys.executable, "-m", "mutualfuse", *args]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(f"bench_quality: `{' '.join(args[:3])} …` failed: {(r.stderr or r.stdout).strip()[-400:]}")


def _split(spec: str) -> tuple[str, str]:
    """``NAME=WEIGHTS`` (a weights file under a row name) or a shipped name."""
    name, _, w = spec.partition("=")
    return name, (w or name)


def _digest(weights: str) -> str:
    """The first 12 hex digits of the sha256 of shipped weights (by name) or a weights file."""
    from mutualfuse.weights import SHIPPED, sha256_file

    return (SHIPPED[weights].sha256 if weights in SHIPPED else sha256_file(weights))[:12]


def _row_dir(out: Path, set_key: str, name: str, weights: str | None, task: str | None = None) -> Path:
    """Cache folder of one row: ``NAME`` for a method, ``NAME@DIGEST`` for network weights at
    their stored settings, ``NAME@DIGEST+KEY=VALUE...`` at a task's settings and
    ``NAME@DIGEST+auto-RULE`` in task mode auto (a digest of the detection rule and every task's
    settings), so changed settings are never read from the cache."""
    if not weights:
        return out / "fused" / set_key / name
    from mutualfuse.weights import mode_settings, task_mode, task_settings

    mode = task_mode(weights, task)
    tag = ""
    if mode == "auto":
        import hashlib

        key = json.dumps(mode_settings(weights, mode), sort_keys=True)
        tag = "+auto-" + hashlib.sha256(key.encode()).hexdigest()[:8]
    elif mode != "stored":
        tag = "+" + (",".join(f"{k}={v:g}" for k, v in sorted(task_settings(weights, mode).items())) or "stored")
    return out / "fused" / set_key / f"{name}@{_digest(weights)}{tag}"


def _fuse_set(root: Path, set_dir: str, ra: str, rb: str, out: Path, method: str, weights: str | None,
              task: str | None = None, row: str | None = None) -> Path:
    name, weights = _split(weights) if weights else (method, None)
    dst = _row_dir(out, set_dir.replace("/", "_"), row or name, weights, task)
    args = ["fuse-dir", str(root / set_dir / ra), str(root / set_dir / rb), "-o", str(dst), "-q", "--device", "cpu"]
    if weights:
        args += ["--weights", weights]
    else:
        args += ["--method", method]
    if task:
        args += ["--task", task]
    _cli(*args)
    return dst


def _evaluate(root: Path, set_dir: str, ra: str, rb: str, folders: dict[str, Path], out: Path, jobs: int) -> dict:
    res = out / f"scores_{set_dir.replace('/', '_')}.json"
    args = ["evaluate", "--a", str(root / set_dir / ra), "--b", str(root / set_dir / rb), "--profile", "paper",
            "-o", str(res), "-j", str(jobs), "-q"]
    for f in folders.values():
        args += ["--fused", str(f)]
    _cli(*args)
    return json.loads(res.read_text())


def _means(scores: dict, folders: dict[str, Path]) -> dict[str, dict[str, float]]:
    """{row name: {metric: mean}} from ``mutualfuse evaluate -o x.json`` (methods → folder, mean)."""
    by_folder = {str(Path(p).resolve()): name for name, p in folders.items()}
    out: dict[str, dict[str, float]] = {}
    for m, d in scores["methods"].items():
        name = by_folder.get(str(Path(d["folder"]).resolve()), m)
        out[name] = {k: float("nan") if v is None else float(v)  # evaluate's JSON: null = NaN, "inf"
                     for k, v in d["mean"].items()}
    return out


def _table(title: str, metrics: list[str], rows: dict[str, dict[str, float]]) -> None:
    print(f"\n## {title}")
    print("| method | " + " | ".join(metrics) + " |")
    print("|---|" + "---|" * len(metrics))
    for name, vals in rows.items():
        cells = []
        for m in metrics:
            v = vals.get(m)
            cells.append("–" if v is None else (f"{v:.4f}" if abs(v) < 10 else f"{v:.2f}"))
        print(f"| {name} | " + " | ".join(cells) + " |")


def _count_ahead(a: dict[str, float], b: dict[str, float], metrics: list[str]) -> tuple[int, int]:
    n = sum(1 for m in metrics if m in a and m in b and a[m] > b[m])
    return n, sum(1 for m in metrics if m in a and m in b)


def mean_maps_fuse(weights: str, src_a: Path, src_b: Path, dst: Path, task: str | None = None) -> None:
    """Fuse a folder with the deepest mutual maps replaced by their global means (gray PNGs), at
    the settings ``fuse-dir --task TASK`` would use: a task's (:func:`mutualfuse.weights.task_settings`),
    ``"stored"``, or (None, for weights recording per-task settings) each pair's detected task's."""
    import torch
    from PIL import Image

    from mutualfuse import Fuser

    f = Fuser(weights, device="cpu", task=task)  # the settings fuse-dir --task TASK uses
    f.net.to(memory_format=torch.contiguous_format)  # as load_model gives it (the runner's channels-last rounds otherwise)
    dst.mkdir(parents=True, exist_ok=True)
    for pa in sorted(src_a.iterdir()):
        out = dst / pa.name
        if out.exists():
            continue
        ims = [np.asarray(Image.open(p).convert("L"), dtype=np.float32) / 255 for p in (pa, src_b / pa.name)]
        if f.task_mode == "auto":
            f.use_task(f.detect_tasks(ims[0][None], ims[1][None])[0].task)
        a, b = (torch.from_numpy(x)[None, None] for x in ims)
        with torch.no_grad():
            fused = f.net.forward_mean_maps(a, b)[0, 0].clamp(0, 1)
        from mutualfuse.io.atomic import atomic_write

        with atomic_write(out, fsync=False) as tmp:  # no truncated image for a rerun to take as done
            Image.fromarray(np.round(fused.numpy() * 255).astype(np.uint8)).save(tmp, format="PNG")


def mf_truth(root: Path, out: Path, models: list[str], baselines: list[str], mean_maps: bool,
             task_settings: bool = False, jobs: int = 1) -> None:
    from PIL import Image
    from skimage.metrics import structural_similarity

    sys.path.insert(0, str(REPO / "scripts"))
    from make_mf_truth import make_pairs  # noqa: E402

    pairs_dir = out / "mf-truth"
    make_pairs(root, pairs_dir)
    rows: dict[str, dict[str, float]] = {}
    dirs: dict[str, Path] = {}
    for spec in models + baselines:
        is_w = spec in models
        name, w = _split(spec) if is_w else (spec, None)
        dst = dirs[name] = _row_dir(out, "mf-truth", name, w)
        args = ["fuse-dir", str(pairs_dir / "a"), str(pairs_dir / "b"), "-o", str(dst), "-q", "--device", "cpu"]
        args += ["--weights", w] if is_w else ["--method", name]
        _cli(*args)
    task_rows = _task_rows(models, SET_TASK["mf-truth"]) if task_settings else []
    for row, w, task in task_rows:
        dst = dirs[row] = _row_dir(out, "mf-truth", row, w, task)
        _cli("fuse-dir", str(pairs_dir / "a"), str(pairs_dir / "b"), "-o", str(dst), "-q", "--device", "cpu",
             "--weights", w, "--task", task)
    if mean_maps:
        dw = dict(_split(m) for m in models).get("default", "default")
        dirs["default-mean-maps"] = _row_dir(out, "mf-truth", "default-mean-maps", dw)
        mean_maps_fuse(dw, pairs_dir / "a", pairs_dir / "b", dirs["default-mean-maps"])
    for name, folder in dirs.items():
        ps, ss, dm = [], [], []
        for t in sorted((pairs_dir / "truth").iterdir()):
            truth = np.asarray(Image.open(t).convert("L"), dtype=np.float64)
            f = np.asarray(Image.open(folder / t.name).convert("L"), dtype=np.float64)
            mse = float(((f - truth) ** 2).mean())
            ps.append(10 * np.log10(255.0**2 / max(mse, 1e-12)))
            ss.append(structural_similarity(f, truth, data_range=255.0, gaussian_weights=True, sigma=1.5,
                                            use_sample_covariance=False))
            dm.append(float(f.mean() - truth.mean()))
        rows[name] = {"PSNR": float(np.mean(ps)), "SSIM": float(np.mean(ss)), "dmean": float(np.mean(dm)),
                      "max|dmean|": float(np.max(np.abs(dm)))}
    _table("Synthetic multi-focus with a known truth (6 MSRS visible images, disc, σ=3)",
           ["PSNR", "SSIM", "dmean", "max|dmean|"], rows)
    # Table 2's metrics on the same pairs, with the truth itself scored as if it were a fused image:
    # which of them a perfect fusion maximises (for information; no target reads this table)
    with_truth = {**dirs, "truth": pairs_dir / "truth"}
    scored = _means(_evaluate(out, "mf-truth", "a", "b", with_truth, out, jobs), with_truth)
    table2 = SETS["lytro"][4]
    _table("The same pairs, Table 2's metrics; 'truth' = the sharp image scored as a fused one",
           table2, {k: scored[k] for k in [*dirs, "truth"] if k in scored})
    if "truth" in scored:
        top = [m for m in table2 if all(scored["truth"].get(m, -np.inf) >= r.get(m, np.inf)
                                        for k, r in scored.items() if k != "truth")]
        print(f"\nthe truth scores highest on: {', '.join(top) or 'none'}; below some method on: "
              f"{', '.join(m for m in table2 if m not in top)}")
    for label in ["default"] + [r for r, w, _ in task_rows if r.startswith("default[")]:
        d = rows.get(label)
        if d and "dwt" in rows and "average" in rows:
            ok = d["PSNR"] > rows["dwt"]["PSNR"] and d["SSIM"] > rows["dwt"]["SSIM"] and d["max|dmean|"] < 1.0
            print(f"\ntarget mf-truth: PSNR/SSIM above dwt ({rows['dwt']['PSNR']:.2f} dB / {rows['dwt']['SSIM']:.4f}), "
                  f"far above average ({rows['average']['PSNR']:.2f} dB), |Δmean| < 1: {label} "
                  f"{d['PSNR']:.2f} dB / {d['SSIM']:.4f}, max|Δmean| {d['max|dmean|']:.2f} → {'✓' if ok else '✗'}")


def _print_targets(s: str, label: str, rows: dict[str, dict[str, float]], metrics: list[str]) -> None:
    """The issue-10 target lines of set ``s`` for row ``label`` (``default`` or ``default[TASK]``)."""
    d = rows.get(label)
    if not d:
        return
    if s == "tno":
        po = PAPER_OURS["tno"]
        hit = {m: d.get(m, float("-inf")) >= po[m] for m in ("EI", "SF", "Qabf")}
        print(f"\ntarget tno ({label}): ≥ paper's Ours on EI, SF, Qabf: " + ", ".join(
            f"{m} {d[m]:.3f} vs {po[m]} {'✓' if ok else '✗'}" for m, ok in hit.items()))
        if "cbf" in rows:
            n, tot = _count_ahead(d, rows["cbf"], metrics)
            print(f"target tno ({label}): ahead of cbf on ≥ 6 of 9: {n} of {tot} {'✓' if n >= 6 else '✗'}")
    elif "IFCNN(max)" in rows:
        n, tot = _count_ahead(d, rows["IFCNN(max)"], metrics)
        print(f"\ntarget {s} ({label}): ahead of IFCNN(max) on {'all 7' if s == 'lytro' else '≥ 7 of 9'}: "
              f"{n} of {tot} {'✓' if n >= 7 else '✗'}  (behind on: "
              f"{', '.join(m for m in metrics if d.get(m, 0) <= rows['IFCNN(max)'].get(m, 0)) or 'none'})")
    if f"{label}-mean-maps" in rows:
        n, tot = _count_ahead(d, rows[f"{label}-mean-maps"], metrics)
        print(f"mapping matters ({s}): {label} ahead of its global-mean-maps variant on {n} of {tot} metrics")


def _check_args(ap: argparse.ArgumentParser, root: Path, models: list[str], baselines: list[str],
                sets: list[str]) -> None:
    """One-line usage errors, before anything is fused, for an unknown set or baseline, weights
    that cannot be read, or a data root without a set's folders."""
    from mutualfuse.errors import WeightsError
    from mutualfuse.methods import METHODS
    from mutualfuse.weights import read_weights

    bad = [s for s in sets if s not in SETS and s != "mf-truth"]
    if bad:
        ap.error(f"--sets: unknown set {', '.join(map(repr, bad))} (known: {', '.join([*SETS, 'mf-truth'])})")
    for s in sets:
        need = [Path("ir-vis/msrs-sample/vis")] if s == "mf-truth" else [Path(SETS[s][0]) / r for r in SETS[s][1:3]]
        for d in need:
            if not (root / d).is_dir():
                ap.error(f"{root / d}: not a folder (set {s} needs the shared data root: --data-root or MUTUALFUSE_DATA)")
    for m in models:
        name, w = _split(m)
        if not name:
            ap.error(f"--models {m!r}: expected a shipped name or NAME=FILE.safetensors")
        try:
            read_weights(w)
        except WeightsError as e:
            ap.error(f"--models {m!r}: {e}")
    for m in baselines:
        try:
            METHODS.entry(m)
        except KeyError as e:
            ap.error(f"--baselines: {e.args[0]}")


def main() -> None:
    ap = _common.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-root", help="data root (default: $MUTUALFUSE_DATA)")
    ap.add_argument("--models", default="default,paper", help="shipped weights names, or NAME=FILE.safetensors")
    ap.add_argument("--baselines", default="average,cbf,dwt")
    ap.add_argument("--sets", default="tno,lytro,medical,mf-truth")
    ap.add_argument("--out", default=str(REPO / "out" / "bench_quality"))
    ap.add_argument("--mean-maps", action="store_true", help="also score `default` with global-mean maps")
    ap.add_argument("--task-settings", action="store_true",
                    help="also score each shipped model recording per-task settings at its stored settings and "
                         "at the set's task's (rows NAME[stored], NAME[TASK])")
    ap.add_argument("-j", "--jobs", type=_common.positive, default=2)
    args = ap.parse_args()
    root, _ = _common.data_root(ap, args.data_root)
    models = [m for m in args.models.split(",") if m]
    baselines = [m for m in args.baselines.split(",") if m]
    _check_args(ap, root, models, baselines, args.sets.split(","))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    print(_common.machine())
    print(f"# bench_quality  models={models}  baselines={baselines}  data={root}")
    for s in args.sets.split(","):
        if s == "mf-truth":
            mf_truth(root, out, models, baselines, args.mean_maps, args.task_settings, args.jobs)
            continue
        set_dir, ra, rb, ref, metrics = SETS[s]
        folders: dict[str, Path] = {}
        for m in models:
            folders[_split(m)[0]] = _fuse_set(root, set_dir, ra, rb, out, m, m)
        task_rows = _task_rows(models, SET_TASK[s]) if args.task_settings else []
        for row, w, task in task_rows:
            folders[row] = _fuse_set(root, set_dir, ra, rb, out, w, w, task=task, row=row)
        for m in baselines:
            folders[m] = _fuse_set(root, set_dir, ra, rb, out, m, None)
        if args.mean_maps and "default" in [_split(m)[0] for m in models]:
            dw = dict(_split(m) for m in models).get("default", "default")
            dst = _row_dir(out, set_dir.replace("/", "_"), "default-mean-maps", dw)
            mean_maps_fuse(dw, root / set_dir / ra, root / set_dir / rb, dst)
            folders["default-mean-maps"] = dst
            for row, w, task in task_rows:
                if row.startswith("default["):
                    dst = _row_dir(out, set_dir.replace("/", "_"), f"{row}-mean-maps", w, task)
                    mean_maps_fuse(w, root / set_dir / ra, root / set_dir / rb, dst, task=task)
                    folders[f"{row}-mean-maps"] = dst
        if ref and (root / ref).is_dir():
            folders["IFCNN(max)"] = root / ref
        rows = _means(_evaluate(root, set_dir, ra, rb, folders, out, args.jobs), folders)
        rows = {k: rows[k] for k in folders if k in rows}
        rows["paper's Ours"] = PAPER_OURS[s]
        _table(f"{s} ({set_dir}), means", metrics, rows)
        for label in ["default"] + [r for r, _, _ in task_rows if r.startswith("default[")]:
            _print_targets(s, label, rows, metrics)
    print(f"\n# wall time {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
