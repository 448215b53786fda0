"""``mutualfuse evaluate``: score folders of fused images against their source pairs.

Files are paired by name (the file name without its extension) across ``--a``, ``--b`` and
every ``--fused`` folder. Every image is converted to gray first with MATLAB's ``rgb2gray``
(weights 0.298936021293775/0.587043074451121/0.114020904255103, rounded half away from zero,
as the reference tables were made; see ``docs/metrics.md``); 16-bit images are scaled to the
0–255 scale. The metrics are those of :mod:`mutualfuse.metrics` (``--metrics`` keys such as
``Qabf@vifb`` or ``--profile paper``).
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from ..errors import InputError, ParameterError

SUFFIXES = {".png", ".bmp", ".tif", ".tiff", ".jpg", ".jpeg"}


def add_parser(sub) -> None:
    p = sub.add_parser(
        "evaluate",
        help="score fused images with reference-exact fusion metrics",
        description="Score every fused image in one or more --fused folders against the source pair "
                    "with the same name in --a and --b. Prints a table (per image and mean; * marks the "
                    "best value of each metric, arrows show whether higher or lower is better) and "
                    "optionally writes CSV or JSON.",
    )
    p.add_argument("--a", metavar="DIR", help="folder of first source images (e.g. infrared, CT); required")
    p.add_argument("--b", metavar="DIR", help="folder of second source images (e.g. visible, MR); required")
    p.add_argument("--fused", action="append", metavar="DIR",
                   help="folder of fused images (required); repeat to compare several methods")
    p.add_argument("--metrics", nargs="+", metavar="KEY",
                   help="metric keys (e.g. Qabf@vifb EN@rfn-nest; a bare name such as Qcb works when "
                        "unambiguous; commas allowed). See --list.")
    p.add_argument("--profile", help="named metric set: paper, rfn-nest, nestfuse, vifb, default, all "
                                      "(default: 'default' = every fast conformance-checked metric)")
    p.add_argument("-o", "--out", metavar="FILE", help="write the results to FILE (.csv or .json)")
    p.add_argument("-j", "--jobs", type=int, default=1,
                   help="worker processes computing the metrics of a pair in parallel (default 1)")
    p.add_argument("--list", action="store_true", help="list the available metrics and profiles and exit")
    from .common import add_quiet

    add_quiet(p)
    p.set_defaults(func=run)


# ---------------------------------------------------------------------------------------------
# reading and pairing
# ---------------------------------------------------------------------------------------------


def read_gray(path: Path) -> np.ndarray:
    """Read an image as stored: uint8 (gray or H×W×3) or uint16 gray. One-line errors."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            im.load()
            mode = im.mode
            if mode in ("L", "RGB"):
                arr = np.asarray(im)
            elif mode in ("I;16", "I;16B", "I;16L"):
                arr = np.asarray(im).astype(np.uint16)
            elif mode == "I":
                arr = np.asarray(im)
                if arr.min() < 0 or arr.max() > 65535:
                    raise InputError(f"{path}: 32-bit integer image with values outside 0-65535")
                arr = arr.astype(np.uint16)
            elif mode in ("1", "P", "LA", "RGBA", "CMYK", "YCbCr", "PA"):
                arr = np.asarray(im.convert("L" if mode in ("1", "LA") else "RGB"))
            else:
                raise InputError(f"{path}: unsupported image mode {mode} (use 8/16-bit gray or RGB)")
    except InputError:
        raise
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except Exception as e:  # Pillow raises many types for corrupt files
        raise InputError(f"{path}: cannot read image ({type(e).__name__}: {' '.join(str(e).split())})") from None
    from ..metrics import to_gray

    return to_gray(arr)


def _listing(d: Path) -> dict[str, Path]:
    if not d.is_dir():
        raise InputError(f"{d}: not a folder")
    out: dict[str, Path] = {}
    dup = []
    for p in sorted(d.iterdir()):
        if p.is_file() and p.suffix.lower() in SUFFIXES and not p.name.startswith("."):
            if p.stem in out:
                dup.append(p.name)
            out[p.stem] = p
    if dup:
        raise InputError(f"{d}: several files share a name: {', '.join(dup)}")
    if not out:
        raise InputError(f"{d}: no images ({', '.join(sorted(SUFFIXES))})")
    return out


def _names(xs, limit: int = 8) -> str:
    xs = sorted(xs)
    more = f" (+{len(xs) - limit} more)" if len(xs) > limit else ""
    return ", ".join(xs[:limit]) + more


def pair_folders(a: Path, b: Path, fused: list[Path]) -> tuple[list[str], dict, dict, dict]:
    """Names common to all folders; any name missing from one folder is an error."""
    la, lb = _listing(a), _listing(b)
    lf = {str(d): _listing(d) for d in fused}
    names = set(la)
    problems = []
    for label, listing in [(str(b), lb)] + list(lf.items()):
        missing = set(la) - set(listing)
        extra = set(listing) - set(la)
        if missing:
            problems.append(f"{label} lacks {_names(missing)}")
        if extra:
            problems.append(f"{label} has {_names(extra)} not in {a}")
    if problems:
        raise InputError("folders do not match (" + str(len(la)) + f" images in {a}): " + "; ".join(problems))
    return sorted(names), la, lb, lf


def _size_of(path: Path) -> tuple[int, int]:
    from PIL import Image

    try:
        with Image.open(path) as im:
            return im.size
    except Exception as e:
        raise InputError(f"{path}: cannot read image ({type(e).__name__})") from None


def check_sizes(names, la, lb, lf) -> None:
    bad = []
    for n in names:
        sa = _size_of(la[n])
        for p in [lb[n]] + [l[n] for l in lf.values()]:
            s = _size_of(p)
            if s != sa:
                bad.append(f"{p} is {s[0]}x{s[1]}, {la[n].name} is {sa[0]}x{sa[1]}")
    if bad:
        more = f" (+{len(bad) - 5} more)" if len(bad) > 5 else ""
        raise InputError("image sizes differ: " + "; ".join(bad[:5]) + more)


# ---------------------------------------------------------------------------------------------
# metric selection
# ---------------------------------------------------------------------------------------------


def select_metrics(metrics: list[str] | None, profile: str | None) -> dict[str, str]:
    """``{display label: registered key}``. Bare metric names are accepted when unambiguous."""
    from ..metrics import METRICS, resolve

    keys: list[str] | None = None
    if metrics:
        keys = []
        for item in metrics:
            for m in filter(None, (s.strip() for s in item.split(","))):
                if m in METRICS:
                    keys.append(m)
                    continue
                cands = [n for n in METRICS.names() if n.split("@")[0].lower() == m.lower()]
                checked = [n for n in cands if METRICS.meta(n)["checked"]]
                pick = checked if len(checked) == 1 else cands
                if len(pick) == 1:
                    keys.append(pick[0])
                elif pick:
                    raise ParameterError(f"metric {m!r} is ambiguous: use one of {', '.join(pick)}")
                else:
                    keys.append(m)  # resolve() raises with suggestions
    return resolve(keys, profile)


def list_metrics() -> str:
    from ..metrics import METRICS, PROFILES

    lines = ["metrics (key, better, checked against the reference code, convention):"]
    for e in METRICS:
        m = e.meta
        arrow = "higher" if m["higher_is_better"] else "lower"
        chk = "checked" if m["checked"] else "unchecked"
        slow = ", slow" if m["slow"] else ""
        lines.append(f"  {e.name:20s} {arrow:6s} {chk}{slow}: {m['convention']}")
    lines.append("profiles: " + ", ".join(PROFILES))
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# computation
# ---------------------------------------------------------------------------------------------


def _score(key: str, a, b, f) -> float:
    from ..metrics import METRICS

    return float(METRICS.get(key)(a, b, f))


def _compute(names, la, lb, lf, methods, fused, labels, jobs: int, quiet: bool) -> dict:
    """Score pair by pair (so memory holds one pair at a time); with ``jobs`` > 1 the metrics
    of a pair run in that many worker processes. Returns table[method][image][label]."""
    from tqdm import tqdm

    table: dict = {m: {n: {} for n in names} for m in methods}
    total = len(names) * len(methods) * len(labels)
    bar = tqdm(total=total, desc="evaluate", unit="metric", disable=quiet, file=sys.stderr)
    ex = ProcessPoolExecutor(max_workers=jobs) if jobs > 1 else None
    try:
        for n in names:
            a, b = read_gray(la[n]), read_gray(lb[n])
            tasks = []
            for m, d in zip(methods, fused):
                fp = lf[str(d)][n]
                f = read_gray(fp)
                for lab, key in labels.items():
                    tasks.append((m, n, lab, key, (a, b, f), fp))
            if ex is None:
                for t in tasks:
                    table[t[0]][t[1]][t[2]] = _run_one(t)
                    bar.update(1)
            else:
                futs = [ex.submit(_score, t[3], *t[4]) for t in tasks]
                for t, fu in zip(tasks, futs):
                    try:
                        table[t[0]][t[1]][t[2]] = fu.result()
                    except ValueError as e:
                        raise InputError(f"{t[5]}: {t[3]}: {e}") from None
                    bar.update(1)
    finally:
        if ex is not None:
            ex.shutdown(cancel_futures=True)
        bar.close()
    return table


def _run_one(t) -> float:
    try:
        return _score(t[3], *t[4])
    except InputError:
        raise
    except ValueError as e:
        raise InputError(f"{t[5]}: {t[3]}: {e}") from None


# ---------------------------------------------------------------------------------------------
# output
# ---------------------------------------------------------------------------------------------


def _arrows() -> tuple[str, str]:
    enc = getattr(sys.stdout, "encoding", None) or "ascii"
    try:
        "↑↓".encode(enc)
        return "↑", "↓"
    except (UnicodeEncodeError, LookupError):
        return "^", "v"


def _fmt(v: float) -> str:
    if not math.isfinite(v):
        return str(v)
    a = abs(v)
    if a != 0 and (a < 1e-3 or a >= 1e6):
        return f"{v:.4e}"
    return f"{v:.4f}"


def _best(vals: list[float], higher: bool) -> set[int]:
    finite = [(v, i) for i, v in enumerate(vals) if math.isfinite(v)]
    if len(finite) < 2:
        return set()
    target = max(finite)[0] if higher else min(finite)[0]
    return {i for v, i in finite if v == target}


def format_table(methods: list[str], names: list[str], labels: dict[str, str], table: dict) -> str:
    """table[method][image or 'mean'][label] -> value."""
    from ..metrics import METRICS

    up, down = _arrows()
    higher = {lab: METRICS.meta(key)["higher_is_better"] for lab, key in labels.items()}
    cols = list(labels)
    head = ["method", "image"] + [f"{c}{up if higher[c] else down}" for c in cols]
    rows_out: list[list[str]] = []
    groups = names + ["mean"]
    if len(methods) > 1:
        # best across methods, for every image and for the mean
        for g in groups:
            marks = {c: _best([table[m][g][c] for m in methods], higher[c]) for c in cols}
            for i, m in enumerate(methods):
                rows_out.append([m, g] + [_fmt(table[m][g][c]) + ("*" if i in marks[c] else "") for c in cols])
    else:
        m = methods[0]
        marks = {c: _best([table[m][g][c] for g in names], higher[c]) for c in cols}
        for i, g in enumerate(groups):
            rows_out.append([m, g] + [_fmt(table[m][g][c]) + ("*" if i in marks[c] else "") for c in cols])
    widths = [max(len(r[k]) for r in [head] + rows_out) for k in range(len(head))]
    lines = ["  ".join(h.ljust(w) if k < 2 else h.rjust(w) for k, (h, w) in enumerate(zip(head, widths)))]
    lines.append("  ".join("-" * w for w in widths))
    for r in rows_out:
        lines.append("  ".join(x.ljust(w) if k < 2 else x.rjust(w) for k, (x, w) in enumerate(zip(r, widths))))
    note = "* best per metric " + ("across methods" if len(methods) > 1 else "across images")
    lines.append(f"{note}; {up} higher is better, {down} lower is better")
    return "\n".join(lines)


def write_results(path: Path, methods, names, labels, table, dirs) -> None:
    from ..metrics import METRICS

    from ..io.atomic import atomic_write

    suffix = path.suffix.lower()
    if suffix not in (".csv", ".json"):
        raise ParameterError(f"--out {path}: use a .csv or .json file name")
    with atomic_write(path) as tmp:
        _write_results(tmp, suffix, methods, names, labels, table, dirs)


def _write_results(tmp: Path, suffix: str, methods, names, labels, table, dirs) -> None:
    from ..metrics import METRICS

    if suffix == ".csv":
        with open(tmp, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["method", "folder", "image"] + list(labels))
            for m in methods:
                for g in names + ["mean"]:
                    w.writerow([m, dirs[m], g] + [repr(table[m][g][c]) for c in labels])
    elif suffix == ".json":
        doc = {
            "metrics": {
                lab: {"key": key, "higher_is_better": METRICS.meta(key)["higher_is_better"],
                      "reference": METRICS.meta(key)["reference"], "convention": METRICS.meta(key)["convention"]}
                for lab, key in labels.items()
            },
            "gray_conversion": "MATLAB rgb2gray (0.298936021293775, 0.587043074451121, 0.114020904255103), "
                               "rounded half away from zero",
            "methods": {
                m: {"folder": dirs[m], "images": {g: table[m][g] for g in names}, "mean": table[m]["mean"]}
                for m in methods
            },
        }
        with open(tmp, "w") as fh:
            json.dump(doc, fh, indent=2)
            fh.write("\n")


def _method_labels(fused: list[Path]) -> list[str]:
    labels = [d.name or str(d) for d in fused]
    if len(set(labels)) < len(labels):
        labels = [str(d) for d in fused]
    if len(set(labels)) < len(labels):
        raise ParameterError("the same --fused folder is given twice")
    return labels


def run(args: argparse.Namespace) -> int:
    if args.list:
        print(list_metrics())
        return 0
    missing = [o for o, v in (("--a", args.a), ("--b", args.b), ("--fused", args.fused)) if not v]
    if missing:
        raise ParameterError(f"evaluate needs {', '.join(missing)} (or --list)")
    if args.jobs < 1:
        raise ParameterError(f"--jobs {args.jobs}: must be at least 1")
    if args.out and Path(args.out).suffix.lower() not in (".csv", ".json"):
        raise ParameterError(f"--out {args.out}: use a .csv or .json file name")
    if args.out:  # before any metric is computed: folder, permissions, not a directory
        from ..image_io import check_writable

        check_writable(args.out, formats={".csv": "CSV", ".json": "JSON"})
    labels = select_metrics(args.metrics, args.profile)
    a_dir, b_dir = Path(args.a), Path(args.b)
    fused = [Path(d) for d in args.fused]
    methods = _method_labels(fused)
    names, la, lb, lf = pair_folders(a_dir, b_dir, fused)
    check_sizes(names, la, lb, lf)

    table = _compute(names, la, lb, lf, methods, fused, labels, args.jobs, args.quiet)
    for m in methods:
        table[m]["mean"] = {lab: float(np.mean([table[m][n][lab] for n in names])) for lab in labels}
    print(format_table(methods, names, labels, table))
    if args.out:
        write_results(Path(args.out), methods, names, labels, table, {m: str(d) for m, d in zip(methods, fused)})
        if not args.quiet:
            print(f"wrote {args.out}", file=sys.stderr)
    return 0
