"""Samples → float images in [0, 1]: the normalisation policy and the checks every reader shares.

Public helpers used by :mod:`mutualfuse.image_io`, :mod:`mutualfuse.dicom` and
:mod:`mutualfuse.convert` (no module reaches into another's private functions).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError, ParameterError, PolicyRefusalError

#: refuse images with more pixels than this unless the caller raises it (decompression bombs)
MAX_PIXELS = 200_000_000
NORMALIZE_MODES = ("auto", "full", "percentile")
DEFAULT_PERCENTILES = (0.1, 99.9)
#: float samples within this distance of [0, 1] are taken as [0, 1] with rounding errors (a
#: resize's or a colour conversion's overshoot) and clipped, instead of rescaled as data of
#: another range (docs/inputs.md, "Bit depth and intensity normalisation")
FLOAT_TOLERANCE = 1e-3


def training_policy(meta: dict) -> tuple[str | None, tuple[float, float] | None]:
    """The intensity policy that weights' training read its images with: ``(normalize,
    percentiles)`` from the ``train_data`` metadata that ``mutualfuse train`` writes since
    2026-12-07 (``data.normalize`` / ``data.percentiles``); each ``None`` where not recorded or
    garbled (shipped weights and older files record none). Used by :class:`mutualfuse.api.Fuser`
    (the policy it fuses with unless given one) and by the ONNX export (what its graph expects)."""
    import json

    try:
        d = json.loads(meta.get("train_data", "null"))
    except (ValueError, RecursionError, TypeError):
        return None, None
    if not isinstance(d, dict):
        return None, None
    norm = d["normalize"] if d.get("normalize") in NORMALIZE_MODES else None
    p = d.get("percentiles")
    pct = None
    if (isinstance(p, list) and len(p) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in p) and 0 <= p[0] < p[1] <= 100):
        pct = (float(p[0]), float(p[1]))
    return norm, pct


@dataclass
class ImageInfo:
    path: str
    mode: str  # "L" or "RGB" after reading
    bit_depth: int  # 8, 16 (integer samples) or 32 (float samples)
    source: str = "pillow"  # "pillow", "tiff", "dicom"
    normalization: str = "full"  # what was applied: "full", "clipped" (float within FLOAT_TOLERANCE of [0, 1]), "percentile", "window"
    #: under "percentile", where it fell back to min/max or kept a flat image's value: the phrase
    #: saying so (:func:`percentile_scale`'s ``detail``); "" for a real percentile mapping
    scaling: str = ""
    #: the file's own sample type where it was read as another (an int8 or int32 TIFF read as
    #: 16-bit samples): ``"signed 8-bit"``; "" where the samples are read as stored
    stored: str = ""
    #: where the reader decoded fewer bits than the file holds (a 16-bit colour JPEG 2000 at 8):
    #: the note's words ("16-bit colour JPEG 2000 read at 8 bits a sample ..."); "" otherwise
    reduced: str = ""

    def scaled_how(self) -> str:
        """How a "percentile"/"window" input was mapped, completing "<file>: 16-bit input …"."""
        return self.scaling or f"scaled by {self.normalization}"

    def input_words(self) -> str:
        """What the notes call the input: "8-bit input", "16-bit input", "float input", or for
        samples read as another type, both: "signed 8-bit input (read as 16-bit samples)" (an
        int8 TIFF was called a "16-bit input")."""
        if self.bit_depth == 32:
            return "float input"
        if self.stored:
            return f"{self.stored} input (read as {self.bit_depth}-bit samples)"
        return f"{self.bit_depth}-bit input"

    def full_hint(self) -> str:
        """The advice of an integer input's percentile note: what ``--normalize full`` does."""
        if self.stored:  # full maps the 16-bit type it was read as: its own type's range is not known to it
            return f"--normalize full maps the {self.bit_depth}-bit range, not the {self.stored} type's"
        return "--normalize full for the type's full range"


def _err(path, msg: str) -> InputError:
    return InputError(f"{path}: {msg}")


def check_pixels(p, h: int, w: int, max_pixels: int | None) -> None:
    """Refuse images with no pixels or more than ``max_pixels`` (None/0: no limit)."""
    if h <= 0 or w <= 0:
        raise _err(p, f"image has 0 pixels ({w}x{h})")
    if max_pixels and h * w > max_pixels:
        raise _err(p, f"image is {w}x{h} = {h * w} pixels, more than the limit of {max_pixels} "
                      "(decompression bomb guard; raise it with --max-pixels)")


def percentile_scale(x: np.ndarray, lo: float, hi: float, top: float | None = None,
                     detail: list[str] | None = None, mapped: list | None = None) -> np.ndarray:
    """Map the (lo, hi) percentiles of x to (0, 1), clipped. Channels share one mapping.

    Where the percentiles are equal (an image of one value with a few outliers) the minimum and
    maximum are mapped instead. A flat image (every sample the same value v) has no range at
    all: it maps to its value in its type's full range, ``v / top``, clipped to [0, 1]. ``top``
    is that range's maximum (255, 65535 …); ``None``: 255 for uint8, 65535 for uint16, else 1
    (float data, whose range is [0, 1]: a flat float image keeps its value, clipped to [0, 1]).
    ``detail``: where one of these two fallbacks was taken, a phrase saying which is appended
    (completing "<file>: 16-bit input …"; the callers' notes print it instead of "scaled by
    percentile"). ``mapped``: where given, the two values mapped to 0 and 1 are appended (the
    percentiles, or the minimum and maximum of the first fallback; not for a flat image).
    """
    if top is None:
        top = 255.0 if x.dtype == np.uint8 else 65535.0 if x.dtype == np.uint16 else 1.0
    wide = x.dtype.kind == "f" and x.dtype.itemsize >= 8  # integers and float32 stay far below 2**1021
    x = x.astype(np.float64, copy=False)
    # float64 samples beyond ±2**1021 (about ±4.5e307): their differences (b - a, x - a, and the
    # percentiles' own interpolation) overflow to inf, and the mapping gave NaN, which the callers
    # then refused as "NaN or infinite values" the input does not have. Such data is mapped
    # scaled by a power of two, which is exact and leaves (x - a) / (b - a) unchanged.
    scale = 1.0
    if wide and x.size:
        big = max(abs(float(x.min())), abs(float(x.max())))
        if big > _HUGE:  # NaN (a caller's unchecked input) compares False: left as before
            scale = 2.0 ** -8
    xs = x * scale if scale != 1.0 else x
    a, b = (float(v) / scale for v in np.percentile(xs, [lo, hi]))
    if not b > a:  # flat at the percentiles: fall back to min/max, then to the value itself
        a, b = float(x.min()), float(x.max())
        if not b > a:
            if detail is not None:
                kept = f"kept at {a:g}/{top:g} of its type's range" if top != 1 else "kept at that value"
                detail.append(f"is flat (every sample {a:g}): not stretched, {kept}"
                              + (", clipped to [0, 1]" if not 0 <= a <= top else ""))
            return _clip01(x / float(top))
        if detail is not None:
            detail.append(f"scaled by its minimum and maximum ({a:g} → 0, {b:g} → 1; its p{lo:g} and p{hi:g} "
                          "percentiles are equal)")
    if mapped is not None:
        mapped.append((float(a), float(b)))
    if scale != 1.0:
        return _clip01((xs - a * scale) / (b * scale - a * scale))
    return _clip01((x - a) / (b - a))


#: :func:`percentile_scale` scales float samples larger than this in magnitude (2**1021) by a
#: power of two first: below it, no difference of two samples overflows float64
_HUGE = 2.0 ** 1021


def normalize_samples(x: np.ndarray, bit_depth: int, normalize: str, percentiles=DEFAULT_PERCENTILES,
                      path="", detail: list[str] | None = None) -> tuple[np.ndarray, str]:
    """Integer or float samples → float64 in [0, 1] per the ``normalize`` policy. ``detail``: as
    :func:`percentile_scale`'s, where the percentile mapping fell back to min/max or a flat image."""
    if normalize not in NORMALIZE_MODES:
        raise ParameterError(f"normalize must be one of {NORMALIZE_MODES}, got {normalize!r}")
    lo, hi = percentiles
    if not 0 <= lo < hi <= 100:
        raise ParameterError(f"percentiles must satisfy 0 <= lo < hi <= 100, got {percentiles}")
    if np.issubdtype(x.dtype, np.floating):
        if not np.isfinite(x).all():
            bad = int((~np.isfinite(x)).sum())
            raise _err(path, f"float image contains {bad} NaN or infinite values")
        mn, mx = float(x.min()), float(x.max())
        inside = mn >= -FLOAT_TOLERANCE and mx <= 1 + FLOAT_TOLERANCE
        # "clipped": in [0, 1] only within the tolerance (rounding overshoot), clipped; the CLI notes it
        how = "full" if mn >= 0 and mx <= 1 else "clipped"
        if normalize == "full":
            if not inside:
                said = f"{path}: float samples are in [{mn:.4g}, {mx:.4g}], not [0, 1] (within {FLOAT_TOLERANCE:g}; "
                e = PolicyRefusalError(f"{said}use normalize 'percentile' or 'auto')", normalize="full")
                # the command line names its option as it is typed (cli.fuse.policy_origin prints this)
                e.cli_message = f"{said}use --normalize percentile or --normalize auto)"
                raise e
            return _clip01(x.astype(np.float64)), how
        if normalize == "auto" and inside:
            return _clip01(x.astype(np.float64)), how
        return percentile_scale(x, lo, hi, 1.0, detail), "percentile"
    top = 255.0 if bit_depth <= 8 else float(2 ** bit_depth - 1)
    if x.dtype.kind == "i" and x.dtype.itemsize == 2:
        return _signed16(x, normalize, lo, hi, detail)
    if normalize == "percentile" or (normalize == "auto" and bit_depth > 8):
        return percentile_scale(x, lo, hi, top, detail), "percentile"
    return _clip01(x.astype(np.float64) / top), "full"


def sixteen_bit_kind(lo: int, hi: int) -> str | None:
    """How integer samples of a wider or narrower type (int8, int32, uint32, ...) with values in
    ``lo..hi`` are read as 16-bit ones, by the command line (an integer TIFF,
    ``image_io._wide_integers``) and the API (``convert._integers_as_16bit``) alike: ``"unsigned"``
    for 0..65535, else ``"signed"`` for -32768..32767, else ``None`` (refused: they fit neither)."""
    if 0 <= lo and hi <= 65535:
        return "unsigned"
    if -32768 <= lo and hi <= 32767:
        return "signed"
    return None


#: the range of signed 16-bit samples (a CT slice in Hounsfield units, a thermal camera's signed
#: counts), which ``"full"`` maps to [0, 1], as a signed DICOM's stored range
SIGNED16_RANGE = (-32768, 32767)


def _signed16(x: np.ndarray, normalize: str, lo: float, hi: float,
              detail: list[str] | None) -> tuple[np.ndarray, str]:
    """Signed 16-bit samples (``int16``: a signed TIFF) → [0, 1], as :func:`mutualfuse.dicom.read_dicom`
    maps a signed DICOM without a window: ``"auto"`` and ``"percentile"`` by the image's
    percentiles (16-bit data, as uint16), ``"full"`` by the type's range ``-32768 … 32767`` (a
    value ``v`` → ``(v + 32768) / 65535``); a flat image keeps its place in that range. By the
    type, not the values: an int16 image without a negative sample maps as one with them."""
    a, b = SIGNED16_RANGE
    span = float(b - a)
    if normalize != "full" and x.size and int(x.min()) != int(x.max()):
        return percentile_scale(x, lo, hi, span, detail), "percentile"
    out = _clip01((x.astype(np.float64) - a) / span)
    if normalize != "full":  # flat: no range to stretch
        if detail is not None:
            v = int(x.flat[0]) if x.size else 0
            detail.append(f"is flat (every sample {v}): not stretched, kept at its place in the signed 16-bit "
                          f"range ({a} → 0, {b} → 1)")
        return out, "percentile"
    return out, "full"


def _clip01(y: np.ndarray) -> np.ndarray:
    """``np.clip(y, 0, 1)`` in place: ``y`` is always a fresh array here, so no third full-size
    float64 copy is made (8 bytes a pixel less at the read's peak; the same values)."""
    return np.clip(y, 0.0, 1.0, out=y)


def joint_percentile_scale(arrays: list[np.ndarray], lo: float, hi: float) -> list[np.ndarray] | None:
    """One percentile mapping for several images (a focus stack): the (lo, hi) percentiles of all
    their samples together map to (0, 1), clipped, in every image, so that images of one scene
    keep their relative brightness (per-image percentiles would stretch a dim focal plane as much
    as a bright one). ``arrays``: float images on one linear scale (e.g. ``v / 65535``). None when
    the joint range is flat (then each image keeps its own mapping)."""
    a, b = np.percentile(np.concatenate([np.asarray(x, dtype=np.float64).ravel() for x in arrays]), [lo, hi])
    if not b > a:
        return None
    return [np.clip((np.asarray(x, dtype=np.float64) - a) / (b - a), 0.0, 1.0) for x in arrays]
