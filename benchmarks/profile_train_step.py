"""Where one training step's time goes: forward by stage, mapping, loss, backward, optimiser.

    python benchmarks/profile_train_step.py [--recipes paper,default] [--size 256] [--batch 1]
                                            [--steps 5] [--threads 1] [--device cpu] [--ops 12]
    python benchmarks/profile_train_step.py --size 64 --steps 1 --recipes paper --ops 3   # quick

For each recipe (``configs/<name>.yaml``: model, loss, memory layout, as the trainer builds
them; random inputs, Adam) it runs ``--steps`` timed steps after one warm-up and prints the
median time of each stage of the step, taken with explicit timers around the network's own
stage functions (:meth:`FMMNet.encode`, the deepest mutual maps, the rest of
:meth:`FMMNet.fuse`, :meth:`FMMNet.decode`), the loss, ``backward()`` and ``optimizer.step()``.
Then one more step runs under the torch profiler and the operators are summed by kind
(convolution, attention, resizing, pooling, copies and concatenation, element-wise, other),
forward and backward separately, with the ``--ops`` most expensive operators listed. The forward
runs in the trainer's arithmetic: bf16 autocast on CUDA when the recipe has ``amp`` (the
default), on CPU when its ``cpu_amp`` asks for it on this CPU (before 2026-12-04, sixth
session, the script ran every forward in float32).

The stage timers add no synchronisation on CPU; on CUDA each boundary synchronises (so the
stages add up to the step). Absolute times on a shared machine are noisy; compare recipes
within one run (no baseline is timed: the shares are of the step's own median, in ms and %).
The first line names the machine. docs/training.md ("Training throughput") quotes this script's
output.
"""
from __future__ import annotations

import time
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_train.recipe_setup
import _common  # noqa: E402

KINDS = [  # (kind, substrings of aten operator names), first match wins
    ("attention", ("scaled_dot_product", "softmax")),
    ("convolution", ("convolution", "conv2d", "_slow_conv")),
    ("resizing", ("upsample", "interpolate")),
    ("pooling", ("pool",)),
    ("copies/cat/pad", ("copy_", "cat", "pad", "clone", "contiguous", "_to_copy")),
    ("element-wise", ("add", "mul", "sub", "div", "relu", "threshold", "sigmoid", "tanh", "exp", "sqrt", "pow",
                      "clamp", "neg", "abs", "where", "maximum", "minimum", "fill_", "sum", "mean", "zero_")),
]


def _kind(name: str) -> str:
    n = name.lower()
    for kind, keys in KINDS:
        if any(k in n for k in keys):
            return kind
    return "other"


def _stages(args, recipe: str) -> None:
    import torch

    from bench_train import recipe_setup  # the same set-up as the throughput benchmark

    dev = torch.device(args.device)
    cfg, net, loss_fn, params, opt, a, b = recipe_setup(recipe, args.device, args.batch, args.size)
    staged = cfg.model.arch == "fmm" and args.size % cfg.model.multiple == 0
    mapping = staged and hasattr(net.fusion, "deepest_maps")
    from contextlib import nullcontext

    from mutualfuse.train.config import cpu_bf16_wanted

    def autocast():  # the forward's arithmetic as the trainer runs it (bf16 on CUDA with amp, cpu_amp on CPU)
        if dev.type == "cuda" and cfg.amp:
            return torch.autocast("cuda", dtype=torch.bfloat16)
        if dev.type == "cpu" and cpu_bf16_wanted(cfg.cpu_amp):
            return torch.autocast("cpu", dtype=torch.bfloat16)
        return nullcontext()

    def mark(times: dict, key: str, t0: float) -> float:
        if dev.type == "cuda":
            torch.cuda.synchronize()
        t = time.perf_counter()
        times[key] += t - t0
        return t

    def step(times: dict) -> None:
        t = time.perf_counter()
        with autocast():
            if staged:  # the stages of FMMNet._forward (the input size needs no padding)
                fx, fy = net.encode(a, b)
                t = mark(times, "forward: encoders", t)
                maps = None
                if mapping:
                    maps = net.fusion.deepest_maps(fx[-1], fy[-1])
                    t = mark(times, "forward: deepest mutual maps", t)
                fused = net.fuse(fx, fy, maps=maps)
                t = mark(times, "forward: fusion of the other levels" if mapping else "forward: fusion", t)
                f = net.decode(fused, a, b)
                t = mark(times, "forward: decoder and output head", t)
            else:
                f = net(a, b)
                t = mark(times, "forward", t)
        loss = loss_fn(a, b, f.float().contiguous(), **params)
        t = mark(times, "loss", t)
        opt.zero_grad()
        loss.backward()
        t = mark(times, "backward", t)
        opt.step()
        mark(times, "optimiser", t)

    step(defaultdict(float))  # warm-up
    runs = []
    for _ in range(args.steps):
        times: dict = defaultdict(float)
        step(times)
        runs.append(times)
    total = sorted(sum(r.values()) for r in runs)[len(runs) // 2]
    print(f"\n## {recipe}  (size {args.size}, batch {args.batch}, {args.device}, {args.threads} threads; "
          f"median of {args.steps} steps: {1000 * total:.0f} ms/step, {args.batch / total:.2f} images/s)")
    for key in runs[0]:
        ms = sorted(r[key] for r in runs)[len(runs) // 2] * 1000
        print(f"  {key:<40} {ms:9.1f} ms  {100 * ms / 1000 / total:5.1f} %")

    from torch.profiler import ProfilerActivity, profile

    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if dev.type == "cuda" else [])
    with profile(activities=acts) as prof:
        step(defaultdict(float))
    events = prof.key_averages()
    attr = "self_device_time_total" if dev.type == "cuda" else "self_cpu_time_total"
    by_kind: dict = defaultdict(float)
    rows = []
    for e in events:
        if not e.key.startswith("aten::"):
            continue
        us = float(getattr(e, attr, 0.0) or 0.0)
        if us <= 0:
            continue
        phase = "backward" if "backward" in e.key else "forward"
        by_kind[(_kind(e.key.removeprefix("aten::").replace("_backward", "")), phase)] += us
        rows.append((us, e.key, e.count))
    spent = sum(by_kind.values()) or 1.0
    print(f"  operators by kind (torch profiler, one more step; {'GPU' if dev.type == 'cuda' else 'CPU'} self time):")
    for (kind, phase), us in sorted(by_kind.items(), key=lambda kv: -kv[1]):
        print(f"    {kind:<16} {phase:<8} {us / 1000:9.1f} ms  {100 * us / spent:5.1f} %")
    print(f"  the {args.ops} most expensive operators:")
    for us, key, count in sorted(rows, reverse=True)[: args.ops]:
        print(f"    {key:<58} {us / 1000:9.1f} ms  ({count} calls)")


def main() -> None:
    ap = _common.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--recipes", default="paper,default", help="configs/<name>.yaml, comma-separated")
    ap.add_argument("--size", type=_common.positive, default=256)
    ap.add_argument("--batch", type=_common.positive, default=1)
    ap.add_argument("--steps", type=_common.positive, default=5)
    ap.add_argument("--threads", type=_common.positive, default=1)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--ops", type=_common.positive, default=12)
    args = ap.parse_args()
    from bench_train import check_recipes

    _common.check_device(ap, args.device)
    check_recipes(ap, [r.strip() for r in args.recipes.split(",")])
    import torch

    torch.set_num_threads(args.threads)
    if args.device == "cpu":
        torch.set_flush_denormal(True)  # as the trainer does on CPU
    print(_common.machine(args.threads))
    print(f"# profile_train_step  torch={torch.__version__}")
    for recipe in args.recipes.split(","):
        _stages(args, recipe.strip())


if __name__ == "__main__":
    main()
