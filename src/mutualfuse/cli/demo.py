"""``mutualfuse demo``: fuse the bundled sample pairs with the bundled weights."""
from __future__ import annotations

import argparse
from pathlib import Path

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"


def add_parser(sub) -> None:
    p = sub.add_parser("demo", help="fuse the bundled sample pairs (IR-VIS, CT-MR, multi-focus)",
                       description="Fuse the sample pairs that ship with the package (SAMPLES/NAME/a.png and "
                                   "b.png; SAMPLES is printed at the end) with the shipped `default` weights "
                                   "(task detected per pair), writing OUT/NAME-fused.png for each: the same file "
                                   "as `mutualfuse fuse SAMPLES/NAME/a.png SAMPLES/NAME/b.png -o "
                                   "OUT/NAME-fused.png`. Prints its path, the seconds it took (the first pair's "
                                   "include a one-time start-up) and the task, then the notes "
                                   "`fuse` prints (each once) and a summary line. Existing outputs of the same "
                                   "name are replaced; the folder (and its parents) is created when missing.")
    from .common import add_device, add_quiet, non_empty

    p.add_argument("-o", "--out", default="out/demo", type=non_empty,
                   help="output folder (default %(default)s)")
    add_device(p)
    add_quiet(p)
    p.add_argument("--pair", action="append", help="only this sample (repeatable): "
                   + ", ".join(sorted(d.name for d in SAMPLES.iterdir() if d.is_dir())))
    p.set_defaults(func=run)


def _chosen(pairs: list[Path], wanted: list[str]) -> list[Path]:
    """The samples of ``pairs`` named by ``--pair`` (case-insensitive, in the samples' order);
    an unknown name is a one-line error with a "did you mean"."""
    from ..errors import ParameterError
    from ..registry import did_you_mean

    names = {d.name.lower(): d for d in pairs}
    for w in wanted:
        if w.strip().lower() not in names:
            have = sorted(d.name for d in pairs)
            raise ParameterError(f"--pair {w!r}: no such sample{did_you_mean(w, have)} "
                                 f"(have {', '.join(have)})")
    keep = {w.strip().lower() for w in wanted}
    return [d for d in pairs if d.name.lower() in keep]


def run(args: argparse.Namespace) -> int:
    import sys
    import time

    from ..api import Fuser
    from ..wording import counted
    from .fuse import fuse_files

    pairs = sorted(d for d in SAMPLES.iterdir() if d.is_dir())
    if args.pair:
        pairs = _chosen(pairs, args.pair)
    from ..errors import InputError
    from ..image_io import check_writable

    out = Path(args.out)
    if out.is_symlink() and not out.exists():
        raise InputError(f"{out}: output folder is a broken symbolic link")
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: output path exists and is not a folder")
    from .common import refuse_in_the_way

    refuse_in_the_way(args.out)  # `-o afile/sub`: was "cannot create output folder (Not a directory)"
    created = [q for q in (out, *out.parents) if not q.exists()]  # deepest first: removed if nothing is written
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"{out}: cannot create output folder ({e.strerror or e})") from None
    jobs = [(d, out / f"{d.name}-fused.png") for d in pairs]
    written = False
    notes: dict[str, list[str]] = {}  # note → the pairs it was given for: printed once, not once a pair
    try:
        for d, target in jobs:  # every output checked before the first pair is fused
            check_writable(target, inputs=(d / "a.png", d / "b.png"), hint=False)  # demo names its files
        t_load = time.perf_counter()
        if str(args.device).startswith("cuda"):  # refused in the command line's words (--device cuda)
            from ..validation import pick_device

            pick_device(args.device)
        fuser = Fuser("default", device=args.device)
        load = time.perf_counter() - t_load
        fusing = 0.0
        for i, (d, target) in enumerate(jobs):
            t = time.perf_counter()
            info = fuse_files(fuser, str(d / "a.png"), str(d / "b.png"), str(target))
            took = time.perf_counter() - t
            fusing += took
            written = True
            for n in info["notes"]:  # as `fuse` prints them (approximations included)
                if not n.startswith("task: "):  # the task is on the pair's line
                    notes.setdefault(n, []).append(d.name)
            if not args.quiet:
                # the first call also sets things up (CPU seconds measured, first call against later ones:
                # tno-01 1.12-1.37 against 0.65-0.70, ct-mr-c01 0.87 against 0.47): said, so that the
                # first pair is not read as the slowest
                first = " incl. one-time start-up" if i == 0 else ""
                print(f"{target.resolve()}  ({took:.2f} s{first}, {d.name}, task {fuser.report.task})", flush=True)
    except BaseException:
        if not written:  # nothing done: no new (empty) folder left behind either
            for q in created:
                try:
                    q.rmdir()
                except OSError:
                    break
        raise
    if not args.quiet:
        for n, names in notes.items():
            which = "every pair" if len(names) == len(jobs) > 1 else ", ".join(names)
            print(f"note: {n} ({which}; as `mutualfuse fuse` says it)", file=sys.stderr)
        print(f"{counted(len(jobs), 'pair')} fused in {fusing:.2f} s (+ {load:.2f} s starting "
              f"torch and loading the weights) into {out.resolve()}; their sources: {SAMPLES}/NAME/{{a,b}}.png",
              flush=True)
    return 0
