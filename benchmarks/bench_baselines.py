#!/usr/bin/env python
"""Time every registered classical fusion method (and the pixel floors) at 256x256 and 640x480.

Inputs are real images: the CT/MR sample pair (256x256, ``ct-mr-c01``) and an MSRS IR/VIS
pair (640x480, ``ir-vis/msrs-sample/00537D`` under the data root: ``--data-root``, else
``$MUTUALFUSE_DATA``, else ``$MUTUALFUSE_SHARED/data``; without any, the bundled TNO sample
resized to 640x480; every row names the input it timed). Each method runs ``--repeat`` times in one
process (with the threads ``OMP_NUM_THREADS`` allows: the script sets none, the documented commands
set 1) and the median wall time is reported, with the machine's load average
so that numbers from a shared machine can be judged.

Usage::

    python benchmarks/bench_baselines.py [--methods lp,rp,...] [--sizes 256,640x480] [--repeat 3]
                                         [--json out.json] [--data-root DIR]
    python benchmarks/bench_baselines.py --methods average,lp --sizes 256 --repeat 1   # quick (seconds)
    python benchmarks/bench_baselines.py --compare [--crop 160x120]

Besides the median wall time (seconds), each row gives the process CPU time (seconds, all its
threads) and the CPU seconds per megapixel: on a shared machine the wall time mostly measures the
other jobs. The first line names the machine (CPU model, usable CPUs, threads, torch version,
load average); the thread count is not set by the script (``OMP_NUM_THREADS`` is). The table has
no baseline column: ``average`` and ``max`` (the pixel floors) are the rows to compare with.

``--compare`` times the straightforward ASR and CSR paths that issue 14 replaced
(``asr_reference``, ``csr_reference``) against the current ones in the same run, on a central
crop of the 640x480 pair (the old ASR takes over 10 minutes at full size), and prints the
speed-up (CPU time) and the largest difference of the fused images.
"""
from __future__ import annotations

import json
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
DATA: Path | None = None  # the data root (main() sets it: --data-root, $MUTUALFUSE_DATA, ...)


def gray(path: Path, size=None) -> np.ndarray:
    im = Image.open(path).convert("L")  # ITU-R 601-2 luma for RGB inputs
    if size is not None and im.size != size:
        im = im.resize(size, Image.BICUBIC)
    return np.asarray(im, dtype=np.float64) / 255.0


def pair_for(size: str):
    if size == "256":
        return "ct-mr-c01 (256x256)", gray(SAMPLES / "ct-mr-c01" / "a.png"), gray(SAMPLES / "ct-mr-c01" / "b.png")
    msrs = DATA / "ir-vis" / "msrs-sample" if DATA is not None else None
    if msrs is not None and (msrs / "ir" / "00537D.png").is_file():
        return ("msrs 00537D (640x480)", gray(msrs / "ir" / "00537D.png"), gray(msrs / "vis" / "00537D.png"))
    return ("tno-01 resized (640x480)", gray(SAMPLES / "tno-01" / "a.png", (640, 480)),
            gray(SAMPLES / "tno-01" / "b.png", (640, 480)))


def _value(v: str):
    for cast in (int, float):
        try:
            return cast(v)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(v.lower(), v)


#: the two inputs ``--sizes`` can name (``pair_for``); "256x256" is the same as "256"
SIZES = ("256", "256x256", "640x480")


def main(argv: list[str] | None = None) -> None:
    from mutualfuse.errors import ParameterError
    from mutualfuse.methods import METHODS, check_method_params, fuse_gray

    global DATA
    ap = _common.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--methods", default=None,
                    help="comma list, each NAME or NAME:key=value[:key=value] "
                    "(default: average, max and every classical method)")
    ap.add_argument("--sizes", default="256,640x480")
    ap.add_argument("--repeat", type=_common.positive, default=3, help="timed runs per method (median); slow methods run once")
    ap.add_argument("--json", default=None, help="also write the rows here (JSON)")
    ap.add_argument("--data-root", help="data root holding ir-vis/msrs-sample (default: $MUTUALFUSE_DATA; "
                    "without one, the bundled TNO sample resized to 640x480)")
    ap.add_argument("--compare", action="store_true", help="old vs new ASR/CSR paths on a crop")
    ap.add_argument("--crop", default="160x120", help="WxH of the central crop for --compare")
    args = ap.parse_args(argv)
    DATA, _ = _common.data_root(ap, args.data_root, required=False)
    _common.check_output(ap, args.json)
    if args.compare:
        try:
            w, h = (int(v) for v in args.crop.lower().split("x"))
            if not (0 < w <= 640 and 0 < h <= 480):
                raise ValueError
        except ValueError:
            ap.error(f"--crop {args.crop!r}: expected WxH within 640x480, e.g. 160x120")
        compare(args.crop)
        return
    bad = [s for s in args.sizes.split(",") if s.lower() not in SIZES]
    if bad:
        ap.error(f"--sizes: {', '.join(map(repr, bad))}: the inputs are fixed; choose from 256 (the CT/MR "
                 "sample, 256x256) and 640x480 (the MSRS pair)")
    names = args.methods.split(",") if args.methods else [
        n for n in METHODS.names() if METHODS.meta(n).get("family") not in ("network",)]
    for spec in names:  # every name and parameter checked before the first timing
        m, *kv = spec.split(":")
        if any("=" not in x for x in kv):
            ap.error(f"--methods {spec!r}: parameters are NAME:key=value[:key=value]")
        try:
            check_method_params(m, {k: _value(v) for k, v in (x.split("=", 1) for x in kv)})
        except ParameterError as e:
            ap.error(str(e))
    rows = []
    print(_common.machine())
    print(f"{'method':14s} {'input':26s} {'median s':>9s} {'cpu s':>8s} {'cpu s/MP':>9s} {'runs':>5s}")
    for size in args.sizes.split(","):
        label, a, b = pair_for(size.lower().removesuffix("x256"))
        for spec in names:
            m, *kv = spec.split(":")
            params = {k: _value(v) for k, v in (x.split("=", 1) for x in kv)}
            reps = 1 if METHODS.meta(m).get("slow") else args.repeat
            fuse_gray(m, a[:64, :64], b[:64, :64], **params)  # warm-up (imports, dictionary load, caches)
            times, cpus = [], []
            for _ in range(reps):
                t0, c0 = time.perf_counter(), time.process_time()
                fuse_gray(m, a, b, **params)
                times.append(time.perf_counter() - t0)
                cpus.append(time.process_time() - c0)
            med, cpu = statistics.median(times), statistics.median(cpus)
            mp = a.size / 1e6
            rows.append({"method": spec, "input": label, "seconds": med, "cpu_seconds": cpu,
                         "cpu_s_per_mp": cpu / mp, "runs": reps, "load": os.getloadavg()[0]})
            print(f"{spec:14s} {label:26s} {med:9.3f} {cpu:8.3f} {cpu / mp:9.2f} {reps:5d}   "
                  f"(load {os.getloadavg()[0]:.1f})", flush=True)
    if args.json:
        _common.write_output(args.json, json.dumps(rows, indent=1) + "\n")


def compare(crop: str) -> None:
    """Old (reference) vs new ASR and CSR paths on the same central crop, same process."""
    from mutualfuse.methods.classical import sparse as sp

    w, h = (int(v) for v in crop.lower().split("x"))
    label, a, b = pair_for("640x480")
    y0, x0 = (a.shape[0] - h) // 2, (a.shape[1] - w) // 2
    a, b = a[y0:y0 + h, x0:x0 + w], b[y0:y0 + h, x0:x0 + w]
    _torch_threads()  # torch loaded, so that the machine line names its thread count
    print(_common.machine())
    print(f"# input: central {w}x{h} crop of {label} (a crop: the old ASR path takes > 10 min at 640x480)")
    print(f"{'method':22s} {'old cpu s':>10s} {'new cpu s':>10s} {'speed-up':>9s} {'old wall':>9s} "
          f"{'new wall':>9s} {'max |diff|':>11s}")
    cases = [("asr (stride 1)", sp.asr_reference, sp.asr, {}),
             ("csr (multifocus)", sp.csr_reference, sp.csr, {}),
             ("csr:multifocus=false", sp.csr_reference, sp.csr, {"multifocus": False})]
    for name, old, new, kw in cases:
        new(a[:24, :24], b[:24, :24], **kw)  # warm-up: imports, dictionaries, torch FFT plans
        res = []
        for fn in (old, new):
            t0, c0 = time.perf_counter(), time.process_time()
            f = fn(a, b, **kw)
            res.append((time.process_time() - c0, time.perf_counter() - t0, f))
        (oc, ow, fo), (nc, nw, fn_) = res
        print(f"{name:22s} {oc:10.2f} {nc:10.2f} {oc / nc:8.1f}x {ow:9.1f} {nw:9.1f} "
              f"{np.abs(fo - fn_).max():11.2e}   (load {os.getloadavg()[0]:.1f})", flush=True)


def _torch_threads() -> int:
    import torch

    return torch.get_num_threads()


if __name__ == "__main__":
    main()
