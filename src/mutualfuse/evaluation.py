"""Scoring folders of fused images: pairing by name, reading as the reference code does,
metric selection and computation (the library behind ``mutualfuse evaluate``).

Every image is converted to gray with MATLAB's ``rgb2gray`` (rounded half away from zero, as
the reference tables were made; see ``docs/metrics.md``); 16-bit images are scaled to the
0–255 scale. Metrics are those of :mod:`mutualfuse.metrics`.
"""
from __future__ import annotations

import re
import sys
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import numpy as np

from .errors import FuseError, ImageTooSmallError, InputError, MetricUndefinedError, ParameterError
from .io.signals import interrupts_held, signals_blocked, stop_workers

SUFFIXES = {".png", ".bmp", ".tif", ".tiff", ".jpg", ".jpeg", ".dcm", ".dicom"}


# ---------------------------------------------------------------------------------------------
# reading and pairing
# ---------------------------------------------------------------------------------------------


def _read_samples(path: Path, source: bool = False) -> np.ndarray:
    """The stored samples of a non-DICOM image file, read as ``mutualfuse fuse`` reads it
    (:func:`mutualfuse.image_io.read_image`'s readers: EXIF / TIFF orientation applied, 16-bit
    colour PNG and TIFF at their full 16 bits, alpha dropped, palettes expanded, multi-page
    files refused) but not normalised: uint8 or uint16, (H, W) gray or (H, W, 3) RGB.
    ``source``: the file is a source image (the error for a float file then names
    ``--normalize``, which reads float sources)."""
    from .image_io import read_samples
    from .io.samples import MAX_PIXELS

    p = Path(path)
    raw, depth, _ = read_samples(p, MAX_PIXELS)
    if depth == 8:
        return np.asarray(raw, dtype=np.uint8)
    signed = depth == 16 and raw.dtype.kind == "i" and raw.dtype.itemsize == 2  # int16 TIFF (s27): wraps in uint16
    if depth == 16 and not signed:
        return np.asarray(raw, dtype=np.uint16)
    what = "signed 16-bit" if signed else "float"
    kind = "colour" if raw.ndim == 3 else "gray"
    if source:
        raise InputError(f"{p}: {what} samples ({kind}): a {'signed' if signed else 'float'} source has no stored "
                         "0-255 scale; score it as `mutualfuse fuse` reads it with --normalize auto (or full, percentile)")
    raise InputError(f"{p}: {what} samples ({kind}): evaluate reads "
                     f"8/16-bit {'unsigned' if signed else 'integer'} images (write the fused image as PNG, or as 8/16-bit TIFF)")


#: ``--normalize`` values of ``evaluate`` for the *source* images (``None``: the stored scale,
#: DICOM as ``fuse`` reads it)
SOURCE_NORMALIZE = ("auto", "full", "percentile")


def read_gray(path: Path, normalize: str | None = None,
              percentiles: tuple[float, float] | None = None, *, source: bool = False) -> np.ndarray:
    """Read an image for the metrics: uint8 or uint16 gray as stored (colour through MATLAB's
    ``rgb2gray``, as the reference tables were made). One-line errors.

    ``normalize`` (for source images; ``None``, the default, as described below): read a 16-bit,
    float or DICOM file the way ``mutualfuse fuse --normalize`` reads it (``"auto"``: fuse's
    default, per-image percentiles or the DICOM window; ``"percentile"``; ``"full"``: the type's
    range) and score it on the 0–255 scale as float64 (16-bit colour: ``rgb2gray`` in uint16 of
    the normalised image). 8-bit files read as stored under ``"auto"`` and ``"full"``, as fuse
    reads them; ``"percentile"`` stretches them too, as fuse does. So a 16-bit thermal source is
    scored as the image the fused output was made from, not as its raw counts.

    Files are read as ``mutualfuse fuse`` reads them (:func:`_read_samples`), so a fused image
    and its sources line up: EXIF and TIFF orientation are applied, 16-bit colour PNG / TIFF is
    read at its full 16 bits (``rgb2gray`` in uint16; the metrics scale uint16 by 255/65535),
    float images are refused (``source=True``: the error names ``normalize``, which reads them).

    A DICOM source has no stored 8- or 16-bit display scale: it is read as ``mutualfuse fuse``
    reads it (the stored VOI window, else the 0.1–99.9 percentiles,
    :func:`mutualfuse.dicom.read_dicom`), i.e. the image the fused output was made from, as
    float64 gray on the 0–255 scale (colour DICOM: rounded to 8 bits, then ``rgb2gray``). A
    fused DICOM (``fuse -o x.dcm``) has a window over its whole stored range, so it reads back
    to its stored values, as the same fuse's PNG does."""
    x, _READ_INFO.colour, _READ_INFO.scale = _read_gray(path, normalize, percentiles, source=source)
    return x


#: whether the last :func:`read_gray` of this thread read a colour file (for :func:`verify_reads`'s
#: note on colour images), and how it put the samples on the 0-255 scale (``.scale``: a
#: :data:`SCALINGS` key and the values of a float file); per thread, as the check reads in threads
_READ_INFO = threading.local()

#: how :func:`read_gray` puts an image's samples on the 0-255 scale, by kind (the key of
#: ``_READ_INFO.scale`` and of :func:`verify_reads`'s ``"scaling"``; ``evaluate``'s note and its
#: JSON ``source_scaling`` say them). ``"float stretched"``: a float source whose values are not in
#: [0, 1] under ``--normalize auto`` is taken for data of another range and stretched by its
#: percentiles, as ``fuse`` reads it, while one in [0, 1] is taken as is: its scale is told from its
#: values (a 0-255 float image is not scored at its own 0-255 values)
SCALINGS = {
    "8-bit": "8-bit as stored",
    "16-bit": "16-bit x 255/65535",
    "8-bit stretched": "8-bit stretched by its own percentiles",
    "16-bit stretched": "16-bit stretched by its own percentiles",
    "float": "float in [0, 1] x 255",
    "float clipped": "float in [0, 1] within 0.001, clipped, x 255",
    "float stretched": "float stretched by its own percentiles",
    "dicom": "DICOM as fuse reads it (VOI window, else percentiles)",
}


def _check_percentiles(percentiles) -> tuple[float, float]:
    """``percentiles`` as ``(lo, hi)`` floats, or a one-line :class:`ParameterError` unless they are
    two numbers with 0 <= lo < hi <= 100 (checked whether or not the file's reading uses them)."""
    try:
        if isinstance(percentiles, (str, bytes)):  # "19" is not (1, 9)
            raise TypeError
        lo, hi = (float(v) for v in percentiles)
    except (TypeError, ValueError):
        raise ParameterError(f"percentiles {percentiles!r}: two numbers (lo, hi) with 0 <= lo < hi <= 100, "
                             "e.g. (0.1, 99.9)") from None
    if not 0 <= lo < hi <= 100:
        raise ParameterError(f"percentiles must satisfy 0 <= lo < hi <= 100, got {tuple(percentiles)}")
    return lo, hi


def _read_gray(path: Path, normalize: str | None = None,
               percentiles: tuple[float, float] | None = None, *,
               source: bool = False) -> tuple[np.ndarray, bool, tuple[str, tuple[float, float] | None]]:
    """:func:`read_gray`, whether the file held colour (converted with MATLAB's ``rgb2gray``;
    a colour palette and RGBA included, a gray palette and gray + alpha not, nor a gray image
    stored as RGB with three equal channels, which ``rgb2gray`` gives back unchanged), for
    ``evaluate``'s note on the colour images it scored as gray, and how the samples were put
    on the 0-255 scale: a :data:`SCALINGS` key and, for a float file, its (min, max)."""
    from .image_io import DEFAULT_PERCENTILES, _is_dicom, read_image, to_uint
    from .metrics import to_gray

    if normalize is not None and normalize not in SOURCE_NORMALIZE:
        raise ParameterError(f"normalize {normalize!r}: use one of {', '.join(SOURCE_NORMALIZE)}")
    pct = _check_percentiles(percentiles) if percentiles is not None else DEFAULT_PERCENTILES
    if _is_dicom(Path(path)):
        arr, _ = read_image(path, normalize=normalize or "auto", percentiles=pct)
        if arr.ndim == 3:
            return to_gray(to_uint(arr, 8)), _has_colour(arr), ("dicom", None)
        return arr.astype(np.float64) * 255.0, False, ("dicom", None)
    if normalize is None:
        raw = _read_samples(path, source=source)
        return to_gray(raw), _has_colour(raw), ("8-bit" if raw.dtype == np.uint8 else "16-bit", None)
    from .image_io import read_samples
    from .io.samples import MAX_PIXELS, normalize_samples

    raw, depth, _ = read_samples(path, MAX_PIXELS)  # decoded once, as read_image decodes it
    if depth == 8 and normalize in ("auto", "full"):  # 8-bit files are read as stored either way
        return to_gray(np.asarray(raw, dtype=np.uint8)), _has_colour(raw), ("8-bit", None)
    arr, how = normalize_samples(raw, depth, normalize, pct, path)  # read_image's normalisation
    if depth == 32:
        span = (float(raw.min()), float(raw.max()))
        scale = ("float stretched" if how == "percentile" else "float clipped" if how == "clipped" else "float", span)
    else:
        scale = (f"{depth}-bit stretched" if how == "percentile" else f"{depth}-bit", None)
    if arr.ndim == 3:
        return to_gray(to_uint(arr, 16)).astype(np.float64) * (255.0 / 65535.0), _has_colour(arr), scale
    return arr.astype(np.float64) * 255.0, False, scale


def _has_colour(x: np.ndarray) -> bool:
    """Whether (H, W, 3) samples have two channels that differ somewhere (a colour image, not a
    gray one stored as RGB); False for 2-D samples."""
    return x.ndim == 3 and not (np.array_equal(x[..., 0], x[..., 1]) and np.array_equal(x[..., 1], x[..., 2]))


def _listing(d: Path) -> dict[str, Path]:
    if not d.is_dir():
        raise InputError(f"{d}: not a folder")
    out: dict[str, Path] = {}
    dup: dict[str, list[str]] = {}
    from .io.pairing import is_image_file, pair_key

    for p in sorted(d.iterdir()):
        if is_image_file(p):
            key = pair_key(p)
            if key in out:
                dup.setdefault(key, [out[key].name]).append(p.name)
            out[key] = p
    if dup:
        groups = [" and ".join(v) for _, v in sorted(dup.items())]
        more = f" (+{len(groups) - 5} more)" if len(groups) > 5 else ""
        raise InputError(f"{d}: files are paired by name without extension, and several files share a name: "
                         f"{'; '.join(groups[:5])}{more}")
    if not out:
        subs = sorted(q.name for q in d.iterdir() if q.is_dir() and not q.name.startswith("."))
        hint = (f"; it has {len(subs)} subfolder(s) ({_names(subs, 3)}): evaluate reads the images of the "
                "folder itself, not of its subfolders; give the folder that holds them" if subs else "")
        raise InputError(f"{d}: no images ({', '.join(sorted(SUFFIXES))}, DICOM){hint}")
    return out


def natural_key(name: str) -> tuple:
    """Sort key of an image name (the name without its extension): *natural* order, digits
    compared by their value, so that ``2`` comes before ``10`` and ``img2`` before ``img10``
    (TNO-style ``1 … 21`` numbered without zero padding); the rest compares as text
    (code-point order, case-sensitive, as Python's ``sorted``). Names that compare equal so
    (``01`` and ``1``, ``a01`` and ``a1``) keep a deterministic order: the one with more leading
    zeros first at the first number where they differ, then the plain string. Zero-padded names
    sort as before. Only ASCII digits count as digits (another script's digits are text)."""
    parts = re.split(r"([0-9]+)", name)
    # a number before text at the same place, as "1" < "a" in the plain order; (value, -len):
    # "01" before "1" (more zeros first, as the plain string order has them)
    key = tuple((0, int(t), -len(t), "") if i % 2 else (1, 0, 0, t) for i, t in enumerate(parts) if t)
    return key, name


def natural_sorted(names) -> list[str]:
    """``names`` in :func:`natural_key` order (every output of ``evaluate`` lists images so)."""
    return sorted(names, key=natural_key)


def _names(xs, limit: int = 8) -> str:
    xs = natural_sorted(xs)
    more = f" (+{len(xs) - limit} more)" if len(xs) > limit else ""
    return ", ".join(xs[:limit]) + more


def pair_folders(a: Path, b: Path, fused: list[Path]) -> tuple[list[str], dict, dict, dict]:
    """Names common to all folders, in natural order (:func:`natural_key`: ``2`` before ``10``);
    any name missing from one folder is an error."""
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
    return natural_sorted(names), la, lb, lf


def _size_of(path: Path) -> tuple[int, int]:
    from .image_io import _bmp_header_problem, header_size

    size = header_size(path)  # as read: orientation applied
    if size is None:  # a BMP's negative width: said as the reading says it, not "cannot read image header"
        raise InputError(f"{path}: {_bmp_header_problem(path) or 'cannot read image header'}")
    return size


def check_sizes(names, la, lb, lf) -> None:
    """Every image of a name has the size of its ``--a`` image, as read (EXIF / TIFF orientation
    applied); else a one-line error naming the files. A file turned by its orientation tag says
    so with its stored size (:func:`mutualfuse.image_io.turned_note`): a phone photo stored
    4032x3024 with EXIF orientation 6 is read 3024x4032, and a fused image made by a tool that
    ignores the tag has the stored size, which the sizes alone did not explain."""
    from .image_io import turned_note

    bad = []
    for n in names:
        sa = _size_of(la[n])
        for p in [lb[n]] + [l[n] for l in lf.values()]:
            s = _size_of(p)
            if s != sa:  # the first five are named (their headers read again for the note), the rest counted
                bad.append(f"{p} is {s[0]}x{s[1]}{turned_note(p)}, {la[n]} is {sa[0]}x{sa[1]}{turned_note(la[n])}"
                           if len(bad) < 5 else "")
    if bad:
        more = f" (+{len(bad) - 5} more)" if len(bad) > 5 else ""
        raise InputError("image sizes differ: " + "; ".join(bad[:5]) + more)


def _narrow16(x: np.ndarray) -> tuple[int, int] | None:
    """``(min, max)`` of a uint16 image whose values span less than a quarter of the 16-bit
    scale (a camera's 12/14 bits, or 8-bit values in a 16-bit file), else ``None``."""
    if x.dtype != np.uint16 or not x.size:
        return None
    lo, hi = int(x.min()), int(x.max())
    return (lo, hi) if hi - lo < 65536 // 4 else None


#: bytes of decoded images that ``evaluate``'s read check keeps for the scoring (512 MiB): every
#: image the check decodes is kept while the kept images fit, and the scoring takes it from there
#: instead of decoding the file again; the images past the budget are decoded again when their
#: pair is scored, as before. The images are released as their pair is scored.
READ_CACHE_BYTES = 512 * 2**20


def _held_bytes(x: np.ndarray) -> int:
    """Bytes of the memory that ``x`` keeps alive (its base's, when ``x`` is a view)."""
    while isinstance(x.base, np.ndarray):
        x = x.base
    return int(x.nbytes)


class DecodedImages:
    """Images decoded by :func:`verify_reads`, kept for :func:`_compute` under a byte budget
    (``budget``; default :data:`READ_CACHE_BYTES`, read when the object is made). Keyed by
    ``(path, is a source)`` (a source is read with ``--normalize``, a fused image as stored).
    :meth:`put` keeps an image only while the kept images fit in the budget (thread-safe: the
    check decodes in threads); :meth:`take` hands an image over once and forgets it, so the
    memory is released as the pairs are scored. The arrays are exactly what :func:`read_gray`
    returned (not copied, not converted), so the metrics see the same values."""

    def __init__(self, budget: int | None = None) -> None:
        import threading

        self.budget = READ_CACHE_BYTES if budget is None else int(budget)
        self.held = 0  # bytes kept now
        self.kept = 0  # images kept so far
        self.passed = 0  # images not kept (over the budget, or the same file and reading kept already)
        self.taken = 0  # images handed to the scoring
        self._images: dict = {}
        self._lock = threading.Lock()

    def put(self, key, x: np.ndarray) -> bool:
        size = _held_bytes(x)
        with self._lock:
            if key in self._images or self.held + size > self.budget:
                self.passed += 1
                return False
            self._images[key] = (x, size)
            self.held += size
            self.kept += 1
            return True

    def take(self, key) -> np.ndarray | None:
        with self._lock:
            got = self._images.pop(key, None)
            if got is None:
                return None
            self.held -= got[1]
            self.taken += 1
            return got[0]

    def __len__(self) -> int:
        return len(self._images)


def verify_reads(names, la, lb, lf, normalize: str | None = None,
                 percentiles: tuple[float, float] | None = None, *, jobs: int = 1,
                 quiet: bool = True, keep: DecodedImages | None = None) -> dict[str, list[tuple[Path, int, int]]]:
    """Decode every image once, as :func:`_compute` will read it (the sources with ``normalize``
    / ``percentiles``, the fused images as stored), before any metric is computed: a file whose
    header reads but whose pixels do not (a truncated or corrupt PNG, JPEG, TIFF, BMP), a float
    fused image, a multi-page file, ... is then a one-line :class:`~mutualfuse.errors.InputError`
    naming it (up to 5 such files, with a count of the others) instead of an error at its pair,
    after the metrics of every pair before it. ``jobs`` > 1 decodes in that many threads (the
    decoders release the GIL); a progress bar on stderr unless ``quiet``. ``keep`` (a
    :class:`DecodedImages`, filled in place): the decoded images are kept there while they fit
    in its budget, for :func:`_compute` (``reads=``) to score without decoding them again;
    without it they are not kept (this process then holds at most ``jobs`` of them at a time).

    Returns the 16-bit images read at their stored scale whose values span less than a quarter
    of it, as ``(path, min, max)``: ``"sources"`` (only when ``normalize`` is ``None``) and
    ``"fused"``; under ``"colour"`` the colour images (converted to gray with MATLAB's
    ``rgb2gray``) as ``(path, is a source)``; and under ``"scaling"`` how every source was put on
    the 0-255 scale, as ``(path, SCALINGS key, (min, max) of a float file or None)``, in the
    order of the pairs; for ``evaluate``'s notes and its JSON output."""
    from concurrent.futures import ThreadPoolExecutor

    from tqdm import tqdm

    files: list[tuple[Path, bool]] = []  # (path, is a source)
    for n in names:
        files += [(la[n], True), (lb[n], True)] + [(listing[n], False) for listing in lf.values()]

    def read(item):
        path, source = item
        _READ_INFO.colour = False
        try:
            x = read_gray(path, normalize, percentiles, source=True) if source else read_gray(path)
        except InputError as e:  # a refusal worded for the API has the command line's words too
            return getattr(e, "cli_message", None) or str(e), None, False, None
        colour = getattr(_READ_INFO, "colour", False)
        if keep is not None:
            keep.put((path, source), x)
        return None, _narrow16(x) if (normalize is None or not source) else None, colour, _READ_INFO.scale

    errors: list[str] = []
    narrow: dict[str, list] = {"sources": [], "fused": [], "colour": [], "scaling": []}
    bar = tqdm(total=len(files), desc="read", unit="image", disable=quiet, file=sys.stderr)
    ex = ThreadPoolExecutor(max_workers=min(jobs, 16)) if jobs > 1 and len(files) > 1 else None
    try:
        results = ex.map(read, files) if ex is not None else map(read, files)
        for (path, source), (err, span, colour, scale) in zip(files, results):
            if err is not None:
                errors.append(err)
            elif span is not None:
                narrow["sources" if source else "fused"].append((path, *span))
            if colour:
                narrow["colour"].append((path, source))
            if source and scale is not None:
                narrow["scaling"].append((path, *scale))
            bar.update(1)
    except BaseException:
        if ex is not None:
            ex.shutdown(wait=False, cancel_futures=True)  # Ctrl+C: the queued files are not read
            ex = None
        raise
    finally:
        if ex is not None:
            ex.shutdown(wait=True)
        bar.close()
    if len(errors) == 1:
        raise InputError(errors[0])
    if errors:
        more = f" (+{len(errors) - 5} more)" if len(errors) > 5 else ""
        raise InputError(f"{len(errors)} of {len(files)} images cannot be read: " + "; ".join(errors[:5]) + more)
    return narrow


# ---------------------------------------------------------------------------------------------
# metric selection
# ---------------------------------------------------------------------------------------------


def select_metrics(metrics: list[str] | None, profile: str | list[str] | None) -> dict[str, str]:
    """``{column label: registered key}``. Bare metric names are accepted when unambiguous.

    ``profile``: a profile name or a list of them (``--profile`` repeated: their columns in that
    order, then ``metrics``'). A metric asked for twice (by two profiles, or by a profile and
    ``metrics``) is one column, under its first label. A profile's columns have short labels
    (``Qcb`` for ``Qcb@liu``) as long as they cannot be confused: when two or more profiles are
    combined, or another column is the same metric from another code (``Qcb@vifb`` beside
    ``--profile liu``'s ``Qcb``), every column is labelled with its key instead, so that the CSV
    header names the implementation behind each column."""
    from .metrics import METRICS, resolve
    from .metrics.profiles import PROFILE_REGISTRY

    profiles: list[str] = []
    for name in ([] if profile is None else [profile] if isinstance(profile, str) else list(profile)):
        try:
            canon = PROFILE_REGISTRY.entry(name).name  # case-insensitive, with "did you mean"
        except KeyError as e:
            raise ParameterError(e.args[0]) from None
        if canon not in profiles:
            profiles.append(canon)
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
                elif m in PROFILE_REGISTRY:  # a profile's name given as a metric: not 'unknown metric'
                    canon = PROFILE_REGISTRY.entry(m).name
                    raise ParameterError(f"--metrics {m}: {canon!r} is a metric profile, not a metric: use "
                                         f"--profile {canon} (with --metrics for columns to add to it)")
                else:
                    keys.append(m)  # resolve() raises with suggestions
        if not keys:
            raise ParameterError(f"--metrics {' '.join(metrics)!r} names no metric (see `mutualfuse evaluate --list`)")
    chosen: list[tuple[str, str]] = []
    for name in profiles:
        chosen += resolve(None, name).items()
    if keys is not None or not profiles:  # neither: resolve's default profile
        chosen += resolve(keys, None).items()
    picked: list[tuple[str, str]] = []
    seen: set[str] = set()
    for lab, key in chosen:  # a metric asked for twice (two profiles, profile + --metrics): once
        if key not in seen:
            seen.add(key)
            picked.append((lab, key))
    short = any(lab != key for lab, key in picked)
    bare = [key.split("@")[0].lower() for _, key in picked]
    clash = len(set(bare)) < len(bare) or len({lab for lab, _ in picked}) < len(picked)
    if short and (len(profiles) > 1 or clash):
        return {key: key for _, key in picked}
    return dict(picked)


def list_metrics() -> str:
    from .metrics import METRICS, PROFILES

    lines = ["metrics (key, better, checked against the reference code, convention):"]
    words = {"higher": "higher", "lower": "lower", "zero": "near 0"}
    for e in METRICS:
        m = e.meta
        arrow = words[m["direction"]]
        chk = "checked" if m["checked"] else "unchecked"
        slow = ", slow" if m["slow"] else ""
        conv = m["convention"]
        if m["source"] == "own":  # a metric of one's own (register_metric): where it is from
            conv = f"{conv} [your metric: {m['defined_in']}]" if conv else f"[your metric: {m['defined_in']}]"
        lines.append(f"  {e.name:20s} {arrow:6s} {chk}{slow}: {conv}")
    lines.append("profiles: " + ", ".join(PROFILES))
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# computation
# ---------------------------------------------------------------------------------------------


def _score(key: str, a, b, f) -> float:
    """One metric on one triple of images as :func:`read_gray` returns them (gray, on the 0–255
    scale by construction). NumPy's warnings about undefined operations (0/0 on a flat image)
    are not printed: the value is NaN and ``evaluate`` counts the NaN values in one note.

    The registered metric's input-range guard (:mod:`mutualfuse.metrics.input_range`) is not
    applied: it tells a 0–1 float image from a 0–255 one by its values, and a source that
    ``--normalize`` (or a DICOM window) maps to floats all below 1 (a dark 16-bit frame under
    ``--normalize full``) is a dark 0–255 image, which the guard refused as "0-1 scale" (exit
    status 2 in the middle of the run, naming the fused file)."""
    import warnings

    from .metrics import METRICS

    try:
        fn = METRICS.get(key)
    except KeyError as e:  # a -j worker that could not import the module registering it (_worker_init)
        if _IMPORT_ERRORS:
            raise ParameterError(f"metric {key!r} is unknown in a -j worker: " + "; ".join(_IMPORT_ERRORS)) from None
        raise ParameterError(e.args[0]) from None
    fn = getattr(fn, "unchecked", fn)
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(fn(a, b, f))


def _score_or_skip(key: str, a, b, f) -> tuple[float, str | None]:
    """:func:`_score`, except that an image smaller than the metric needs
    (:class:`~mutualfuse.errors.ImageTooSmallError`) or images the metric is undefined for
    (:class:`~mutualfuse.errors.MetricUndefinedError`) give ``(nan, reason)`` instead of an error:
    ``evaluate`` leaves that cell empty and says so, and the other metrics are still computed."""
    try:
        return _score(key, a, b, f), None
    except (ImageTooSmallError, MetricUndefinedError) as e:
        return float("nan"), str(e)


def _worker_init(imports: tuple[str, ...] = ()) -> None:
    """``-j N`` worker start-up: Ctrl+C (SIGINT, sent to the whole foreground process group)
    is left to the main process, which stops the workers; SIGTERM ends a worker quietly (the
    command's SIGTERM-as-Ctrl+C handler, inherited through ``fork``, would print a traceback).
    ``imports``: the ``--import`` modules (metrics of one's own), imported as the main process
    imported them (:func:`mutualfuse.plugins.import_user_module`; already there in a forked
    worker, imported anew in a spawned one); a failure is kept for the first metric it leaves
    unknown to say (:func:`_score`), not a broken pool."""
    import signal

    from .io.signals import unblock_signals

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    unblock_signals()  # blocked by _compute while it started us (a spawned worker's own imports)
    if imports:
        from .plugins import import_user_module

        for m in imports:
            try:
                import_user_module(m)
            except Exception as e:  # noqa: BLE001 - said by the metric it leaves unknown
                _IMPORT_ERRORS.append(f"a -j worker could not import {m}: {' '.join(str(e).split())[:300]}")


#: what a ``-j N`` worker failed to import (:func:`_worker_init`)
_IMPORT_ERRORS: list[str] = []


def _compute(names, la, lb, lf, methods, fused, labels, jobs: int, quiet: bool,
             skipped: dict | None = None, normalize: str | None = None,
             percentiles: tuple[float, float] | None = None,
             reads: DecodedImages | None = None, imports: tuple[str, ...] = ()) -> dict:
    """Score pair by pair; with ``jobs`` > 1 the metrics (of every ``--fused`` image) run in
    that many worker processes, and the next pair is read while the last metrics of a pair
    still run, so ``jobs`` workers stay busy even with one metric of one method. This process
    holds one pair (``jobs`` = 1), else at most ``jobs`` + 1 pairs (each worker the pair it
    scores), besides the images ``reads`` still holds. The pool has at most as many workers as
    there are metrics to compute (images x methods x metrics; until 2026-12-07 ``jobs`` of them,
    forked at once, whatever the work). Ctrl+C or an error stops the workers at once. Returns
    table[method][image][label].

    A metric that cannot be computed because the images are too small for it, or that is
    undefined for them (:class:`~mutualfuse.errors.MetricUndefinedError`), is NaN in the table; ``skipped`` (a dict, filled in place) then maps its label to
    ``{"reason": message, "images": [(method, image name), ...]}`` (``reason``: every image's
    own message when they differ, e.g. in the size they name, up to three of them). Any other problem is an
    :class:`~mutualfuse.errors.InputError` naming the file and the metric.

    ``normalize`` / ``percentiles`` are :func:`read_gray`'s, for the sources only (a fused image
    is scored as stored). (The note on 16-bit sources of a narrow span comes from
    :func:`verify_reads`, which reads every image first.)

    ``reads``: the images :func:`verify_reads` kept (``keep=``), taken from there instead of
    decoding the file again (the same arrays :func:`read_gray` returns); the others are read.

    ``imports``: the ``--import`` modules that register metrics of one's own, which every ``-j``
    worker imports first (:func:`_worker_init`: a worker started by ``spawn`` or ``forkserver``
    has only the built-in metrics)."""
    from collections import deque

    from tqdm import tqdm

    if skipped is None:
        skipped = {}
    table: dict = {m: {n: {} for n in names} for m in methods}
    total = len(names) * len(methods) * len(labels)
    bar = ex = None
    pending: deque = deque()  # (task, future), oldest first

    def record(t, result) -> None:
        value, reason = result
        table[t[0]][t[1]][t[2]] = value
        if reason is not None:
            entry = skipped.setdefault(t[2], {"reason": reason, "images": [], "reasons": [reason]})
            entry["images"].append((t[0], t[1]))
            if reason not in entry["reasons"]:  # another image's own words (its size): said too, not the first's alone
                entry["reasons"].append(reason)
                shown = entry["reasons"][:3]
                more = f" (+{len(entry['reasons']) - 3} more)" if len(entry["reasons"]) > 3 else ""
                entry["reason"] = "; ".join(shown) + more

    def died(t) -> FuseError:
        return FuseError(f"{t[5]}: {t[3]}: a worker process died (killed, e.g. by the system for lack of "
                         f"memory with -j {jobs}); try a smaller -j")

    def collect_oldest() -> None:
        t, fu = pending.popleft()
        try:
            result = fu.result()
        except ValueError as e:
            raise InputError(f"{t[5]}: {t[3]}: {e}") from None
        except BrokenProcessPool:
            raise died(t) from None
        record(t, result)
        bar.update(1)

    def read(path: Path, source: bool) -> np.ndarray:  # kept by the check, else decoded now
        x = reads.take((path, source)) if reads is not None else None
        if x is not None:
            return x
        return read_gray(path, normalize, percentiles, source=True) if source else read_gray(path)

    try:  # the bar and the pool inside: a Ctrl+C at any moment closes the bar before "interrupted"
        bar = tqdm(total=total, desc="evaluate", unit="metric", disable=quiet, file=sys.stderr)
        # never more workers than metrics to compute: the pool forks all of them at once (a typo such
        # as -j 100000 forked thousands, for minutes, with Ctrl+C and SIGTERM held meanwhile)
        workers = min(jobs, total)
        ex = (ProcessPoolExecutor(max_workers=workers, initializer=_worker_init, initargs=(tuple(imports),))
              if workers > 1 else None)
        for n in names:
            a = read(la[n], True)
            b = read(lb[n], True)
            tasks = []
            for m, d in zip(methods, fused):
                fp = lf[str(d)][n]
                f = read(fp, False)
                for lab, key in labels.items():
                    tasks.append((m, n, lab, key, (a, b, f), fp))
            if ex is None:
                for t in tasks:
                    record(t, _run_one(t))
                    bar.update(1)
                continue
            # Ctrl+C / SIGTERM held while tasks are submitted: the pool forks its workers on the
            # first submit, and a KeyboardInterrupt in the middle of that left a forked worker out
            # of the pool's list, never stopped, holding the command's output pipes open (a worker
            # forked meanwhile inherits the holding handler until _worker_init)
            with interrupts_held(), signals_blocked():
                for t in tasks:
                    try:
                        pending.append((t, ex.submit(_score_or_skip, t[3], *t[4])))
                    except BrokenProcessPool:  # a worker died while this pair was read: name its task
                        raise died(pending[0][0] if pending else t) from None
            while len(pending) > jobs:  # the next pair is read while the last `jobs` metrics run
                collect_oldest()
        while pending:
            collect_oldest()
    except BaseException:
        if ex is not None:
            stop_workers(ex)
            ex = None
        raise
    finally:
        if ex is not None:
            ex.shutdown(wait=True)
        if bar is not None:
            bar.close()
    return table


def _run_one(t) -> tuple[float, str | None]:
    try:
        return _score_or_skip(t[3], *t[4])
    except ValueError as e:  # InputError included: named with the file and the metric
        raise InputError(f"{t[5]}: {t[3]}: {e}") from None
