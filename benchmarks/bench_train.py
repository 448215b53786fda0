"""Training throughput and peak memory at 256x256, and forward time of each fusion rule.

Usage:  python benchmarks/bench_train.py [--device cpu|cuda] [--threads N] [--steps N] [--recipes paper,default]
        python benchmarks/bench_train.py --size 64 --steps 1 --repeats 1 --batches 1 --threads 1   # quick

Each recipe is a training configuration (``configs/<name>.yaml``: model, loss, memory layout);
``paper`` is the paper's set-up as first shipped (contiguous, reflect padding, raw dot-product
mapping, direct output, Var-SSIM), the baseline every speed-up is measured against in the
same run.

``--baseline-rev REV`` also runs the first recipe with the package *as it was at git revision
REV* (its ``src/``, ``configs/`` and this script, exported with ``git archive``), so that a
speed-up of the code itself shows against the old code in the same run: ``paper@87c4518`` is
the paper recipe with the code before channels-last inference, ``conv_concat`` and the
channels-last mapping output (2026-12-02).

Every (batch size) configuration runs in a fresh process so that its peak RSS is its own;
the fusion-rule forward times are measured in one process, back to back, so that they are
comparable to each other (single absolute times on a shared machine are noisy). Units: images
per second, megabytes, milliseconds; ``vs base`` and ``x mapping`` are ratios to the baseline of
the same run. The first line names the machine. A configuration that fails is a ``failed`` row,
and the run then ends with exit status 1 (it ended with 0).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402


def recipe_setup(recipe: str, device: str, batch: int, size: int):
    """What one training step of ``configs/<recipe>.yaml`` needs, built as the trainer builds it
    (model in the recipe's memory layout, its loss, Adam) with random (batch, 1, size, size)
    inputs: ``(cfg, net, loss_fn, loss_params, opt, a, b)``. Also used by profile_train_step.py."""
    import torch

    from mutualfuse.losses import LOSSES
    from mutualfuse.model import build_model
    from mutualfuse.train.config import TrainConfig

    dev = torch.device(device)
    torch.manual_seed(0)
    cfg = TrainConfig.load(Path(__file__).resolve().parents[1] / "configs" / f"{recipe}.yaml")
    fmt = torch.channels_last if cfg.channels_last else torch.contiguous_format
    net = build_model(cfg.model).to(dev, memory_format=fmt)
    if cfg.train_token_budget is not None:
        net.cfg.token_budget = cfg.train_token_budget  # as the trainer's training steps run it
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)
    a = torch.rand(batch, 1, size, size, device=dev).contiguous(memory_format=fmt)
    b = torch.rand(batch, 1, size, size, device=dev).contiguous(memory_format=fmt)
    return cfg, net, LOSSES[cfg.loss], dict(cfg.loss_params), opt, a, b


def check_recipes(ap: argparse.ArgumentParser, recipes: list[str]) -> None:
    """A one-line usage error for a recipe whose ``configs/<name>.yaml`` is missing or does not
    load, before any child runs (each would print its own failure). Also used by
    profile_train_step.py."""
    from mutualfuse.errors import FuseError
    from mutualfuse.train.config import TrainConfig

    configs = Path(__file__).resolve().parents[1] / "configs"
    for r in recipes:
        if not (configs / f"{r}.yaml").is_file():
            ap.error(f"--recipes: no configs/{r}.yaml (a recipe is the name of a file in configs/, e.g. paper,default)")
        try:
            TrainConfig.load(configs / f"{r}.yaml")
        except (FuseError, ValueError, TypeError) as e:
            ap.error(f"--recipes: {e}")


def _child(args) -> None:
    import torch

    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)  # as the trainer does on CPU
    dev = torch.device(args.device)
    cfg, net, loss_fn, params, opt, a, b = recipe_setup(args.recipe, args.device, args.batch, args.size)
    from mutualfuse.train.config import cpu_bf16_wanted

    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    amp = None
    if dev.type == "cuda":
        amp = torch.autocast("cuda", dtype=torch.bfloat16)
    elif cpu_bf16_wanted(cfg.cpu_amp):
        amp = torch.autocast("cpu", dtype=torch.bfloat16)  # as the trainer does (TrainConfig.cpu_amp)

    def step():
        if amp:
            with amp:
                f = net(a, b)
        else:
            f = net(a, b)
        loss = loss_fn(a, b, f.float().contiguous(), **params)
        opt.zero_grad()
        loss.backward()
        opt.step()

    step()  # warm-up
    if dev.type == "cuda":
        torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(args.steps):
        step()
    if dev.type == "cuda":
        torch.cuda.synchronize()
    dt = time.perf_counter() - t
    out = {"recipe": args.recipe, "batch": args.batch, "images_per_s": args.batch * args.steps / dt,
           "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "base_rss_mb": base_rss}
    if dev.type == "cuda":
        out["peak_gpu_mb"] = torch.cuda.max_memory_allocated() / 2**20
    print(json.dumps(out))


def _rules(args) -> list[dict]:
    import torch

    from mutualfuse.model import ModelConfig, build_model

    torch.set_num_threads(args.threads)
    dev = torch.device(args.device)
    a = torch.rand(1, 1, args.size, args.size, device=dev)
    rows = []
    nets = {r: build_model(ModelConfig(fusion=r)).to(dev).eval() for r in ("mapping", "add", "concat")}
    nets["vifnet"] = build_model(ModelConfig(arch="vifnet")).to(dev).eval()
    times = {k: [] for k in nets}
    with torch.no_grad():
        for k, n in nets.items():
            n(a, a)  # warm-up
        for _ in range(args.repeats):  # interleaved, so drifts in machine load hit all equally
            for k, n in nets.items():
                if dev.type == "cuda":
                    torch.cuda.synchronize()
                t = time.perf_counter()
                n(a, a)
                if dev.type == "cuda":
                    torch.cuda.synchronize()
                times[k].append(time.perf_counter() - t)
    for k, ts in times.items():
        ts.sort()
        rows.append({"model": k, "median_ms": 1000 * ts[len(ts) // 2], "min_ms": 1000 * ts[0]})
    return rows


def main() -> None:
    ap = _common.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=_common.positive, default=2)
    ap.add_argument("--size", type=_common.positive, default=256)
    ap.add_argument("--steps", type=_common.positive, default=3)
    ap.add_argument("--repeats", type=_common.positive, default=5)
    ap.add_argument("--batches", default="1,4,8")
    ap.add_argument("--recipes", default="paper,default", help="configs/<name>.yaml, the first is the baseline")
    ap.add_argument("--baseline-rev", help="also run the first recipe with the code of this git revision")
    ap.add_argument("--child-batch", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--recipe", default="paper", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child_batch:
        args.batch = args.child_batch
        _child(args)
        return
    recipes = args.recipes.split(",")
    _common.check_device(ap, args.device)
    check_recipes(ap, recipes)
    try:
        batches = [int(x) for x in args.batches.split(",")]
        if min(batches) < 1:
            raise ValueError
    except ValueError:
        ap.error(f"--batches {args.batches!r}: expected comma-separated batch sizes of at least 1, e.g. 1,4")
    if args.baseline_rev:
        ok = subprocess.run(["git", "-C", str(Path(__file__).resolve().parents[1]), "rev-parse", "--verify", "--quiet",
                             f"{args.baseline_rev}^{{commit}}"], capture_output=True)
        if ok.returncode:
            ap.error(f"--baseline-rev {args.baseline_rev!r}: not a commit of this repository")
    import torch

    from mutualfuse.train.config import cpu_has_native_bf16

    print(_common.machine(args.threads))
    print(f"# bench_train  device={args.device}  threads={args.threads}  size={args.size}  torch={torch.__version__}"
          f"  native_bf16={cpu_has_native_bf16()}")
    print(f"{'recipe':>16} {'batch':>5} {'images/s':>9} {'vs base':>8} {'peak RSS MB':>12} {'(base MB)':>10}"
          + ("  peak GPU MB" if args.device == "cuda" else ""))
    runs = [(r, Path(__file__).resolve(), None) for r in recipes]  # (label, script, PYTHONPATH)
    old_tree = None
    if args.baseline_rev:
        import tempfile

        old_tree = tempfile.TemporaryDirectory(prefix="bench_train_")
        repo = Path(__file__).resolve().parents[1]
        paths = ["src", "configs", "benchmarks/bench_train.py"]
        if not subprocess.run(["git", "-C", str(repo), "cat-file", "-e", f"{args.baseline_rev}:benchmarks/_common.py"],
                              capture_output=True).returncode:
            paths.append("benchmarks/_common.py")  # which bench_train.py imports since session 26
        archive = subprocess.run(["git", "-C", str(repo), "archive", args.baseline_rev, *paths],
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", old_tree.name], input=archive, check=True)
        old = Path(old_tree.name)
        # the baseline: the first recipe with the old code
        runs.insert(0, (f"{recipes[0]}@{args.baseline_rev}", old / "benchmarks" / "bench_train.py", old / "src"))
    base: dict[int, float] = {}
    failed = []
    for bs in batches:
        for label, script, pypath in runs:  # interleaved per batch size, so load drifts hit all alike
            recipe = label.split("@")[0]
            cmd = [sys.executable, str(script), "--device", args.device, "--threads", str(args.threads), "--size",
                   str(args.size), "--steps", str(args.steps), "--child-batch", str(bs), "--recipe", recipe]
            env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
            if pypath is not None:
                env["PYTHONPATH"] = str(pypath)
            r = subprocess.run(cmd, capture_output=True, text=True, env=env)
            if r.returncode:
                print(f"{label:>16} {bs:>5} failed: {r.stderr.strip().splitlines()[-1] if r.stderr.strip() else r.returncode}")
                failed.append(f"{label} batch {bs}")
                continue
            d = json.loads(r.stdout.strip().splitlines()[-1])
            if label == runs[0][0]:
                base[bs] = d["images_per_s"]
            ratio = f"{d['images_per_s'] / base[bs]:.2f}x" if bs in base else "-"
            line = f"{label:>16} {bs:>5} {d['images_per_s']:>9.2f} {ratio:>8} {d['peak_rss_mb']:>12.0f} {d['base_rss_mb']:>10.0f}"
            if "peak_gpu_mb" in d:
                line += f"  {d['peak_gpu_mb']:>11.0f}"
            print(line, flush=True)
    print(f"\n# forward time at {args.size}x{args.size}, batch 1, interleaved x{args.repeats}")
    rows = _rules(args)
    base = next(r for r in rows if r["model"] == "mapping")["median_ms"]
    for r in rows:
        print(f"{r['model']:>8}  median {r['median_ms']:8.1f} ms  min {r['min_ms']:8.1f} ms  ({r['median_ms'] / base:.2f}x mapping)")
    if failed:
        sys.exit(f"bench_train.py: error: {len(failed)} configuration(s) failed ({', '.join(failed)}); "
                 "their rows above say why")


if __name__ == "__main__":
    main()
