"""Table-2 metrics (and PSNR to the truth) of methods on the synthetic multi-focus validation pairs.

    MUTUALFUSE_DATA=/data python scripts/mf_val_metrics.py [--method NAME[:KEY=VALUE,...]] ...

The pairs (``--pairs gaussian``, the default) are the trainer's validation multi-focus pairs (:func:`mutualfuse.train.loop.validation_quality`:
the visible images of the held-out RoadScene pairs of ``--config``, a smooth mask, Gaussian σ 2–3,
the same seeds), so a row here is comparable with ``val_mf_psnr``. Prints the means of the paper
profile's multi-focus columns (EI, SF, EN, SCD, MI, SD, VIF) of the fused image rounded to 8 bits,
and the PSNR (dB, peak 1) of the unrounded fused image to the truth. A method is a registered
method or shipped weights name, optionally with ``Fuser`` keyword settings (``default:detail_activity=1000``)
or ``base_temperature`` (set on the network's config, as a task setting is).
With more than one method, the last line gives each one's mean rank over the eight columns
(``val_quality.mean_ranks``: 1 = best, every column higher-is-better) and the max |Δmean| (grey
levels) of each row. With ``--mean-maps`` every network method is scored a second time with its
deepest mutual maps replaced by their global means (:meth:`FMMNet.forward_mean_maps`; rows
``NAME [mean maps]``, left out of the mean rank) and a line per method says on how many of the
eight columns the method is ahead of that variant: the issue-10 check "the mapping matters" on
validation pairs. Never touches a test set.
"""
from __future__ import annotations

import argparse
import ast

COLUMNS = ("EI", "SF", "EN", "SCD", "MI", "SD", "VIF")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="configs/pyramid-g5.yaml")
    ap.add_argument("--data-root", default=None)
    ap.add_argument("--method", action="append", default=[], help="NAME[:KEY=VALUE,...]; repeatable")
    ap.add_argument("--reference", action="append", default=[], metavar="NAME",
                    help="also score this method, printed but left out of the mean rank (e.g. dwt; 'truth' = "
                         "the sharp image itself, what a perfect fusion would score); repeatable")
    ap.add_argument("--pairs", choices=("gaussian", "realistic"), default="gaussian",
                    help="gaussian: the trainer's validation pairs (default); realistic: disc blur and focus "
                         "breathing, from the held-out RoadScene and the tno40-minus-TNO visible images "
                         "(realistic_pairs)")
    ap.add_argument("--mean-maps", action="store_true",
                    help="also each network method with its deepest maps replaced by their global means")
    ap.add_argument("-j", "--jobs", type=int, default=1,
                    help="score this many methods at once, one process each (rows printed in the given order)")
    args = ap.parse_args()
    import sys
    from pathlib import Path

    from mutualfuse.train.loop import validation_multifocus

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from val_quality import mean_ranks, validation_images

    global _MF
    root, images = validation_images(args.config, args.data_root)
    if args.pairs == "gaussian":
        _MF = [validation_multifocus(b, i) for i, (_, b) in enumerate(images)]  # val_mf_psnr's pairs
    else:
        _MF = realistic_pairs(root, [b for _, b in images])
    specs = [(spec, args.mean_maps and spec not in args.reference) for spec in (args.method or ["default"]) + args.reference]
    import contextlib

    rows, extra = [], []
    with contextlib.ExitStack() as stack:
        results = map(_score_method, specs)  # lazy: each method's rows are printed when it is done, in order
        if args.jobs > 1 and len(specs) > 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            ex = stack.enter_context(ProcessPoolExecutor(min(args.jobs, len(specs)),
                                                         mp_context=multiprocessing.get_context("fork")))
            results = ex.map(_score_method, specs)
        for lines, row, line in results:
            print("\n".join(lines), flush=True)
            rows.append(row)
            extra += [line] if line else []
    for line in extra:
        print(line)
    if len(rows) - len(args.reference) > 1:
        ranked = [r for r in rows if r[0] not in args.reference]
        ranks = mean_ranks([r for _, r, _ in ranked])
        print("mean rank over " + ", ".join((*COLUMNS, "PSNR")) + ": "
              + ", ".join(f"{n} {m:.3f}" for (n, _, _), m in sorted(zip(ranked, ranks), key=lambda x: x[1])))


_MF: list = []  # the (truth, a, b) pairs, set by main before any worker process forks


def _score(label: str, fuse, lines: list[str]) -> tuple[str, dict[str, float], float]:
    import numpy as np

    from mutualfuse.metrics import evaluate_pair

    acc: dict[str, list[float]] = {"dmean": []}
    for truth, a, b in _MF:
        out = np.clip(truth if fuse is None else fuse(a, b), 0, 1)
        f8 = np.round(out * 255).astype(np.uint8)
        a8, b8 = (np.round(x * 255).astype(np.uint8) for x in (a, b))
        for k, v in evaluate_pair(a8, b8, f8, profile="paper").items():
            acc.setdefault(k, []).append(v)
        acc.setdefault("PSNR", []).append(10 * np.log10(1.0 / max(float(((out - truth) ** 2).mean()), 1e-12)))
        acc["dmean"].append(abs(float(f8.mean()) - float(truth.mean()) * 255))
    lines.append(f"{label:<32} " + "  ".join(f"{k} {np.mean(acc[k]):.4f}" for k in (*COLUMNS, "PSNR"))
                 + f"  max|dmean| {max(acc['dmean']):.3f}")
    return label, {k: float(np.mean(acc[k])) for k in (*COLUMNS, "PSNR")}, max(acc["dmean"])


def _score_method(item: tuple[str, bool]):
    """One method's row (and with ``mean_maps`` its global-mean-maps row and the mapping line):
    (printed lines, row, mapping line or "")."""
    import numpy as np
    import torch

    from mutualfuse import Fuser
    from mutualfuse.weights import SHIPPED

    torch.set_num_threads(1)
    spec, mean_maps = item
    lines: list[str] = []
    if spec == "truth":  # the sharp image itself: what a perfect fusion would score
        return lines, _score(spec, None, lines), ""
    name, _, kv = spec.partition(":")
    kw = {k: ast.literal_eval(v) for k, v in (it.split("=", 1) for it in filter(None, kv.split(",")))}
    if name in SHIPPED or name.endswith(".safetensors"):  # the settings given, on the stored ones (as
        kw.setdefault("task", "stored")  # every round before task mode auto became the default)
    base_t = kw.pop("base_temperature", None)  # a task-setting key that Fuser takes no argument for
    f = Fuser(name, device="cpu", **kw)
    if base_t is not None:
        from dataclasses import replace

        replace(f.net.cfg, base_temperature=float(base_t))  # validated by the dataclass
        f.net.cfg.base_temperature = float(base_t)  # as Fuser.use_task sets a task's settings
    row = _score(spec, lambda a, b: f.fuse(a.astype(np.float64), b.astype(np.float64)), lines)
    if mean_maps and f.net is not None and hasattr(f.net.fusion, "deepest_maps"):
        def mm_fuse(a, b, net=f.net):
            with torch.no_grad():
                t = net.forward_mean_maps(torch.from_numpy(a)[None, None].float(), torch.from_numpy(b)[None, None].float())
            return t[0, 0].double().numpy()

        mm = _score(f"{spec} [mean maps]", mm_fuse, lines)
        ahead = sum(row[1][c] > mm[1][c] for c in (*COLUMNS, "PSNR"))
        return lines, row, f"mapping matters {spec}: ahead of its global-mean-maps variant on {ahead} of {len(COLUMNS) + 1} columns"
    return lines, row, ""


def realistic_pairs(root, visible):
    """(truth, a, b) multi-focus pairs closer to a real camera's than the trainer's Gaussian ones:
    the held-out RoadScene visible images ``visible`` and the visible images of ``ir-vis/tno40``'s
    pairs that are not near-duplicates of ``ir-vis/tno`` (no test image), each with a smooth mask
    (:func:`mutualfuse.train.data.smooth_mask`), a disc (pillbox) blur of radius 2–5 px instead of a
    Gaussian, and focus breathing: the far-focus source ``b`` magnified by 0.5–1 % about the centre
    (bilinear). The truth is the unmagnified sharp image, so PSNR also counts the breathing's
    misregistration. Fixed seeds per image."""
    import numpy as np

    from mutualfuse.image_io import read_gray_float
    from mutualfuse.train.data import disc_blur, find_pairs, magnify, near_duplicates, smooth_mask

    tno40 = find_pairs(root / "ir-vis/tno40")
    dup = {p for p, _, _ in near_duplicates(tno40, find_pairs(root / "ir-vis/tno"), 0.8)}
    images = list(visible) + [read_gray_float(pb) for pa, pb in tno40 if (pa, pb) not in dup]
    out = []
    for i, img in enumerate(images):
        rng = np.random.default_rng([4242, i])
        img = np.asarray(img, dtype=np.float64)
        m = smooth_mask(img.shape, rng)
        blur = disc_blur(img, rng.uniform(2.0, 5.0))
        a, b = m * img + (1 - m) * blur, (1 - m) * img + m * blur
        b = magnify(b, 1 + rng.uniform(0.005, 0.01))
        out.append((img.astype(np.float32), a.astype(np.float32), np.clip(b, 0, 1).astype(np.float32)))
    return out


if __name__ == "__main__":
    import sys as _sys

    from mutualfuse.errors import FuseError

    try:
        _sys.exit(main())
    except (FuseError, FileNotFoundError) as _e:  # bad input (data root, weights, names): one line
        print(f"{_sys.argv[0].rsplit('/', 1)[-1]}: error: {_e}", file=_sys.stderr)
        _sys.exit(2)
