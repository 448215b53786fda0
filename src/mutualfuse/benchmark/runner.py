"""The benchmark run: plan the tables, fuse and score every (row, pair) through the cache, then
write the tables, the paper-vs-reproduced view, the runtime table, the figures and the report.

Problems (a method failing on an image, an unreadable image, weights not trained yet) never stop
the run: each becomes one line in ``problems`` (printed, and listed in the report), and the
affected row is marked; the CLI exits non-zero when there are any. A set the run needs that is
missing stops it before any work (:func:`_open_set`).
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..errors import InputError, ParameterError
from ..io.signals import interrupts_held
from . import paper as paper_view
from .cache import sha256_file
from .config import BenchmarkConfig, find_config
from .jobs import Result, Task, fuse_pair, init_worker, read_source, run_task
from .sources import (Source, ablation_sources, fused_folder, fused_listing, fused_sources, listing, load_ablations,
                      method_sources, missing_fused_hint, own_weight_entries, paper_ours_id, reference_sources,
                      stored_sources, weights_sources)
from .specs import (ABLATION_TITLES, EXTRA_SETS, PAPER_TABLES, TableSpec, column_keys, extra_column_note,
                    extra_columns, paper_set_note, set_table)
from .table import Column, Row, Table, csv_meta, to_csv, to_latex, to_markdown

ROLE_FOLDERS = (("ir", "vis"), ("a", "b"))
#: the values of ``--device`` (the network rows)
DEVICES = ("cpu", "cuda", "auto")


@dataclass
class SetInfo:
    name: str
    root: Path
    roles: tuple[str, str]
    names: list[str]
    a: dict[str, Path]
    b: dict[str, Path]
    total: int = 0
    all_names: list[str] = field(default_factory=list)
    #: pairs of the set left out because their two images differ in size (:func:`_pair_size_problem`)
    #: or because one of its folders holds two images of the pair's name (``05.png`` and ``05.bmp``)
    unequal: list[str] = field(default_factory=list)

    def pairs_note(self) -> list[str]:
        """The table note naming the pairs left out (none: no note)."""
        if not self.unequal:
            return []
        return [f"pair{'s' if len(self.unequal) > 1 else ''} {', '.join(self.unequal)} of {self.name} left out "
                "(two sizes, or two images of one name: see the problems); the means are over the other pairs"]


@dataclass
class Plan:
    spec: TableSpec
    set: SetInfo
    sources: list[Source]
    columns: list[str]
    notes: list[str] = field(default_factory=list)
    #: the extra columns of this table (``--extra-metrics``): label → registered key, after the paper's
    extra: dict[str, str] = field(default_factory=dict)

    def keys(self) -> dict[str, str]:
        """Column label → registered metric key, for every column of this table."""
        return {**column_keys(), **self.extra}


@dataclass
class Outcome:
    """What a run produced (returned by :func:`run_benchmark`)."""

    tables: dict[str, Table]
    cells: list
    runtime: list[dict]
    figures: list[Path]
    problems: list[str]
    report: Path
    stats: dict[str, int]


def _pixels(p: Path) -> int:
    from PIL import Image

    try:
        with Image.open(p) as im:
            return im.size[0] * im.size[1]
    except Exception:  # noqa: BLE001 - unreadable: reported when it is used
        return 0


def _open_set(cfg: BenchmarkConfig, name: str, problems: list[str], users: list[str] | None = None) -> SetInfo:
    """The pairs of one set of the run. A set the run needs that is not there (a folder missing
    or renamed, without role folders or without pairs) is a one-line :class:`InputError` before
    any work, naming the folder and the tables that need it (it was a problem line after the
    whole run, exit 1, and a report without those tables). Images without a partner are a problem
    of the set (the run goes on with its pairs)."""
    root = cfg.data_root / name
    if not root.is_dir():
        raise _set_error(cfg, name, f"folder {root} not found{_similar_folder(root)}", users or [])
    for ra, rb in ROLE_FOLDERS:
        if (root / ra).is_dir() and (root / rb).is_dir():
            la, lb = listing(root / ra), listing(root / rb)
            if set(la) != set(lb):
                miss = sorted(set(la) ^ set(lb))
                problems.append(f"set {name}: {len(miss)} image(s) without a partner ({', '.join(miss[:5])}); left out")
            names = sorted(set(la) & set(lb))
            if not names:
                raise _set_error(cfg, name, f"no image pairs in {root / ra} and {root / rb} (a pair is two images "
                                            "of one name in the two folders)", users or [])
            total = len(names)
            pairs = names
            doubled = {**fused_listing(root / ra)[1], **fused_listing(root / rb)[1]}
            for n in sorted(set(doubled) & set(names)):  # 05.png and 05.bmp: which one is the pair's is a guess
                problems.append(f"set {name}: {len(doubled[n])} images for pair {n} "
                                f"({', '.join(str(q) for q in doubled[n])}); pair {n} left out (keep one)")
            names = [n for n in names if n not in doubled
                     and not _pair_size_problem(name, la[n], lb[n], problems)]
            if not names:
                raise _set_error(cfg, name, f"no usable pair in {root / ra} and {root / rb} (every pair's two "
                                            "images differ in size, or a pair has two images in one folder)",
                                 users or [])
            unequal = [n for n in pairs if n not in names]
            if cfg.pairs is not None:
                names = sorted(sorted(names, key=lambda n: (_pixels(la[n]), n))[:cfg.pairs])
            return SetInfo(name, root, (ra, rb), names, la, lb, total, pairs, unequal)
    have = sorted(p.name for p in root.iterdir() if p.is_dir()) if os.access(root, os.R_OK | os.X_OK) else []
    raise _set_error(cfg, name, f"{root} has no ir/vis or a/b folders (it holds "
                                f"{', '.join(have[:4]) + (', …' if len(have) > 4 else '') if have else 'no folder'})",
                     users or [])


def _size(p: Path) -> tuple[int, int] | None:
    """An image's (width, height) from its header; None where it cannot be read (reported when used)."""
    from PIL import Image

    try:
        with Image.open(p) as im:
            return im.size
    except Exception:  # noqa: BLE001 - unreadable: every row of the pair reports it (docs/benchmark.md)
        return None


def _pair_size_problem(set_name: str, a: Path, b: Path, problems: list[str]) -> bool:
    """Whether a pair's two images differ in size (read from their headers before any work): one
    problem line naming both files, and the pair is left out of the set's pairs (it still counts
    in the set's total, so the tables say "7 of 8 pairs" and the paper view says that their means
    are no reproduction check). Every row used to fail on it, one problem line each, and every row
    was then marked ``†`` and unranked: the table lost its marks."""
    sa, sb = _size(a), _size(b)
    if sa is None or sb is None or sa == sb:
        return False
    problems.append(f"set {set_name}: {b}: size {sb[0]}x{sb[1]} differs from {a} ({sa[0]}x{sa[1]}): "
                    f"pair {a.stem} left out (a pair's two images must have one size)")
    return True


def _similar_folder(path: Path) -> str:
    """`` (there is …/Lytro)`` when a folder on the way to ``path`` is missing but a sibling has
    its name in another case or with ``-``/``_`` swapped (a renamed set)."""
    def norm(s: str) -> str:
        return s.lower().replace("_", "-")

    p = path
    while not p.parent.is_dir() and p.parent != p:
        p = p.parent
    try:
        near = sorted(q for q in p.parent.iterdir() if q.is_dir() and q.name != p.name and norm(q.name) == norm(p.name))
    except OSError:
        return ""
    return f" (there is {near[0]}: the folder must be named {p.name})" if near else ""


def _set_error(cfg: BenchmarkConfig, name: str, why: str, users: list[str]) -> InputError:
    """The one-line error of a set the run needs and cannot read, naming what needs it and how to
    leave it out."""
    paper = [u for u in users if u in cfg.tables]
    need = ", ".join(f"Table {u[5:]}" if u in cfg.tables else f"--sets {name}" for u in users) or "the run"
    leave = []
    rest = [t[5:] for t in cfg.tables if t not in paper]
    if paper and (rest or any(s != name for s in cfg.sets)):  # --tables none without --sets has nothing to run
        leave.append(f"--tables {','.join(rest) or 'none'}")
    if any(u not in cfg.tables for u in users):
        leave.append(f"--sets without {name}")
    how = f", or leave it out: {' and '.join(leave)}" if leave else ""
    return InputError(f"set {name}: {why}; {need} {'needs' if len(users) <= 1 else 'need'} it (give the data root "
                      f"that holds it, --data-root DIR or MUTUALFUSE_DATA{how})")


def plan_tables(cfg: BenchmarkConfig, problems: list[str],
                imported: dict[str, list[str]] | None = None) -> tuple[list[Plan], list[str]]:
    """Which tables, on which pairs, with which rows and columns. ``imported``: the methods each
    ``--import`` registered (for the error of a ``--methods`` name that none did)."""
    from ..methods import METHODS
    from .plugins import check_method_rows

    # the registry's names are case-insensitive, and the rows are printed upper-case: --methods LP,MINE
    # and --param DWT.levels=3 name the same methods as lp,mine and dwt.levels=3
    canon = (lambda n: METHODS.entry(n).name if n in METHODS else n)  # noqa: E731
    params: dict[str, dict] = {}
    for m, kw in cfg.params.items():
        params.setdefault(canon(m), {}).update(kw)
    cfg = replace(cfg, methods=None if cfg.methods is None else list(dict.fromkeys(canon(n) for n in cfg.methods)),
                  params=params)
    notes: list[str] = []
    specs: list[TableSpec] = [s for s in PAPER_TABLES if s.id in cfg.tables]
    for s in cfg.sets:
        try:
            specs.append(set_table(s))
        except ValueError as e:
            raise ParameterError(f"--sets {e}") from None
    labels = column_keys()
    extra = extra_columns(cfg.extra_metrics)  # after the --import modules: their metrics are registered
    check_extra_metrics(extra, cfg.jobs)
    msrc, mnotes = method_sources(cfg.methods, cfg.params, cfg.quick)
    notes += mnotes
    unknown = sorted(set(cfg.methods or []) - {s.method for s in msrc})
    if unknown:
        hint = "".join(f"; --import {m} registered "
                       + (", ".join(n) if n else "no method (decorate the function with @register_method(NAME))")
                       for m, n in (imported or {}).items())
        from ..methods import METHODS
        from ..registry import did_you_mean

        raise ParameterError(f"--methods: unknown or network method(s) {', '.join(unknown)} "
                             f"(see `mutualfuse methods`; the network rows are chosen with --weights{hint})"
                             + did_you_mean(unknown[0], METHODS.names()))
    unknown_p = sorted(set(cfg.params) - {s.method for s in msrc})
    if unknown_p:
        raise ParameterError(f"--param: no method row named {', '.join(unknown_p)} in this run")
    check_param_names(cfg.params)
    # every row's parameter values, and what would make a user's method wrong or fail on every pair,
    # before any work (the --import modules are registered by now)
    check_method_rows([(s.method, dict(s.params)) for s in msrc], cfg.jobs)
    wsrc = weights_sources(cfg.weights)
    own_w = own_weight_entries(cfg.weights or [])
    unknown_w = [w for w in (cfg.weights or [])
                 if w not in own_w and w not in {s.weights for s in wsrc} | {s.id for s in wsrc}]
    if unknown_w:
        from ..registry import did_you_mean
        from ..weights import SHIPPED

        raise ParameterError(
            f"--weights: no shipped weights named {', '.join(unknown_w)} (have "
            f"{', '.join(n for n, w in SHIPPED.items() if w.group != 'ablation')} and the ablation-* "
            "variants of `mutualfuse methods`); weights of your own are a row with --weights NAME=FILE"
            + did_you_mean(unknown_w[0], list(SHIPPED)))
    usrc = fused_sources(cfg.fused)
    taken = {s.label.lower(): s.label for s in msrc + wsrc + stored_sources(wsrc)}
    for u in usrc:  # two rows of one label could not be told apart (nor read back from the tables)
        if u.label.lower() in taken:
            raise ParameterError(f"--fused {u.label}=...: a row of this run is already labelled "
                                 f"{taken[u.label.lower()]}; give the folder another NAME")
    abl_ids = [t for t in cfg.tables if t in ABLATION_TITLES]
    abl = None
    if abl_ids:
        path = cfg.ablations_config or find_config("ablations.yaml")
        if path is None:
            problems.append("Tables 4-7: no ablations config (configs/benchmark/ablations.yaml); pass --ablations")
        else:
            set_name, atables = load_ablations(Path(path))
            abl = (path, set_name, {t.id: t for t in atables})
    # every set the run needs, opened before any work: one that is missing stops the run (exit 2)
    users: dict[str, list[str]] = {}
    for spec in specs:
        users.setdefault(spec.set, []).append(spec.id)
    if abl is not None:
        for tid in abl_ids:
            if tid in abl[2]:
                users.setdefault(abl[1], []).append(tid)
    sets: dict[str, SetInfo] = {name: _open_set(cfg, name, problems, who) for name, who in users.items()}

    plans = []
    for spec in specs:
        si = sets[spec.set]
        cols = [c for c in spec.columns if not (cfg.fast_metrics and spec.is_slow(c))]
        tsrc = stored_sources(wsrc)
        rsrc = reference_sources(cfg.data_root, spec.set, si.all_names, problems)
        ref_labels = {s.label.lower(): s.label for s in rsrc}
        for u in usrc:  # a published-images row of this set (IFCNN(max)) is a row label too
            if u.label.lower() in ref_labels:
                raise ParameterError(f"--fused {u.label}=...: a row of this run is already labelled "
                                     f"{ref_labels[u.label.lower()]} (published fused images in the data root, "
                                     f"{spec.set}); give the folder another NAME")
        srcs = msrc + wsrc + tsrc + rsrc + usrc
        plans.append(Plan(spec, si, srcs, cols, _left_out_note(spec.columns, cols) + si.pairs_note()))
    if abl is not None:
        path, set_name, by_id = abl
        srcs = ablation_sources([by_id[t] for t in abl_ids if t in by_id], first_only=cfg.quick)
        # a note of Tables 4-7 themselves (it was printed under Tables 1-3, which it does not concern)
        quick_note = (["--quick: every row uses its first matching weights (seed 0), not the mean ± sd over "
                       "every seed"] if cfg.quick else [])
        for tid in abl_ids:
            if tid not in by_id:
                problems.append(f"{tid}: not in {path}")
                continue
            si = sets[set_name]
            cols = [c for c in PAPER_TABLES[0].columns if not (cfg.fast_metrics and PAPER_TABLES[0].is_slow(c))]
            title = by_id[tid].title or ABLATION_TITLES[tid]
            spec = TableSpec(tid, title, set_name, PAPER_TABLES[0].columns, "bold", int(tid[5:]), ablation=True)
            plans.append(Plan(spec, si, srcs[tid], cols, _left_out_note(spec.columns, cols) + si.pairs_note()
                              + quick_note))
    for p in plans:
        for c in p.columns:
            if c not in labels:
                raise ParameterError(f"{p.spec.id}: no metric for column {c}")
        add_extra_columns(p, extra)
    resolve_fused_folders(plans, problems)
    return plans, notes


def resolve_fused_folders(plans: list[Plan], problems: list[str]) -> None:
    """Point every ``--fused NAME=DIR`` row of a table at its set's images: ``DIR/<task>/<set>/``
    when it exists, else ``DIR``. A row whose folder holds none of the set's pairs, or whose flat
    ``DIR`` holds pair names of two sets of the run (``ir-vis/tno`` and ``ir-vis/tno40`` both
    have ``01``…), is left empty in that table with one problem line (it was a problem per pair,
    or, for two sets, images scored against the other set's sources)."""
    flat_sets: dict[str, list[str]] = {}
    for pl in plans:
        if pl.spec.ablation:
            continue
        for src in pl.sources:
            if src.kind == "fused" and fused_folder(src.folder, pl.set.name) == Path(src.folder):
                have, _ = fused_listing(Path(src.folder))
                if set(have) & set(pl.set.all_names) and pl.set.name not in flat_sets.setdefault(src.id, []):
                    flat_sets[src.id].append(pl.set.name)
    for pl in plans:
        if pl.spec.ablation:
            continue
        for i, src in enumerate(pl.sources):
            if src.kind != "fused":
                continue
            d = fused_folder(src.folder, pl.set.name)
            have, _ = fused_listing(d)
            why = ""
            if d == Path(src.folder) and len(flat_sets.get(src.id, [])) > 1:
                why = (f"{d} holds pair names of {' and '.join(flat_sets[src.id])}, so which set an image belongs to "
                       f"is unknown: put each set's images in {Path(src.folder) / '<task>/<set>'}/ "
                       f"(e.g. {Path(src.folder) / pl.set.name}/)")
            elif not set(have) & set(pl.set.names):
                some = ", ".join(sorted(p.name for p in have.values())[:3]) or "no image"
                why = (f"{d} holds no image named like the pairs of {pl.set.name} ({', '.join(pl.set.names[:3])}"
                       f"{', …' if len(pl.set.names) > 3 else ''}, with any image suffix; it holds {some}"
                       f"{', …' if len(have) > 3 else ''}); one folder per set goes in "
                       f"{Path(src.folder) / '<task>/<set>'}/")
            if why:
                problems.append(f"{src.id} in {pl.spec.id}: {why}; the row is left empty")
                pl.sources[i] = replace(src, missing=why)
            elif d != Path(src.folder):
                pl.sources[i] = replace(src, folder=str(d))


def add_extra_columns(plan: Plan, extra: dict[str, str]) -> None:
    """Append the ``--extra-metrics`` columns to a table, after the paper's (whose columns and order
    are kept), each with a note saying whose metric it is and whether it is checked. A metric that
    is already one of the table's columns (``EN@rfn-nest`` is Table 1's EN) is not repeated."""
    have = {column_keys()[c]: c for c in plan.columns}
    for label, key in extra.items():
        if key in have:
            plan.notes.append(f"{label} (--extra-metrics) is this table's column {have[key]}: not repeated")
            continue
        plan.columns.append(label)
        plan.extra[label] = key
        plan.notes.append(extra_column_note(label, key))


def check_extra_metrics(extra: dict[str, str], jobs: int) -> None:
    """Refuse, before any work, a metric of one's own that the ``-j N`` workers cannot import: one
    defined in an interactive session (``__main__`` without a file)."""
    import inspect

    from ..metrics import METRICS, OWN_SOURCE
    from .plugins import defined_interactively, interactive_refusal

    if jobs <= 1:
        return
    for key in extra.values():
        if METRICS.meta(key)["source"] != OWN_SOURCE:
            continue
        if defined_interactively(inspect.unwrap(METRICS.get(key))):
            raise ParameterError(f"--extra-metrics: metric {key!r} {interactive_refusal(jobs)}")


def _left_out_note(wanted: tuple[str, ...], cols: list[str]) -> list[str]:
    """A table note naming the paper's columns this run leaves out (the slow metrics)."""
    gone = [c for c in wanted if c not in cols]
    if not gone:
        return []
    return [f"{', '.join(gone)} left out (slow metrics; --quick / --fast-metrics): the paper's table has "
            f"{'this column' if len(gone) == 1 else 'these columns'}"]


def check_param_names(params: dict[str, dict]) -> None:
    """Refuse a ``--param METHOD.KEY`` that the method's function has no parameter for, before
    any work (it used to fail on every pair, as a problem line each)."""
    import inspect

    from ..methods import METHODS

    for method, kw in params.items():
        try:
            sig = inspect.signature(METHODS.get(method))
        except (KeyError, TypeError, ValueError):
            continue
        ps = list(sig.parameters.values())
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in ps):
            continue
        names = [p.name for p in ps[2:] if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                                       inspect.Parameter.KEYWORD_ONLY)]
        bad = sorted(set(kw) - set(names))
        if bad:
            raise ParameterError(f"--param {method}.{bad[0]}: method {method!r} has no parameter {bad[0]!r} "
                                 f"(its parameters: {', '.join(names) or 'none'})")


def _progress(total: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc="benchmark", unit="img", disable=not enabled, file=sys.stderr,
                bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}, {rate_fmt}]")


def execute(tasks: list[Task], cfg: BenchmarkConfig) -> list[Result]:
    """Run the tasks (``cfg.jobs`` worker processes) with a progress bar and ETA."""
    results: list[Result] = []
    bar = _progress(len(tasks), cfg.progress)
    try:
        if cfg.jobs <= 1:
            for t in tasks:
                results.append(run_task(t))
                bar.update(1)
        else:
            import multiprocessing as mp

            ctx = mp.get_context("spawn")
            ex = ProcessPoolExecutor(max_workers=cfg.jobs, mp_context=ctx, initializer=init_worker,
                                     initargs=(worker_imports(tasks, cfg),))
            try:
                futs = [ex.submit(run_task, t) for t in tasks]
                for fu in as_completed(futs):
                    results.append(fu.result())
                    bar.update(1)
            except BaseException:
                # Ctrl+C / SIGTERM (or a broken pool): stop now, not after every queued job
                # (``with`` would wait for them all); the jobs in flight are abandoned
                from ..io.signals import stop_workers

                stop_workers(ex)
                raise
            ex.shutdown(wait=True)
    finally:
        bar.close()
    return results


def worker_imports(tasks: list[Task], cfg: BenchmarkConfig) -> tuple[str, ...]:
    """What a ``-j N`` worker imports: the ``--import`` modules, then the module of every other
    user method of the run's rows and of every metric of one's own of its extra columns (one
    registered by a script or by a module the caller imported before :func:`run_benchmark`, which
    the workers would not have registered: every pair failed with 'unknown fusion method', or its
    column with 'not registered in this -j worker'). A method of ``__main__`` is found again by
    the spawned worker."""
    import inspect

    from ..methods import METHODS
    from ..metrics import METRICS
    from .plugins import _is_path, is_builtin

    mods = list(cfg.imports)
    # the modules those load by name (a file's stem, a package folder's name, and what is inside them)
    covered = {Path(m).stem if _is_path(m) else m for m in cfg.imports}
    fns = [METHODS.get(name) for name in dict.fromkeys(t.source.method for t in tasks if t.source.kind == "method")]
    # the metrics of one's own of the extra columns (registered by a module the caller imported)
    fns += [inspect.unwrap(METRICS.get(k)) for k in dict.fromkeys(k for t in tasks for k in t.cache_names)]
    for fn in fns:
        mod = getattr(fn, "__module__", None) or ""
        spec = getattr(sys.modules.get(mod), "__spec__", None)  # importable by name (not exec'd)
        if (spec is None or mod in ("__main__", "__mp_main__") or is_builtin(fn)
                or any(mod == c or mod.startswith(c + ".") for c in covered)):
            continue
        covered.add(mod)
        mods.append(mod)
    return tuple(mods)


def build_tasks(plans: list[Plan], cfg: BenchmarkConfig, problems: list[str]) -> list[Task]:
    from .sources import metric_cache_name

    # the cache names of the extra columns' metrics (a metric of one's own: its key and its module's
    # digest), computed once here and handed to the jobs (the -j workers need not hash the module)
    names: dict[str, str] = {}
    for pl in plans:
        for key in pl.extra.values():
            if key not in names:
                names[key] = metric_cache_name(key)
    shas: dict[Path, str] = {}

    def sha(p: Path) -> str | None:
        if p not in shas:
            try:
                shas[p] = sha256_file(p)
            except OSError as e:
                problems.append(f"{p}: cannot read ({type(e).__name__})")
                shas[p] = ""
        return shas[p] or None

    tasks: dict[tuple[str, str, str], Task] = {}
    for pl in plans:
        labels = pl.keys()
        keys = tuple(labels[c] for c in pl.columns)
        soft = tuple(pl.extra.values())
        for src in pl.sources:
            if src.missing:
                continue
            flist, dups = fused_listing(Path(src.folder)) if src.folder else (None, {})
            for n in pl.set.names:
                a, b = pl.set.a[n], pl.set.b[n]
                sa, sb = sha(a), sha(b)
                k = (src.id, pl.set.name, n)
                if sa is None or sb is None:
                    continue
                if k in tasks:
                    t = tasks[k]
                    t.keys = tuple(dict.fromkeys(t.keys + keys))
                    t.soft = tuple(dict.fromkeys(t.soft + soft))
                    continue
                ff = ferr = None
                if flist is not None:
                    ff = str(flist[n]) if n in flist else str(Path(src.folder) / f"{n}.png")
                    if n in dups:
                        ferr = (f"{src.folder}: {len(dups[n])} files for pair {n} "
                                f"({', '.join(p.name for p in dups[n])}); keep one")
                    elif n not in flist:
                        ferr = (f"{src.folder}: no fused image for pair {n} ({n}.png, .tif, .jpg or .bmp)"
                                + missing_fused_hint(n, flist))
                tasks[k] = Task(src, pl.set.name, n, str(a), str(b), sa, sb, keys, str(cfg.cache), cfg.device, ff,
                                ferr, soft=soft, jobs=cfg.jobs,
                                cache_names={key: names[key] for key in soft if names[key] != key})
    return list(tasks.values())


def aggregate(plans: list[Plan], results: dict[tuple[str, str, str], Result], problems: list[str]) -> dict[str, Table]:
    from ..metrics import METRICS

    tables: dict[str, Table] = {}
    for pl in plans:
        labels = pl.keys()
        cols = [Column(c, labels[c], METRICS.meta(labels[c])["higher_is_better"]) for c in pl.columns]
        rows = []
        for src in pl.sources:
            n_pairs = len(pl.set.names)
            if src.missing:
                rows.append(Row(src.id, src.label, {c.label: None for c in cols}, n_pairs, 0, src.kind, src.missing))
                continue
            vals: dict[str, list[float]] = {c.label: [] for c in cols}
            ok, errs = 0, []
            col_errs: dict[str, list[str]] = {}  # an extra column's metric failing on a pair (its cell empty)
            col_nans: dict[str, list[str]] = {}  # pairs a metric is undefined for (NaN): its mean is NaN
            col_infs: dict[str, list[str]] = {}  # pairs a metric is infinite for: its mean is infinite
            for n in pl.set.names:
                r = results.get((src.id, pl.set.name, n))
                if r is None:
                    errs.append(f"{n}: not computed (source images unreadable)")
                    continue
                if r.error:
                    errs.append(f"{n}: {r.error}")
                    continue
                ok += 1
                for c in cols:
                    if c.key in r.values:
                        vals[c.label].append(r.values[c.key])
                        if math.isnan(r.values[c.key]):
                            col_nans.setdefault(c.label, []).append(n)
                        elif math.isinf(r.values[c.key]):
                            col_infs.setdefault(c.label, []).append(n)
                    else:
                        col_errs.setdefault(c.label, []).append(f"{n}: {r.metric_errors.get(c.key, 'not computed')}")
            note = ""
            if errs:
                note = f"failed on {len(errs)} of {n_pairs} pairs (first: {errs[0]})"
            for lab, ce in col_errs.items():
                note = (note + "; " if note else "") + (f"{lab} failed on {len(ce)} of {n_pairs} pairs (first: "
                                                        f"{ce[0]}): its cell is left empty")
            # a "nan" or "inf" cell says why, as evaluate's notes say it (it was printed without a word)
            for lab in (c.label for c in cols if c.label not in col_errs):
                if lab in col_nans:
                    nn = col_nans[lab]
                    note = (note + "; " if note else "") + (
                        f"{lab} is undefined (NaN, e.g. 0/0 in the metric) on {len(nn)} of {n_pairs} pairs "
                        f"(first: {nn[0]}), so its mean is NaN")
                elif lab in col_infs:
                    nn = col_infs[lab]
                    note = (note + "; " if note else "") + (
                        f"{lab} is infinite (a zero denominator in the metric) on {len(nn)} of {n_pairs} pairs "
                        f"(first: {nn[0]}), so its mean is infinite")
            means = {c.label: (float(np.mean(vals[c.label])) if vals[c.label] and c.label not in col_errs else None)
                     for c in cols}
            rows.append(Row(src.id, src.label, means, n_pairs, ok, src.kind, note, ranked=not src.group))
        rows = seed_means(rows, [s.group for s in pl.sources], cols)
        other = "" if pl.spec.ablation else paper_set_note(pl.spec.id, pl.set.name, pl.set.all_names)
        t = Table(pl.spec.id, pl.spec.title + f", {len(pl.set.names)} of {pl.set.total} pairs", cols, rows,
                  pl.spec.marking, list(pl.notes) + ([other] if other else []), set_pairs=pl.set.total,
                  other_set=other)
        tables[pl.spec.id] = t
    return tables


def seed_means(rows: list[Row], groups: list[str], cols: list[Column]) -> list[Row]:
    """Put a ``label (mean ± sd of k)`` row before every group of rows that one ablation row
    matched several times (trained variants differing e.g. only in seed). The mean is over the
    variants' per-set means, sd the sample standard deviation (ddof 1); a variant with failed
    pairs makes its group's mean partial (``n_ok`` < ``n_pairs``), so it is not ranked."""
    out: list[Row] = []
    done: set[str] = set()
    for r, g in zip(rows, groups):
        if g and g not in done:
            done.add(g)
            members = [m for m, gm in zip(rows, groups) if gm == g]
            means, sds = {}, {}
            for c in cols:
                v = [m.values.get(c.label) for m in members]
                ok = [x for x in v if x is not None]
                means[c.label] = float(np.mean(ok)) if len(ok) == len(v) else None
                sds[c.label] = float(np.std(ok, ddof=1)) if len(ok) == len(v) and len(ok) > 1 else None
            n_ok = min(m.n_ok for m in members)
            names = ", ".join(m.label.rsplit("[", 1)[-1].rstrip("]") for m in members)
            out.append(Row(f"{members[0].id.split('[', 1)[0]}[mean]", f"{g} (mean ± sd of {len(members)})", means,
                           members[0].n_pairs, n_ok, "ablation",
                           f"mean over {names}; sd " + ", ".join(f"{k}={v:.6g}" for k, v in sds.items() if v is not None),
                           spread=sds))
        out.append(r)
    return out


def runtime_rows(plans: list[Plan], results: dict, cfg: BenchmarkConfig) -> list[dict]:
    """Seconds per megapixel of every computing row, from the fusions of this run (or, for
    images read from the cache, the time recorded when they were computed)."""
    seen: dict[str, dict] = {}
    for pl in plans:
        for src in pl.sources:
            if not src.computes or src.id in seen:
                continue
            if src.kind == "ablation" and any(s.get("sha") == src.weights_sha256 for s in seen.values()):
                continue  # the same weights are already timed (e.g. the Mapping row is the default model)
            secs = pix = 0.0
            fresh = cached = 0
            when = set()
            fresh_jobs: set = set()
            cached_jobs: set = set()
            for (sid, _s, _n), r in results.items():
                if sid != src.id or r.error or r.seconds is None:
                    continue
                secs += r.seconds
                pix += r.pixels
                if r.fresh:
                    fresh += 1
                    fresh_jobs.add(r.timed_jobs)
                else:
                    cached += 1
                    cached_jobs.add(r.timed_jobs)
                    if r.timed_at:
                        when.add(r.timed_at[:10])
            seen[src.id] = {"id": src.id, "sha": src.weights_sha256,
                            "method": src.label if src.kind != "ablation" else f"{src.id.split(':', 1)[1]} [{src.weights}]",
                            "images": fresh + cached, "megapixels": pix / 1e6,
                            "seconds": secs, "s_per_mp": (secs / (pix / 1e6)) if pix else None,
                            "measured": ("this run" + _at_jobs(fresh_jobs, ", ") if fresh and not cached else
                                         f"this run ({fresh}{_at_jobs(fresh_jobs, ', ')}) and cache ({cached}, "
                                         f"recorded {', '.join(sorted(when))}{_at_jobs(cached_jobs, ', ')})"
                                         if fresh else f"recorded when cached ({', '.join(sorted(when)) or '?'}"
                                                       f"{_at_jobs(cached_jobs, ', ')})")}
    if cfg.retime:
        for pl in plans:
            for src in pl.sources:
                # a row left out above (an ablation row whose weights another row already times)
                # has no entry of its own: retiming it again was a KeyError that ended the run
                if not src.computes or src.id not in seen or seen[src.id].get("retimed"):
                    continue
                n = min(pl.set.names, key=lambda x: (_pixels(pl.set.a[x]), x))  # the smallest pair, as documented
                try:
                    a, b = read_source(pl.set.a[n]), read_source(pl.set.b[n])
                    fuse_pair(src, a, b, cfg.device)  # loads the model / warms up
                    _, dt = fuse_pair(src, a, b, cfg.device)
                    mp = a.shape[0] * a.shape[1] / 1e6
                    seen[src.id].update({"images": 1, "megapixels": mp, "seconds": dt, "s_per_mp": dt / mp,
                                         "measured": f"this run, --retime on {pl.set.name}/{n}", "retimed": True})
                except Exception as e:  # noqa: BLE001
                    seen[src.id]["measured"] = f"--retime failed: {type(e).__name__}"
    return list(seen.values())


def _at_jobs(jobs: set, sep: str = "") -> str:
    """At which ``-j`` the times of a runtime row were taken (``-j 2``, ``-j 1 and 2``), for its
    ``measured`` column; ``-j not recorded`` for cache entries older than the record. The table's
    header said the run's own ``-j`` of every row, also of times recorded by an earlier run at another."""
    known = sorted(j for j in jobs if j is not None)
    words = ("-j " + " and ".join(map(str, known))) if known else ""
    if None in jobs:
        words = (words + ", " if words else "") + "-j not recorded"
    return sep + words if words else ""


def runtime_markdown(rows: list[dict], jobs: int) -> str:
    lines = ["## Runtime", "",
             "Seconds of fusion per megapixel on this machine (wall time of the fusion alone; the measured "
             f"column says at which -j each time was taken, this run's is -j {jobs}; with several workers the "
             "times include their competition for the cores).", "",
             "| method | images | MP | s | s/MP | measured |", "|---|---:|---:|---:|---:|---|"]
    for r in rows:
        spm = "—" if r["s_per_mp"] is None else f"{r['s_per_mp']:.3g}"
        lines.append(f"| {r['method']} | {r['images']} | {r['megapixels']:.3f} | {r['seconds']:.2f} | {spm} | {r['measured']} |")
    return "\n".join(lines) + "\n"


def runtime_csv(rows: list[dict]) -> str:
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["row_id", "method", "images", "megapixels", "seconds", "s_per_mp", "measured"])
    for r in rows:
        w.writerow([r["id"], r["method"], r["images"], repr(r["megapixels"]), repr(r["seconds"]),
                    "" if r["s_per_mp"] is None else repr(r["s_per_mp"]), r["measured"]])
    return buf.getvalue()


def write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


def load_figure_specs(cfg: BenchmarkConfig, problems: list[str]) -> list:
    """The figures config, read before any work so that a bad file stops the run at once."""
    from .figures import load_figures

    path = cfg.figures_config or find_config("figures.yaml")
    if path is None:
        problems.append("figures: no figures config (configs/benchmark/figures.yaml); pass --figures")
        return []
    return load_figures(Path(path))


def make_figures(cfg: BenchmarkConfig, specs: list, plans: list[Plan], results: dict,
                 problems: list[str]) -> list[Path]:
    from .figures import render_grid, zoom_panel

    if not specs:
        return []
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        problems.append("figures: matplotlib is not installed (pip install matplotlib)")
        return []
    out: list[Path] = []
    for f in specs:
        pl = next((p for p in plans if p.set.name == f.set and not p.spec.ablation), None)
        if pl is None:
            continue  # the set is not part of this run
        ra, rb = (x.upper() for x in pl.set.roles)
        try:
            if f.kind == "sources":
                # an image without its partner (a pair left out of the set) is no panel: it was a KeyError
                pairs = [n for n in (f.pairs or pl.set.names) if n in pl.set.a and n in pl.set.b][:6]
                title = f.title
                if not pairs:  # none of the configured pairs is in this set: show the run's own (was a ZeroDivisionError)
                    pairs = pl.set.names[:4]
                    title = f"{title} (pairs {', '.join(pairs)}: {', '.join(map(str, f.pairs))} are not in this set)"
                panels = [(f"{ra} {n}", read_source(pl.set.a[n])) for n in pairs]
                panels += [(f"{rb} {n}", read_source(pl.set.b[n])) for n in pairs]
                out += render_grid(panels, title, cfg.out / "figures" / f.id, ncols=len(pairs))
                continue
            pair = f.pair
            title = f.title
            if pair not in pl.set.names:
                pair = pl.set.names[0]
                title = f"{title} (pair {pair}: {f.pair} is not among this run's pairs)"
            a, b = read_source(pl.set.a[pair]), read_source(pl.set.b[pair])
            panels = [(ra, zoom_panel(a, f.boxes)), (rb, zoom_panel(b, f.boxes))]
            ids = [s.id for s in pl.sources] if f.rows == "all" else list(f.rows)
            for sid in ids:
                src = next((s for s in pl.sources if s.id == sid), None)
                r = results.get((sid, pl.set.name, pair))
                if src is None or r is None or r.error or not r.fused_path:
                    continue
                panels.append((src.label, zoom_panel(read_source(r.fused_path), f.boxes)))
            out += render_grid(panels, title, cfg.out / "figures" / f.id)
        except Exception as e:  # noqa: BLE001 - one figure failing must not stop the report
            problems.append(f"figure {f.id}: {type(e).__name__}: {' '.join(str(e).split())[:200]}")
    return out


def run_benchmark(cfg: BenchmarkConfig) -> Outcome:
    """Run the whole benchmark described by ``cfg``; see the module docstring."""
    t_start = time.time()
    if not cfg.data_root.is_dir():
        what = "is not a folder" if cfg.data_root.exists() else "data root not found"
        env = os.environ.get("MUTUALFUSE_DATA")
        came = ("from MUTUALFUSE_DATA; " if cfg.data_root_from == "MUTUALFUSE_DATA" else
                f"--data-root wins over MUTUALFUSE_DATA={env}; "
                if cfg.data_root_from == "--data-root" and env and Path(env) != cfg.data_root else "")
        raise InputError(f"{cfg.data_root}: {what} ({came}give --data-root or set MUTUALFUSE_DATA)")
    if cfg.jobs < 1:
        raise ParameterError(f"--jobs {cfg.jobs}: must be at least 1")
    if cfg.device not in DEVICES:
        raise ParameterError(f"--device {cfg.device}: must be one of {', '.join(DEVICES)}")
    if not cfg.tables and not cfg.sets:  # it wrote an empty report and said 'wrote ... (0 tables ...)', exit 0
        raise ParameterError("--tables none and no --sets: no table to build (name the paper's tables with "
                             "--tables 1,2,3 or other sets with --sets)")
    if cfg.device == "cuda":  # checked now: it failed every pair of every network row, a problem line each
        from ..validation import pick_device

        pick_device("cuda")
    if cfg.out.exists() and not cfg.out.is_dir():
        raise InputError(f"{cfg.out}: output path exists and is not a folder (--out)")
    from .plugins import import_user_module

    imported = {m: import_user_module(m) for m in cfg.imports}  # one line naming the file and line on failure
    problems: list[str] = []
    fig_specs = load_figure_specs(cfg, problems)
    plans, notes = plan_tables(cfg, problems, imported)
    if plans and not any(pl.sources for pl in plans):  # it wrote tables of no row and said "wrote ...", exit 0
        raise ParameterError("no row in any table: --methods none and --weights none, and no --fused folder, "
                             "--import method or published images in the data root for these sets (name "
                             "methods with --methods, weights with --weights)")
    from ..image_io import _one_line_path
    from ..wording import in_the_way

    if cfg.cache.exists() and not cfg.cache.is_dir():  # worded as the CLI's (cli/benchmark._check_cache)
        raise InputError(f"{_one_line_path(cfg.cache)}: cache path exists and is not a folder (cache)")
    if in_the_way(cfg.cache, "cache"):
        raise InputError(in_the_way(cfg.cache, "cache"))
    try:  # a cache that cannot be written failed every pair, one problem line each
        cfg.cache.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=cfg.cache):
            pass
    except OSError as e:
        raise InputError(f"{_one_line_path(cfg.cache)}: cannot use as the cache folder "
                         f"({e.strerror or type(e).__name__})") from None
    created = not cfg.out.exists()
    try:
        cfg.out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"{cfg.out}: cannot create the output folder ({e.strerror or type(e).__name__})") from None
    try:
        # every place an output will be moved to must take it: checked now, before any work (a
        # 'tables' that is a file, or a read-only 'tables/', used to fail the commit after the
        # whole run, with the figures and summary.md already moved in beside an older report)
        check_destinations(cfg.out, planned_outputs(plans, fig_specs))
        remove_stale_stages(cfg.out)
        try:
            stage = Path(tempfile.mkdtemp(prefix=f"{STAGE_PREFIX}{os.getpid()}.", suffix=".part", dir=cfg.out))
        except OSError as e:
            raise InputError(f"{cfg.out}: cannot write into the output folder ({e.strerror or type(e).__name__})") from None
    except BaseException:
        if created:
            with contextlib.suppress(OSError):
                cfg.out.rmdir()
        raise
    # everything is written into the stage (a hidden folder inside --out) and moved into place
    # only at the end: an interrupted or failed run leaves --out as it was (no half-written
    # tables beside an older report, no temporary files)
    try:
        outcome = _run_staged(cfg, replace(cfg, out=stage), fig_specs, plans, notes, problems, t_start)
        with interrupts_held():
            commit_stage(stage, cfg.out)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        if created:
            with contextlib.suppress(OSError):
                cfg.out.rmdir()  # only when empty: a run that failed before its commit
    return outcome


#: the name start of the staging folders inside --out (``.mutualfuse-benchmark.<pid>.<random>.part``)
STAGE_PREFIX = ".mutualfuse-benchmark."


def remove_stale_stages(out: Path) -> None:
    """Remove the staging folders of runs killed with ``kill -9`` (their process is gone)."""
    for d in out.glob(f"{STAGE_PREFIX}*.part"):
        try:
            pid = int(d.name[len(STAGE_PREFIX):].split(".", 1)[0])
        except ValueError:
            continue
        if pid != os.getpid() and not _pid_alive(pid):
            shutil.rmtree(d, ignore_errors=True)


def _pid_alive(pid: int) -> bool:
    """:func:`mutualfuse.io.atomic.pid_alive` (not ``os.kill(pid, 0)``, which on Windows
    terminates the process it asks about: a second benchmark run into the same --out ended the
    first)."""
    from ..io.atomic import pid_alive

    return pid_alive(pid)


def planned_outputs(plans: list[Plan], fig_specs: list) -> list[Path]:
    """The files a run will write, relative to ``--out`` (figures: the ones it may write)."""
    rels = [Path("report.html"), Path("summary.md")]
    for name in [p.spec.id for p in plans] + ["paper_vs_ours", "runtime"]:
        rels += [Path("tables") / f"{name}.{ext}" for ext in ("md", "csv", "tex", "csv.meta.json")
                 if ext in ("md", "csv") or name not in ("paper_vs_ours", "runtime")]
    rels += [Path("figures") / f"{f.id}.{ext}" for f in fig_specs for ext in ("png", "pdf")]
    return rels


def older_outputs(out: Path, planned: list[Path]) -> list[str]:
    """The files of ``--out``'s ``tables/`` and ``figures/`` that this run does not write: an earlier
    run's (other tables, another version or configuration), left alone but named in the report so
    that they are not taken for this run's."""
    keep = {str(r) for r in planned}
    found = []
    for sub in ("tables", "figures"):
        d = out / sub
        if d.is_dir():
            found += [str(f.relative_to(out)) for f in sorted(d.iterdir())
                      if f.is_file() and not f.name.startswith(".") and str(f.relative_to(out)) not in keep]
    return found


def check_destinations(out: Path, rels: list[Path]) -> None:
    """Refuse, with one line naming the path, an output place that cannot take its file: a
    folder where the file goes, a folder on the way that is a file, or a folder that cannot be
    written (probed by creating a temporary file in it)."""
    folders: set[Path] = set()
    for rel in rels:
        dest = out / rel
        if dest.is_dir():
            raise InputError(f"{dest}: is a folder; the benchmark writes its {rel} there")
        folders.add(dest.parent)
    for d in sorted(folders):
        p = d
        while not p.exists() and p != p.parent:
            p = p.parent
        if not p.is_dir():
            raise InputError(f"{p}: is not a folder; the benchmark writes its {d.relative_to(out)}/ files there")
        try:
            with tempfile.TemporaryFile(dir=p):
                pass
        except OSError as e:
            raise InputError(f"{p}: cannot write into it ({e.strerror or type(e).__name__})") from None


def commit_stage(stage: Path, out: Path) -> None:
    """Move every file of ``stage`` to the same place under ``out`` (the report last). Every
    destination is checked first, so that a place that cannot take its file stops the commit
    before anything is moved."""
    files = sorted((p for p in stage.rglob("*") if p.is_file()), key=lambda p: (p.name == "report.html", str(p)))
    check_destinations(out, [f.relative_to(stage) for f in files])
    for f in files:
        dest = out / f.relative_to(stage)
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(f, dest)
        except OSError as e:
            raise InputError(f"{dest}: cannot write ({e.strerror or type(e).__name__})") from None


def _run_staged(cfg: BenchmarkConfig, wcfg: BenchmarkConfig, fig_specs: list, plans: list[Plan], notes: list[str],
                problems: list[str], t_start: float) -> Outcome:
    """The run proper, writing under ``wcfg.out`` (the stage); paths returned are under ``cfg.out``."""
    from .report import write_report

    for sub in ("tables", "figures"):
        (wcfg.out / sub).mkdir(exist_ok=True)
    tasks = build_tasks(plans, cfg, problems)
    res_list = execute(tasks, cfg)
    results = {(r.source_id, r.set_name, r.name): r for r in res_list}
    for r in sorted(res_list, key=lambda r: (r.set_name, r.source_id, r.name)):
        if r.error:
            problems.append(f"{r.source_id} on {r.set_name}/{r.name}: {r.error}")
        for key, why in r.metric_errors.items():
            problems.append(f"{r.source_id} on {r.set_name}/{r.name}: metric {key} (--extra-metrics): {why}")
    tables = aggregate(plans, results, problems)
    for n in notes:
        for t in tables.values():
            if not t.id.startswith("table") or int(t.id[5:]) <= 3:
                t.notes.append(n)
    from .report import provenance_note

    for t in tables.values():
        t.notes.append(provenance_note(t))
    tdir = wcfg.out / "tables"
    for t in tables.values():
        write_text(tdir / f"{t.id}.md", to_markdown(t))
        write_text(tdir / f"{t.id}.csv", to_csv(t))
        write_text(tdir / f"{t.id}.csv.meta.json", json.dumps(csv_meta(t), indent=1, ensure_ascii=False) + "\n")
        write_text(tdir / f"{t.id}.tex", to_latex(t))
    cells = paper_view.compare(tables, paper_ours_id(), cfg.quick)
    write_text(tdir / "paper_vs_ours.md", paper_view.to_markdown(cells, cfg.quick))
    write_text(tdir / "paper_vs_ours.csv", paper_view.to_csv(cells))
    rt = runtime_rows(plans, results, cfg)
    write_text(tdir / "runtime.md", runtime_markdown(rt, cfg.jobs))
    write_text(tdir / "runtime.csv", runtime_csv(rt))
    figs = make_figures(wcfg, fig_specs, plans, results, problems)
    stats = {"tasks": len(tasks), "fused_computed": sum(r.fresh for r in res_list),
             "metrics_computed": sum(r.metrics_computed for r in res_list),
             "failed": sum(bool(r.error) for r in res_list), "wall_s": 0}
    stats["wall_s"] = int(math.ceil(time.time() - t_start))
    write_report(wcfg, tables, cells, rt, figs, problems, stats,
                 {(pl.spec.id, s.id): s for pl in plans for s in pl.sources},
                 stale=older_outputs(cfg.out, planned_outputs(plans, fig_specs)))
    figs = [cfg.out / f.relative_to(wcfg.out) for f in figs]
    return Outcome(tables, cells, rt, figs, problems, cfg.out / "report.html", stats)


__all__ = ["run_benchmark", "BenchmarkConfig", "Outcome", "EXTRA_SETS"]
