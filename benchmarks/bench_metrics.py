"""Time of every registered fusion metric at 256×256, 640×480 and 1024×768.

Usage:  python benchmarks/bench_metrics.py [--repeat N] [--sizes 256x256,640x480,1024x768]
                                          [--metrics KEY ...] [--profile NAME] [--json out.json]
                                          [--triple A.png B.png F.png] [--cprofile N]
        python benchmarks/bench_metrics.py --sizes 256x256 --repeat 1       # quick (under a minute)

``--profile liu`` times Liu et al.'s metrics and VIFF (add ``--metrics Qte_cvejic@liu Qw@liu``
for the two extras, which that profile does not contain: the table's header names every
registered key of the profile's sources that it leaves out). ``--triple`` times one real image triple (read as the conformance test
reads it) instead of the synthetic sizes, e.g. a conformance image whose Octave time the
conformance README reports.

``--octave FILE`` (default ``benchmarks/octave_liu_times.tsv`` when it exists): reference-code
times measured under GNU Octave on the same synthetic image (columns key, size, seconds, ...;
see that file's header for the Octave version, machine, date and command). For every key and
size it has, the table adds the Octave time and the ratio Octave / ours. The Octave times are
read from that file, not measured in this run.

``--cprofile N``: after the timings, run each metric ``--repeat`` more times per size under
``cProfile`` and print its N most expensive functions by own time, per call (a compiled numba
kernel shows as one entry under its Python name, e.g. ``_viff_scale_py``; scipy's FFTs as
``pypocketfft.c2c`` etc.), so that the table's time can be split into FFTs, kernels, NumPy
passes and Python overhead. NumPy ufunc calls (``np.exp``, array arithmetic) are not profiled
as functions: their time counts as their caller's own time. cProfile adds ~1 µs per call.

Inputs are deterministic synthetic 8-bit gray images (smooth structure plus noise, and a
fused image that is their rounded mean), the way the reference metrics see them. Each cell is
the median of ``--repeat`` runs (default 3) after one warm-up run, single process, in seconds.
Numbers on a shared machine are noisy; compare rows measured in the same run. No baseline is
measured in the run: the only comparison is the Octave column, read from a file measured
elsewhere (its header names the machine); the first lines name this run's machine.
"""
from __future__ import annotations

import json
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402


def synthetic(w: int, h: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    base = 128 + 60 * np.sin(xx / 9.0) * np.cos(yy / 13.0) + 30 * np.sign(np.sin(xx / 40.0 + yy / 55.0))
    a = np.clip(base + rng.normal(0, 10, base.shape), 0, 255).round().astype(np.uint8)
    b = np.clip(255 - base + rng.normal(0, 10, base.shape), 0, 255).round().astype(np.uint8)
    f = ((a.astype(np.int32) + b + 1) // 2).astype(np.uint8)
    return a, b, f


def _read_octave(path: str) -> dict[tuple[str, str], float]:
    """``{(key, "WxH"): seconds}`` from an Octave timing TSV (``#`` lines are comments)."""
    out: dict[tuple[str, str], float] = {}
    if not path or not os.path.exists(path):
        return out
    with open(path) as fh:
        lines = [ln for ln in fh if ln.strip() and not ln.startswith("#")]
    if not lines:
        return out  # an empty file: no Octave times to compare with
    head = lines[0].rstrip("\n").split("\t")
    for ln in lines[1:]:
        r = dict(zip(head, ln.rstrip("\n").split("\t")))
        try:
            out[(r["key"], r["size"])] = float(r["seconds"])
        except (KeyError, ValueError):
            continue  # a metric that did not run under Octave (the file says why)
    return out


def main(argv=None) -> int:
    ap = _common.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=_common.positive, default=3)
    ap.add_argument("--sizes", default="256x256,640x480,1024x768", help="comma-separated WxH")
    ap.add_argument("--metrics", nargs="+", help="registered keys (default: all)")
    ap.add_argument("--profile", help="time the keys of this metric profile (e.g. liu)")
    ap.add_argument("--triple", nargs=3, metavar=("A", "B", "F"), help="time one real image triple")
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                    help="wall time (default) or this process's CPU time, which other jobs on a "
                         "shared machine disturb less")
    ap.add_argument("--json", help="also write the timings as JSON")
    ap.add_argument("--cprofile", type=int, metavar="N", default=0,
                    help="after the timings, print each metric's N most expensive functions (own time "
                         "per call, cProfile over --repeat calls)")
    ap.add_argument("--octave", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "octave_liu_times.tsv"),
                    help="TSV of Octave reference-code times to compare with (default: %(default)s, if present)")
    args = ap.parse_args(argv)
    _common.check_output(ap, args.json)
    octave = _read_octave(args.octave)

    from mutualfuse.errors import ImageTooSmallError, ParameterError
    from mutualfuse.metrics import METRICS, resolve

    try:
        sizes = [tuple(int(v) for v in s.lower().split("x")) for s in args.sizes.split(",")]
        if any(len(s) != 2 or min(s) < 1 for s in sizes):
            raise ValueError
    except ValueError:
        ap.error(f"--sizes {args.sizes!r}: expected comma-separated WxH, e.g. 256x256,640x480")
    try:
        names = list(resolve(None, args.profile).values()) if args.profile else []
    except ParameterError as e:
        ap.error(str(e))
    names += [m for m in (args.metrics or []) if m not in names]
    names = names or METRICS.names()
    for m in names:
        try:
            METRICS.entry(m)
        except KeyError as e:
            ap.error(e.args[0])
    missing = [p for p in args.triple or () if not os.path.isfile(p)]
    if missing:
        ap.error(f"--triple: no such file: {', '.join(missing)}")
    # keys of the profile's sources that the profile leaves out (``liu``: Qte_cvejic@liu and
    # Qw@liu, the two extras of Liu's code, registered but not under a TPAMI name): say so,
    # rather than leave the reader to wonder why they have no row
    left_out = []
    if args.profile:
        sources = {n.rsplit("@", 1)[1] for n in names if "@" in n}
        left_out = [k for k in METRICS.names()
                    if "@" in k and k.rsplit("@", 1)[1] in sources and k not in names]
    if args.triple:
        from PIL import Image

        trip = tuple(np.asarray(Image.open(p)) for p in args.triple)
        h, w = trip[0].shape[:2]
        sizes = [(w, h)]
        data = {(w, h): trip}
    else:
        data = {s: synthetic(*s) for s in sizes}
    results: dict[str, dict[str, float]] = {}
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    print(f"# mutualfuse metric timings ({args.clock} clock), median of {args.repeat} (s); CPU threads available: "
          f"{len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()}")
    print(_common.machine())
    if left_out:
        print(f"# not in profile {args.profile!r}, not timed (add them with --metrics): {' '.join(left_out)}")
    oct_sizes = [s for s in sizes if any((n, f"{s[0]}x{s[1]}") in octave for n in names)] if not args.triple else []
    head = f"{'metric':20s}" + "".join(f"{f'{w}x{h}':>12s}" for w, h in sizes)
    head += "".join(f"{f'octave {w}x{h}':>18s}{'ratio':>9s}" for w, h in oct_sizes)
    print(head)
    print("-" * len(head))
    for name in names:
        fn = METRICS.get(name)
        row = {}
        for s in sizes:
            a, b, f = data[s]
            try:
                fn(a, b, f)  # warm-up (imports, FFT plans)
            except ImageTooSmallError:
                row[f"{s[0]}x{s[1]}"] = None  # e.g. VIFF below 81 pixels a side: no time, not a crash
                continue
            ts = []
            for _ in range(args.repeat):
                t0 = clock()
                fn(a, b, f)
                ts.append(clock() - t0)
            row[f"{s[0]}x{s[1]}"] = statistics.median(ts)
        results[name] = row
        line = f"{name:20s}" + "".join(f"{'too small':>12s}" if v is None else f"{v:12.4f}" for v in row.values())
        for w, h in oct_sizes:
            o = octave.get((name, f"{w}x{h}"))
            ours = row[f"{w}x{h}"]
            line += (f"{o:18.3f}{o / ours:8.0f}x" if o is not None and ours is not None
                     else f"{'-' if o is None else format(o, '.3f'):>18s}{'-':>9s}")
        print(line, flush=True)
    if args.cprofile:
        _print_cprofile(names, sizes, data, args.repeat, args.cprofile)
    if args.json:
        _common.write_output(args.json, json.dumps(results, indent=2))
    return 0


def _print_cprofile(names, sizes, data, repeat: int, top: int) -> None:
    """Each metric's ``top`` functions by own time (ms per metric call) under cProfile."""
    import cProfile
    import pstats

    from mutualfuse.metrics import METRICS

    for name in names:
        fn = METRICS.get(name)
        for s in sizes:
            a, b, f = data[s]
            fn(a, b, f)
            prof = cProfile.Profile()
            prof.enable()
            for _ in range(repeat):
                fn(a, b, f)
            prof.disable()
            st = pstats.Stats(prof).stats  # {(file, line, func): (cc, nc, tottime, cumtime, callers)}
            total = sum(v[2] for v in st.values()) / repeat
            print(f"\n# cProfile {name} {s[0]}x{s[1]}: {total * 1e3:.2f} ms per call (own times; "
                  f"calls per metric call)")
            rows = sorted(st.items(), key=lambda kv: -kv[1][2])[:top]
            for (file, line, func), (cc, nc, tt, ct, _) in rows:
                where = func if file == "~" else f"{os.path.basename(file)}:{line}({func})"
                print(f"{tt / repeat * 1e3:9.3f} ms {nc / repeat:7.1f}x  {where}")


if __name__ == "__main__":
    sys.exit(main())
