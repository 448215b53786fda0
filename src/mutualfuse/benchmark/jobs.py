"""One unit of benchmark work: get one row's fused image of one pair (cache or compute) and its
metric values (cache or compute). Runs in the main process or in a ``-j N`` worker; memory
holds one pair at a time.
"""
from __future__ import annotations

import json
import os
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from ..errors import FuseError, InputError
from .cache import Cache, _atomic_write, metrics_key, recipe_key, sha256_file
from .sources import METRICS_CODE, Source, code_digest, fusion_code_sha


@dataclass
class Task:
    source: Source
    set_name: str
    name: str
    a: str
    b: str
    a_sha: str
    b_sha: str
    keys: tuple[str, ...]
    cache_root: str
    device: str = "cpu"
    fused_file: str | None = None  # rows read from a folder
    fused_error: str | None = None  # why a row read from a folder has no usable file for this pair
    #: the keys of the extra columns (--extra-metrics): a failure of one of them leaves its cell
    #: empty (``Result.metric_errors``), not the pair's other values
    soft: tuple[str, ...] = ()
    #: key → the name its values are cached under, where it is not the key (a metric of one's
    #: own: ``key#<digest of its module>``, :func:`mutualfuse.benchmark.sources.metric_cache_name`)
    cache_names: dict[str, str] = field(default_factory=dict)
    #: the run's ``-j``: recorded with a fusion's time (the runtime table says at which -j a cached time was taken)
    jobs: int = 1

    def cache_name(self, key: str) -> str:
        return self.cache_names.get(key, key)


@dataclass
class Result:
    source_id: str
    set_name: str
    name: str
    values: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    fused_path: str | None = None
    fresh: bool = False  # the fused image was computed in this call
    metrics_computed: int = 0
    seconds: float | None = None  # fusion wall time (fresh, or as recorded in the cache)
    pixels: int = 0
    timed_at: str | None = None
    #: the ``-j`` of the run that timed the fusion (None: a cache entry from before it was recorded)
    timed_jobs: int | None = None
    #: an extra column's metric (``Task.soft``) that failed on this pair: key → the one-line reason
    metric_errors: dict[str, str] = field(default_factory=dict)


def read_source(path: str | os.PathLike) -> np.ndarray:
    """An 8-bit gray (H, W) or RGB (H, W, 3) array as stored; one-line InputError otherwise."""
    from PIL import Image

    p = Path(path)
    try:
        with Image.open(p) as im:
            im.load()
            if im.mode not in ("L", "RGB"):
                if im.mode.startswith("I;16") or im.mode == "I":
                    arr = np.asarray(im).astype(np.float64)
                    return np.round(arr * 255.0 / 65535.0).clip(0, 255).astype(np.uint8)
                im = im.convert("L" if im.mode in ("1", "LA") else "RGB")
            return np.asarray(im)
    except FileNotFoundError:
        raise InputError(f"{p}: no such file") from None
    except Exception as e:  # Pillow raises many types for corrupt files
        raise InputError(f"{p}: cannot read image ({type(e).__name__}: {' '.join(str(e).split())[:120]})") from None


_FUSERS: dict = {}


def _fuser(src: Source, device: str):
    from ..api import Fuser

    key = (src.id, src.params, src.weights, src.task, device)
    if key not in _FUSERS:
        if len(_FUSERS) >= 2:
            _FUSERS.pop(next(iter(_FUSERS)))
        if src.kind == "method":
            from ..methods import METHODS

            if src.method not in METHODS and _IMPORT_ERRORS:
                raise InputError(f"unknown fusion method {src.method!r}: {'; '.join(_IMPORT_ERRORS)}")
            f = Fuser(src.method, device="cpu", **dict(src.params))
        else:
            f = Fuser(src.weights, device=device, task=src.task)
        _warm_up(f)
        _FUSERS[key] = f
    return _FUSERS[key]


#: side of the random pair a new fuser fuses once before any timed fusion (:func:`_warm_up`)
WARM_UP_SIDE = 96


def _warm_up(fuser) -> None:
    """Fuse a small random pair once, untimed, so that the first timed fusion of a method does
    not carry its one-off costs (thread pools, compiled kernels, first allocations): with two
    pairs a set (``--quick``) they were half of a row's runtime. A failure is left to the real
    fusions, which report it."""
    rng = np.random.default_rng(0)
    a, b = (rng.integers(0, 256, (WARM_UP_SIDE, WARM_UP_SIDE), dtype=np.uint8) for _ in range(2))
    try:
        fuser.fuse(a, b)
    except Exception:  # noqa: BLE001 - the real pair's fusion says what is wrong
        pass


def fuse_pair(src: Source, a: np.ndarray, b: np.ndarray, device: str = "cpu") -> tuple[np.ndarray, float]:
    """Fuse with a row's method or weights → (uint8 image, wall seconds of the fusion alone)."""
    f = _fuser(src, device)
    t0 = time.perf_counter()
    out = f.fuse(a, b)
    dt = time.perf_counter() - t0
    out = np.asarray(out)
    if out.dtype != np.uint8:
        out = np.clip(np.round(np.asarray(out, dtype=np.float64) * 255.0), 0, 255).astype(np.uint8)
    return out, dt


def _one_line(e: BaseException) -> str:
    """The problem line of a failure; for an exception raised in a user's code (a method of one's
    own), with the file and line where it was raised."""
    from ..methods import OwnMethodFailure

    if isinstance(e, OwnMethodFailure):  # the row names the method: what it raised, where
        return " ".join(e.described.split())
    if isinstance(e, FuseError):
        return " ".join(str(e).split())
    from .plugins import _where

    return " ".join(f"{type(e).__name__}: {e}".split())[:300] + _where(e)


def _cached_image_usable(cache: Cache, path: Path, t: Task) -> bool:
    """Whether a cached fused image can be used: its metric values are all cached (they were
    computed from this very file, keyed by its sha256), or it decodes."""
    from PIL import Image

    try:
        have = cache.get_metrics(metrics_key(sha256_file(path), t.a_sha, t.b_sha, code_digest(METRICS_CODE)))
        if all(t.cache_name(k) in have for k in t.keys):
            return True
        with Image.open(path) as im:
            im.load()
        return True
    except Exception:  # noqa: BLE001 - Pillow raises many types for a damaged file
        return False


def key_device(t: Task) -> str | None:
    """The device kind of ``t``'s fused image in its cache key (:func:`~.cache.recipe_key`):
    ``"cuda"`` for a network row run on a GPU (``--device cuda``, or ``auto`` where CUDA is
    available), ``None`` otherwise (the CPU's keys, and classical methods on any ``--device``)."""
    if t.source.kind == "method" or t.device == "cpu":
        return None
    if t.device == "auto":
        import torch

        return "cuda" if torch.cuda.is_available() else None
    return t.device


def run_task(t: Task) -> Result:
    """Never raises: a failure is returned as ``Result.error`` (one line)."""
    r = Result(t.source.id, t.set_name, t.name)
    cache = Cache(t.cache_root)
    try:
        a = b = None
        if t.fused_error:
            raise InputError(t.fused_error)
        if t.fused_file is not None:
            fpath = Path(t.fused_file)
            if not fpath.is_file():
                raise InputError(f"{fpath}: no such file")
        else:
            method, params, wsha = t.source.recipe()
            key = recipe_key(method, params, wsha, t.a_sha, t.b_sha, fusion_code_sha(t.source),
                             device=key_device(t))
            hit = cache.get_fused(key)
            side = cache.fused_path(key).with_suffix(".timing.json")
            if hit is not None and not _cached_image_usable(cache, hit, t):
                hit.unlink(missing_ok=True)  # a truncated or corrupt entry (a crash, a full disk): recompute it
                hit = None
            if hit is None:
                a, b = read_source(t.a), read_source(t.b)
                if a.shape[:2] != b.shape[:2]:
                    raise InputError(f"{t.b}: size {b.shape[1]}x{b.shape[0]} differs from {t.a} ({a.shape[1]}x{a.shape[0]})")
                fused, dt = fuse_pair(t.source, a, b, t.device)
                stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
                side.parent.mkdir(parents=True, exist_ok=True)
                _atomic_write(side, (json.dumps({"seconds": dt, "pixels": int(a.shape[0] * a.shape[1]), "when": stamp,
                                                 "device": t.device if t.source.kind != "method" else "cpu",
                                                 "jobs": t.jobs})
                                      + "\n").encode())
                fpath = cache.put_fused(key, fused)
                r.fresh, r.seconds, r.pixels, r.timed_at = True, dt, int(a.shape[0] * a.shape[1]), stamp
                r.timed_jobs = t.jobs
            else:
                fpath = hit
                try:
                    info = json.loads(side.read_text())
                    r.seconds, r.pixels, r.timed_at = float(info["seconds"]), int(info["pixels"]), info.get("when")
                    r.timed_jobs = info["jobs"] if isinstance(info.get("jobs"), int) else None
                except (OSError, ValueError, KeyError):
                    pass
        r.fused_path = str(fpath)
        fsha = sha256_file(fpath)
        mkey = metrics_key(fsha, t.a_sha, t.b_sha, code_digest(METRICS_CODE))
        have = cache.get_metrics(mkey)
        need = [k for k in t.keys if t.cache_name(k) not in have]
        if need:
            from ..evaluation import _score, read_gray

            A, B, F = read_gray(Path(t.a)), read_gray(Path(t.b)), read_gray(fpath)
            if F.shape != A.shape or B.shape != A.shape:
                raise InputError(f"{fpath}: size {F.shape[1]}x{F.shape[0]} differs from its sources "
                                 f"({A.shape[1]}x{A.shape[0]}, {B.shape[1]}x{B.shape[0]})")
            new = {}
            for k in need:
                if k not in t.soft:
                    new[t.cache_name(k)] = _score(k, A, B, F)  # as evaluate scores: read_gray's 0-255 images
                    r.metrics_computed += 1
                    continue
                try:  # an extra column: its failure leaves its cell empty, not the paper's columns
                    new[t.cache_name(k)] = _score_extra(k, A, B, F)
                    r.metrics_computed += 1
                except Exception as e:  # noqa: BLE001 - one line in the table's notes and the problems
                    r.metric_errors[k] = _one_line(e)
            if new:
                cache.put_metrics(mkey, new)
            have.update(new)
        r.values = {k: have[t.cache_name(k)] for k in t.keys if t.cache_name(k) in have}
    except Exception as e:  # noqa: BLE001 - reported as a problem line, the run goes on
        if os.environ.get("MUTUALFUSE_DEBUG"):
            traceback.print_exc()
        r.error = _one_line(e)
    return r


def _score_extra(key: str, a, b, f) -> float:
    """An extra column's value (:func:`mutualfuse.evaluation._score`); a metric that this ``-j N``
    worker does not know (its module failed to import here) says why."""
    from ..evaluation import _score
    from ..metrics import METRICS

    if key not in METRICS:
        why = "; ".join(_IMPORT_ERRORS) or "register it in a module given to --import"
        raise InputError(f"metric {key!r} is not registered in this -j worker ({why})")
    return _score(key, a, b, f)


def init_worker(imports: tuple[str, ...] = ()) -> None:
    """``-j N`` worker start-up: one thread each, the user's modules imported (their methods), as
    the main process imported them (:func:`mutualfuse.benchmark.plugins.import_user_module`)."""
    import torch

    from ..methods import METHODS  # noqa: F401  (the built-in methods first, as in the main process)
    from .plugins import import_user_module

    torch.set_num_threads(1)
    for m in imports:
        try:
            import_user_module(m)
        except Exception as e:  # noqa: BLE001 - a broken pool is a traceback; its pairs say it instead
            _IMPORT_ERRORS.append(f"a -j worker could not import {m} ({' '.join(str(e).split())[:200]})")


#: what a ``-j N`` worker failed to import (:func:`init_worker`); a method row it leaves unknown says it
_IMPORT_ERRORS: list[str] = []
