"""Training throughput and peak memory at 256x256, and forward time of each fusion rule.

Usage:  python benchmarks/bench_train.py [--device cpu|cuda] [--threads N] [--steps N]

Every (batch size) configuration runs in a fresh process so that its peak RSS is its own;
the fusion-rule forward times are measured in one process, back to back, so that they are
comparable to each other (single absolute times on a shared machine are noisy).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time


def _child(args) -> None:
    import torch

    from mutualfuse.losses import var_ssim_loss
    from mutualfuse.model import ModelConfig, build_model

    torch.set_num_threads(args.threads)
    dev = torch.device(args.device)
    torch.manual_seed(0)
    net = build_model(ModelConfig()).to(dev)
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)
    a = torch.rand(args.batch, 1, args.size, args.size, device=dev)
    b = torch.rand(args.batch, 1, args.size, args.size, device=dev)
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    amp = torch.autocast("cuda", dtype=torch.bfloat16) if dev.type == "cuda" else None

    def step():
        if amp:
            with amp:
                f = net(a, b)
        else:
            f = net(a, b)
        loss = var_ssim_loss(a, b, f.float())
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
    out = {"batch": args.batch, "images_per_s": args.batch * args.steps / dt,
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
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--batches", default="1,4,8")
    ap.add_argument("--child-batch", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child_batch:
        args.batch = args.child_batch
        _child(args)
        return
    import torch

    print(f"# bench_train  device={args.device}  threads={args.threads}  size={args.size}  torch={torch.__version__}")
    print(f"{'batch':>5} {'images/s':>9} {'peak RSS MB':>12} {'(base MB)':>10}" + ("  peak GPU MB" if args.device == "cuda" else ""))
    for bs in [int(x) for x in args.batches.split(",")]:
        cmd = [sys.executable, __file__, "--device", args.device, "--threads", str(args.threads), "--size",
               str(args.size), "--steps", str(args.steps), "--child-batch", str(bs)]
        r = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS=str(args.threads)))
        if r.returncode:
            print(f"{bs:>5} failed: {r.stderr.strip().splitlines()[-1] if r.stderr.strip() else r.returncode}")
            continue
        d = json.loads(r.stdout.strip().splitlines()[-1])
        line = f"{bs:>5} {d['images_per_s']:>9.2f} {d['peak_rss_mb']:>12.0f} {d['base_rss_mb']:>10.0f}"
        if "peak_gpu_mb" in d:
            line += f"  {d['peak_gpu_mb']:>11.0f}"
        print(line, flush=True)
    print(f"\n# forward time at {args.size}x{args.size}, batch 1, interleaved x{args.repeats}")
    rows = _rules(args)
    base = next(r for r in rows if r["model"] == "mapping")["median_ms"]
    for r in rows:
        print(f"{r['model']:>8}  median {r['median_ms']:8.1f} ms  min {r['min_ms']:8.1f} ms  ({r['median_ms'] / base:.2f}x mapping)")


if __name__ == "__main__":
    main()
