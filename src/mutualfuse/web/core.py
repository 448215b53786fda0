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

:func:`fuse_stack_request` fuses an uploaded focus stack (N ≥ 2 images, or one multi-page TIFF)
by running ``mutualfuse fuse-stack`` itself (:func:`mutualfuse.cli.fuse_stack.run` on the options
the CLI parses from the command line the page shows), so its file is byte-identical to that
command's; its notes and summary line are returned, the uploads named by their own names.

Everything is written under one work folder (given by the server, removed when it stops); each
request gets its own sub-folder (:func:`_request_dir`), removed when the next request of the same
page (browser tab, ``owner``) supersedes it or after :data:`REQUEST_MAX_AGE` seconds; of requests
without an owner (direct callers) the last :data:`KEEP_REQUESTS` are kept.
"""
from __future__ import annotations

import argparse
import contextlib
import inspect
import io
import math
import re
import shutil
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..wording import counted

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
#: seconds a request's folder is kept when no newer request of its page supersedes it: the age at
#: which Gradio's cache (``delete_cache``) drops the copies the page shows
REQUEST_MAX_AGE = 3600
#: what the page says instead of the CLI's "raise it with --max-pixels" (the page's user cannot)
SERVER_LIMIT = "the limit of this server, set by `mutualfuse serve --max-pixels`"
#: the formats a stack's result can be downloaded in (``fuse-stack -o fused.png`` / ``fused.tif``)
STACK_FORMATS = ("png", "tif")
NETWORK = "mutualfuse"
SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
#: the ``--import`` modules of ``mutualfuse serve`` (methods of one's own on the page), set by the
#: command (:func:`mutualfuse.cli.serve.run`); the page's "same as" command lines name them
#: (:attr:`Settings.imports`) when the chosen method is one of one's own
SERVED_IMPORTS: tuple[str, ...] = ()


def _served_imports() -> tuple[str, ...]:
    return tuple(SERVED_IMPORTS)


#: the page's scaling value that means "no ``--normalize``": ``auto`` for the shipped weights and the
#: classical methods (as the page always did), and for weights of one's own (``serve --weights``) the
#: policy their training recorded (``train_data``), as ``mutualfuse fuse --weights FILE`` reads by default
DEFAULT_NORMALIZE = "default"


def own_weights_entries(entries: list[str]) -> list[tuple[str, str, str]]:
    """``serve --weights`` entries → ``(entry, NAME, FILE)`` each: ``NAME=FILE``, or a path whose
    NAME is the file's stem (as ``benchmark --weights`` reads them)."""
    return [(e, e.split("=", 1)[0].strip(), e.split("=", 1)[1]) if "=" in e else (e, Path(e).stem, e)
            for e in entries]


class CheckedWeights(dict):
    """``{NAME: absolute FILE}`` as :func:`check_own_weights` checked it (not read again at the start)."""


def own_weights_table(own: dict[str, str] | None, option: str = "own_weights") -> CheckedWeights:
    """``own`` (``{NAME: FILE}``) checked by :func:`check_own_weights`, unless it was already."""
    if isinstance(own, CheckedWeights):
        return own
    return check_own_weights([(f"{n}={f}", str(n), str(f)) for n, f in (own or {}).items()], option=option)


def check_own_weights(items: list[tuple[str, str, str]], option: str = "--weights") -> CheckedWeights:
    """Weights of one's own for the page, each ``(entry as given, NAME, FILE)``, checked as
    ``benchmark --weights`` checks its rows (:func:`mutualfuse.weights.own.check_named_weights`:
    each file read and verified as ``fuse`` reads it; a NAME that is not one word, is a shipped
    name or is given twice is one line naming ``option`` and the entry) → ``{NAME: absolute FILE}``,
    in the order given."""
    from ..weights.own import check_named_weights

    return CheckedWeights(check_named_weights(items, option=option, noun="weights name"))


def own_weights_choices(own: dict[str, str]) -> list[tuple[str, str]]:
    """The weights selector's entries (label, value): the shipped names, then each NAME of one's own
    (``serve --weights``) labelled as yours with its file's name."""
    return [(n, n) for n in weights_names()] + [(f"{n}  (your weights: {Path(f).name})", n) for n, f in own.items()]


def _check_weights(settings: "Settings") -> None:
    """A request may name the shipped weights or a NAME the server was started with, never a path:
    the server does not read files of its own file system on a request's word."""
    if settings.method == NETWORK and settings.weights not in weights_names() \
            and settings.weights not in settings.own_weights:
        from ..errors import ParameterError

        yours = " nor weights of yours" if settings.own_weights else ""
        raise ParameterError(f"weights {settings.weights!r}: not shipped weights{yours} (the page serves "
                             f"{', '.join([*weights_names(), *settings.own_weights])})")


def is_own_method(method: str) -> bool:
    """Whether the registered ``method`` is a method of one's own (``serve --import``), not the project's."""
    from ..methods import METHODS, _is_own

    return method in METHODS and _is_own(METHODS.get(method))


#: characters that make a Windows command-line argument need double quotes: blanks (the argument
#: would be split) and cmd's operators (``&`` ``|`` ``<`` ``>`` ``^``: literal inside quotes, in
#: PowerShell too), PowerShell's separators and grouping (``;`` ``,`` ``(`` ``)`` ``{`` ``}`` ``@`` ``'``
#: ``#``) and ``"`` itself
_WINDOWS_SPECIAL = set(" \t\n\v&|<>^;,(){}@'#\"")


def _windows_quote(arg: str) -> str:
    """One argument for a Windows command line: as is when it holds nothing special, else in double
    quotes with the Microsoft C runtime's escapes (``\\"`` for a quote, backslashes before a quote or
    the closing quote doubled): the rules :func:`subprocess.list2cmdline` follows, which quotes only
    blanks; here cmd's and PowerShell's operators are quoted too."""
    if arg and not (set(arg) & _WINDOWS_SPECIAL):
        return arg
    out, slashes = ['"'], 0
    for ch in arg:
        if ch == "\\":
            slashes += 1
            continue
        if ch == '"':
            out.append("\\" * (2 * slashes + 1) + '"')
        else:
            out.append("\\" * slashes + ch)
        slashes = 0
    out.append("\\" * (2 * slashes) + '"')
    return "".join(out)


def shell_join(args: list[str]) -> str:
    """A command line the user can paste into their shell: POSIX quoting (:func:`shlex.join`), or,
    on Windows (``os.name == "nt"``), double quotes for cmd and PowerShell (:func:`_windows_quote`;
    ``shlex.join``'s single quotes are not quotes in cmd). ``%VAR%`` (cmd) and ``$name`` (PowerShell)
    are still expanded inside double quotes: a file name holding them is shown as it is."""
    import os

    if os.name == "nt":
        return " ".join(_windows_quote(a) for a in args)
    import shlex

    return shlex.join(args)


@dataclass
class Settings:
    """The page's choices: the options of ``mutualfuse fuse`` that the page exposes."""

    method: str = NETWORK
    weights: str = "default"  # a shipped name or a NAME of ``own_weights``; network only
    params: str = ""  # KEY=VALUE per line (classical methods), as --param
    chroma: str = "saturation"
    #: a ``--normalize`` mode, or :data:`DEFAULT_NORMALIZE`: none given (``auto``, or the policy that
    #: weights of one's own recorded)
    normalize: str = DEFAULT_NORMALIZE
    device: str = "auto"
    max_pixels: int | None = None  # None: the CLI's default
    blend_temperature: float | None = None  # network only; None: the weights' own
    detail_gain: float | None = None  # pyramid network only; None: the weights' own
    detail_activity: float | None = None  # pyramid network only; None: the weights' own
    task: str | None = None  # network only (--task); None: auto for weights with per-task settings, else stored
    #: the modules ``serve --import`` imported (default: :data:`SERVED_IMPORTS` when the settings
    #: are made): named by ``--import`` in the command lines when the method is one of one's own
    imports: tuple[str, ...] = field(default_factory=_served_imports)
    #: the weights of one's own the server was started with (``serve --weights NAME=FILE``):
    #: NAME → absolute file; ``weights`` may name one of them, and the command lines name its file
    #: (the page's by its file name only: :meth:`shown`)
    own_weights: dict[str, str] = field(default_factory=dict)

    def _own_file(self) -> str | None:
        """The file of the chosen weights of one's own (None: shipped weights, or not the network)."""
        return self.own_weights.get(self.weights) if self.method == NETWORK else None

    def shown(self, text: str) -> str:
        """``text`` as the page shows it: the chosen weights of one's own named by their file's name,
        not by the server's absolute path (a page served with ``--share`` or on another ``--host``,
        or reached through a tunnel, is read by users of other machines; the server cannot tell)."""
        f = self._own_file()
        return text.replace(f, Path(f).name) if f else text

    def cli_args(self, shown: bool = False) -> list[str]:
        """The equivalent ``mutualfuse fuse`` options (used by the page's fusion and the tests); a
        method of one's own is preceded by the ``--import`` of every module ``serve`` imported.
        ``shown``: as the page shows them, weights of one's own named by their file's name only
        (:meth:`shown`; run in that file's folder, or put its path in its place)."""
        out = [a for m in self.imports for a in ("--import", m)] if self.imports and is_own_method(self.method) else []
        out += ["--method", self.method]
        if self.method == NETWORK:
            own = self._own_file()
            if own and shown:  # not read as an option where the name starts with "-"
                own = f"./{Path(own).name}" if Path(own).name.startswith("-") else Path(own).name
            out += ["--weights", own or self.weights]
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
        out += ["--chroma", self.chroma]
        if self.normalize != DEFAULT_NORMALIZE:
            out += ["--normalize", self.normalize]
        elif not self._own_file():  # shipped weights, classical methods: auto, as the page always said
            out += ["--normalize", "auto"]
        # else none, as `fuse --weights FILE`: the policy the weights' training recorded, else auto
        out += ["--device", self.device]
        return out

    def command(self, names: tuple[str, str] | None = None, out: str = "fused.png") -> str:
        """The ``mutualfuse fuse`` command line the page shows ("same as"), shell-quoted, without
        ``--device`` (the server's choice), with the server's ``--max-pixels`` when it set one
        other than the default, and weights of one's own by their file's name (``cli_args(shown=True)``).
        ``names``: the two files by their own names (the page's uploads; ``A B`` without them), and
        ``out`` the output's name (the page's download: the command writes the file of that name)."""
        files = [f"./{n}" if n.startswith("-") else n for n in (names or ("A", "B"))]  # not read as options
        out = f"./{out}" if out.startswith("-") else out
        return shell_join(["mutualfuse", "fuse", *files, "-o", out, *self.cli_args(shown=True)[:-2],
                           *self._limit_args()])

    def _limit_args(self) -> list[str]:
        """``--max-pixels N`` when the server set a limit other than the CLI's default (``serve``
        passes its default, 200000000, which the command need not name)."""
        from ..image_io import MAX_PIXELS

        return [] if self.max_pixels in (None, MAX_PIXELS) else ["--max-pixels", str(self.max_pixels)]

    def stack_args(self, order: str = "tree", shown: bool = False) -> list[str]:
        """The ``mutualfuse fuse-stack`` options for these settings (``--device`` last); ``shown``: as
        :meth:`cli_args`'s."""
        args = self.cli_args(shown)
        return ["--order", order, *args[:-2], *self._limit_args(), *args[-2:]]

    def stack_command(self, names: list[str], order: str = "tree", fmt: str = "png", out: str | None = None) -> str:
        """The ``mutualfuse fuse-stack`` command line the page shows for a stack: the uploaded
        files by their own names, in the order the page stacked them (:func:`stack_order`),
        shell-quoted, without ``--device`` and with the server's ``--max-pixels`` when it set one
        other than the default, weights of one's own by their file's name (as :meth:`command`).
        ``out``: the output's name (the page's download, so that the command writes the file of
        that name; ``fused.<fmt>`` without it)."""
        files = [f"./{n}" if n.startswith("-") else n for n in names]  # not read as an option
        out = out or f"fused.{fmt}"
        out = f"./{out}" if out.startswith("-") else out
        return shell_join(["mutualfuse", "fuse-stack", *files, "-o", out,
                           *self.stack_args(order, shown=True)[:-2]])


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
    device: str = ""  # where the fuser ran (the page's timing line; asking the cache again could rebuild it)
    average: Path | None = None  # the pixel average, as scored in the table (its "pixel average" column)
    normalize: str = "auto"  # the scaling the fuser read the pair with (how :func:`_scores` reads a float source)
    tiff_bit_depth: int | None = None  # the TIFF download's depth (32: float), where there is one


def samples() -> dict[str, tuple[Path, Path]]:
    """The bundled sample pairs: name → (a, b)."""
    return {d.name: (d / "a.png", d / "b.png") for d in sorted(SAMPLES.iterdir()) if (d / "a.png").is_file()}


def methods() -> list[tuple[str, str]]:
    """(name, family) of every registered method, the network first; a method of one's own
    (``serve --import``) has ``yours`` in its family."""
    from ..methods import METHODS

    from ..methods import _is_own

    # a method of one's own (serve --import) says so, with its family if it gave one
    entries = [(e.name, e.meta.get("family", "") + (", yours" if e.meta.get("family") else "yours")
                if _is_own(e.obj) else e.meta.get("family", "")) for e in METHODS]
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


def input_notes(infos, names, normalize: str = "auto") -> list[str]:
    """The notes ``mutualfuse fuse`` prints about how each input was scaled (16-bit by percentile,
    float clipped …), with its advice (:func:`mutualfuse.cli.fuse.fuse_files`), naming the
    uploaded files by their own names. ``normalize``: the fuser's (the page's scaling option).

    A float input scaled because its samples are outside [0, 1] was advised "--normalize full for
    the type's full range", which refuses such samples: it gets the CLI's advice for floats."""
    from ..io.samples import FLOAT_TOLERANCE

    notes = []
    for info, name in zip(infos, names):
        if info.reduced:  # a file Pillow decodes at fewer bits than it holds (16-bit colour JPEG 2000): said
            notes.append(f"{name}: {info.reduced}")
        if info.normalization in ("percentile", "window"):
            if info.bit_depth != 32:
                hint = info.full_hint()
            elif normalize == "auto":  # scaled because its samples are outside [0, 1]; full refuses them
                hint = "its samples are outside [0, 1]; --normalize full takes float data in [0, 1] only"
            else:
                hint = "--normalize auto keeps float samples already in [0, 1] as they are"
            notes.append(f"{name}: {info.input_words()} {info.scaled_how()} ({hint})")
        elif info.normalization == "clipped":
            notes.append(f"{name}: float samples up to {FLOAT_TOLERANCE:g} outside [0, 1] clipped to [0, 1]")
    return notes


def compare_pair(state: dict | None, which: str):
    """The before/after slider's pair for the radio's choice ("a vs fused" / "b vs fused")."""
    if not state:
        return None
    return (state["b" if str(which).startswith("b") else "a"], state["fused"])


def still_there(pair):
    """``pair`` (the slider's files) if both files still exist, else None: for a request's folder
    removed after :data:`REQUEST_MAX_AGE` the page empties the slider and says so on the section's
    status line (``app.on_compare``, ``app.on_stack_compare``; Gradio refused the paths with a 403
    error on the page)."""
    return pair if pair is not None and all(Path(p).is_file() for p in pair) else None


def _namespace(s: Settings) -> argparse.Namespace:
    """The Namespace ``mutualfuse fuse`` would parse for these settings."""
    return _parse(["fuse", "a", "b", "-o", "out.png", "-q", *s.cli_args()])


def _parse(argv: list[str]) -> argparse.Namespace:
    """The CLI's parser on ``argv`` (``argv[0]`` the command); a bad value is a one-line ParameterError."""
    from ..cli import build_parser
    from ..errors import ParameterError

    err = io.StringIO()
    try:  # a request may carry any value (the page's dropdowns are not a check): one-line error, no exit
        with contextlib.redirect_stderr(err):
            return build_parser().parse_args(argv)
    except SystemExit:
        msg = " ".join(err.getvalue().split()).removeprefix("mutualfuse: error: ").removeprefix(f"{argv[0]}: ")
        raise ParameterError(msg.split(f" (see mutualfuse {argv[0]} --help)")[0] or "bad settings") from None


class FuserCache:
    """Keeps the last built Fuser (loading weights takes a moment; settings rarely change); a
    weights file changed on disk since is loaded again.

    Safe to share between threads (the page's queue runs one fusion at a time, but the core
    functions may be called from several): :meth:`get` holds a lock while it compares and
    builds, so two requests with the same new settings build the Fuser once (each built its own,
    loading the weights twice), and each gets the Fuser of its own settings (the shared attribute
    was read back after the build, which a request with other settings might have replaced in
    between). The Fuser itself runs one call at a time and reports per thread
    (:class:`mutualfuse.api.Fuser`)."""

    def __init__(self):
        import threading

        self._key = None
        self._fuser = None
        self._lock = threading.Lock()

    def get(self, ns: argparse.Namespace):
        from ..cli.fuse import make_fuser
        from ..weights import file_identity

        # a weights file rewritten in place while the server runs is read again (its identity)
        key = (ns.method, ns.weights, file_identity(ns.weights), tuple(ns.param), ns.chroma, ns.normalize, ns.device,
               ns.blend_temperature, ns.detail_gain, ns.detail_activity, ns.task)
        with self._lock:
            if key != self._key:
                self._key, self._fuser = None, None  # the old one is freed before the new one loads
                self._fuser = make_fuser(ns, progress=True)
                self._key = key
            return self._fuser


def _own_fuser(cache: FuserCache, ns: argparse.Namespace, settings: Settings):
    """``cache.get(ns)``, weights of one's own that no longer load named by their NAME: the cache
    reads a file rewritten since the server started again (its identity, with its ``.sha256``
    sidecar), verified as at the start; a file now invalid, removed or failing its sidecar is
    refused with its one-line reason."""
    from ..errors import WeightsError

    try:
        return cache.get(ns)
    except WeightsError as e:
        if settings._own_file():
            e.args = (f"your weights {settings.weights}: {settings.shown(str(e))}",)
        raise


def policy_origin(message: str, settings: Settings, fuser, error: BaseException) -> str:
    """``message`` (the page's words of ``error``, a refusal of the inputs), with where its scaling
    came from when the page's scaling was left at its default and the weights of one's own read with
    the policy their training recorded, as ``fuse`` says it (:func:`mutualfuse.cli.fuse.policy_origin`),
    in the page's words; decided as ``fuse`` decides it (:func:`mutualfuse.cli.fuse.refuses_policy`)."""
    from ..cli.fuse import refuses_policy

    norm = getattr(fuser, "normalize", "auto")
    if settings.normalize != DEFAULT_NORMALIZE or not settings._own_file() or norm == "auto" \
            or not getattr(fuser, "_policy_note", None):
        return message
    if refuses_policy(error, norm):
        return (f"{message} [scaling {norm} was not chosen: it is the policy your weights {settings.weights} were "
                "trained with (their train_data); choose a 16-bit / float scaling to read otherwise]")
    return message


#: (work folder, owner) → that owner's (page's) last request folder, superseded by its next request
_OWNED: dict[tuple[str, str], Path] = {}
#: (work folder, owner) → the folder of that owner's request running now (or failed: removed by its next)
_PENDING: dict[tuple[str, str], Path] = {}
_OWNED_LOCK = threading.Lock()


def _request_dir(workdir: Path, owner: str | None = None) -> Path:
    """A new folder for one request's files under ``workdir``.

    ``owner`` (the page's session: one browser tab, and ``/pair`` or ``/stack``) supersedes its own
    previous request's folder, which is removed when this request's result is made
    (:func:`_superseded`; the folder of a request of it that failed, at its next request). It was
    removed here, as the request began: while a pair's metrics were scored (half a minute at camera
    sizes), the source picked for the slider of the result still shown was said to be "no longer on
    the server" and the slider emptied (the stack's selector is covered by its progress meanwhile). Any other folder is removed once older than
    :data:`REQUEST_MAX_AGE`. Only the last :data:`KEEP_REQUESTS` folders of all requests were kept,
    so on a shared server eight requests of other tabs removed the files a tab's before/after
    slider still showed (its next move was a 403 error on the page). Of requests without an owner
    (direct callers of this module) the last :data:`KEEP_REQUESTS` are kept, as before."""
    workdir.mkdir(parents=True, exist_ok=True)
    now = time.time()
    with _OWNED_LOCK:
        if owner is not None:
            failed = _PENDING.pop((str(workdir), owner), None)
            if failed is not None:
                shutil.rmtree(failed, ignore_errors=True)
        owned = {str(p) for table in (_OWNED, _PENDING) for (w, _), p in table.items() if w == str(workdir)}
        unowned = []
        for p in workdir.iterdir():
            try:
                if not (p.is_dir() and p.name.startswith("req-")):
                    continue
                mtime = p.stat().st_mtime
            except OSError:  # removed meanwhile
                continue
            if now - mtime > REQUEST_MAX_AGE:
                shutil.rmtree(p, ignore_errors=True)
            elif str(p) not in owned:
                unowned.append((mtime, p))
        if owner is None:
            for _, p in sorted(unowned)[:max(0, len(unowned) - KEEP_REQUESTS + 1)]:
                shutil.rmtree(p, ignore_errors=True)
        for table in (_OWNED, _PENDING):
            for key in [k for k, p in table.items() if k[0] == str(workdir) and not p.exists()]:
                del table[key]  # aged out
        req = Path(tempfile.mkdtemp(prefix="req-", dir=workdir))
        if owner is not None:
            _PENDING[(str(workdir), owner)] = req
        return req


def _superseded(workdir: Path, owner: str | None, req: Path) -> None:
    """``req``, the folder of ``owner``'s request whose result is made, becomes its folder; the
    folder of its request before is removed (:func:`_request_dir`)."""
    if owner is None:
        return
    key = (str(workdir), owner)
    with _OWNED_LOCK:
        if _PENDING.get(key) == req:
            del _PENDING[key]
        old = _OWNED.get(key)
        if old is not None and old != req:
            shutil.rmtree(old, ignore_errors=True)
        _OWNED[key] = req


def expired_uploads(paths: dict[str, str]) -> str | None:
    """The page's error for uploads that are no longer on the server (``paths``: server path →
    the upload's own name), or None when every one is there.

    Gradio deletes an upload about :data:`REQUEST_MAX_AGE` seconds after it was sent (the page's
    ``delete_cache``) while the browser tab keeps showing it in its upload box: a user who came
    back to a tab after lunch and pressed Fuse again was told ``mutualfuse: error: a.png: file not
    found``, as if the file had gone from their own disk."""
    gone = [name for path, name in paths.items() if not Path(path).is_file()]
    if not gone:
        return None
    return (f"{', '.join(gone)}: no longer on the server (it keeps uploads about {REQUEST_MAX_AGE // 60} "
            f"minutes): upload {'it' if len(gone) == 1 else 'them'} again")


def distinct_names(names: list[str], tags: list[str]) -> list[str]:
    """The uploads' own names, each name that occurs more than once followed by its tag
    (``image.png (a)`` / ``image.png (b)`` for a pair, ``z.png (image 2)`` for a stack): two
    cameras' ``image.png`` were told apart nowhere on the page (``size mismatch: image.png is
    48x32, image.png is 48x30``, a note on ``image.png`` for either, the stack's slider offering
    ``z.png`` twice and showing the same image for both)."""
    seen = {n: names.count(n) for n in names}
    return [f"{n} ({t})" if seen[n] > 1 else n for n, t in zip(names, tags)]


def _preview(arr: np.ndarray, path: Path) -> Path:
    from ..image_io import write_image

    write_image(path, arr, bit_depth=8)
    return path


def own_metrics() -> dict[str, str]:
    """The metrics of one's own (``serve --import`` of a module that calls
    :func:`mutualfuse.metrics.register_metric`): label → registered key, in registration order; the
    metrics table shows them after :data:`FAST_METRICS`, labelled as yours and unchecked."""
    from ..metrics import METRICS, OWN_SOURCE

    return {f"{e.name} (yours, unchecked)": e.name for e in METRICS if e.meta["source"] == OWN_SOURCE}


def metric_choices() -> list[tuple[str, str]]:
    """The metrics the page can add to its table, as (label, key): every registered metric but the
    table's own (:data:`FAST_METRICS`, and one's own metrics, always in it), in ``evaluate --list``'s
    order, those the registry marks slow labelled so."""
    from ..metrics import METRICS, OWN_SOURCE

    fast = set(FAST_METRICS.values())
    return [(e.name + ("  (slow)" if e.meta.get("slow") else ""), e.name) for e in METRICS
            if e.name not in fast and e.meta.get("source") != OWN_SOURCE]


def more_scores(keys: list[str], a_path: str, b_path: str, fused_png: Path, avg_png: Path,
                normalize: str = "auto", notes: list[str] | None = None) -> list[list]:
    """The table's rows of the metrics ``keys`` chosen on the page (:func:`metric_choices`), scored
    as :func:`_scores` scores the table's own (as ``mutualfuse evaluate --metrics KEY`` scores the
    files); a key that is not a registered metric is a one-line ParameterError."""
    from ..errors import ParameterError
    from ..metrics import METRICS

    for k in keys:
        if k not in METRICS:
            raise ParameterError(f"metric {k!r}: not a metric of this server (mutualfuse evaluate --list)")
    return _scores(a_path, b_path, fused_png, avg_png, normalize, notes, metrics={k: k for k in keys})


def _scores(a_path: str, b_path: str, fused_png: Path, avg_png: Path, normalize: str = "auto",
            notes: list[str] | None = None, metrics: dict[str, str] | None = None) -> list[list]:
    """The metrics table, scored as ``mutualfuse evaluate`` scores the files: the fused PNGs as
    stored, the sources at their stored scale (``evaluate``'s default) or, when a source is float
    (which ``evaluate`` scores only with ``--normalize``), both as ``evaluate --normalize
    NORMALIZE`` reads them, ``normalize`` being the page's scaling option (as the fusion read
    them). The float source alone was read with BT.601 luma at the default scaling whatever the
    option said, the other as stored: a table no ``evaluate`` command gives.

    After the fast metrics, every metric of one's own (:func:`own_metrics`); one that fails (raises,
    or returns no number: :class:`~mutualfuse.metrics.MetricResultError`) leaves its cells empty,
    with its one-line reason appended to ``notes``. ``metrics``: label → key of the rows instead
    (:func:`more_scores`)."""
    from ..cli.evaluate import read_gray
    from ..errors import ImageTooSmallError, InputError, MetricUndefinedError
    from ..evaluation import SOURCE_NORMALIZE
    from ..metrics import METRICS, MetricResultError, goodness

    try:
        a, b = read_gray(Path(a_path)), read_gray(Path(b_path))
    except InputError:  # float samples have no stored 0-255 scale: the pair as fuse read it
        mode = normalize if normalize in SOURCE_NORMALIZE else "auto"
        a, b = read_gray(Path(a_path), mode), read_gray(Path(b_path), mode)
    f, avg = read_gray(fused_png), read_gray(avg_png)

    failed: dict[str, str] = {}

    def score(fn, fused, key) -> float | None:
        """The value, or None where the metric cannot be computed (an image smaller than its
        window: an error, or NaN from an empty window), as ``evaluate`` leaves such a cell empty."""
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore", RuntimeWarning)
                v = float(fn(a, b, fused))
        except (ImageTooSmallError, MetricUndefinedError):
            return None
        except MetricResultError as e:  # a metric of one's own that raised or gave no number
            failed.setdefault(key, str(e))
            return None
        return v if math.isfinite(v) else None

    rows = []
    if metrics is None:
        metrics = {**{f"{n} ({k})": k for n, k in FAST_METRICS.items()}, **own_metrics()}
    for name, key in metrics.items():
        fn = METRICS.get(key)
        fn = getattr(fn, "unchecked", fn)  # as evaluate: its reads are 0-255 (no 0-1 guard; a dark DICOM window)
        vf, va = score(fn, f, key), score(fn, avg, key)
        if vf is None or va is None:  # no verdict without both values (NaN compared as "average" won)
            better = "—"
        else:
            gf, ga = goodness(key, vf), goodness(key, va)
            better = "fused" if gf > ga else ("equal" if gf == ga else "average")
        rows.append([name, None if vf is None else round(vf, 4), None if va is None else round(va, 4),
                     better])
    if notes is not None:
        notes += [f"metrics table: {why}; its cells are left empty" for why in failed.values()]
    return rows


def _short(stem: str, limit: int = 100) -> str:
    """``stem`` cut to at most ``limit`` UTF-8 bytes: the download joins two uploaded names, each
    up to 255 bytes, and a longer file name cannot be written (Errno 36, 'File name too long')."""
    return stem.encode()[:limit].decode(errors="ignore")


def fuse_request(a_path: str, b_path: str, settings: Settings, workdir: Path, cache: FuserCache,
                 names: tuple[str, str] = ("a", "b"), owner: str | None = None) -> Result:
    """Fuse one uploaded pair as ``mutualfuse fuse a b -o fused.png`` would; raise FuseError on bad input.

    ``names`` are the uploaded files' own names, used for the download names and, told apart by
    :func:`distinct_names` when they are the same, in the notes. ``owner``: the page's session
    (:func:`_request_dir`).
    """
    from ..api import Fuser
    from ..cli.fuse import read_pair
    from ..errors import InputError
    from ..image_io import MAX_PIXELS, output_depth, write_image

    # the shipped weights or the server's own NAMEs only; a request naming a path must not make
    # the server read files of its own file system
    _check_weights(settings)
    ns = _namespace(settings)
    fuser = _own_fuser(cache, ns, settings)
    max_pixels = MAX_PIXELS if settings.max_pixels is None else settings.max_pixels
    t0 = time.perf_counter()
    try:
        a, b, ia, ib = read_pair(fuser, a_path, b_path, max_pixels, server=True)
    except InputError as e:  # the bomb guard's advice is the server's option, not the page user's
        msg = policy_origin(str(e), settings, fuser, e)
        if "raise it with --max-pixels" not in msg and msg == str(e):
            raise
        raise InputError(msg.replace("raise it with --max-pixels", SERVER_LIMIT)) from None
    fused = fuser.fuse_arrays(a[None], b[None])[0]
    seconds = time.perf_counter() - t0
    colour = fused.ndim == 3
    req = _request_dir(workdir, owner)
    stem = (f"{_short(Path(names[0]).stem)}-{_short(Path(names[1]).stem)}-"
            f"{settings.method if settings.method != NETWORK else settings.weights}")
    png = req / f"{stem}.png"
    depth, note = output_depth(png, [ia.bit_depth, ib.bit_depth], colour, None)
    shown = distinct_names(list(names), ["a", "b"])
    notes = [settings.shown(n) for n in fuser.report.notes] + ([note] if note else []) \
        + input_notes((ia, ib), shown, fuser.normalize)
    write_image(png, fused, bit_depth=depth)
    tiff, tiff_depth = None, None
    if max(ia.bit_depth, ib.bit_depth) > 8:  # the depth `fuse -o fused.tif` writes: 16-bit, float kept
        tiff = req / f"{stem}.tif"
        tiff_depth, tiff_note = output_depth(tiff, [ia.bit_depth, ib.bit_depth], colour, None)
        if tiff_note:
            notes.append(tiff_note)
        write_image(tiff, fused, bit_depth=tiff_depth)
    avg = Fuser("average", chroma=fuser.chroma).fuse_arrays(a[None], b[None])[0]
    avg_png = req / "average.png"  # at the fused PNG's depth: the same image must score the same
    write_image(avg_png, avg, bit_depth=depth)
    t1 = time.perf_counter()
    rows = _scores(a_path, b_path, png, avg_png, fuser.normalize, notes)
    result = Result(png=png, tiff=tiff, preview_a=_preview(a, req / "a-preview.png"),
                    preview_b=_preview(b, req / "b-preview.png"), bit_depth=depth, colour=colour,
                    seconds=seconds, metric_seconds=time.perf_counter() - t1, metrics=rows, notes=notes,
                    device=str(fuser.device), average=avg_png, normalize=fuser.normalize, tiff_bit_depth=tiff_depth)
    _superseded(workdir, owner, req)
    return result


@dataclass
class StackResult:
    out: Path  # what ``mutualfuse fuse-stack … -o`` wrote
    preview: Path  # the image shown on the page (``out`` itself for a PNG; an 8-bit PNG of a TIFF)
    summary: str  # fuse-stack's own summary line, the output named by its file name
    seconds: float
    command: str  # the equivalent command line, the uploads named by their own names
    notes: list[str] = field(default_factory=list)
    #: (label, 8-bit PNG) of each image of the stack as it was fused (the plane-vs-fused slider):
    #: the uploads' own names, or "plane k" for the planes of one TIFF
    planes: list[tuple[str, Path]] = field(default_factory=list)


def stack_order(paths: list[str], names: list[str]) -> list[tuple[str, str]]:
    """(path, name) of the uploads in the order the page stacks them: by their own names,
    numbers by value (``z2`` before ``z10``), as ``fuse-stack FOLDER`` orders a folder
    (:func:`mutualfuse.cli.fuse_stack.natural_key`); the order a browser sends several files in
    is the file dialog's, not the stack's."""
    from ..cli.fuse_stack import natural_key

    return sorted(zip(paths, names), key=lambda pn: natural_key(Path(pn[1])))


def _named(msg: str, names: dict[str, str]) -> str:
    """``msg`` with the server's paths of the uploads replaced by the uploaded files' own names.

    A library's reason is kept to 160 characters by the CLI's reader, which can cut an upload's
    path short (Gradio's are ``$TMPDIR/mutualfuse-serve-*/gradio/<sha256>/name``: a text file
    uploaded on a server with ``TMPDIR=/tmp`` showed ``cannot identify image file
    '/tmp/mutualfuse-serve-…/gradio/f23fded9…``): a cut path that still names the upload's folder
    is replaced by the name too, so the server's folders are never shown."""
    order = sorted(names, key=len, reverse=True)  # a path that begins another is replaced after it
    for full in order:
        msg = msg.replace(full, names[full])
    for full in order:
        root = len(str(Path(full).parent.parent)) + 1  # the upload folder's parent, and its separator
        for k in range(len(full) - 1, root, -1):  # into the upload's own folder, and cut there
            cut = re.compile(re.escape(full[:k]) + r"(?=$|[)'\"])")
            if cut.search(msg):
                msg = cut.sub(lambda _: names[full], msg)
                break
    return msg


#: the subclass of each fuser class made by :func:`_previewing`
_PREVIEWING: dict[type, type] = {}


def _previewing(fuser, write):
    """A shallow copy of ``fuser`` (sharing its network and its lock, as ``fuse-stack``'s own copy
    does) whose stack reduction calls ``write(k, image)`` with each image of the stack as it is
    fused ((H, W) or (H, W, 3) floats in [0, 1], after the joint mapping) when the reduction reads
    it, once per image. The page's slider shows every image: it got them all at once through
    ``fuse_stack_files(planes=)``, which then held the N images for the whole stack (peak memory
    growing with N: 42 float images measured for N = 32, 512x512); this way each preview is
    written and dropped as the reduction reads its image, and the stack holds the
    ⌈log2 N⌉ + 2 images of the command line. The fused result is the same: the same images
    reduced in the same order by the same fusions."""
    import copy

    cls = type(fuser)
    sub = _PREVIEWING.get(cls)
    if sub is None:
        def _reduce_stack(self, count, get, *rest):
            def seen(i: int):
                x = get(i)
                self._preview_write(i, x[0])
                return x

            return cls._reduce_stack(self, count, seen, *rest)

        sub = _PREVIEWING.setdefault(cls, type(cls.__name__, (cls,), {"_reduce_stack": _reduce_stack,
                                                                       "__module__": cls.__module__}))
    out = copy.copy(fuser)
    out.__class__ = sub
    lock = getattr(fuser, "_lock", None)
    if lock is not None:  # the copy got a lock of its own; the network is still one call at a time
        out._lock = lock
    out._preview_write = write
    return out


def fuse_stack_request(paths: list[str], settings: Settings, workdir: Path, cache: FuserCache,
                       names: list[str] | None = None, order: str = "tree", fmt: str = "png",
                       progress=None, owner: str | None = None) -> StackResult:
    """Fuse an uploaded focus stack by running ``mutualfuse fuse-stack`` itself
    (:func:`mutualfuse.cli.fuse_stack.fuse_stack_files`, all of the command but printing, on the
    Namespace the CLI parses from the equivalent command line, with the page's cached fuser), so
    the file is byte-identical to ``mutualfuse fuse-stack FILES -o fused.png``
    with the same options; raise FuseError on bad input, its message naming the uploads by their
    own names (``names``, default the paths' file names).

    ``paths``: two or more images, or one multi-page TIFF (ImageJ / OME z-stack), stacked in
    :func:`stack_order`. ``fmt``: ``png`` or ``tif``. The notes and the summary line the CLI
    prints are returned as data; ``cache`` gives the fuser (also for the memory check in the
    page's wording: the page's user has no ``--tile``). ``progress``: called as
    ``progress(done, total)`` after each of the N − 1 pairwise fusions. Uploads of the same name
    (stacked in the order they were sent) are told apart by their place in the stack in messages
    and on the slider (``z.png (image 2)``, :func:`distinct_names`). ``owner``: the page's session
    (:func:`_request_dir`)."""
    from ..cli.fuse import check_fits
    from ..cli.fuse_stack import colour_held, fuse_stack_files, held_images
    from ..errors import FuseError, InputError, ParameterError
    from ..image_io import MAX_PIXELS, read_image, tiff_plane_count

    _check_weights(settings)
    if fmt not in STACK_FORMATS:
        raise ParameterError(f"format {fmt!r}: the page writes {' or '.join(STACK_FORMATS)}")
    paths = [str(Path(p).absolute()) for p in paths]  # never read as an option by the parser
    names = [Path(p).name for p in paths] if names is None else [str(n) for n in names]
    if len(names) != len(paths):
        raise ValueError(f"{counted(len(paths), 'path')} but {counted(len(names), 'name')}")
    if not paths:
        raise InputError("a stack needs at least 2 images (or one multi-page TIFF): none uploaded")
    ordered = stack_order(paths, names)
    paths, names = [p for p, _ in ordered], [n for _, n in ordered]
    labels = distinct_names(names, [f"image {k + 1}" for k in range(len(names))])
    own = dict(zip(paths, labels))
    req = _request_dir(workdir, owner)
    method = settings.method if settings.method != NETWORK else settings.weights
    stem = _short(Path(names[0]).stem) + (f"-{_short(Path(names[-1]).stem)}" if len(names) > 1 else "")
    out = req / f"{stem}-{method}.{fmt}"
    ns = _parse(["fuse-stack", *paths, "-o", str(out), *settings.stack_args(order)])
    max_pixels = MAX_PIXELS if settings.max_pixels is None else settings.max_pixels
    t0 = time.perf_counter()
    fuser = None
    try:
        fuser = _own_fuser(cache, ns, settings)
        # the CLI's own memory check, before it runs, in the page's words (no --tile there): the
        # images the stack holds at once, counted as fuse-stack counts them (held_images; a TIFF's
        # decoded planes a quarter image each), RGB ones as RGB
        planes = tiff_plane_count(paths[0]) if len(paths) == 1 else None
        n = planes or len(paths)
        check_fits(fuser, paths, max_pixels, "stack", server=True,
                   count=min(n, -(-n // 4) + held_images(n)) if planes else held_images(n),
                   colour=colour_held(fuser, paths, planes or 1))
        written: dict[int, Path] = {}

        def write_preview(k: int, x) -> None:  # image k as fused (after the joint mapping), 8-bit
            written[k] = _preview(x, req / f"plane-{k + 1:04d}.png")

        done = fuse_stack_files(ns, fuser=_previewing(fuser, write_preview), progress=progress)
        previews = [written[k] for k in sorted(written)]
    except FuseError as e:
        msg = settings.shown(_named(str(e), own)).replace("raise it with --max-pixels", SERVER_LIMIT)
        if fuser is not None:
            msg = policy_origin(msg, settings, fuser, e)
        # a page cannot upload a folder
        e.args = (msg.replace("(or one folder of them, or one multi-page TIFF)", "(or one multi-page TIFF)"),)
        raise
    seconds = time.perf_counter() - t0
    notes = [settings.shown(_named(n, own)) for n in done.notes]
    summary = done.summary().replace(str(out), out.name, 1)
    preview = out
    if fmt != "png":  # a browser shows no TIFF: an 8-bit PNG of the result, on its type's full range, named
        # after it (the image's download button saved every stack as "preview.png")
        preview = _preview(read_image(out, max_pixels=max_pixels, normalize="full")[0], req / f"{out.stem}-preview.png")
    if len(labels) != len(previews):
        labels = [f"plane {k + 1}" for k in range(len(previews))]
    _superseded(workdir, owner, req)
    return StackResult(out=out, preview=preview, summary=summary, seconds=seconds,
                       command=settings.stack_command(names, order, fmt, out=out.name), notes=notes,
                       planes=list(zip(labels, previews)))


def compare_stack(state: dict | None, label: str | None):
    """The stack's slider pair for the chosen image: (that image as fused, the fused stack)."""
    if not state or not state.get("planes"):
        return None
    planes = dict(state["planes"])
    return (planes.get(label, state["planes"][0][1]), state["fused"])
