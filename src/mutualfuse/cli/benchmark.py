"""``mutualfuse benchmark``: regenerate the paper's Tables 1–7, figures, runtime table and an HTML
report (see ``docs/benchmark.md``)."""
from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

from ..errors import InputError, ParameterError


def add_parser(sub) -> None:
    p = sub.add_parser(
        "benchmark",
        help="regenerate the paper's tables and figures (cached, resumable)",
        description="Fuse every pair of the paper's test sets with every registered method and shipped weights, "
                    "score them with the paper's metrics, and write Tables 1-7 (Markdown, CSV, LaTeX), the "
                    "paper-vs-reproduced view, a runtime table, figures and one offline HTML report into --out. "
                    "Fused images and metric values are cached; a second run recomputes nothing. Problems "
                    "(a failing method, an unreadable image) are listed in the report and give exit status 1; a "
                    "set the run needs that is missing stops it before any work (exit status 2).",
    )
    from .common import non_empty  # --out "" wrote the report into the working folder

    p.add_argument("--data-root", metavar="DIR", type=non_empty,
                   help="the shared data folder (default: $MUTUALFUSE_DATA; --data-root wins when both are given, "
                        "and the report names the one used)")
    p.add_argument("-o", "--out", metavar="DIR", default="benchmark", type=non_empty,
                   help="output folder (default: ./benchmark)")
    p.add_argument("--tables", default="1,2,3,4,5,6,7",
                   help="which of the paper's tables, e.g. 1,2,3, or none (only the --sets tables) (default: 1-7)")
    p.add_argument("--sets", nargs="+", default=[], metavar="SET",
                   help="further sets as tables, e.g. ir-vis/tno40 medical/pet-mri ('extra' = all five other shared sets)")
    p.add_argument("--methods", help="only these registered methods (comma-separated; 'none' for none)")
    p.add_argument("--weights", help="only these shipped weights as network rows, and weights files of your own as "
                                     "NAME=FILE (row Ours[NAME]) (comma-separated; 'none' for none)")
    p.add_argument("--param", action="append", default=[], metavar="METHOD.KEY=VALUE",
                   help="a parameter of one method (part of its cache key), e.g. dwt.levels=3; repeatable")
    p.add_argument("--fused", action="append", default=[], metavar="NAME=DIR",
                   help="a folder of your fused images (named like the set's pairs; one folder per set as "
                        "DIR/<task>/<set>/, e.g. DIR/ir-vis/tno/) as row NAME; repeatable")
    from .common import add_import

    add_import(p, help="import a Python module first: a module name (found on the Python path or in the working "
                       "folder), a .py file or a package folder; the methods it registers (register_method) become "
                       "rows, the metrics it registers (register_metric) can be named by --extra-metrics; "
                       "repeatable (as --import of fuse, fuse-dir, fuse-stack, fuse-video, fuse-volume, serve, "
                       "methods and evaluate)")
    p.add_argument("--extra-metrics", nargs="+", action="extend", default=[], metavar="KEY",
                   help="registered metric keys added as extra columns after the paper's in every table (e.g. "
                        "Qcb@liu, or a metric of your own registered by an --import module: register_metric); "
                        "commas allowed; repeatable. The paper's columns and their order are kept; a note under "
                        "each table says whose metric an extra column is and that one of your own is unchecked "
                        "(docs/benchmark.md, 'Your own method')")
    p.add_argument("--quick", action="store_true",
                   help="two pairs per set, no slow metrics (VIF) or slow methods (GTF, ASR, CSR): a smoke run")
    p.add_argument("--pairs", type=int, metavar="N", help="only the N smallest pairs of every set (ties by name)")
    p.add_argument("--fast-metrics", action="store_true", help="leave out the slow metric columns (VIF)")
    p.add_argument("-j", "--jobs", type=int, default=1, help="worker processes (default 1)")
    p.add_argument("--cache", metavar="DIR", type=non_empty,
                   help="cache folder (default: $XDG_CACHE_HOME/mutualfuse/benchmark or ~/.cache/mutualfuse/benchmark)")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"],
                   help="device of the network rows: cpu, cuda or auto (default cpu)")
    p.add_argument("--figures", metavar="YAML", help="figures config (default: configs/benchmark/figures.yaml)")
    p.add_argument("--ablations", metavar="YAML", help="Tables 4-7 rows (default: configs/benchmark/ablations.yaml)")
    p.add_argument("--retime", action="store_true",
                   help="time one fresh fusion per method for the runtime table even when all images are cached")
    from .common import add_quiet

    add_quiet(p)  # as every command: no progress bar and no closing "wrote ..." line; problems still printed
    p.set_defaults(func=run)


def _names(value: str | None) -> list[str] | None:
    if value is None:
        return None
    if value.strip().lower() == "none":
        return []
    return [v.strip() for v in value.split(",") if v.strip()]


def _tables(value: str) -> tuple[str, ...]:
    if value.strip().lower() == "none":
        return ()
    out = []
    for v in value.split(","):
        v = v.strip().lower().removeprefix("table")
        if v not in {str(i) for i in range(1, 8)}:
            raise ParameterError(f"--tables {value}: expected numbers 1-7 (or none)")
        out.append(f"table{v}")
    return tuple(dict.fromkeys(out))


def _params(items: list[str]) -> dict[str, dict]:
    """``METHOD.KEY=VALUE`` items → ``{method: {key: value}}``, each value read as ``fuse --param``
    reads it (:func:`mutualfuse.cli.fuse.parse_params`: true/false, int, float, else text), so
    ``mgff.eps=1e3`` is the number 1000 here too (YAML 1.1 reads it as text). KEY is what follows
    the last dot (a parameter is a Python name), so a method of one's own may have dots in its name."""
    from .fuse import parse_params

    out: dict[str, dict] = {}
    for it in items:
        key, sep, val = it.partition("=")
        method, dot, name = key.rpartition(".")
        if not sep or not dot or not method or not name:
            raise ParameterError(f"--param {it!r}: expected METHOD.KEY=VALUE (e.g. dwt.levels=3)")
        out.setdefault(method, {}).update(parse_params([f"{name}={val}"]))
    return out


def _check_params(params: dict[str, dict]) -> None:
    """Refuse a ``--param METHOD.KEY=VALUE`` whose name or value the method does not take, before
    any work (a bad value used to fail on every pair, as a problem line each, after a full run).
    Methods of ``--import`` modules are not registered yet: the run checks them once it has imported
    them (:func:`mutualfuse.benchmark.plugins.check_method_rows`)."""
    from ..benchmark.runner import check_param_names
    from ..methods import METHODS, check_method_params

    check_param_names(params)
    for method, kw in params.items():
        if method not in METHODS:
            continue
        for key, value in kw.items():
            try:
                check_method_params(method, {key: value})
            except ParameterError as e:
                raise ParameterError(f"--param {method}.{key}: {e}") from None


def _check_cache(given: str | None) -> None:
    """Refuse a cache folder that cannot be one before any work, worded as the output folder is:
    the path first (a line break in it shown escaped: it was shown as a space), the problem, and
    where the path came from. It said "X: --cache exists and is not a folder" (the option as the
    subject) and, under a file, "X: cannot use as the cache folder (Not a directory)"."""
    from ..benchmark.config import default_cache_dir
    from ..image_io import _one_line_path
    from .common import refuse_in_the_way

    cache = Path(given) if given else default_cache_dir()
    said = "--cache" if given else "the default cache folder; give --cache DIR"
    if cache.exists() and not cache.is_dir():
        raise InputError(f"{_one_line_path(cache)}: cache path exists and is not a folder ({said})")
    refuse_in_the_way(cache, said)


def run(args: argparse.Namespace) -> int:
    from ..benchmark import BenchmarkConfig, run_benchmark
    from ..benchmark.specs import EXTRA_SETS

    root = args.data_root or os.environ.get("MUTUALFUSE_DATA")
    if not root:
        raise ParameterError("benchmark needs the data root: --data-root DIR or MUTUALFUSE_DATA")
    if args.pairs is not None and args.pairs < 1:
        raise ParameterError(f"--pairs {args.pairs}: must be at least 1")
    params = _params(args.param)
    _check_params(params)
    if Path(args.out).exists() and not Path(args.out).is_dir():  # worded as every command's (s27)
        from ..image_io import _one_line_path

        raise InputError(f"{_one_line_path(args.out)}: output path exists and is not a folder (--out)")
    from .common import refuse_in_the_way

    refuse_in_the_way(args.out, "--out")  # `-o afile/sub`: was "cannot create the output folder (Not a directory)"
    _check_cache(args.cache)
    sets: list[str] = []
    for s in args.sets:
        sets += list(EXTRA_SETS) if s == "extra" else [s]
    cfg = BenchmarkConfig(
        data_root=Path(root), out=Path(args.out), tables=_tables(args.tables), sets=tuple(dict.fromkeys(sets)),
        methods=_names(args.methods), weights=_names(args.weights), params=params, fused=args.fused,
        imports=tuple(args.imports), extra_metrics=tuple(args.extra_metrics), quick=args.quick,
        fast_metrics=args.fast_metrics, pairs=args.pairs, jobs=args.jobs,
        cache=Path(args.cache) if args.cache else None, device=args.device,
        figures_config=Path(args.figures) if args.figures else None,
        ablations_config=Path(args.ablations) if args.ablations else None,
        retime=args.retime, progress=not args.quiet,
        data_root_from="--data-root" if args.data_root else "MUTUALFUSE_DATA",
        command=("mutualfuse benchmark " + " ".join(shlex.quote(a) for a in sys.argv[2:])).strip()
        if sys.argv[1:2] == ["benchmark"] else "mutualfuse benchmark",
    )
    try:
        out = run_benchmark(cfg)
    except OSError as e:  # a full disk was "internal error: OSError", exit 1
        from ..io.atomic import WRITE_ERRNOS

        if e.errno not in WRITE_ERRNOS:
            raise
        where = Path(e.filename) if e.filename else None
        inside = where is None or cfg.out.resolve() in where.resolve().parents
        raise InputError(f"{cfg.out if inside else where}: cannot write ({e.strerror or e}); "
                         f"{cfg.out} was left as it was") from None
    if not args.quiet:  # -q: nothing on success; the problems and the error line below are still printed
        from ..image_io import _one_line_path  # a name's line break or escape shown escaped, as errors show it

        print(f"wrote {_one_line_path(cfg.out / 'report.html')} ({len(out.tables)} tables, {len(out.figures)} "
              f"figure files; {out.stats['fused_computed']} fused images and {out.stats['metrics_computed']} metric values "
              f"computed, {out.stats['wall_s']} s)")
    for p in out.problems:
        print(f"mutualfuse: problem: {p}", file=sys.stderr)
    if out.problems:
        print(f"mutualfuse: error: the benchmark finished with {len(out.problems)} problem(s), listed in "
              f"{cfg.out / 'report.html'}", file=sys.stderr)
        return 1
    return 0
