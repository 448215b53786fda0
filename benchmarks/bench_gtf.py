#!/usr/bin/env python
"""GTF: old vs new solvers, timed in the same run on the same 640x480 pair, with their differences.

Rows (all on ``I - V`` of one IR/VIS pair, ``lam = 4``):

* ``admm-reference``: the solver ``gtf`` used before issue 14 (:func:`gtf.tv_l1_reference`:
  float64 ADMM, residual test every iteration, 300 iterations at most) -- the old default;
* ``admm-fast``: :func:`gtf.tv_l1` (same iteration, float32, in place, test every 10) --
  ``gtf(..., solver="admm")``;
* ``irn-reference``: :func:`gtf.irn_l1tv_reference`, the authors' IRN solver transcribed line
  for line (difference operators as in ``irntv.m``);
* ``irn-fast``: :func:`gtf.irn_l1tv` (PCG operator assembled once per loop) -- the new default
  ``gtf(...)``.

Printed per row: median wall time and process CPU time, speed-up (wall) against
``admm-reference`` (the old default) and against its own reference (and a line of the same
speed-ups from CPU time, which other processes on a shared machine disturb less), and the max / mean absolute difference in grey levels of the fused
image ``clip(Y + V, 0, 1)`` against its reference. Every solver is called once, untimed, on a
32x32 crop before its timings, so that one-off costs (imports, first allocations) are not charged
to the old default that the speed-ups divide by (before session 26 they were, which inflated them
at ``--repeat 1``). The pair is MSRS ``00537D`` (640x480) under the data root (``--data-root``,
else ``$MUTUALFUSE_DATA``, else ``$MUTUALFUSE_SHARED/data``), or the bundled TNO sample resized to ``--size`` without one (the first line names the
pair, the second the machine).

Usage::

    python benchmarks/bench_gtf.py [--repeat 3] [--size 640x480] [--data-root DIR]
    python benchmarks/bench_gtf.py --size 64x48 --repeat 1      # quick (seconds)
"""
from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "src" / "mutualfuse" / "data" / "samples"


def gray(path: Path, size=None) -> np.ndarray:
    im = Image.open(path).convert("L")
    if size is not None and im.size != size:
        im = im.resize(size, Image.BICUBIC)
    return np.asarray(im, dtype=np.float64) / 255.0


def pair(size, data: Path | None = None):
    msrs = data / "ir-vis" / "msrs-sample" if data is not None else None
    if size == (640, 480) and msrs is not None and (msrs / "ir" / "00537D.png").is_file():
        return "msrs 00537D (640x480)", gray(msrs / "ir" / "00537D.png"), gray(msrs / "vis" / "00537D.png")
    return (f"tno-01 resized ({size[0]}x{size[1]})", gray(SAMPLES / "tno-01" / "a.png", size),
            gray(SAMPLES / "tno-01" / "b.png", size))


def main() -> None:
    from mutualfuse.methods.classical import gtf as g

    ap = _common.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=_common.positive, default=3, help="timed runs per solver (median)")
    ap.add_argument("--size", default="640x480")
    ap.add_argument("--data-root", help="data root holding ir-vis/msrs-sample (default: $MUTUALFUSE_DATA; "
                    "without one, the bundled TNO sample)")
    args = ap.parse_args()
    data, _ = _common.data_root(ap, args.data_root, required=False)
    try:
        w, h = (int(v) for v in args.size.lower().split("x"))
        if w < 8 or h < 8:
            raise ValueError
    except ValueError:
        ap.error(f"--size {args.size!r}: expected WxH (at least 8x8), e.g. 640x480")
    name, ir, vis = pair((w, h), data)
    s = ir - vis
    runs = {
        "admm-reference": lambda: g.tv_l1_reference(s, 4.0)[0],
        "admm-fast": lambda: g.tv_l1(s, 4.0)[0],
        "irn-reference": lambda: g.irn_l1tv_reference(s, 4.0),
        "irn-fast": lambda: g.irn_l1tv(s, 4.0)[0],
    }
    ref_of = {"admm-fast": "admm-reference", "irn-fast": "irn-reference"}
    times, cpus, outs = {}, {}, {}
    warm = s[:32, :32]
    g.tv_l1_reference(warm, 4.0), g.tv_l1(warm, 4.0), g.irn_l1tv_reference(warm, 4.0), g.irn_l1tv(warm, 4.0)
    for key, fn in runs.items():
        ts, cs = [], []
        for _ in range(args.repeat):
            c0, t0 = time.process_time(), time.perf_counter()
            y = fn()
            ts.append(time.perf_counter() - t0)
            cs.append(time.process_time() - c0)
        times[key], cpus[key] = statistics.median(ts), statistics.median(cs)
        outs[key] = np.clip(y + vis, 0, 1)
    print(f"GTF solvers on {name}, lam=4, median of {args.repeat}; load average {os.getloadavg()[0]:.1f} "
          f"(shared machine: compare rows of this run only)")
    print(_common.machine())
    print(f"{'solver':<16}{'time (s)':>10}{'CPU (s)':>9}{'vs old default':>16}{'vs its reference':>18}"
          f"{'max |diff| (grey)':>19}{'mean |diff|':>13}")
    for key in runs:
        ref = ref_of.get(key)
        own = f"{times[ref] / times[key]:.2f}x" if ref else "-"
        if ref:
            d = np.abs(outs[key] - outs[ref]) * 255
            dmax, dmean = f"{d.max():.4f}", f"{d.mean():.5f}"
        else:
            dmax = dmean = "-"
        print(f"{key:<16}{times[key]:>10.3f}{cpus[key]:>9.2f}{times['admm-reference'] / times[key]:>15.2f}x"
              f"{own:>18}{dmax:>19}{dmean:>13}")
    print("speed-ups from CPU time (less sensitive to other processes on a shared machine): "
          + ", ".join(f"{k} {cpus['admm-reference'] / cpus[k]:.2f}x vs old default"
                      + (f", {cpus[ref_of[k]] / cpus[k]:.2f}x vs its reference" if k in ref_of else "")
                      for k in runs if k != "admm-reference"))
    d = np.abs(outs["irn-fast"] - outs["admm-reference"]) * 255
    print(f"new default (irn-fast) vs old default (admm-reference): max |diff| {d.max():.2f}, mean {d.mean():.3f} "
          f"grey levels (different by design: IRN is the authors' solver, 5 loops, not the converged minimiser)")


if __name__ == "__main__":
    main()
