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
"""
from __future__ import annotations

import io
import json
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


def main() -> int:
    ap = _common.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=_size, default=(4000, 3000), help="WIDTHxHEIGHT of the pair (default 4000x3000)")
    ap.add_argument("--method", default="average", help="a registered classical method (default average)")
    ap.add_argument("--reps", type=_common.positive, default=3, help="repetitions, best taken (default 3)")
    ap.add_argument("--json", help="write the figures to this file")
    args = ap.parse_args()
    _common.check_output(ap, args.json)
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
