"""Half-precision inference on CPU: bfloat16 (autocast) against float32, speed and difference.

    MUTUALFUSE_DATA=/path/to/data python benchmarks/bench_half.py [--pairs 02,04,10] [--threads 1] [--reps 3]
    MUTUALFUSE_DATA=/path/to/data python benchmarks/bench_half.py --pairs 08 --reps 1 --levels 0   # quick

Fuses TNO pairs (``<data>/ir-vis/tno/{ir,vis}/NN.png``) with the shipped ``default`` in float32
and with ``dtype="bfloat16"``, once for every number of encoder levels kept in float32
(:data:`mutualfuse.runner.FLOAT32_LEVELS`; the shipped choice is marked ``*``), and prints
the time (best of ``--reps``, relative to float32 in the same process) and the difference of
the 8-bit outputs: mean and max |Δ| in grey levels and the share of pixels off by more than
10. bfloat16 pays on CPUs with AMX or AVX-512 BF16 kernels (oneDNN); elsewhere it can be
slower than float32. This is the measurement behind ``FLOAT32_LEVELS`` (docs/inputs.md,
"bfloat16 on CPU"). Times are wall seconds; the first lines name the machine (CPU model,
threads, torch version, oneDNN's CPU capability). The data root is ``--data`` (or
``--data-root``), else ``$MUTUALFUSE_DATA``; a missing one is one line, exit status 2.

To see what a CPU without AMX would do, oneDNN can be limited to an older instruction set on
a CPU with AMX: ``ONEDNN_MAX_CPU_ISA=AVX2`` (or ``AVX512_CORE``, ``AVX512_CORE_BF16``).
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402


def main() -> None:
    ap = _common.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", "--data-root", dest="data",
                    help="data root holding ir-vis/tno (default: $MUTUALFUSE_DATA)")
    ap.add_argument("--pairs", default="02,04,10")
    ap.add_argument("--threads", type=_common.positive, default=1)
    ap.add_argument("--reps", type=_common.positive, default=3)
    ap.add_argument("--levels", help="comma-separated encoder levels kept in float32 (default: 0 .. depth)")
    args = ap.parse_args()
    args.data = str(_common.data_root(ap, args.data, option="--data")[0])
    try:
        levels_list = [int(v) for v in args.levels.split(",")] if args.levels else None
    except ValueError:
        ap.error(f"--levels {args.levels!r}: expected comma-separated integers, e.g. 0,1,2")
    for name in args.pairs.split(","):  # every pair checked before the models load
        for m in ("ir", "vis"):
            p = Path(args.data) / "ir-vis" / "tno" / m / f"{name}.png"
            if not p.is_file():
                ap.error(f"{p}: no such file (--pairs names TNO pairs, e.g. 02,04,10; --data the data root)")
    import numpy as np
    import torch
    from PIL import Image

    import mutualfuse
    from mutualfuse.runner import FLOAT32_LEVELS, set_float32_levels

    torch.set_num_threads(args.threads)
    root = Path(args.data) / "ir-vis" / "tno"
    f32 = mutualfuse.Fuser("default", device="cpu")
    fb = mutualfuse.Fuser("default", device="cpu", dtype="bfloat16")
    depth = fb.runner.net.cfg.depth

    def timed(fuser, a, b):
        fuser.fuse(a, b)
        ts = []
        for _ in range(args.reps):
            t = time.perf_counter()
            out = np.asarray(fuser.fuse(a, b)).astype(np.float64)
            ts.append(time.perf_counter() - t)
        return out, min(ts)

    print(_common.machine(args.threads))
    print(f"# bench_half  threads={args.threads}  best of {args.reps}  torch {torch.__version__}  "
          f"cpu capability {torch.backends.cpu.get_cpu_capability()}  "
          f"ONEDNN_MAX_CPU_ISA={os.environ.get('ONEDNN_MAX_CPU_ISA', '(unset)')}")
    print(f"{'pair':>8} {'size':>9} {'levels':>7} {'time':>7} {'vs f32':>7} {'mean|d|':>8} {'max|d|':>7} {'>10 grey':>9}")
    for name in args.pairs.split(","):
        paths = [root / m / f"{name}.png" for m in ("ir", "vis")]
        a, b = (np.asarray(Image.open(p).convert("L")) for p in paths)
        ref, t32 = timed(f32, a, b)
        size = f"{a.shape[1]}x{a.shape[0]}"
        print(f"{name:>8} {size:>9} {'float32':>7} {t32:6.2f}s {1.0:6.2f}x")
        for levels in (levels_list if levels_list is not None else range(depth + 1)):
            set_float32_levels(fb.runner.net, levels)
            out, t = timed(fb, a, b)
            d = np.abs(out - ref)
            mark = "*" if levels == FLOAT32_LEVELS else " "
            print(f"{name:>8} {size:>9} {levels:>6}{mark} {t:6.2f}s {t / t32:6.2f}x {d.mean():8.3f} {d.max():7.0f} "
                  f"{100 * (d > 10).mean():8.2f}%")
        set_float32_levels(fb.runner.net, FLOAT32_LEVELS)


if __name__ == "__main__":
    main()
