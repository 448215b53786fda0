"""Fuse speed and memory benchmark, and the token budget's deviation from the exact mapping.

    python benchmarks/bench_fuse.py speed      [--sizes 256x256,640x480,...] [--device cpu] [--threads 2]
    python benchmarks/bench_fuse.py deviation  [--sets tno,msrs,lytro] [--upscale 3]   # needs the data root
    python benchmarks/bench_fuse.py speed --sizes 64x64 --threads 1 --reps 1 --exact-max-pixels 0 --naive-max-gb 0
                                                   # quick: a minute or two on one thread

The data root is ``--data-root``, else ``$MUTUALFUSE_DATA``, else ``$MUTUALFUSE_SHARED/data`` (the
variable of the commands in runs-log/); one that is named but missing is an error, never a silent
fallback. ``deviation`` needs one; ``speed`` without one uses the bundled sample and says so.

``speed``: every (size, mode) runs in a fresh process (``--child``) so that peak RSS
(``ru_maxrss``, the whole process: Python + torch + model + data) is that run's alone. Modes:

* ``default``: the shipped API path (token budget, exact halo streaming);
* ``exact``: ``token_budget=0``, the mapping by fused SDPA (flash kernel, O(N·C) memory);
* ``naive``: ``token_budget=0`` with SDPA's math backend (the explicit N×N matmul-softmax-matmul), only where
  its two N×N float32 matrices fit (``--naive-max-gb``).

Inputs are a real infrared/visible pair (TNO 04 of the data root, or the bundled tno-01 without
one; the ``# input`` line says which) resized to each size. Times are wall seconds (best of
``--reps`` up to 640x480, one run above), us/px microseconds per pixel, RSS megabytes. Each
``exact`` and ``naive`` row ends with its time relative to ``default`` at the same size, and with
the peers (the default) a table gives ``default``'s time relative to DenseFuse's and IFCNN's bare
forward, all measured in this run. Achieved GFLOP/s counts convolution and mapping FLOPs (2 per
multiply-add) and is printed next to the fp32 matmul peak measured with the same thread count at
the start and end of the run (the machine is shared; the peak shows how loaded it was). A mode
that fails is a ``FAILED`` row, and the run then ends with exit status 1.

``deviation``: fuses real pairs at their native size (and, with ``--upscale``, a few of them
bicubically enlarged to 1920×1080) with the default token budget and with the exact mapping,
and reports the difference of the fused 8-bit images (mean/max absolute, PSNR) and both times
(seconds, and the budget's relative to the exact one's). Quick: ``deviation --sets tno --limit 1
--threads 1``.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "src" / "mutualfuse" / "data" / "samples" / "tno-01"
DEFAULT_SIZES = "256x256,640x480,1024x768,1920x1080,3840x2160"


def _threads(n: int) -> None:
    import torch

    torch.set_num_threads(n)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass


def matmul_peak(threads: int, device: str = "cpu") -> float:
    """Best-of fp32 GFLOP/s of a 2048² matmul."""
    import torch

    _threads(threads)
    n = 2048
    x = torch.randn(n, n, device=device)
    y = torch.randn(n, n, device=device)
    best = float("inf")
    for _ in range(6):
        if device != "cpu":
            torch.cuda.synchronize()
        t = time.perf_counter()
        (x @ y).sum().item()
        best = min(best, time.perf_counter() - t)
    return 2 * n ** 3 / best / 1e9


def _pair_files(data: Path | None) -> tuple[Path, Path, str]:
    """The speed benchmark's pair: TNO 04 of the data root, else the bundled tno-01 sample."""
    src = data / "ir-vis" / "tno" if data is not None else None
    if src is not None and (src / "ir" / "04.png").exists():
        return src / "ir" / "04.png", src / "vis" / "04.png", f"TNO 04 ({src})"
    return SAMPLE / "a.png", SAMPLE / "b.png", "the bundled tno-01 sample (no TNO 04 under a data root)"


def _pair(h: int, w: int, data: Path | None = None):
    import numpy as np
    from PIL import Image

    pa, pb, _ = _pair_files(data)
    out = []
    for p in (pa, pb):
        im = Image.open(p).convert("L").resize((w, h), Image.BICUBIC)
        out.append(np.asarray(im, dtype=np.float64) / 255.0)
    return out


def _model_spec(weights: str | None = None) -> tuple[str, str]:
    from mutualfuse.weights import SHIPPED

    if weights:
        return weights, f"weights {weights}"
    if "default" in SHIPPED:
        return "default", "shipped default weights"
    import tempfile

    import torch

    from mutualfuse.model import ModelConfig, build_model
    from mutualfuse.weights import save_weights

    torch.manual_seed(0)
    p = Path(tempfile.mkdtemp()) / "random-default.safetensors"
    save_weights(p, build_model(ModelConfig()), ModelConfig())
    return str(p), "randomly initialised default config (no shipped weights yet)"


PEERS = ("densefuse", "ifcnn")


def _peer_net(name: str):
    """The inference architecture of a peer network (random weights: speed does not depend on them).

    * ``densefuse`` (Li & Wu, IEEE TIP 2019): shared encoder conv3×3 1→16 + dense block of three
      3×3 convs (16 each, inputs 16/32/48) → 64 channels per source, addition, decoder 3×3 convs
      64→64→32→16→1, ReLU except the last, reflection padding.
    * ``ifcnn`` (Zhang et al., Information Fusion 2020): per source conv7×7 3→64 (ResNet-101's
      conv1) and conv3×3 64→64 + BN + ReLU, element-wise max, conv3×3 64→64 + BN + ReLU, conv1×1
      64→3; replicate padding; gray inputs repeated to 3 channels, as its code does.
    """
    import torch
    from torch import nn

    def c(i, o, k=3, pad="reflect"):
        return nn.Conv2d(i, o, k, padding=k // 2, padding_mode=pad)

    if name == "densefuse":
        class DenseFuse(nn.Module):
            def __init__(self):
                super().__init__()
                self.c1 = c(1, 16)
                self.d = nn.ModuleList([c(16, 16), c(32, 16), c(48, 16)])
                self.dec = nn.Sequential(c(64, 64), nn.ReLU(), c(64, 32), nn.ReLU(), c(32, 16), nn.ReLU(), c(16, 1))

            def enc(self, x):
                f = [torch.relu(self.c1(x))]
                for conv in self.d:
                    f.append(torch.relu(conv(torch.cat(f, 1))))
                return torch.cat(f, 1)

            def forward(self, a, b):
                return self.dec(self.enc(a) + self.enc(b))

        return DenseFuse().eval()

    class IFCNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = c(3, 64, 7, "replicate")
            self.conv2 = nn.Sequential(c(64, 64, 3, "replicate"), nn.BatchNorm2d(64), nn.ReLU())
            self.conv3 = nn.Sequential(c(64, 64, 3, "replicate"), nn.BatchNorm2d(64), nn.ReLU())
            self.conv4 = nn.Conv2d(64, 3, 1)

        def forward(self, a, b):
            fa = self.conv2(self.conv1(a.expand(-1, 3, -1, -1)))
            fb = self.conv2(self.conv1(b.expand(-1, 3, -1, -1)))
            return self.conv4(self.conv3(torch.maximum(fa, fb)))

    return IFCNN().eval()


def peer_child(args) -> None:
    """One (size, peer) measurement: the bare network forward on the same pair; one JSON line."""
    import numpy as np
    import torch

    _threads(args.threads)

    w, h = map(int, args.size.lower().split("x"))
    net = _peer_net(args.mode)
    a, b = _pair(h, w, args.data)
    ta = torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))[None, None]
    tb = torch.from_numpy(np.ascontiguousarray(b, dtype=np.float32))[None, None]
    with torch.inference_mode():
        net(ta[..., :64, :64], tb[..., :64, :64])
        reps = args.reps if h * w <= 640 * 480 else 1
        times = []
        for _ in range(reps):
            t = time.perf_counter()
            out = net(ta, tb)
            times.append(time.perf_counter() - t)
    wall = min(times)
    assert out.shape[-2:] == (h, w)
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    from torch.utils.flop_counter import FlopCounterMode

    with torch.inference_mode(), FlopCounterMode(display=False) as fc:
        net(ta, tb)
    conv = float(fc.get_total_flops())
    print(json.dumps({"size": f"{w}x{h}", "mode": args.mode, "device": "cpu", "threads": args.threads, "wall_s": wall,
                      "net_s": wall,
                      "us_per_px": wall / (h * w) * 1e6,
                      "peak_rss_mb": peak_rss, "gpu_peak_mb": None,
                      "conv_gflop": conv / 1e9, "map_gflop": 0.0, "gflops": conv / 1e9 / wall, "matmul_peak_gflops": None, "pool": 1,
                      "windows": 1, "model": args.mode}), flush=True)


def child(args) -> None:
    """One (size, mode) measurement; prints one JSON line."""
    _threads(args.threads)
    import numpy as np
    import torch
    from torch.utils.flop_counter import FlopCounterMode, sdpa_flop_count

    from mutualfuse import Fuser

    w, h = map(int, args.size.lower().split("x"))
    spec, what = _model_spec(args.weights)
    if args.mode in PEERS:
        return peer_child(args)
    fuser = Fuser(spec, device=args.device, token_budget=(-1 if args.mode == "default" else 0))
    if args.mode == "naive":
        # PyTorch's math backend of SDPA: the explicit matmul-softmax-matmul with its N×N matrix,
        # in place of the fused kernel, for the rest of this child process (a public switch of
        # torch's dispatcher; nothing in mutualfuse is replaced)
        from torch.nn.attention import SDPBackend, sdpa_kernel

        math_only = sdpa_kernel(SDPBackend.MATH)  # held until this function returns: the
        math_only.__enter__()                     # switch is undone when the object is freed
    a, b = _pair(h, w, args.data)
    fuser.fuse(a[:64, :64], b[:64, :64])  # warm-up: kernels, allocator
    peak_now = matmul_peak(args.threads, args.device)  # load right now (the machine is shared)
    if args.device != "cpu":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    reps = args.reps if h * w <= 640 * 480 else 1
    times, net_times = [], []
    fa, fb = a[None].astype(np.float32), b[None].astype(np.float32)  # the runner's input form
    for _ in range(reps):  # the full API path and the network runner alone, interleaved
        t = time.perf_counter()
        out = fuser.fuse(a, b)
        if args.device != "cpu":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
        t = time.perf_counter()
        fuser.runner.run(fa, fb)
        if args.device != "cpu":
            torch.cuda.synchronize()
        net_times.append(time.perf_counter() - t)
    wall = min(times)
    assert out.shape == (h, w) and np.isfinite(out).all()
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before the counting pass
    # FLOPs actually computed (the CPU flash-attention op counted with torch's SDPA formula; q/k
    # zero-padded to the value width count as computed), in one more, untimed pass
    ops = torch.ops.aten

    def cpu_sdpa_flop(q_shape, k_shape, v_shape, *args, out_shape=None, **kwargs) -> int:
        return sdpa_flop_count(q_shape, k_shape, v_shape)

    with FlopCounterMode(display=False, custom_mapping={ops._scaled_dot_product_flash_attention_for_cpu: cpu_sdpa_flop}) as fc:
        fuser.runner.run(fa, fb)
    counts = fc.get_flop_counts()["Global"]
    conv = float(counts.get(ops.convolution, 0))
    total = float(sum(counts.values()))
    res = {
        "size": f"{w}x{h}", "mode": args.mode, "device": args.device, "threads": args.threads,
        "wall_s": wall, "net_s": min(net_times), "us_per_px": wall / (h * w) * 1e6, "peak_rss_mb": peak_rss,
        "gpu_peak_mb": (torch.cuda.max_memory_allocated() / 2**20) if args.device != "cpu" else None,
        "conv_gflop": conv / 1e9, "map_gflop": (total - conv) / 1e9,
        "gflops": total / 1e9 / wall,
        "matmul_peak_gflops": peak_now, "pool": fuser.report.mapping_pool, "windows": fuser.report.windows, "model": what,
    }
    print(json.dumps(res), flush=True)


def speed(args) -> None:
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    peak0 = matmul_peak(args.threads, args.device)
    print(_common.machine(args.threads), flush=True)
    print(f"# input: {_pair_files(args.data)[2]}, resized to each size", flush=True)
    print(f"# fp32 matmul peak ({args.threads} threads, {args.device}): {peak0:.0f} GFLOP/s at start", flush=True)
    rows = []
    failed = []
    for size in sizes:
        w, h = map(int, size.lower().split("x"))
        n = (h // 4) * (w // 4)
        modes = ["default"] + [p for p in PEERS if args.peers]
        if h * w <= args.exact_max_pixels:
            modes.append("exact")
        if 2 * n * n * 4 / 2**30 <= args.naive_max_gb:
            modes.append("naive")
        for mode in modes:
            cmd = [sys.executable, __file__, "--child", "--size", size, "--mode", mode, "--threads", str(args.threads),
                   "--device", args.device, "--reps", str(args.reps)] + (["--weights", args.weights] if args.weights else []) \
                + (["--data-root", str(args.data)] if args.data is not None else [])
            t = time.perf_counter()
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
            if r.returncode != 0:
                print(f"{size:>10} {mode:>8}  FAILED ({r.returncode}): {r.stderr.strip().splitlines()[-1:]}", flush=True)
                failed.append(f"{size} {mode}")
                continue
            res = json.loads(r.stdout.strip().splitlines()[-1])
            rows.append(res)
            base = next((x for x in rows if x["size"] == res["size"] and x["mode"] == "default"), None)
            vs = (f"  {res['wall_s'] / base['wall_s']:.2f}x default" if base is not None and mode in ("exact", "naive")
                  else "")
            print(f"{res['size']:>10} {mode:>8}  {res['wall_s']:8.2f} s (net {res['net_s']:6.2f} s)  "
                  f"{res['us_per_px']:6.2f} us/px  "
                  f"RSS {res['peak_rss_mb']:7.0f} MB  pool {res['pool']}  windows {res['windows']:3d}  "
                  f"conv {res['conv_gflop']:7.1f} + map {res['map_gflop']:8.1f} GFLOP  {res['gflops']:6.1f} GFLOP/s "
                  + (f"(matmul peak now {res['matmul_peak_gflops']:.0f})  " if res["matmul_peak_gflops"] is not None
                     else "(bare forward; peak not measured)  ")
                  + f"(child {time.perf_counter() - t:.0f} s){vs}", flush=True)
        skipped = [m for m in ("exact", "naive") if m not in modes]
        if skipped:
            need = 2 * n * n * 4 / 2**30
            print(f"{size:>10}  skipped {', '.join(skipped)}"
                  + (f" (above --exact-max-pixels {args.exact_max_pixels})" if "exact" in skipped else "")
                  + (f" (naive needs two {need / 2:.1f} GB N×N matrices, N={n}; --naive-max-gb {args.naive_max_gb:g})"
                     if "naive" in skipped else ""), flush=True)
    peak1 = matmul_peak(args.threads, args.device)
    print(f"# fp32 matmul peak at end: {peak1:.0f} GFLOP/s; model: {rows[0]['model'] if rows else '?'}", flush=True)
    if args.peers:
        print("# time of `default` (full API path) relative to the peers' bare forward, same run (< 1: faster)")
        by = {(r["size"], r["mode"]): r for r in rows}
        for size in sizes:
            w, h = map(int, size.lower().split("x"))
            key = f"{w}x{h}"
            d = by.get((key, "default"))
            if not d:
                continue
            parts = []
            for p in PEERS:
                if (key, p) in by:
                    parts.append(f"{d['wall_s'] / by[(key, p)]['wall_s']:.2f}x {p} "
                                 f"(peak RSS {d['peak_rss_mb'] / by[(key, p)]['peak_rss_mb']:.2f}x)")
            print(f"{key:>10}  " + ", ".join(parts), flush=True)
        print("# the same with `default`'s network runner alone (no colour handling or input conversion)")
        for size in sizes:
            w, h = map(int, size.lower().split("x"))
            key = f"{w}x{h}"
            d = by.get((key, "default"))
            if d:
                print(f"{key:>10}  " + ", ".join(f"{d['net_s'] / by[(key, p)]['wall_s']:.2f}x {p}"
                                                 for p in PEERS if (key, p) in by), flush=True)
    if args.json:
        _common.write_output(args.json, json.dumps({"peak_start": peak0, "peak_end": peak1, "rows": rows}, indent=1))
    if failed:
        sys.exit(f"bench_fuse.py: error: {len(failed)} measurement(s) failed ({', '.join(failed)}); "
                 "their FAILED rows above say why")


def deviation(args) -> None:
    import numpy as np
    from PIL import Image

    _threads(args.threads)
    from mutualfuse import Fuser
    from mutualfuse.color import rgb_to_ycbcr

    spec, what = _model_spec(args.weights)
    exact = Fuser(spec, device=args.device, token_budget=0)
    approx = Fuser(spec, device=args.device, token_budget=args.token_budget)
    sets = {"tno": ("ir-vis/tno", "ir", "vis"), "msrs": ("ir-vis/msrs-sample", "ir", "vis"),
            "lytro": ("multi-focus/lytro", "a", "b"), "pet": ("medical/pet-mri", "a", "b"),
            "ct-mr": ("medical/ct-mr", "a", "b")}

    def load(p):
        x = np.asarray(Image.open(p).convert("RGB"), dtype=np.float64) / 255.0
        return rgb_to_ycbcr(x)[..., 0]

    def compare(a, b, label):
        t = time.perf_counter()
        fa = approx.fuse(a, b)
        ta = time.perf_counter() - t
        pool = approx.report.mapping_pool
        t = time.perf_counter()
        fe = exact.fuse(a, b)
        te = time.perf_counter() - t
        d = np.abs(np.round(fa * 255) - np.round(fe * 255))
        mse = float(((fa - fe) ** 2).mean())
        psnr = float("inf") if mse == 0 else 10 * np.log10(1.0 / mse)
        row = {"pair": label, "size": f"{a.shape[1]}x{a.shape[0]}", "pool": pool, "mean_abs_8bit": float(d.mean()),
               "max_abs_8bit": float(d.max()), "psnr_db": psnr, "t_budget_s": ta, "t_exact_s": te}
        print(f"{label:>22} {row['size']:>10} pool {pool}  mean|d| {row['mean_abs_8bit']:.3f}  max|d| {row['max_abs_8bit']:.0f}"
              f"  PSNR {psnr:6.2f} dB  ({ta:.1f} s vs exact {te:.1f} s: {ta / te:.2f}x)", flush=True)
        return row

    rows = []
    from mutualfuse.model.mutual_mapping import pool_for

    cfg = approx.net.cfg
    print(_common.machine(args.threads), flush=True)
    print(f"# token budget {cfg.token_budget} (minimum pool {cfg.map_min_pool}) vs exact; model: {what}", flush=True)
    for name in args.sets.split(","):
        rel, ra, rb = sets[name]
        d = args.data / rel
        for pa in sorted((d / ra).glob("*.png"))[: args.limit]:
            a, b = load(pa), load(d / rb / pa.name)
            if pool_for(a.shape[0] // 4, a.shape[1] // 4, cfg.token_budget, cfg.map_min_pool) == 1:
                continue  # exact anyway
            rows.append(compare(a, b, f"{name}/{pa.stem}"))
    if args.upscale:
        d = args.data / "ir-vis" / "tno"
        for pa in sorted((d / "ir").glob("*.png"))[: args.upscale]:
            ims = [Image.open(p).convert("L").resize((1920, 1080), Image.BICUBIC) for p in (pa, d / "vis" / pa.name)]
            a, b = (np.asarray(im, dtype=np.float64) / 255.0 for im in ims)
            rows.append(compare(a, b, f"tno/{pa.stem}@1080p"))
    pooled = [r for r in rows if r["pool"] > 1]
    if pooled:
        for p in sorted({r["pool"] for r in pooled}):
            rs = [r for r in pooled if r["pool"] == p]
            print(f"# pool {p}: {len(rs)} pairs, mean|d| {np.mean([r['mean_abs_8bit'] for r in rs]):.3f} (8-bit levels), "
                  f"worst max|d| {max(r['max_abs_8bit'] for r in rs):.0f}, median PSNR {np.median([r['psnr_db'] for r in rs]):.1f} dB, "
                  f"min PSNR {min(r['psnr_db'] for r in rs):.1f} dB", flush=True)
    if args.json:
        _common.write_output(args.json, json.dumps(rows, indent=1))


DEVIATION_DIRS = {"tno": "ir-vis/tno", "msrs": "ir-vis/msrs-sample", "lytro": "multi-focus/lytro",
                  "pet": "medical/pet-mri", "ct-mr": "medical/ct-mr"}  # deviation()'s sets
DEVIATION_SETS = tuple(DEVIATION_DIRS)


def _check_args(ap: argparse.ArgumentParser, args) -> None:
    """A one-line usage error for sizes that are not WxH, an unknown set or weights that cannot be read."""
    if args.what == "speed":
        args.data, _ = _common.data_root(ap, args.data, required=False)
        for size in (s.strip() for s in args.sizes.split(",") if s.strip()):
            try:
                w, h = map(int, size.lower().split("x"))
                if w < 1 or h < 1:
                    raise ValueError
            except ValueError:
                ap.error(f"--sizes: {size!r} is not WxH (e.g. 256x256,640x480)")
    else:
        bad = [s for s in args.sets.split(",") if s not in DEVIATION_SETS]
        if bad:
            ap.error(f"--sets: unknown set {', '.join(map(repr, bad))} (known: {', '.join(DEVIATION_SETS)})")
        args.data, origin = _common.data_root(ap, args.data)
        missing = [n for n in args.sets.split(",") if not (args.data / DEVIATION_DIRS[n]).is_dir()]
        if args.upscale and not (args.data / "ir-vis" / "tno").is_dir() and "tno" not in missing:
            missing.append("tno (--upscale)")
        if missing:
            ap.error(f"{args.data} (from {origin}): no {', '.join(missing)} set there (deviation reads "
                     f"{', '.join(DEVIATION_DIRS[n.split()[0]] for n in missing)})")
    if args.weights:
        from mutualfuse.errors import WeightsError
        from mutualfuse.weights import read_weights

        try:
            read_weights(args.weights)
        except WeightsError as e:
            ap.error(f"--weights: {e}")


def main() -> None:
    ap = _common.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", nargs="?", default="speed", choices=["speed", "deviation"])
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--size", help=argparse.SUPPRESS)
    ap.add_argument("--mode", default="default", help=argparse.SUPPRESS)
    ap.add_argument("--weights", help="the model row's weights (a shipped name or .safetensors file; "
                    "default: the shipped `default`)")
    ap.add_argument("--sizes", default=DEFAULT_SIZES)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=_common.positive, default=2)
    ap.add_argument("--reps", type=_common.positive, default=3, help="repetitions (best of) for sizes up to 640x480")
    ap.add_argument("--data-root", dest="data", help="data root (default: $MUTUALFUSE_DATA, else "
                    "$MUTUALFUSE_SHARED/data; speed without one: the bundled sample)")
    ap.add_argument("--exact-max-pixels", type=int, default=1920 * 1080,
                    help="run the exact (token_budget=0) mode up to this many pixels")
    ap.add_argument("--naive-max-gb", type=float, default=4.0, help="run the naive mapping if its N×N matrices fit")
    ap.add_argument("--timeout", type=int, default=3600)
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--no-peers", dest="peers", action="store_false",
                    help="skip the DenseFuse / IFCNN reference forwards (speed)")
    ap.add_argument("--sets", default="tno,msrs,lytro")
    ap.add_argument("--limit", type=int, default=100, help="pairs per set (deviation)")
    ap.add_argument("--upscale", type=int, default=0, help="also compare this many TNO pairs enlarged to 1080p")
    ap.add_argument("--token-budget", type=int, default=-1, help="budget to compare with exact (-1: the model's)")
    args = ap.parse_args()
    if not args.child:  # checked once here, not as a FAILED line per child or a traceback mid-run
        _check_args(ap, args)
        _common.check_device(ap, args.device)
        _common.check_output(ap, args.json)
    elif args.data is not None:
        args.data = Path(args.data)
    if args.child:
        child(args)
    elif args.what == "speed":
        speed(args)
    else:
        deviation(args)


if __name__ == "__main__":
    main()
