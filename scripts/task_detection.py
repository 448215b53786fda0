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

    print(f"rule: {DEFAULT_RULE}")
    groups = [("validation", VALIDATION)] + ([("test", TEST)] if args.test else [])
    for title, sets in groups:
        print(f"\n## {title}")
        print(f"{'set':44s} {'true':12s} {'n':>4s} " + " ".join(f"{t:>11s}" for t in TASKS)
              + "   acc    corr min/max    |dmean| min/max   dark ring min/max")
        wrong, total, right = [], 0, 0
        for name, true in sets:
            pairs = (synthetic_mf() if name.startswith("synthetic") else mf_truth() if name.startswith("mf-truth")
                     else load(name))
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
        for name, n, g in wrong:
            print(f"  misdetected: {name} {n} -> {g.task} ({g.describe()})")


if __name__ == "__main__":
    main()
