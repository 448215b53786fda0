"""Read / fuse / write stages of ``mutualfuse fuse`` for a large colour pair, against floors measured in the same run.

    python benchmarks/bench_pipeline.py                       # 4000x3000 colour pair, method average
    python benchmarks/bench_pipeline.py --size 2000x1500 --reps 1 --json /tmp/pipeline.json

Makes a colour pair of ``--size`` by upscaling the shipped ``lytro-01`` sample (bicubic; written
at zlib level 1 into a temporary folder, not timed), then times, best of ``--reps``, each stage
of what ``mutualfuse fuse a.png b.png -o f.png --method METHOD`` does:

* ``read``: :func:`mutualfuse.image_io.read_image` of both files (decoding and normalising);
* ``fuse``: :meth:`mutualfuse.Fuser.fuse_arrays` (checks, YCbCr split, the method on the
  luminances, chroma rule, RGB recombination), against two figures of the same run: ``floor``,
  the bare method body called on two float64 gray planes of the size (what the fusion itself
  costs; for ``average``, ``0.5 * (a + b)``), and ``whole-image colour``, the same fusion with
  the colour handling of before session 27 (whole-image float64 YCbCr/RGB arrays, boolean
  indexing in the chroma rule; rebuilt here from :func:`mutualfuse.color.rgb_to_ycbcr` /
  :func:`~mutualfuse.color.ycbcr_to_rgb`), whose result must be the same bit for bit (checked;
  a difference is an error, exit status 1);
* ``write``: :func:`mutualfuse.image_io.write_image` to PNG, split into ``to_uint`` (the 8-bit
  samples; also against the whole-image conversion of before, checked equal) and the rest
  (Pillow's PNG encoder at its default zlib level 6, which the project's outputs use); the
  same samples encoded at level 1 are timed for comparison only (the bytes would change, so the
  level is not changed: about 4x faster and 20-25 % larger).

Times are wall and CPU (process) seconds; the first line names the machine (CPU, threads,
load average): on a loaded machine the wall figures grow, the CPU ones much less. ``--json
FILE`` writes every figure (atomically). Bad arguments are one line, exit status 2.

``--network`` times the whole command instead, the network's included (the stages above are not
timed then)::

    python benchmarks/bench_pipeline.py --network                    # 4000x3000 colour, ~10 min on 1 thread
    python benchmarks/bench_pipeline.py --network --sample tno-01 --tile 1024 --max-gb 8

Each row is one ``mutualfuse fuse A B -o F.png ...`` in a fresh process (``python -m
mutualfuse``, with this interpreter and the caller's ``OMP_NUM_THREADS``), measured as
``/usr/bin/time -v`` does (``os.wait4``): wall seconds, CPU seconds (user + system) and peak RSS
(GB = 10^9 bytes), with the ``note:`` lines the command printed (the token budget's pooled grid,
tiles). Rows, in this order: the classical ``average`` at ``--size`` (the baseline: reading,
colour handling and writing without the network), the network at half the size each side (the
growth of the peak per pixel from it is printed as B/px), the network at ``--size`` with its
default settings, and with ``--tile T`` when given. ``--sample``: ``lytro-01`` (colour, the
default) or ``tno-01`` (gray). ``--max-gb G`` caps each run's address space (``RLIMIT_AS``, as
``ulimit -v`` does; it counts virtual memory, somewhat more than the RSS): a run that does not
fit is a ``FAILED`` row with the command's last line, and the script then ends with exit status 1.
"""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402


def _size(text: str) -> tuple[int, int]:
    import argparse

    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT, e.g. 4000x3000, got {text!r}") from None
    if min(w, h) < 64 or w * h > 100_000_000:
        raise argparse.ArgumentTypeError(f"{text}: each side at least 64 and at most 100 megapixels")
    return w, h


def whole_image_fuse_color(a, b, fuse_gray, chroma="saturation"):
    """The colour handling of :func:`mutualfuse.color.fuse_color` before session 27, kept as the
    baseline: whole-image float64 YCbCr and RGB arrays, the chroma rule by boolean indexing."""
    import numpy as np

    from mutualfuse.color import output_is_colour, rgb_to_ycbcr, ycbcr_to_rgb

    def combine(ca, cb):
        wa, wb = np.abs(ca - 0.5), np.abs(cb - 0.5)
        den = wa + wb
        out = np.full_like(ca, 0.5)
        m = den > 1e-12
        out[m] = (ca[m] * wa[m] + cb[m] * wb[m]) / den[m]
        return out

    ca, cb = a.ndim == 4, b.ndim == 4
    if not ca and not cb:
        return fuse_gray(a, b)

    def split(x):
        ycc = rgb_to_ycbcr(x)
        return np.ascontiguousarray(ycc[..., 0]), ycc[..., 1:].astype(np.float32)

    ya, cha = split(a) if ca else (a, None)
    yb, chb = split(b) if cb else (b, None)
    y = fuse_gray(ya, yb)
    del ya, yb
    if not output_is_colour(ca, cb, chroma):
        return y
    if ca and cb:
        cbcr = {"a": lambda: cha, "b": lambda: chb, "mean": lambda: 0.5 * (cha + chb),
                "saturation": lambda: np.stack([combine(cha[..., i], chb[..., i]) for i in (0, 1)], -1)}[chroma]()
    else:
        cbcr = cha if ca else chb
    return ycbcr_to_rgb(np.concatenate([y[..., None], cbcr.astype(np.float64)], -1))


def whole_image_to_uint(arr, bit_depth):
    """:func:`mutualfuse.image_io.to_uint` before session 27 (one whole-image float copy)."""
    import numpy as np

    arr = np.asarray(arr)
    x = np.array(arr, dtype=arr.dtype if np.issubdtype(arr.dtype, np.floating) else np.float64)
    np.copyto(x, 0.0, where=np.isnan(x))
    np.clip(x, 0.0, 1.0, out=x)
    x *= 65535.0 if bit_depth == 16 else 255.0
    np.round(x, out=x)
    return x.astype(np.uint16 if bit_depth == 16 else np.uint8)


def _timed(fn, reps: int):
    """(result of the last call, best wall seconds, best CPU seconds) over ``reps`` calls."""
    wall = cpu = float("inf")
    out = None
    for _ in range(reps):
        out = None  # the previous result freed first: peaks as in one run
        w0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        wall, cpu = min(wall, time.perf_counter() - w0), min(cpu, time.process_time() - c0)
    return out, wall, cpu


SAMPLES = ("lytro-01", "tno-01")


def _make_pair(sample: str, w: int, h: int, folder: Path) -> list[Path]:
    """The shipped ``sample`` pair upscaled (bicubic) to w x h, written at zlib level 1 into ``folder``."""
    import mutualfuse
    from PIL import Image

    src = Path(mutualfuse.__file__).resolve().parent / "data" / "samples" / sample
    paths = []
    for k in ("a", "b"):
        p = folder / f"{sample}_{w}x{h}_{k}.png"
        with Image.open(src / f"{k}.png") as im:
            im = im.convert("RGB" if im.mode in ("RGB", "RGBA", "P") else "L")
            im.resize((w, h), Image.BICUBIC).save(p, compress_level=1)
        paths.append(p)
    return paths


def run_measured(argv: list[str], max_bytes: int = 0) -> dict:
    """Run ``argv`` in a child process and measure it as ``/usr/bin/time -v`` does: wall seconds,
    CPU seconds (user + system) and peak RSS in bytes (``ru_maxrss``), from ``os.wait4``; with
    its exit status, its ``note:`` lines and its last stderr line. ``max_bytes`` > 0: the child's
    ``RLIMIT_AS`` (``ulimit -v``)."""
    import resource

    def limit():
        if max_bytes > 0:
            resource.setrlimit(resource.RLIMIT_AS, (max_bytes, max_bytes))

    with tempfile.TemporaryFile() as err:
        w0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err, preexec_fn=limit)
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - w0
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here; Popen must not wait again
        err.seek(0)
        lines = err.read().decode("utf-8", "replace").splitlines()
    return {"rc": proc.returncode, "wall_s": round(wall, 2), "cpu_s": round(ru.ru_utime + ru.ru_stime, 2),
            "peak_rss_gb": round(ru.ru_maxrss * 1024 / 1e9, 3),
            "notes": [ln.removeprefix("note: ") for ln in lines if ln.startswith("note: ")],
            "last": lines[-1] if lines else ""}


def network_rows(args) -> int:
    """``--network``: the command line's ``fuse`` with and without the network (module docstring)."""
    w, h = args.size
    cap = int(args.max_gb * 1e9) if args.max_gb else 0
    cmd = [sys.executable, "-m", "mutualfuse", "fuse"]
    print(_common.machine())
    half = (max(64, w // 2), max(64, h // 2))
    rows, failed = [], False
    with tempfile.TemporaryDirectory(prefix="bench_pipeline_net_") as tmp:
        folder = Path(tmp)
        pairs = {(w, h): _make_pair(args.sample, w, h, folder), half: _make_pair(args.sample, *half, folder)}
        print(f"# pair: {args.sample} upscaled to {w}x{h} ({'colour' if args.sample != 'tno-01' else 'gray'}), "
              f"one run each; OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}"
              + (f"; address space capped at {args.max_gb:g} GB" if cap else ""))
        plan = [("average (baseline)", (w, h), ["--method", "average"]),
                ("network", half, []),
                ("network", (w, h), [])]
        if args.tile:
            plan.append((f"network --tile {args.tile}", (w, h), ["--tile", str(args.tile)]))
        print(f"{'run':<24} {'size':>10} {'wall s':>8} {'cpu s':>8} {'peak GB':>8}  vs baseline / notes")
        base = None
        for name, (sw, sh), extra in plan:
            a, b = pairs[(sw, sh)]
            out = folder / "f.png"
            r = run_measured(cmd + [str(a), str(b), "-o", str(out), *extra], cap)
            r.update({"run": name, "size": [sw, sh], "args": extra})
            rows.append(r)
            if r["rc"] != 0:
                failed = True
                print(f"{name:<24} {f'{sw}x{sh}':>10} {r['wall_s']:8.1f} {r['cpu_s']:8.1f} {r['peak_rss_gb']:8.2f}  "
                      f"FAILED (exit status {r['rc']}): {r['last']}")
                continue
            if base is None:
                base = r
                tail = ""
            else:
                tail = (f"{r['cpu_s'] / max(base['cpu_s'], 1e-9):.1f}x CPU, "
                        f"{r['peak_rss_gb'] / max(base['peak_rss_gb'], 1e-9):.1f}x peak")
            if name == "network" and (sw, sh) == (w, h):
                small = next((x for x in rows if x["run"] == "network" and x["size"] == list(half) and x["rc"] == 0),
                             None)
                if small is not None:
                    grow = (r["peak_rss_gb"] - small["peak_rss_gb"]) * 1e9 / (w * h - half[0] * half[1])
                    r["bytes_per_pixel"] = round(grow)
                    tail += f"; {grow:.0f} B/px from {half[0]}x{half[1]}"
            print(f"{name:<24} {f'{sw}x{sh}':>10} {r['wall_s']:8.1f} {r['cpu_s']:8.1f} {r['peak_rss_gb']:8.2f}  {tail}")
            for note in r["notes"]:
                print(f"{'':<24}   note: {note}")
    if args.json:
        _common.write_output(args.json, json.dumps({
            "machine": _common.machine(), "size": [w, h], "sample": args.sample, "network": True,
            "max_gb": args.max_gb, "rows": rows}, indent=1) + "\n")
    return 1 if failed else 0


def main() -> int:
    ap = _common.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=_size, default=(4000, 3000), help="WIDTHxHEIGHT of the pair (default 4000x3000)")
    ap.add_argument("--method", default="average", help="a registered classical method (default average)")
    ap.add_argument("--reps", type=_common.positive, default=3, help="repetitions, best taken (default 3)")
    ap.add_argument("--json", help="write the figures to this file")
    ap.add_argument("--network", action="store_true",
                    help="time the whole fuse command, the network's included, in fresh processes (docstring)")
    ap.add_argument("--sample", choices=SAMPLES, default="lytro-01",
                    help="--network: the shipped pair to upscale (lytro-01 colour, tno-01 gray)")
    ap.add_argument("--tile", type=_common.positive, help="--network: also run the network with --tile TILE")
    ap.add_argument("--max-gb", type=float, default=0.0,
                    help="--network: cap each run's address space at this many GB (RLIMIT_AS; 0: no cap)")
    args = ap.parse_args()
    _common.check_output(ap, args.json)
    if not args.network and (args.tile or args.max_gb or args.sample != "lytro-01"):
        ap.error("--tile, --max-gb and --sample go with --network")
    if args.max_gb < 0 or args.max_gb != args.max_gb:
        ap.error(f"--max-gb: expected a number of GB >= 0, got {args.max_gb}")
    if args.network:
        if args.method != "average" or args.reps != 3:
            ap.error("--method and --reps do not go with --network (one run each; the baseline is average)")
        return network_rows(args)
    import numpy as np
    from PIL import Image

    import mutualfuse
    from mutualfuse.errors import FuseError
    from mutualfuse.image_io import read_image, to_uint, write_image
    from mutualfuse.methods import METHODS, check_method_params

    try:
        fuser = mutualfuse.Fuser(args.method)
    except FuseError as e:
        ap.error(f"--method {args.method}: {e}")
    if fuser.runner is not None:
        ap.error(f"--method {args.method}: the network is not timed here (benchmarks/bench_fuse.py times it)")
    body = METHODS.get(args.method)
    body = getattr(body, "unchecked", body)  # as methods.fuse_gray calls it, with the checked parameters
    params = check_method_params(args.method, fuser.method_params)
    print(_common.machine())
    w, h = args.size
    sample = Path(mutualfuse.__file__).resolve().parent / "data" / "samples" / "lytro-01"
    rows = []

    def row(stage, wall, cpu, note=""):
        rows.append({"stage": stage, "wall_s": round(wall, 4), "cpu_s": round(cpu, 4), "note": note})
        print(f"{stage:<28} {wall:8.3f} {cpu:8.3f}  {note}")

    with tempfile.TemporaryDirectory(prefix="bench_pipeline_") as tmp:
        paths = []
        for k in ("a", "b"):
            p = Path(tmp) / f"{k}.png"
            with Image.open(sample / f"{k}.png") as im:
                im.convert("RGB").resize((w, h), Image.BICUBIC).save(p, compress_level=1)
            paths.append(p)
        print(f"# pair: lytro-01 upscaled to {w}x{h} colour, method {args.method}, best of {args.reps}")
        print(f"{'stage':<28} {'wall s':>8} {'cpu s':>8}")
        (ra, rb), wall, cpu = _timed(lambda: (read_image(paths[0]), read_image(paths[1])), args.reps)
        row("read (both)", wall, cpu)
        a, b = ra[0], rb[0]
        del ra, rb
        A, B = a[None], b[None]
        ya = np.ascontiguousarray(a @ np.array([0.299, 0.587, 0.114]))
        yb = np.ascontiguousarray(b @ np.array([0.299, 0.587, 0.114]))
        # warm-up, not timed: a method's first call may compile or fill caches (numba, FFT plans)
        body(ya[:64, :64].copy(), yb[:64, :64].copy(), **params)
        fuser.fuse_arrays(A[:, :64, :64], B[:, :64, :64])
        wall_f = cpu_f = float("inf")
        for _ in range(args.reps):  # fresh copies each time (a method may write into its inputs), not timed
            p, q = ya.copy(), yb.copy()
            w0, c0 = time.perf_counter(), time.process_time()
            body(p, q, **params)
            wall_f, cpu_f = min(wall_f, time.perf_counter() - w0), min(cpu_f, time.process_time() - c0)
        del p, q
        row("floor: method on gray", wall_f, cpu_f, "the bare method body on two float64 planes")
        new, wall, cpu = _timed(lambda: fuser.fuse_arrays(A, B)[0], args.reps)
        row("fuse (Fuser.fuse_arrays)", wall, cpu, f"{cpu / max(cpu_f, 1e-9):.1f}x the floor's CPU")
        import mutualfuse.color as color

        kept = color.fuse_color
        try:  # the same API call with the whole-image colour handling of before (fuse_arrays imports it per call)
            color.fuse_color = whole_image_fuse_color
            old, wall_o, cpu_o = _timed(lambda: fuser.fuse_arrays(A, B)[0], args.reps)
        finally:
            color.fuse_color = kept
        same = old.dtype == new.dtype and old.shape == new.shape and np.array_equal(old.view(np.uint8),
                                                                                    new.view(np.uint8))
        row("fuse, whole-image colour", wall_o, cpu_o, "baseline (before s27); " + ("same bits" if same else "DIFFERENT"))
        del old
        u, wall, cpu = _timed(lambda: to_uint(new, 8), args.reps)
        u_old, wall_o, cpu_o = _timed(lambda: whole_image_to_uint(new, 8), args.reps)
        same_u = np.array_equal(u, u_old)
        row("  to_uint", wall, cpu)
        row("  to_uint, whole image", wall_o, cpu_o, "baseline (before s27); " + ("same" if same_u else "DIFFERENT"))
        out = Path(tmp) / "f.png"
        _, wall, cpu = _timed(lambda: write_image(out, new, 8), args.reps)
        row("write png (write_image)", wall, cpu, "zlib level 6 (Pillow's default, the project's outputs)")
        im = Image.fromarray(u)
        sizes = {}
        for level in (6, 1):
            def enc(level=level):
                bio = io.BytesIO()
                im.save(bio, format="PNG", compress_level=level)
                sizes[level] = len(bio.getvalue())
            _, wall, cpu = _timed(enc, args.reps)
            row(f"  png encode, level {level}", wall, cpu, f"{sizes[level] / 1e6:.2f} MB"
                + ("" if level == 6 else " (comparison only: other bytes)"))
    if args.json:
        _common.write_output(args.json, json.dumps({
            "machine": _common.machine(), "size": [w, h], "method": args.method, "reps": args.reps,
            "same_fused_bits": same, "same_uint": same_u, "rows": rows}, indent=1) + "\n")
    if not (same and same_u):
        print("error: the blockwise colour handling or to_uint differs from the whole-image baseline", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
