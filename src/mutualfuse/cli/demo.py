"""``mutualfuse demo``: fuse the bundled sample pairs with the bundled weights."""
from __future__ import annotations

import argparse
from pathlib import Path

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"


def add_parser(sub) -> None:
    p = sub.add_parser("demo", help="fuse the bundled sample pairs (IR-VIS, CT-MR, multi-focus)",
                       description="Fuse the sample pairs that ship with the package with the shipped `default` "
                                   "weights (task detected per pair), writing OUT/NAME-fused.png for each and "
                                   "printing its path, time and task. Existing outputs of the same name are "
                                   "replaced; the folder (and its parents) is created when missing.")
    from .common import add_device, add_quiet, non_empty

    p.add_argument("-o", "--out", default="out/demo", type=non_empty,
                   help="output folder (default %(default)s)")
    add_device(p)
    add_quiet(p)
    p.add_argument("--pair", action="append", help="only this sample (repeatable): "
                   + ", ".join(sorted(d.name for d in SAMPLES.iterdir() if d.is_dir())))
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import sys
    import time

    from ..api import Fuser
    from ..errors import ParameterError
    from .fuse import fuse_files

    pairs = sorted(d for d in SAMPLES.iterdir() if d.is_dir())
    if args.pair:
        names = {d.name for d in pairs}
        bad = [p for p in args.pair if p not in names]
        if bad:
            raise ParameterError(f"--pair {bad[0]}: no such sample (have {', '.join(sorted(names))})")
        pairs = [d for d in pairs if d.name in args.pair]
    from ..errors import InputError
    from ..image_io import check_writable

    out = Path(args.out)
    if out.is_symlink() and not out.exists():
        raise InputError(f"{out}: output folder is a broken symbolic link")
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: output path exists and is not a folder")
    created = [q for q in (out, *out.parents) if not q.exists()]  # deepest first: removed if nothing is written
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"{out}: cannot create output folder ({e.strerror or e})") from None
    jobs = [(d, out / f"{d.name}-fused.png") for d in pairs]
    written = False
    try:
        for d, target in jobs:  # every output checked before the first pair is fused
            check_writable(target, inputs=(d / "a.png", d / "b.png"))
        fuser = Fuser("default", device=args.device)
        for d, target in jobs:
            t = time.perf_counter()
            info = fuse_files(fuser, str(d / "a.png"), str(d / "b.png"), str(target))
            written = True
            if not args.quiet:
                print(f"{target.resolve()}  ({time.perf_counter() - t:.2f} s, {d.name}, task {fuser.report.task})")
                for n in info["notes"]:  # as `fuse` prints them (approximations included)
                    if not n.startswith("task: "):  # the task is on the line above
                        print(f"note: {n}", file=sys.stderr)
    except BaseException:
        if not written:  # nothing done: no new (empty) folder left behind either
            for q in created:
                try:
                    q.rmdir()
                except OSError:
                    break
        raise
    return 0
