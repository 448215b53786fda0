"""``mutualfuse fuse-dir`` throughput: pairs per second with 1 and 2 processes, in one run.

    python benchmarks/bench_fuse_dir.py --data-root /data          # or MUTUALFUSE_DATA=/data
    python benchmarks/bench_fuse_dir.py --set ir-vis/tno --method mutualfuse --repeat 1
    python benchmarks/bench_fuse_dir.py --method average --procs 1,2    # quick: under a minute

Fuses every pair of ``<data-root>/<set>/{ir,vis}`` (default the 21 TNO pairs) into a fresh
temporary folder, as

* ``1 process``: ``python -m mutualfuse fuse-dir`` (no torchrun);
* ``N processes``: ``torchrun --standalone --nproc-per-node N -m mutualfuse fuse-dir``
  (each rank takes pairs r::N, gloo exchange at the end),

every process with ``OMP_NUM_THREADS`` = ``--threads`` (default 1; torchrun sets 1 too). Two
numbers per row: ``fuse s`` (the fusing loop as rank 0 reports it, including the wait for the
other ranks at the end) and ``wall s`` (the whole command: Python and torch start-up, model
load, process-group set-up). pairs/s = pairs / that time; ``speed-up`` is the first process
count's fuse time over this row's, measured in the same run. The machine is shared: the load
average before and after each row is printed next to it, and the first line names the machine.
The data root is ``--data-root``, else ``$MUTUALFUSE_DATA`` (else ``$MUTUALFUSE_SHARED/data``); a
missing one, a set without pairs or an unknown method is one line ``bench_fuse_dir.py: error: …``
with exit status 2 before anything runs.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402


def run_once(nproc: int, a: Path, b: Path, out: Path, method: str, threads: int) -> tuple[float, float, int]:
    """→ (fuse seconds as reported by rank 0, wall seconds, pairs fused)."""
    shutil.rmtree(out, ignore_errors=True)
    args = ["-m", "mutualfuse", "fuse-dir", str(a), str(b), "-o", str(out), "--method", method,
            "--device", "cpu"]  # no -q: the summary line is parsed
    if nproc == 1:
        cmd = [sys.executable, *args]
    else:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}", *args]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t
    if r.returncode != 0:
        sys.exit(f"bench_fuse_dir: {' '.join(cmd)} failed:\n{r.stderr[-2000:]}")
    m = re.search(r"fused (\d+), skipped \d+ already done, failed 0 \(([\d.]+) s\)", r.stdout)
    if not m:
        sys.exit(f"bench_fuse_dir: no summary in the output:\n{r.stdout[-1000:]}")
    return float(m.group(2)), wall, int(m.group(1))


def _procs(text: str) -> list[int]:
    """``--procs``: comma-separated process counts, each at least 1."""
    try:
        counts = [int(x) for x in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"every process count must be at least 1, got {text!r}")
    return counts


def main() -> int:
    ap = _common.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-root", help="data root (default $MUTUALFUSE_DATA)")
    ap.add_argument("--set", default="ir-vis/tno", help="pair folder under the root with ir/ and vis/ (default ir-vis/tno)")
    ap.add_argument("--method", default="mutualfuse", help="method (default the network, shipped default weights)")
    ap.add_argument("--procs", type=_procs, default=[1, 2], help="process counts, in this order (default 1,2)")
    ap.add_argument("--threads", type=_common.positive, default=1, help="OMP threads per process (default 1)")
    ap.add_argument("--repeat", type=_common.positive, default=1, help="runs per process count; the best is reported")
    args = ap.parse_args()

    root, origin = _common.data_root(ap, args.data_root)
    d = root / args.set
    a, b = (d / "ir", d / "vis") if (d / "ir").is_dir() else (d / "a", d / "b")
    if not a.is_dir() or not b.is_dir():
        ap.error(f"{d}: expected ir/ and vis/ (or a/ and b/) folders (--set {args.set} under the data root, "
                 f"from {origin})")
    n_pairs = len([p for p in a.iterdir() if p.suffix.lower() == ".png"])
    if not n_pairs:
        ap.error(f"{a}: no .png images to fuse")
    from mutualfuse.methods import METHODS

    try:
        METHODS.entry(args.method)
    except KeyError as e:
        ap.error(f"--method: {e.args[0]}")
    print(_common.machine(args.threads))
    print(f"# fuse-dir throughput: {n_pairs} pairs of {d}, method {args.method}, cpu, "
          f"OMP_NUM_THREADS={args.threads} per process; times in seconds")
    print("| processes | pairs | fuse s | pairs/s (fuse) | speed-up | wall s | pairs/s (wall) | load avg before → after |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    first = None
    with tempfile.TemporaryDirectory(prefix="bench-fuse-dir-") as tmp:
        for n in args.procs:
            best = None
            load0 = os.getloadavg()[0]
            for _ in range(args.repeat):
                fuse_s, wall_s, done = run_once(n, a, b, Path(tmp) / f"out{n}", args.method, args.threads)
                if done != n_pairs:
                    sys.exit(f"bench_fuse_dir: {n} process(es) fused {done} of {n_pairs} pairs")
                if best is None or fuse_s < best[0]:
                    best = (fuse_s, wall_s)
            load1 = os.getloadavg()[0]
            first = first or best[0]
            print(f"| {n} | {n_pairs} | {best[0]:.1f} | {n_pairs / best[0]:.2f} | {first / best[0]:.2f}x | {best[1]:.1f} | "
                  f"{n_pairs / best[1]:.2f} | {load0:.1f} → {load1:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
