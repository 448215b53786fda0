"""Focus stacks with a known truth: how well ``Fuser.fuse_stack`` (``mutualfuse fuse-stack``)
recovers the sharp image from N registered images, each in focus at another depth.

    MUTUALFUSE_DATA=/data OMP_NUM_THREADS=1 python benchmarks/bench_stack.py [--sizes 3 5 8] [--quick]
        [--methods default lp ...] [--orders tree spread sequential reversed shuffled] [--images K]
        [--half] [--pixel-mean] [--diff]

Truth: the six visible images of ``ir-vis/msrs-sample`` (not training images), BT.601 luma as
float in [0, 1]. A smooth random depth map d(x) in [0, 1] (seeded per image: cubic-spline
upsampled 4×4 noise, stretched to [0, 1]); the N sources are focused at depths z_k = k/(N−1),
and source k is blurred at each pixel by a Gaussian of σ = SIGMA_MAX·|d(x) − z_k| (a graded,
depth-dependent defocus as in a microscope's z-stack; computed by interpolating between
Gaussian blurs at σ steps of 0.25 px). Every method fuses the same stack (``fuse_stack``, gray;
the network with its multi-focus setting), and the result is scored against the truth: PSNR,
SSIM (Gaussian σ 1.5, as bench_quality's multi-focus truth), mean Δ in grey levels (0–255). For
reference, ``best source`` is the single source with the highest PSNR. Prints one table per N.

Orders (``--orders``, or ``METHOD:ORDER`` in ``--methods``): ``tree`` (default), ``spread`` and
``sequential`` are ``fuse_stack``'s; ``reversed`` and ``shuffled`` are the balanced tree over the
same planes reversed, or in a seeded random order (``default_rng(1000 + N + image index)``), to
show how much the result depends on the order of the planes. ``--pixel-mean`` adds the plain mean
of all planes as a row; ``--diff`` prints, per method, how far each other order's result is from
that method's tree result in 8-bit levels (max |Δ|, mean |Δ|, share of pixels that differ; mean
over images). ``--images K`` takes the first K truths (in name order), ``--half`` every second
pixel of each (320×240 for MSRS); ``--quick`` is ``--images 2 --half``.
The microscope-length table of docs/inputs.md ("Stacks") is

    OMP_NUM_THREADS=1 python benchmarks/bench_stack.py --sizes 20 40 60 --images 2 --half \
        --methods default lp dwt average --orders tree spread sequential reversed shuffled \
        --pixel-mean --diff

(466 s wall, 4.5 min of CPU on one thread of a shared 2-core machine; its output:
runs-log/bench_stack_s22.txt). The quick run, ``--quick --sizes 3 --methods lp average``, takes
well under a minute. ``s/stack`` is wall seconds per stack; the baselines of the same run are the
``best source`` row (and ``--pixel-mean``). The second line names the machine. The data root is ``--data-root``, else
``$MUTUALFUSE_DATA``; a missing one is one line ``bench_stack.py: error: …``, exit status 2.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

SIGMA_MAX = 4.0
STEP = 0.25
SET = "ir-vis/msrs-sample/vis"
ORDERS = ("tree", "spread", "sequential", "reversed", "shuffled")  # the last two: the tree over permuted planes


def depth_map(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    from scipy import ndimage

    h, w = shape
    up = ndimage.zoom(rng.random((4, 4)), (h / 4, w / 4), order=3, mode="nearest")[:h, :w]
    up = np.pad(up, ((0, h - up.shape[0]), (0, w - up.shape[1])), mode="edge")
    return (up - up.min()) / max(up.max() - up.min(), 1e-12)


def focus_stack(sharp: np.ndarray, n: int, rng: np.random.Generator) -> list[np.ndarray]:
    """N sources of ``sharp``, source k sharp where the depth map is z_k = k/(N−1)."""
    from scipy import ndimage

    d = depth_map(sharp.shape, rng)
    levels = np.arange(0.0, SIGMA_MAX + STEP / 2, STEP)
    blurred = np.stack([sharp if s == 0 else ndimage.gaussian_filter(sharp, s, mode="reflect") for s in levels])
    out = []
    for k in range(n):
        sigma = SIGMA_MAX * np.abs(d - k / (n - 1))
        f = sigma / STEP
        lo = np.floor(f).astype(int).clip(0, len(levels) - 1)
        hi = (lo + 1).clip(0, len(levels) - 1)
        t = f - lo
        rows, cols = np.indices(sharp.shape)
        out.append((1 - t) * blurred[lo, rows, cols] + t * blurred[hi, rows, cols])
    return out


def score(f: np.ndarray, truth: np.ndarray) -> tuple[float, float, float]:
    from skimage.metrics import structural_similarity

    f8, t8 = np.round(np.clip(f, 0, 1) * 255.0), np.round(truth * 255.0)  # as written to 8-bit files
    mse = float(((f8 - t8) ** 2).mean())
    psnr = 10 * np.log10(255.0**2 / max(mse, 1e-12))
    ssim = structural_similarity(f8, t8, data_range=255.0, gaussian_weights=True, sigma=1.5,
                                 use_sample_covariance=False)
    return psnr, float(ssim), float(f8.mean() - t8.mean())


def plane_order(order: str, n: int, image_index: int) -> list[int]:
    """The planes (indices into the stack) that ``order`` hands to ``fuse_stack``, in that order."""
    if order == "reversed":
        return list(range(n - 1, -1, -1))
    if order == "shuffled":
        return [int(j) for j in np.random.default_rng(1000 + n + image_index).permutation(n)]
    return list(range(n))


def fuse_order(fuser, stack: list[np.ndarray], order: str, image_index: int) -> np.ndarray:
    """``fuse_stack`` of ``stack`` in ``order`` (one of ORDERS) as float64."""
    if order in ("reversed", "shuffled"):
        stack, order = [stack[j] for j in plane_order(order, len(stack), image_index)], "tree"
    return np.asarray(fuser.fuse_stack(stack, order=order), dtype=np.float64)


def level_diff(f: np.ndarray, g: np.ndarray) -> tuple[float, float, float]:
    """Max |Δ|, mean |Δ| and the share of pixels that differ between f and g as 8-bit images."""
    d = np.abs(np.round(np.clip(f, 0, 1) * 255.0) - np.round(np.clip(g, 0, 1) * 255.0))
    return float(d.max()), float(d.mean()), float((d > 0).mean())


def main() -> None:
    ap = _common.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-root", help="data root (default: $MUTUALFUSE_DATA)")
    ap.add_argument("--sizes", type=int, nargs="+", default=[3, 5, 8], help="stack sizes N (default 3 5 8)")
    ap.add_argument("--methods", nargs="+", default=["default", "default:sequential", "lp", "dwt", "average"],
                    help="rows: a method or weights name, ':ORDER' for that order (default: --orders, else tree)")
    ap.add_argument("--orders", nargs="+", metavar="ORDER",
                    help=f"a row per order for each method without ':ORDER' ({', '.join(ORDERS)}; "
                         "rows then named METHOD:ORDER)")
    ap.add_argument("--images", type=int, metavar="K", help="the first K truths only (default all)")
    ap.add_argument("--half", action="store_true", help="every second pixel of each truth (half size)")
    ap.add_argument("--pixel-mean", action="store_true", help="a row for the plain mean of all planes")
    ap.add_argument("--diff", action="store_true",
                    help="per method, each order's distance to that method's tree result (8-bit levels)")
    ap.add_argument("--quick", action="store_true", help="two images, halved, for a smoke run")
    args = ap.parse_args()
    for o in args.orders or ():
        if o not in ORDERS:
            ap.error(f"--orders {o!r}: an order is one of {', '.join(ORDERS)}")
    if args.images is not None and args.images < 1:
        ap.error(f"--images: at least 1 image, got {args.images}")
    root, origin = _common.data_root(ap, args.data_root)
    if not (root / SET).is_dir():
        ap.error(f"{root / SET}: no such folder (the truths; the data root is from {origin})")
    args.data_root = str(root)
    if min(args.sizes) < 2:
        ap.error(f"--sizes: a stack has at least 2 images, got {min(args.sizes)}")
    from PIL import Image

    from mutualfuse import Fuser
    from mutualfuse.errors import FuseError

    src = Path(args.data_root) / SET
    rows_of: list[str] = []  # the row names, each METHOD or METHOD:ORDER
    for spec in args.methods:
        m, _, order = spec.partition(":")
        if ":" in spec and order not in ORDERS:
            ap.error(f"--methods {spec!r}: the order after ':' is 'spread', 'reversed', 'shuffled', "
                     f"'sequential' or 'tree'")
        new = [spec] if ":" in spec or not args.orders else [f"{m}:{o}" for o in args.orders]
        rows_of += [r for r in new if r not in rows_of]
    count = args.images if args.images is not None else 2 if args.quick else None
    half = args.half or args.quick
    names = sorted(p.name for p in src.iterdir() if p.suffix.lower() == ".png")[:count]
    if count is not None and len(names) < count:
        ap.error(f"--images {count}: {src} has {len(names)} PNG images")
    truths = []
    for name in names:
        rgb = np.asarray(Image.open(src / name).convert("RGB"), dtype=np.float64)
        y = (rgb @ np.array([0.299, 0.587, 0.114])) / 255.0
        truths.append(y[::2, ::2] if half else y)
    fusers = {}
    for spec in rows_of:
        m, _, order = spec.partition(":")
        if m not in fusers:
            try:
                fusers[m] = Fuser(m, device="cpu") if m != "default" else Fuser("default", device="cpu")
            except FuseError as e:
                ap.error(f"--methods {spec!r}: {e}")
    print(f"# focus stacks from {len(truths)} images of {SET}, graded Gaussian defocus up to σ {SIGMA_MAX}; "
          f"mean over images; fuse_stack (network: task multi-focus)")
    print(_common.machine())
    if args.images is not None or args.half:
        h, w = truths[0].shape if truths else (0, 0)
        print(f"# truths: {' '.join(names)}, {w}×{h}{' (half size)' if half else ''}")
    for n in args.sizes:
        rows: dict[str, list] = {}
        diffs: dict[str, list] = {}
        for i, truth in enumerate(truths):
            stack = focus_stack(truth, n, np.random.default_rng([n, i]))
            rows.setdefault("best source", []).append(max((score(s, truth) for s in stack), key=lambda r: r[0]))
            if args.pixel_mean:
                rows.setdefault("pixel mean", []).append(score(np.mean(stack, axis=0), truth))
            results: dict[str, np.ndarray] = {}
            for spec in rows_of:
                m, _, order = spec.partition(":")
                t = time.perf_counter()
                f = fuse_order(fusers[m], stack, order or "tree", i)
                r = score(f, truth)
                rows.setdefault(spec, []).append(r + (time.perf_counter() - t,))
                if args.diff:
                    results[spec] = f
            if args.diff:
                for spec, f in results.items():
                    m, _, order = spec.partition(":")
                    base = next((results[k] for k in (m, f"{m}:tree") if k in results), None)
                    if order not in ("", "tree") and base is not None:
                        diffs.setdefault(spec, []).append(level_diff(f, base))
        print(f"\nN = {n}: {'row':22s} {'PSNR dB':>8s} {'SSIM':>7s} {'Δmean':>7s} {'max|Δmean|':>10s} {'s/stack':>8s}")
        for spec, rs in rows.items():
            a = np.array(rs)
            secs = f"{a[:, 3].mean():8.2f}" if a.shape[1] > 3 else f"{'':8s}"
            print(f"N = {n}: {spec:22s} {a[:, 0].mean():8.2f} {a[:, 1].mean():7.4f} {a[:, 2].mean():7.2f} "
                  f"{np.abs(a[:, 2]).max():10.2f} {secs}")
        if diffs:
            print(f"\nN = {n}: {'vs the same method, tree':26s} {'max|Δ|':>7s} {'mean|Δ|':>8s} {'share ≠':>8s}"
                  f"   (8-bit levels; mean over images)")
            for spec, ds in diffs.items():
                a = np.array(ds)
                print(f"N = {n}: {spec:26s} {a[:, 0].mean():7.2f} {a[:, 1].mean():8.4f} {a[:, 2].mean():8.4f}")


if __name__ == "__main__":
    main()
