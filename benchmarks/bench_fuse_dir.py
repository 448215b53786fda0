"""``mutualfuse fuse-dir`` throughput: pairs per second with 1 and 2 processes, in one run.

    python benchmarks/bench_fuse_dir.py --data-root /data          # or MUTUALFUSE_DATA=/data
    python benchmarks/bench_fuse_dir.py --set ir-vis/tno --method mutualfuse --repeat 3
    python benchmarks/bench_fuse_dir.py --method average --procs 1,2 --limit 8    # quick

Fuses every pair of ``<data-root>/<set>/{ir,vis}`` (default the 21 TNO pairs; ``--limit N``: the
first N by name) as

* ``1 process``: ``python -m mutualfuse fuse-dir`` (no torchrun);
* ``N processes``: ``torchrun --standalone --nproc-per-node N -m mutualfuse fuse-dir``
  (each rank takes pairs r::N, gloo exchange at the end),

every process with ``OMP_NUM_THREADS`` = ``--threads`` (default 1; torchrun sets 1 too), and no
torchrun variable (``WORLD_SIZE``, ``RANK``, ...) of the caller's environment: a 1-process run
inside a torchrun job took itself for a rank. Every run writes into a folder of its own that did
not exist before (fuse-dir skips the pairs whose output exists), and counts only when fuse-dir
says it fused every pair, skipped none and failed none, with that many files in its folder, and
its progress bar names the process count asked for (``[rank 0 of N]``; none for 1).

Order: ``--warmup`` rounds (default 1) of every process count first, untimed (their times are
printed on a ``# warm-up`` line): the first command of a session pays the cold costs (page cache
of the images and of the installed code, ``.pyc`` files, numba's on-disk cache, the weights'
file) that the old order charged to the first process count, the baseline of every speed-up.
Then ``--repeat`` rounds (default 3), alternately in the ``--procs`` order and reversed, so that a
change of the machine's load does not fall on one process count; each run is printed as it
ends (``# run K``), and each row of the table at the end gives the medians.

Per row: ``fuse s`` (the fusing loop as rank 0 reports it in the summary, 0.1 s resolution,
including the wait for the other ranks at the end), ``wall s`` (the whole command: Python and
torch start-up, model load, process-group set-up) and ``CPU s`` (user + system time of the
command and all its processes: what the load does not change much), the spread of ``fuse s``
over the runs and the load average over them. ``speed-up`` is the first process count's median
``fuse s`` over this row's; it is given only where both medians are at least 0.5 s (the
summary's rounding: at most 10 %) and where it is not above what the process counts can give
(N over M processes on C usable CPUs: min(N, C) / min(M, C), one at least, plus 25 %); else
``—`` and a line after the table saying what was measured and why it is no speed-up (on the
shared machine: the load changed between the runs; see their spread and the load average).
The machine is shared: the first line names the machine.
The data root is ``--data-root``, else ``$MUTUALFUSE_DATA`` (else ``$MUTUALFUSE_SHARED/data``); a
missing one, a set without pairs or an unknown method is one line ``bench_fuse_dir.py: error: …``
with exit status 2 before anything runs; a run that fails or does not fuse every pair stops the
script with exit status 1, naming the run.
"""
from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import NamedTuple
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402


#: torchrun's variables: inherited, they made a plain ``python -m mutualfuse fuse-dir`` a rank
_DIST_VARS = ("WORLD_SIZE", "RANK", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "GROUP_RANK", "GROUP_WORLD_SIZE",
              "ROLE_RANK", "ROLE_WORLD_SIZE", "ROLE_NAME", "MASTER_ADDR", "MASTER_PORT")
_SUMMARY = re.compile(r"fused (\d+), skipped (\d+) already done, failed (\d+) \(([\d.]+) s\)")
MIN_FUSE_S = 0.5  # the summary's 0.1 s resolution: at most 10 % of a time of 0.5 s
SLACK = 1.25  # a speed-up may beat the ideal a little (caches), not by more


class RunFailed(Exception):
    """A run that failed, or whose work is not the benchmark's (pairs skipped, another process count)."""


class Run(NamedTuple):
    nproc: int
    fuse_s: float  # the summary's, rank 0
    wall_s: float
    cpu_s: float  # user + system of the command and its (waited-for) processes
    load: float  # 1-minute load average after the run


def child_env(threads: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _DIST_VARS and not k.startswith("TORCHELASTIC_")}
    env["OMP_NUM_THREADS"] = str(threads)
    return env


def _cpu_children() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def run_once(nproc: int, a: Path, b: Path, out: Path, method: str, threads: int, n_pairs: int) -> Run:
    """One fuse-dir command into ``out`` (a folder that must not exist yet) → its :class:`Run`;
    :class:`RunFailed` unless it fused all ``n_pairs`` pairs, skipped none, failed none, wrote
    ``n_pairs`` files and ran as ``nproc`` process(es)."""
    if out.exists():  # a folder with outputs makes fuse-dir skip pairs: never time a rerun
        raise RunFailed(f"{out}: output folder exists already")
    args = ["-m", "mutualfuse", "fuse-dir", str(a), str(b), "-o", str(out), "--method", method,
            "--device", "cpu"]  # no -q: the summary line is parsed
    if nproc == 1:
        cmd = [sys.executable, *args]
    else:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}", *args]
    cpu0 = _cpu_children()
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env=child_env(threads))
    wall = time.perf_counter() - t
    cpu = _cpu_children() - cpu0
    what = f"{nproc} process(es) into {out}"
    if r.returncode != 0:
        raise RunFailed(f"{what}: {' '.join(cmd)} failed (exit status {r.returncode}):\n{r.stderr[-2000:]}")
    m = _SUMMARY.search(r.stdout)
    if not m:
        raise RunFailed(f"{what}: no summary in the output:\n{r.stdout[-1000:]}")
    fused, skipped, failed, fuse_s = int(m.group(1)), int(m.group(2)), int(m.group(3)), float(m.group(4))
    if (fused, skipped, failed) != (n_pairs, 0, 0):
        raise RunFailed(f"{what}: fused {fused}, skipped {skipped}, failed {failed} of {n_pairs} pairs "
                        "(every pair must be fused for the time to count)")
    files = sum(1 for p in out.iterdir() if p.is_file()) if out.is_dir() else 0
    if files != n_pairs:
        raise RunFailed(f"{what}: {files} files in the output folder, not {n_pairs}")
    ranked = re.search(r"\[rank 0 of (\d+)\]", r.stderr)
    ran = int(ranked.group(1)) if ranked else 1
    if ran != nproc:
        raise RunFailed(f"{what}: fuse-dir ran as {ran} process(es), not {nproc}")
    return Run(nproc, fuse_s, wall, cpu, os.getloadavg()[0])


def schedule(procs: list[int], warmup: int, repeat: int) -> list[tuple[bool, int]]:
    """``(timed, process count)`` in the order run: ``warmup`` untimed rounds of ``procs``, then
    ``repeat`` timed rounds, alternately in ``procs``'s order and reversed."""
    order = [(False, n) for _ in range(warmup) for n in procs]
    for r in range(repeat):
        order += [(True, n) for n in (procs if r % 2 == 0 else procs[::-1])]
    return order


def speedup_problem(n0: int, n: int, t0: float, t: float, cpus: int) -> str | None:
    """Why ``t0 / t`` (median fuse seconds with ``n0`` and ``n`` processes) is no speed-up, or None."""
    if min(t0, t) < MIN_FUSE_S:
        return (f"fuse times of {t0:.1f} s and {t:.1f} s: under {MIN_FUSE_S} s the summary's 0.1 s resolution "
                "decides the ratio (more pairs: no --limit, or a slower method)")
    most = max(1.0, min(n, cpus) / min(n0, cpus)) * SLACK
    if t0 / t > most:
        return (f"measured {t0 / t:.2f}x, more than the {most:.2f}x that {n} process(es) can give over {n0} on "
                f"{cpus} usable CPU(s): not the process count's doing; the machine's load changed between "
                "the runs (see their spread and the load average)")
    return None


def _procs(text: str) -> list[int]:
    """``--procs``: comma-separated process counts, each at least 1, each once."""
    try:
        counts = [int(x) for x in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"every process count must be at least 1, got {text!r}")
    if len(set(counts)) != len(counts):
        raise argparse.ArgumentTypeError(f"each process count once, got {text!r}")
    return counts


def _f(x: float) -> str:
    return f"{x:.1f}"


def main() -> int:
    ap = _common.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-root", help="data root (default $MUTUALFUSE_DATA)")
    ap.add_argument("--set", default="ir-vis/tno", help="pair folder under the root with ir/ and vis/ (default ir-vis/tno)")
    ap.add_argument("--method", default="mutualfuse", help="method (default the network, shipped default weights)")
    ap.add_argument("--procs", type=_procs, default=[1, 2], help="process counts, the first the baseline (default 1,2)")
    ap.add_argument("--threads", type=_common.positive, default=1, help="OMP threads per process (default 1)")
    ap.add_argument("--repeat", type=_common.positive, default=3,
                    help="timed runs per process count, in alternating order; the median is reported (default 3)")
    ap.add_argument("--warmup", type=_common.non_negative, default=1,
                    help="untimed rounds of every process count first (default 1)")
    ap.add_argument("--limit", type=_common.positive, help="only the first N pairs by name")
    args = ap.parse_args()

    root, origin = _common.data_root(ap, args.data_root)
    d = root / args.set
    a, b = (d / "ir", d / "vis") if (d / "ir").is_dir() else (d / "a", d / "b")
    if not a.is_dir() or not b.is_dir():
        ap.error(f"{d}: expected ir/ and vis/ (or a/ and b/) folders (--set {args.set} under the data root, "
                 f"from {origin})")
    names = sorted(p.name for p in a.iterdir() if p.suffix.lower() == ".png")
    if not names:
        ap.error(f"{a}: no .png images to fuse")
    if args.limit:
        names = names[:args.limit]
    n_pairs = len(names)
    from mutualfuse.methods import METHODS

    try:
        METHODS.entry(args.method)
    except KeyError as e:
        ap.error(f"--method: {e.args[0]}")
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    print(_common.machine(args.threads))
    print(f"# fuse-dir throughput: {n_pairs} pairs of {d}, method {args.method}, cpu, "
          f"OMP_NUM_THREADS={args.threads} per process; {args.warmup} warm-up round(s), then {args.repeat} "
          f"timed round(s) in alternating order, medians; times in seconds", flush=True)
    runs: dict[int, list[Run]] = {n: [] for n in args.procs}
    warm: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="bench-fuse-dir-") as tmp:
        if args.limit:  # the first N pairs, copied: fuse-dir takes whole folders
            a, b = Path(tmp) / "in" / "a", Path(tmp) / "in" / "b"
            for src, dst in ((d / "ir" if (d / "ir").is_dir() else d / "a", a),
                             (d / "vis" if (d / "ir").is_dir() else d / "b", b)):
                dst.mkdir(parents=True)
                for name in names:
                    if (src / name).exists():
                        shutil.copy2(src / name, dst / name)
        try:
            for k, (timed, n) in enumerate(schedule(args.procs, args.warmup, args.repeat)):
                run = run_once(n, a, b, Path(tmp) / f"run{k:03d}-{n}p", args.method, args.threads, n_pairs)
                (runs[n] if timed else warm).append(run)
                print(f"# run {k + 1} ({'timed' if timed else 'warm-up'}): {n} process(es), fuse {_f(run.fuse_s)} s, "
                      f"wall {_f(run.wall_s)} s, CPU {_f(run.cpu_s)} s, load average {run.load:.1f}", flush=True)
        except RunFailed as e:
            print(f"bench_fuse_dir.py: {e}", file=sys.stderr)
            return 1
    if warm:
        print("# warm-up, not counted (fuse s / wall s): "
              + ", ".join(f"{r.nproc} process(es) {_f(r.fuse_s)} / {_f(r.wall_s)}" for r in warm))
    print("| processes | pairs | fuse s | fuse s spread | pairs/s (fuse) | speed-up | wall s | pairs/s (wall) | CPU s "
          "| load avg |")
    print("| ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |")
    n0 = args.procs[0]
    t0 = statistics.median(r.fuse_s for r in runs[n0])
    notes = []
    for n in args.procs:
        rs = runs[n]
        fuse = statistics.median(r.fuse_s for r in rs)
        wall = statistics.median(r.wall_s for r in rs)
        cpu = statistics.median(r.cpu_s for r in rs)
        if n == n0:
            speed = "1.00x" if fuse >= MIN_FUSE_S else "—"
        else:
            why = speedup_problem(n0, n, t0, fuse, cpus)
            speed = "—" if why else f"{t0 / fuse:.2f}x"
            if why:
                notes.append(f"# {n} process(es): no speed-up given: {why}")
        if n == n0 and fuse < MIN_FUSE_S and len(args.procs) == 1:
            notes.append(f"# {n} process(es): no speed-up given: {speedup_problem(n0, n, t0, fuse, cpus)}")
        loads = [r.load for r in rs]
        print(f"| {n} | {n_pairs} | {_f(fuse)} | {_f(min(r.fuse_s for r in rs))}–{_f(max(r.fuse_s for r in rs))} | "
              f"{(f'{n_pairs / fuse:.2f}' if fuse > 0 else '—')} | {speed} | {_f(wall)} | {n_pairs / wall:.2f} | "
              f"{_f(cpu)} | {min(loads):.1f}–{max(loads):.1f} |")
    if args.repeat < 2:
        notes.append("# one timed run per process count: a change of the load between them is not told from the "
                     "process count's effect (--repeat 3: alternating order, medians)")
    for line in notes:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
