"""What the web page does, without the page: fuse one uploaded pair as ``mutualfuse fuse`` does.

:func:`fuse_request` takes the paths of two uploaded files and the page's settings, builds the
:class:`~mutualfuse.api.Fuser` with the CLI's own :func:`mutualfuse.cli.fuse.make_fuser`, reads
and checks the pair with the CLI's :func:`~mutualfuse.cli.fuse.read_pair`, fuses with
:meth:`Fuser.fuse_arrays` and writes with :func:`mutualfuse.image_io.write_image` at the depth
:func:`~mutualfuse.image_io.output_depth` picks for a ``.png`` output — the steps of
:func:`mutualfuse.cli.fuse.fuse_files`, so the PNG is pixel-identical to
``mutualfuse fuse A B -o fused.png`` with the same options (the browser test checks it). When an
input is 16-bit the same fused array is also written as a 16-bit TIFF.

Metrics are scored as ``mutualfuse evaluate`` scores files: sources and the written PNGs read
as stored (:func:`mutualfuse.cli.evaluate.read_gray`), for the fused image and, for comparison,
for the pixel average (the registered ``average`` method through the same colour path).

Everything is written under one work folder (given by the server, removed when it stops); each
request gets its own sub-folder and only the last :data:`KEEP_REQUESTS` are kept.
"""
from __future__ import annotations

import argparse
import contextlib
import inspect
import io
import math
import shutil
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

#: the metrics table: display name → registered key (VIFB's code for all but SCD, as in the
#: paper profile); all fast (well under a second each at 640×480)
FAST_METRICS = {
    "EN": "EN@vifb",
    "SD": "SD@vifb",
    "SF": "SF@vifb",
    "AG": "AG@vifb",
    "EI": "EI@vifb",
    "MI": "MI@vifb",
    "Qabf": "Qabf@vifb",
    "SSIM": "SSIM@vifb",
    "SCD": "SCD@rfn-nest",
}
KEEP_REQUESTS = 8
NETWORK = "mutualfuse"
SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"


@dataclass
class Settings:
    """The page's choices: the options of ``mutualfuse fuse`` that the page exposes."""

    method: str = NETWORK
    weights: str = "default"  # a shipped name; network only
    params: str = ""  # KEY=VALUE per line (classical methods), as --param
    chroma: str = "saturation"
    normalize: str = "auto"
    device: str = "auto"
    max_pixels: int | None = None  # None: the CLI's default
    blend_temperature: float | None = None  # network only; None: the weights' own
    detail_gain: float | None = None  # pyramid network only; None: the weights' own
    detail_activity: float | None = None  # pyramid network only; None: the weights' own
    task: str | None = None  # network only (--task); None: auto for weights with per-task settings, else stored

    def cli_args(self) -> list[str]:
        """The equivalent ``mutualfuse fuse`` options (shown on the page, used by the test)."""
        out = ["--method", self.method]
        if self.method == NETWORK:
            out += ["--weights", self.weights]
            if self.blend_temperature is not None:
                out += ["--blend-temperature", repr(float(self.blend_temperature))]
            if self.detail_gain is not None:
                out += ["--detail-gain", repr(float(self.detail_gain))]
            if self.detail_activity is not None:
                out += ["--detail-activity", repr(float(self.detail_activity))]
            if self.task:
                out += ["--task", self.task]
        for p in param_lines(self.params):
            out += ["--param", p]
        out += ["--chroma", self.chroma, "--normalize", self.normalize, "--device", self.device]
        return out

    def command(self) -> str:
        """The ``mutualfuse fuse`` command line the page shows ("same as"), shell-quoted, without
        ``--device`` (the server's choice) and with the server's ``--max-pixels`` when it set one."""
        import shlex

        extra = ["--max-pixels", str(self.max_pixels)] if self.max_pixels is not None else []
        return shlex.join(["mutualfuse", "fuse", "A", "B", "-o", "fused.png", *self.cli_args()[:-2], *extra])


@dataclass
class Result:
    png: Path
    tiff: Path | None
    preview_a: Path
    preview_b: Path
    bit_depth: int
    colour: bool
    seconds: float
    metric_seconds: float
    metrics: list[list] = field(default_factory=list)  # [name, fused, average, better]
    notes: list[str] = field(default_factory=list)


def samples() -> dict[str, tuple[Path, Path]]:
    """The bundled sample pairs: name → (a, b)."""
    return {d.name: (d / "a.png", d / "b.png") for d in sorted(SAMPLES.iterdir()) if (d / "a.png").is_file()}


def methods() -> list[tuple[str, str]]:
    """(name, family) of every registered method, the network first."""
    from ..methods import METHODS

    entries = [(e.name, e.meta.get("family", "")) for e in METHODS]
    return sorted(entries, key=lambda e: e[1] != "network")  # stable: registration order otherwise


def weights_names() -> list[str]:
    from ..weights import SHIPPED

    return list(SHIPPED)


def default_params(method: str) -> str:
    """The method's keyword parameters and their defaults as ``KEY=VALUE`` lines ('' for none)."""
    from ..methods import METHODS

    if method == NETWORK or method not in METHODS:
        return ""
    sig = inspect.signature(METHODS.get(method))
    return "\n".join(f"{p.name}={str(p.default).lower() if isinstance(p.default, bool) else p.default}"
                     for p in list(sig.parameters.values())[2:] if p.default is not inspect.Parameter.empty)


def param_lines(text: str) -> list[str]:
    """The box's ``KEY=VALUE`` lines (or comma-separated items) as ``--param`` values; spaces around
    the ``=`` are dropped (``wavelet = db2`` was the wavelet ``' db2'``, an error)."""
    out = []
    for ln in (text or "").replace(",", "\n").splitlines():
        key, sep, value = ln.partition("=")
        if ln.strip():
            out.append(f"{key.strip()}={value.strip()}" if sep else ln.strip())
    return out


def input_notes(infos, names) -> list[str]:
    """The notes ``mutualfuse fuse`` prints about how each input was scaled (16-bit by percentile,
    float clipped …), naming the uploaded files by their own names."""
    from ..io.samples import FLOAT_TOLERANCE

    notes = []
    for info, name in zip(infos, names):
        depth = "float" if info.bit_depth == 32 else f"{info.bit_depth}-bit"
        if info.normalization in ("percentile", "window"):
            notes.append(f"{name}: {depth} input {info.scaled_how()} "
                         "(--normalize full for the type's full range)")
        elif info.normalization == "clipped":
            notes.append(f"{name}: float samples up to {FLOAT_TOLERANCE:g} outside [0, 1] clipped to [0, 1]")
    return notes


def compare_pair(state: dict | None, which: str):
    """The before/after slider's pair for the radio's choice ("a vs fused" / "b vs fused")."""
    if not state:
        return None
    return (state["b" if str(which).startswith("b") else "a"], state["fused"])


def _namespace(s: Settings) -> argparse.Namespace:
    """The Namespace ``mutualfuse fuse`` would parse for these settings."""
    from ..cli import build_parser
    from ..errors import ParameterError

    err = io.StringIO()
    try:  # a request may carry any value (the page's dropdowns are not a check): one-line error, no exit
        with contextlib.redirect_stderr(err):
            return build_parser().parse_args(["fuse", "a", "b", "-o", "out.png", "-q", *s.cli_args()])
    except SystemExit:
        msg = " ".join(err.getvalue().split()).removeprefix("mutualfuse: error: ").removeprefix("fuse: ")
        raise ParameterError(msg.split(" (see mutualfuse fuse --help)")[0] or "bad settings") from None


class FuserCache:
    """Keeps the last built Fuser (loading weights takes a moment; settings rarely change); a
    weights file changed on disk since is loaded again."""

    def __init__(self):
        self._key = None
        self._fuser = None

    def get(self, ns: argparse.Namespace):
        from ..cli.fuse import make_fuser
        from ..weights import file_identity

        # a weights file rewritten in place while the server runs is read again (its identity)
        key = (ns.method, ns.weights, file_identity(ns.weights), tuple(ns.param), ns.chroma, ns.normalize, ns.device,
               ns.blend_temperature, ns.detail_gain, ns.detail_activity, ns.task)
        if key != self._key:
            self._fuser = None
            self._fuser = make_fuser(ns, progress=True)
            self._key = key
        return self._fuser


def _request_dir(workdir: Path) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    old = sorted((p for p in workdir.iterdir() if p.is_dir() and p.name.startswith("req-")),
                 key=lambda p: p.stat().st_mtime)
    for p in old[:max(0, len(old) - KEEP_REQUESTS + 1)]:
        shutil.rmtree(p, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix="req-", dir=workdir))


def _preview(arr: np.ndarray, path: Path) -> Path:
    from ..image_io import write_image

    write_image(path, arr, bit_depth=8)
    return path


def _scores(a_path: str, b_path: str, fused_png: Path, avg_png: Path) -> list[list]:
    from ..cli.evaluate import read_gray
    from ..errors import ImageTooSmallError, InputError, MetricUndefinedError
    from ..metrics import METRICS, goodness

    def gray(path) -> np.ndarray:
        try:
            return read_gray(Path(path))
        except InputError:  # e.g. DICOM: what the fusion read, on the 0-255 scale
            from ..image_io import read_gray_float

            return read_gray_float(path).astype(np.float64) * 255.0

    a, b, f, avg = gray(a_path), gray(b_path), gray(fused_png), gray(avg_png)

    def score(fn, fused) -> float | None:
        """The value, or None where the metric cannot be computed (an image smaller than its
        window: an error, or NaN from an empty window), as ``evaluate`` leaves such a cell empty."""
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore", RuntimeWarning)
                v = float(fn(a, b, fused))
        except (ImageTooSmallError, MetricUndefinedError):
            return None
        return v if math.isfinite(v) else None

    rows = []
    for name, key in FAST_METRICS.items():
        fn = METRICS.get(key)
        vf, va = score(fn, f), score(fn, avg)
        if vf is None or va is None:  # no verdict without both values (NaN compared as "average" won)
            better = "—"
        else:
            gf, ga = goodness(key, vf), goodness(key, va)
            better = "fused" if gf > ga else ("equal" if gf == ga else "average")
        rows.append([f"{name} ({key})", None if vf is None else round(vf, 4), None if va is None else round(va, 4),
                     better])
    return rows


def _short(stem: str, limit: int = 100) -> str:
    """``stem`` cut to at most ``limit`` UTF-8 bytes: the download joins two uploaded names, each
    up to 255 bytes, and a longer file name cannot be written (Errno 36, 'File name too long')."""
    return stem.encode()[:limit].decode(errors="ignore")


def fuse_request(a_path: str, b_path: str, settings: Settings, workdir: Path, cache: FuserCache,
                 names: tuple[str, str] = ("a", "b")) -> Result:
    """Fuse one uploaded pair as ``mutualfuse fuse a b -o fused.png`` would; raise FuseError on bad input.

    ``names`` are the uploaded files' own names, used for the download names.
    """
    from ..api import Fuser
    from ..cli.fuse import read_pair
    from ..errors import InputError
    from ..image_io import MAX_PIXELS, output_depth, write_image

    if settings.method == NETWORK and settings.weights not in weights_names():
        from ..errors import ParameterError

        # the page offers the shipped weights only; a request naming a path must not make the
        # server read files of its own file system
        raise ParameterError(f"weights {settings.weights!r}: not shipped weights (the page serves "
                             f"{', '.join(weights_names())})")
    ns = _namespace(settings)
    fuser = cache.get(ns)
    max_pixels = MAX_PIXELS if settings.max_pixels is None else settings.max_pixels
    t0 = time.perf_counter()
    try:
        a, b, ia, ib = read_pair(fuser, a_path, b_path, max_pixels, server=True)
    except InputError as e:  # the bomb guard's advice is the server's option, not the page user's
        if "raise it with --max-pixels" not in str(e):
            raise
        raise InputError(str(e).replace("raise it with --max-pixels",
                                        "the limit of this server, set by `mutualfuse serve --max-pixels`")) from None
    fused = fuser.fuse_arrays(a[None], b[None])[0]
    seconds = time.perf_counter() - t0
    colour = fused.ndim == 3
    req = _request_dir(workdir)
    stem = (f"{_short(Path(names[0]).stem)}-{_short(Path(names[1]).stem)}-"
            f"{settings.method if settings.method != NETWORK else settings.weights}")
    png = req / f"{stem}.png"
    depth, note = output_depth(png, [ia.bit_depth, ib.bit_depth], colour, None)
    notes = list(fuser.report.notes) + ([note] if note else []) + input_notes((ia, ib), names)
    write_image(png, fused, bit_depth=depth)
    tiff = None
    if 16 in (ia.bit_depth, ib.bit_depth):
        tiff = req / f"{stem}.tif"
        write_image(tiff, fused, bit_depth=16)
    avg = Fuser("average", chroma=fuser.chroma).fuse_arrays(a[None], b[None])[0]
    avg_png = req / "average.png"  # at the fused PNG's depth: the same image must score the same
    write_image(avg_png, avg, bit_depth=depth)
    t1 = time.perf_counter()
    rows = _scores(a_path, b_path, png, avg_png)
    return Result(png=png, tiff=tiff, preview_a=_preview(a, req / "a-preview.png"),
                  preview_b=_preview(b, req / "b-preview.png"), bit_depth=depth, colour=colour,
                  seconds=seconds, metric_seconds=time.perf_counter() - t1, metrics=rows, notes=notes)
