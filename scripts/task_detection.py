"""How well :func:`mutualfuse.tasks.detect_task` tells the fusion tasks apart, set by set.

    MUTUALFUSE_DATA=/data python scripts/task_detection.py [--test]

Validation (what the thresholds of :class:`~mutualfuse.tasks.DetectionRule` were chosen on):
the 221 RoadScene training pairs and the pairs of ``ir-vis/tno40`` that are not near-duplicates of
``ir-vis/tno`` (IR–VIS), ``medical/ct-mr-harvard`` (medical), and synthetic multi-focus pairs made
from every RoadScene visible image the way the trainer makes its validation pairs
(:func:`mutualfuse.train.loop.validation_multifocus`). With ``--test`` the test sets follow
(``ir-vis/tno``, ``msrs-sample``, ``kaist-sample``, ``multi-focus/lytro``, ``medical/ct-mr``,
``pet-mri``, ``spect-mri`` and the synthetic multi-focus truth pairs of ``scripts/make_mf_truth.py``),
printed after the rule was fixed. Per set: pairs, how many were detected as each task, accuracy,
and each feature's range; then every misdetected pair.

With ``--stress``, harder multi-focus pairs made from the same RoadScene visible images (not test
images), one kind of departure from the validation pairs at a time: a disc (pillbox) blur of
radius 2–5 instead of a Gaussian; focus breathing (the blurred source rescaled by 1–2 % about the
centre); one source 4 or 8 grey levels brighter; Gaussian noise of σ = 3 grey levels on both;
and a 2-pixel misregistration. They show how far the multi-focus rule reaches beyond the pairs
its thresholds were set on (nothing was tuned on them).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

VALIDATION = (("train/roadscene", "ir-vis"), ("ir-vis/tno40", "ir-vis"), ("medical/ct-mr-harvard", "medical"),
              ("synthetic multi-focus (RoadScene visible)", "multi-focus"))
TEST = (("ir-vis/tno", "ir-vis"), ("ir-vis/msrs-sample", "ir-vis"), ("ir-vis/kaist-sample", "ir-vis"),
        ("multi-focus/lytro", "multi-focus"), ("medical/ct-mr", "medical"), ("medical/pet-mri", "medical"),
        ("medical/spect-mri", "medical"), ("mf-truth (make_mf_truth.py)", "multi-focus"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-root", default=None)
    ap.add_argument("--test", action="store_true", help="also the test sets")
    ap.add_argument("--stress", action="store_true", help="also harder synthetic multi-focus pairs (see above)")
    args = ap.parse_args()
    import numpy as np

    from mutualfuse.image_io import read_gray_float
    from mutualfuse.tasks import DEFAULT_RULE, TASKS, detect_task
    from mutualfuse.train.data import find_pairs, near_duplicates, resolve_data_root
    from mutualfuse.train.loop import validation_multifocus

    root = resolve_data_root(args.data_root, None)

    def load(d: str):
        ps = find_pairs(root / d)
        if d == "ir-vis/tno40":  # the validation part: not a near-duplicate of a TNO test pair
            dup = {p for p, _, _ in near_duplicates(ps, find_pairs(root / "ir-vis/tno"), 0.8)}
            ps = [p for p in ps if p not in dup]
        return [(pa.stem, read_gray_float(pa), read_gray_float(pb)) for pa, pb in ps]

    def synthetic_mf():
        return [(f"{pb.stem}", *validation_multifocus(read_gray_float(pb), i)[1:])
                for i, (_, pb) in enumerate(find_pairs(root / "train/roadscene"))]

    def mf_truth():
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from make_mf_truth import make_pairs

        with tempfile.TemporaryDirectory() as tmp:
            make_pairs(root, Path(tmp))
            return [(pa.stem, read_gray_float(pa), read_gray_float(Path(tmp) / "b" / pa.name))
                    for pa in sorted((Path(tmp) / "a").iterdir())]

    def stressed(kind: str):
        from scipy import ndimage

        from mutualfuse.train.data import disc_blur, smooth_mask

        out = []
        for i, (_, pb) in enumerate(find_pairs(root / "train/roadscene")):
            rng = np.random.default_rng([777, i])
            img = read_gray_float(pb).astype(np.float64)
            m = smooth_mask(img.shape, rng)
            if kind == "disc":
                blur = disc_blur(img, rng.uniform(2, 5))
            else:
                blur = ndimage.gaussian_filter(img, rng.uniform(2, 3), mode="reflect")
            a, b = m * img + (1 - m) * blur, (1 - m) * img + m * blur
            if kind == "breathing":  # b (the far-focus frame) slightly magnified
                s_ = 1 + rng.uniform(0.01, 0.02)
                c = (np.array(b.shape) - 1) / 2
                b = ndimage.affine_transform(b, np.full(2, 1 / s_), offset=c - c / s_, order=1, mode="nearest")
            elif kind.startswith("brighter"):
                b = np.clip(b + float(kind.split()[1]) / 255, 0, 1)
            elif kind == "noise":
                a = np.clip(a + rng.normal(0, 3 / 255, a.shape), 0, 1)
                b = np.clip(b + rng.normal(0, 3 / 255, b.shape), 0, 1)
            elif kind == "shift":
                b = np.roll(b, (2, 2), axis=(0, 1))
            out.append((pb.stem, a, b))
        return out

    print(f"rule: {DEFAULT_RULE}")
    groups = [("validation", VALIDATION)] + ([("test", TEST)] if args.test else [])
    if args.stress:
        groups.append(("stress (synthetic multi-focus from RoadScene visible)",
                       tuple((f"stress: {k}", "multi-focus") for k in
                             ("disc", "breathing", "brighter 4", "brighter 8", "noise", "shift"))))
    for title, sets in groups:
        print(f"\n## {title}")
        print(f"{'set':44s} {'true':12s} {'n':>4s} " + " ".join(f"{t:>11s}" for t in TASKS)
              + "   acc    corr min/max    |dmean| min/max   dark ring min/max")
        wrong, total, right = [], 0, 0
        for name, true in sets:
            pairs = (synthetic_mf() if name.startswith("synthetic") else mf_truth() if name.startswith("mf-truth")
                     else stressed(name.split(": ", 1)[1]) if name.startswith("stress") else load(name))
            guesses = [(n, detect_task(a, b)) for n, a, b in pairs]
            count = {t: sum(g.task == t for _, g in guesses) for t in TASKS}
            f = np.array([(g.corr, g.mean_diff, g.dark_ring) for _, g in guesses])
            ok = count[true]
            total, right = total + len(guesses), right + ok
            wrong += [(name, n, g) for n, g in guesses if g.task != true]
            print(f"{name:44s} {true:12s} {len(guesses):4d} " + " ".join(f"{count[t]:11d}" for t in TASKS)
                  + f"  {ok / len(guesses):5.3f}  {f[:, 0].min():6.3f}/{f[:, 0].max():6.3f}"
                  f"   {f[:, 1].min():6.1f}/{f[:, 1].max():6.1f}    {f[:, 2].min():5.3f}/{f[:, 2].max():5.3f}",
                  flush=True)
        print(f"{title}: {right} of {total} pairs detected correctly")
        for name, n, g in wrong[:20]:
            print(f"  misdetected: {name} {n} -> {g.task} ({g.describe()})")
        if len(wrong) > 20:
            print(f"  ... and {len(wrong) - 20} more")


if __name__ == "__main__":
    import sys as _sys

    from mutualfuse.errors import FuseError

    try:
        _sys.exit(main())
    except (FuseError, FileNotFoundError) as _e:  # bad input (data root, weights, names): one line
        print(f"{_sys.argv[0].rsplit('/', 1)[-1]}: error: {_e}", file=_sys.stderr)
        _sys.exit(2)
