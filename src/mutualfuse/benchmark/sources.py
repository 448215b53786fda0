"""Where a table row's fused images come from, and how the rows of each table are found.

* ``method:<name>``: a registered fusion method (every classical method, and any method a user
  registers with :func:`mutualfuse.methods.register_method` in a module given to
  ``--import``), run through :class:`mutualfuse.Fuser` (colour inputs via the YCbCr path);
* ``weights:<name>``: the network with shipped weights (every entry of the weights registry), or
  with a weights file of one's own (``--weights NAME=FILE``);
* ``reference:<method>/<task>/<variant>``: published fused images found under
  ``<data root>/reference/`` whose file names are exactly the set's pair names;
* ``fused:<NAME>``: a user's folder of fused images (``--fused NAME=DIR``);
* ``ablation:<table>/<row>``: the trained variant of one of the paper's Tables 4–7, found in
  the weights registry by what it is (``configs/benchmark/ablations.yaml``).
"""
from __future__ import annotations

import hashlib
import inspect
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import FuseError, InputError

SUFFIXES = (".png", ".bmp", ".tif", ".tiff", ".jpg", ".jpeg")


@dataclass(frozen=True)
class Source:
    """One row's origin. ``kind``: method, weights, reference, fused or ablation."""

    id: str
    label: str
    kind: str
    method: str | None = None
    params: tuple[tuple[str, Any], ...] = ()
    weights: str | None = None
    weights_sha256: str | None = None
    code_sha256: str | None = None
    folder: str | None = None
    slow: bool = False
    missing: str = ""  # non-empty: the row cannot be computed (e.g. its weights do not exist yet)
    group: str = ""  # ablation rows that one config row matched several times (e.g. seeds): the row's label
    #: a network row's --task: None = the default (auto for weights that record per-task settings,
    #: else stored), "stored", or a task of mutualfuse.tasks.TASKS
    task: str | None = None

    @property
    def computes(self) -> bool:
        """True when fused images are produced here (not read from a folder)."""
        return self.kind in ("method", "weights", "ablation") and not self.missing

    def recipe(self) -> tuple[str, dict, str | None]:
        """(method identity, params, weights-or-code sha256) for the cache key."""
        if self.kind == "method":
            return f"method:{self.method}", dict(self.params), self.code_sha256
        from ..weights import mode_settings, task_mode

        if not self.weights:
            return "network", {}, self.weights_sha256
        return "network", mode_settings(self.weights, task_mode(self.weights, self.task)), self.weights_sha256


#: the package whose every file is part of a built-in method's cache key
_METHODS_DIR = Path(__file__).resolve().parent.parent / "methods"
_tree_digests: dict[Path, str] = {}


def _tree_sha(folder: Path) -> str:
    """sha256 over the relative names and bytes of every file under ``folder`` (cached per run)."""
    if folder not in _tree_digests:
        h = hashlib.sha256()
        for f in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            h.update(str(f.relative_to(folder)).encode() + b"\0")
            h.update(f.read_bytes())
        _tree_digests[folder] = h.hexdigest()
    return _tree_digests[folder]


#: the package (``mutualfuse/``), whose files below are part of the cache keys (:func:`code_digest`)
_PACKAGE_DIR = _METHODS_DIR.parent
#: what every fused image of a computed row goes through besides its method or network: the
#: ``Fuser`` (input conversion, colour path, tiling), the registry, and the benchmark's own
#: reading of the sources and rounding of the result. A folder counts with every file in it.
FUSION_CODE = ("api.py", "color.py", "convert.py", "cpu.py", "image_io.py", "registry.py", "tiling.py",
               "validation.py", "_jit.py", "io/samples.py", "io/pil_modes.py", "methods/__init__.py",
               "methods/params.py", "benchmark/jobs.py", "wording.py")
#: what the network rows (shipped and ablation weights) also go through: the model, the runner,
#: the task detection and the weights' loading (the weights files themselves are keyed by sha256)
NETWORK_CODE = ("model", "runner.py", "tasks.py", "methods/network.py", "weights/*.py")
#: what a metric value depends on besides its images: the metrics and the reading of the images
#: (``mutualfuse.evaluation.read_gray``, MATLAB's ``rgb2gray``)
METRICS_CODE = ("metrics", "evaluation.py", "image_io.py", "io/samples.py", "io/pil_modes.py", "registry.py", "_jit.py")
_code_digests: dict[tuple[str, ...], str] = {}


def code_digest(rels: tuple[str, ...]) -> str:
    """sha256 over the names and bytes of the package files ``rels`` (files, folders with every
    file below them, or ``folder/*.py`` globs; ``__pycache__`` ignored), computed once per process.
    Part of the cache keys, so that a change of the code a cached image or metric value came
    from (a fix in the colour path, the model, a metric, or a package upgrade) recomputes it
    instead of reusing a stale entry."""
    if rels not in _code_digests:
        files: set[Path] = set()
        for rel in rels:
            if "*" in rel:
                files.update(_PACKAGE_DIR.glob(rel))
            elif (_PACKAGE_DIR / rel).is_dir():
                files.update(q for q in (_PACKAGE_DIR / rel).rglob("*") if "__pycache__" not in q.parts)
            else:
                files.add(_PACKAGE_DIR / rel)
        h = hashlib.sha256()
        for f in sorted(q for q in files if q.is_file()):
            h.update(f.relative_to(_PACKAGE_DIR).as_posix().encode() + b"\0")
            h.update(f.read_bytes())
            h.update(b"\0")
        _code_digests[rels] = h.hexdigest()
    return _code_digests[rels]


def fusion_code_sha(src: "Source") -> str:
    """The :func:`code_digest` of what a computed row's fused images go through besides the
    method itself (its own code is in ``Source.code_sha256``; the network's in :data:`NETWORK_CODE`)."""
    return code_digest(FUSION_CODE + (NETWORK_CODE if src.kind != "method" else ()))


def _code_sha(fn, meta: dict[str, Any] | None = None) -> str | None:
    """What a method's cached outputs depend on besides its parameters and inputs.

    A built-in method (defined under ``mutualfuse/methods``): every file of that package, code
    and data (dictionaries), so a change in a shared helper (``_common.es2``, a solver) or in a
    dictionary also recomputes it; any change there recomputes every built-in method, which is
    cheap next to a stale table. A user's callable: its own source and its module's file (of a
    ``functools.partial``: its function's, with the bound arguments; of a callable object: its
    class's), and the ``version`` it was registered with (``register_method(..., version=...)``),
    which a user changes when something else the method reads has changed (weights it loads, a
    helper module). A function without a source file (``exec``'d) is keyed by its compiled code,
    a callable without any (a numpy ufunc) by its name.
    """
    import functools

    bound = b""
    while isinstance(fn, functools.partial):
        bound += repr((fn.args, sorted(fn.keywords.items()))).encode()
        fn = fn.func
    target = inspect.unwrap(fn) if inspect.isroutine(fn) or inspect.isclass(fn) else type(fn)
    try:
        src = inspect.getsourcefile(target)
        own = inspect.getsource(target).encode()
    except (OSError, TypeError):  # no source file (exec'd code, a ufunc): its compiled code, else its name
        import marshal

        code = getattr(target, "__code__", None)
        src, own = None, (marshal.dumps(code) if code is not None
                          else repr(getattr(target, "__qualname__", target)).encode())
    if src and Path(src).resolve().is_relative_to(_METHODS_DIR):
        return hashlib.sha256(own + _tree_sha(_METHODS_DIR).encode()).hexdigest()
    module = Path(src).read_bytes() if src and Path(src).is_file() else b""
    version = repr((meta or {}).get("version")).encode() if (meta or {}).get("version") is not None else b""
    return hashlib.sha256(own + module + bound + version).hexdigest()


def own_metric_sha(key: str) -> str:
    """What the cached values of a metric of one's own (``register_metric``, source ``own``) depend
    on besides the images: :func:`_code_sha` of the registered function (its source and its
    module's file) and, when that module is part of a package, every ``.py`` file of the package's
    top folder (helpers the function imports from its neighbours). Part of the name its values are
    cached under (:func:`metric_cache_name`), so an edit of the module recomputes them."""
    import sys

    from ..metrics import METRICS

    fn = inspect.unwrap(METRICS.get(key))  # range_checked -> the registration's wrapper -> the user's function
    h = hashlib.sha256((_code_sha(fn) or "").encode())
    mod = sys.modules.get(getattr(fn, "__module__", "") or "")
    top = (getattr(mod, "__package__", None) or "").split(".")[0]
    pkg = sys.modules.get(top) if top else None
    paths = list(getattr(pkg, "__path__", None) or [])
    if paths:
        folder = Path(paths[0])
        for f in sorted(q for q in folder.rglob("*.py") if "__pycache__" not in q.parts):
            h.update(f.relative_to(folder).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def metric_cache_name(key: str) -> str:
    """The name a metric's values are stored under in the benchmark's metric cache: the registered
    key for the project's metrics (their code is in the file's key, :data:`METRICS_CODE`), the key
    and the first 16 hex digits of :func:`own_metric_sha` for a metric of one's own
    (``Qmine@own#1a2b…``), whose code is not the package's."""
    from ..metrics import METRICS, OWN_SOURCE

    if METRICS.meta(key)["source"] != OWN_SOURCE:
        return key
    return f"{key}#{own_metric_sha(key)[:16]}"


def method_sources(only: list[str] | None, params: dict[str, dict[str, Any]], quick: bool) -> tuple[list[Source], list[str]]:
    """Rows of the registered non-network methods. ``only``: restrict to these names.

    In quick mode methods marked ``slow`` are left out unless named in ``only``. Returns the
    sources and notes about what was left out.
    """
    from ..methods import METHODS
    from .plugins import is_builtin

    only = None if only is None else [METHODS.entry(n).name if n in METHODS else n for n in only]
    params = {(METHODS.entry(m).name if m in METHODS else m): kw for m, kw in params.items()}
    out, notes, skipped = [], [], []
    for e in METHODS:
        if e.meta.get("family") == "network" and is_builtin(e.obj):  # the network's rows: --weights
            continue
        if only is not None and e.name not in only:
            continue
        slow = bool(e.meta.get("slow"))
        if quick and slow and only is None:
            skipped.append(e.name)
            continue
        p = params.get(e.name, {})
        label = e.name.upper() if not p else f"{e.name.upper()}({', '.join(f'{k}={v}' for k, v in sorted(p.items()))})"
        out.append(Source(f"method:{e.name}", label, "method", method=e.name, params=tuple(sorted(p.items())),
                          code_sha256=_code_sha(e.obj, e.meta), slow=slow))
    if skipped:
        notes.append(f"--quick leaves out the slow methods {', '.join(skipped)} (name them with --methods to include them)")
    return out, notes


def weights_sources(only: list[str] | None = None) -> list[Source]:
    """One row per shipped weights entry (the registry at run time). The ablation variants
    (group ``ablation``) are rows of Tables 4–7 only, unless named in ``only``. Entries of
    ``only`` that name a weights file of one's own (``NAME=FILE``, or a path to an existing file)
    are rows too: :func:`own_weights_sources`."""
    from ..weights import SHIPPED

    out = []
    for name, w in SHIPPED.items():
        if only is None and w.group == "ablation":
            continue
        if only is not None and f"weights:{name}" not in only and name not in only:
            continue
        out.append(Source(f"weights:{name}", f"Ours[{name}]", "weights", weights=name, weights_sha256=w.sha256))
    return out + own_weights_sources(only or [])


def own_weight_entries(only: list[str]) -> dict[str, str]:
    """The entries of ``--weights`` that name a weights file of one's own, as ``{entry: NAME}``:
    ``NAME=FILE``, or a path (an entry with a path separator or a ``.safetensors`` suffix, or an
    existing file that is not a shipped name) whose row NAME is the file's stem."""
    from ..weights import SHIPPED

    out = {}
    for e in only:
        if "=" in e:
            out[e] = e.split("=", 1)[0].strip()
        elif e not in SHIPPED and not e.startswith("weights:") and (
                "/" in e or "\\" in e or e.lower().endswith(".safetensors") or Path(e).is_file()):
            out[e] = Path(e).stem
    return out


def own_weights_sources(only: list[str]) -> list[Source]:
    """Rows ``Ours[NAME]`` for weights files of one's own named in ``--weights`` (see
    :func:`own_weight_entries`), fused as ``mutualfuse fuse --weights FILE`` does by default (the
    weights' recorded intensity policy, their stored settings; per-task settings are recorded for
    shipped weights only). Each file is read and checked here, before any work (its sha256 sidecar
    too, as ``fuse`` checks it): a file that is not valid weights, a NAME that is empty, not one
    word, a shipped name or given twice is a :class:`~mutualfuse.errors.ParameterError` /
    :class:`~mutualfuse.errors.WeightsError`, one line. The row's cache key is the file's sha256,
    so a retrained file (same path) is fused again."""
    from ..weights import file_sha256
    from ..weights.own import check_named_weights

    items = [(e, name, e.split("=", 1)[1] if "=" in e else e) for e, name in own_weight_entries(only).items()]
    return [Source(f"weights:{name}", f"Ours[{name}]", "weights", weights=p, weights_sha256=file_sha256(p))
            for name, p in check_named_weights(items, noun="row name").items()]


def stored_sources(wsrc: list[Source]) -> list[Source]:
    """One more row per weights row whose shipped entry records per-task settings (so that its
    plain row ``Ours[NAME]`` detects the task per pair, ``--task auto``): ``Ours[NAME, stored]``,
    the weights' stored settings, one compromise for every task (``--task stored``; docs/inputs.md)."""
    from ..weights import SHIPPED

    return [Source(f"{s.id}[stored]", f"Ours[{s.weights}, stored]", "weights", weights=s.weights,
                   weights_sha256=s.weights_sha256, task="stored")
            for s in wsrc if s.kind == "weights" and s.weights in SHIPPED and SHIPPED[s.weights].tasks]


def paper_ours_id() -> str:
    """The row the paper's "Ours" maps to: shipped weights ``paper`` if they exist, else ``default``."""
    from ..weights import SHIPPED

    return "weights:paper" if "paper" in SHIPPED else "weights:default"


def listing(d: Path) -> dict[str, Path]:
    """Image files of a folder by stem (hidden files ignored)."""
    out: dict[str, Path] = {}
    for p in sorted(d.iterdir()):
        if p.is_file() and p.suffix.lower() in SUFFIXES and not p.name.startswith("."):
            out[p.stem] = p
    return out


def fused_listing(d: Path) -> tuple[dict[str, Path], dict[str, list[Path]]]:
    """A folder of fused images by stem (as :func:`listing`), and the stems that name several
    files (``08.png`` and ``08.jpg``: which one is the result is not for the benchmark to guess,
    as ``mutualfuse evaluate`` refuses it too)."""
    out: dict[str, Path] = {}
    dups: dict[str, list[Path]] = {}
    for p in sorted(d.iterdir()):
        if p.is_file() and p.suffix.lower() in SUFFIXES and not p.name.startswith("."):
            if p.stem in out:
                dups.setdefault(p.stem, [out[p.stem]]).append(p)
            out[p.stem] = p
    return out, dups


def fused_folder(folder: str | Path, set_name: str) -> Path:
    """Where a ``--fused NAME=DIR`` row's images of a set are: ``DIR/<task>/<set>/`` (the data
    root's layout, one folder per set) when it exists, else ``DIR`` itself."""
    d = Path(folder) / set_name
    return d if d.is_dir() else Path(folder)


def missing_fused_hint(name: str, have: dict[str, Path]) -> str:
    """`` (found 8.png: …)`` when a file of the folder is the pair's name but for case or
    leading zeros, which the benchmark does not guess."""
    for stem, p in have.items():
        if stem != name and (stem.lower() == name.lower() or (stem.lstrip("0") or "0") == (name.lstrip("0") or "0")):
            return f" (found {p.name}: the file name must be the pair's name, {name}{p.suffix})"
    return ""


def reference_sources(data_root: Path, set_name: str, names: list[str],
                      problems: list[str] | None = None) -> list[Source]:
    """Published outputs ``reference/<method>/<task>/<variant>/`` holding exactly the set's names.

    A variant folder is a row of the set's tables only when it holds every image of the set and
    no other (a folder of the task may belong to another set of it). One that nearly does (at
    least 90 % of the set's names and at most 10 % others: a partial or padded copy, not another
    set) is named in ``problems`` with what it lacks or has more (it was left out silently)."""
    task = set_name.split("/", 1)[0]
    base = data_root / "reference"
    out = []
    if not base.is_dir():
        return out
    for mdir in sorted(p for p in base.iterdir() if p.is_dir()):
        tdir = mdir / task
        if not tdir.is_dir():
            continue
        for vdir in sorted(p for p in tdir.iterdir() if p.is_dir()):
            have, want = set(listing(vdir)), set(names)
            if have == want:
                out.append(Source(f"reference:{mdir.name}/{task}/{vdir.name}", f"{mdir.name.upper()}({vdir.name})",
                                  "reference", folder=str(vdir)))
            elif problems is not None and want and len(have & want) >= 0.9 * len(want) \
                    and len(have - want) <= 0.1 * len(want):
                miss, extra = sorted(want - have), sorted(have - want)
                why = "; ".join(x for x in (
                    f"missing {', '.join(miss[:5])}{' …' if len(miss) > 5 else ''}" if miss else "",
                    f"not in the set: {', '.join(extra[:5])}{' …' if len(extra) > 5 else ''}" if extra else "") if x)
                msg = (f"{vdir}: published outputs of {len(have & want)} of the {len(want)} images of {set_name} "
                       f"({why}); not a row of its tables (a published row needs every image and no other)")
                if msg not in problems:  # the set may serve several tables
                    problems.append(msg)
    return out


def fused_sources(specs: list[str]) -> list[Source]:
    """``--fused NAME=DIR`` → sources (the folder is checked when the table is built)."""
    out = []
    seen = set()
    for s in specs:
        name, sep, d = s.partition("=")
        if not sep or not name or not d:
            raise InputError(f"--fused {s!r}: expected NAME=DIR")
        if name in seen:
            raise InputError(f"--fused {name}: the name is given twice")
        seen.add(name)
        if not Path(d).is_dir():
            raise InputError(f"--fused {name}={d}: not a folder")
        out.append(Source(f"fused:{name}", name, "fused", folder=str(Path(d))))
    return out


# ---------------------------------------------------------------------------------------------
# Tables 4–7: trained variants found by what they are
# ---------------------------------------------------------------------------------------------


@dataclass
class AblationRow:
    label: str
    match: dict[str, Any] = field(default_factory=dict)
    weights: list[str] | None = None


@dataclass
class AblationTable:
    id: str
    rows: list[AblationRow]
    title: str = ""


def load_ablations(path: Path) -> tuple[str, list[AblationTable]]:
    """Read ``configs/benchmark/ablations.yaml`` → (set, tables)."""
    import yaml

    try:
        doc = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as e:
        raise InputError(f"{path}: cannot read the ablations config ({type(e).__name__}: {' '.join(str(e).split())[:150]})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("tables"), dict):
        raise InputError(f"{path}: expected a mapping with 'set' and 'tables'")
    tables = []
    for tid, t in doc["tables"].items():
        t = t or {}
        if not isinstance(t, dict) or not isinstance(t.get("rows", []), list):
            raise InputError(f"{path}: {tid}: expected a mapping with a 'rows' list (and a 'title')")
        rows = []
        for r in t.get("rows", []):
            if not isinstance(r, dict) or "label" not in r:
                raise InputError(f"{path}: {tid}: every row needs a 'label'")
            unknown = set(r) - {"label", "match", "weights"}
            if unknown:
                raise InputError(f"{path}: {tid}/{r['label']}: unknown keys {sorted(unknown)}")
            match, weights = r.get("match") or {}, r.get("weights")
            if not isinstance(match, dict):
                raise InputError(f"{path}: {tid}/{r['label']}: 'match' must be a mapping of config keys to values")
            if weights is not None and not (isinstance(weights, list) and all(isinstance(w, str) for w in weights)):
                raise InputError(f"{path}: {tid}/{r['label']}: 'weights' must be a list of shipped weights names")
            rows.append(AblationRow(str(r["label"]), dict(match), weights))
        tables.append(AblationTable(str(tid), rows, str(t.get("title", ""))))
    set_name = str(doc.get("set", "ir-vis/tno"))
    parts = set_name.split("/")
    if len(parts) != 2 or any(p in ("", ".", "..") for p in parts):
        raise InputError(f"{path}: set {set_name!r} must be <task>/<name> below the data root (e.g. ir-vis/tno)")
    return set_name, tables


def _describe(w: dict[str, Any]) -> dict[str, Any]:
    """What a shipped weights file is: its model config plus the training loss and budget
    (``loss``, ``steps``, ``batch_size``, ``seed``, ``lr``, ``crop`` from its ``train_config``)."""
    from ..weights import read_weights

    _, cfg, meta = read_weights(w["name"])
    d = cfg.to_dict()
    try:
        tc = json.loads(meta.get("train_config", "{}"))
    except ValueError:
        tc = {}
    for k in ("loss", "steps", "batch_size", "seed", "lr"):
        d[k] = tc.get(k)
    d["crop"] = (tc.get("data") or {}).get("crop")
    return d


def ablation_sources(tables: list[AblationTable], first_only: bool = False) -> dict[str, list[Source]]:
    """Per ablation table, one source per row and matching weights; rows without weights get a
    source whose ``missing`` says which weights are needed. ``first_only`` (``--quick``): only
    the first matching weights per row (e.g. seed 0 of several seeds)."""
    from ..weights import SHIPPED

    described: dict[str, dict[str, Any]] = {}

    def desc(name: str) -> dict[str, Any]:
        if name not in described:
            try:
                described[name] = _describe({"name": name})
            except FuseError:  # corrupt or missing file: it matches nothing (the weights rows report it)
                described[name] = {}
        return described[name]

    out: dict[str, list[Source]] = {}
    for t in tables:
        rows = []
        for r in t.rows:
            rid = f"ablation:{t.id}/{r.label}"
            if r.weights:
                names = [n for n in r.weights if n in SHIPPED]
                wanted = f"shipped weights named {', '.join(r.weights)}"
            else:
                names = [n for n in SHIPPED if all(desc(n).get(k) == v for k, v in r.match.items())]
                wanted = "shipped weights with " + ", ".join(f"{k}={v}" for k, v in r.match.items())
            if not names:
                rows.append(Source(rid, r.label, "ablation", missing=f"no {wanted} (not trained yet)"))
                continue
            if first_only:
                names = names[:1]
            for n in names:
                label = r.label if len(names) == 1 else f"{r.label} [{n}]"
                sid = rid if len(names) == 1 else f"{rid}[{n}]"
                rows.append(Source(sid, label, "ablation", weights=n, weights_sha256=SHIPPED[n].sha256,
                                   group=r.label if len(names) > 1 else ""))
        out[t.id] = rows
    return out
