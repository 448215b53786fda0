"""Conversion between the user's image kinds and the internal (B, H, W[, 3]) float64 [0, 1].

Accepted (``from_any``):

* numpy: ``(H, W)`` gray, ``(H, W, 1)``, ``(H, W, 3)`` RGB, ``(H, W, 4)`` RGBA (alpha dropped),
  ``(B, H, W)`` batch of gray, ``(B, H, W, 1|3)``; dtype uint8, uint16, bool, float, int16 or
  another integer type (read as the command line reads an integer TIFF, below), in
  either byte order (a big-endian ``>u2`` result stays ``>u2``); ``np.matrix`` and masked arrays as
  their values (a masked array with masked pixels is refused: the fusion has no mask). A 3-D
  array whose last axis is under :data:`~mutualfuse.validation.MIN_SIDE` (8) is one image with
  that many channels (5 to 7 are refused as such), a longer one a batch of gray images.
* PIL: modes ``1, L, LA, P, RGB, RGBA, I;16*, I, F`` (``I``: values in 0..65535 read as 16-bit,
  values in -32768..32767 with a negative one as signed 16-bit).
* torch: ``(H, W)``, ``(C, H, W)``, ``(B, C, H, W)`` with C = 1 or 3; uint8, uint16, bool or float;
  dense, on any device but ``meta`` (which holds no data). Other tensor dtypes are refused
  saying the cast to use.

Signed and other integer arrays are read as the command line reads a TIFF of that sample type
(:func:`mutualfuse.image_io.read_image`; docs/inputs.md, "Signed 16-bit TIFF"): ``int16`` as
signed 16-bit samples, by the type (``"auto"``/``"percentile"``: by percentiles;
``"full"``: ``(v + 32768) / 65535``), its result ``int16`` on that range
(``round(f * 65535) - 32768``); other integer types (``int8``, ``int32``, ``int64``, ``uint32`` …)
by their values: in 0..65535 as ``uint16``, else in -32768..32767 as ``int16``, and the result is
in that 16-bit type (their own has no defined range; said in :attr:`Kind.notes`, and the API
warns); values that fit neither are refused, naming the float cast (floats outside [0, 1] are
scaled by percentiles).

Integer samples follow the ``normalize`` policy of :func:`mutualfuse.io.samples.normalize_samples`
(8-bit at full range; 16-bit per image by percentiles under the default ``"auto"``, or at full
range with ``"full"``); floats in [0, 1] are taken as they are, within
:data:`~mutualfuse.io.samples.FLOAT_TOLERANCE` clipped, other floats (under ``"auto"``) scaled
by percentiles. Every image of a batch is normalised alone, so a batch gives what each image
gives alone. Whatever was rescaled or clipped is listed in :attr:`Kind.notes` (and so in
``Fuser.report.notes``), as is a ``(3|4, H, W)`` array read as a batch of gray images
(channels-first colour is not guessed: numpy colour is channels-last). ``to_kind`` writes the result
back as the same kind, dtype and layout as the input it is given (uint8 → uint8, uint16 → full
0…65535 range, float → float in [0, 1]; a tensor on the input's device), with two exceptions,
both noted: PIL images come back in the mode their samples were read as (``L``, ``RGB``,
``I;16`` or ``F``: ``1``/``LA`` → ``L``, ``RGBA`` → ``RGB``, ``P`` → ``L`` or ``RGB``, ``I`` → ``I;16`` or ``F``),
and alpha is not kept (``(H, W, 4)`` → ``(H, W, 3)``; a PIL image's alpha band or transparent
palette colour). For a pair, the result is in the kind of the colour input (of ``a`` when both
are colour or both gray), gray under ``chroma="gray"``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import InputError
from .validation import MIN_SIDE


@dataclass
class Kind:
    kind: str  # "numpy", "pil", "torch"
    dtype: Any
    batched: bool
    channels: int  # 1 or 3
    layout: str = "hwc"  # numpy: hw / hw1 / hwc ; torch: hw / chw
    pil_mode: str | None = None
    bit_depth: int = 8  # 8, 16 or 32 (float)
    device: Any = None  # torch: the input's device, where the result goes back
    #: what was done to the input that the result does not show (rescaled, clipped, read as a
    #: batch): :meth:`mutualfuse.Fuser.fuse` adds these lines to its report's notes
    notes: list[str] = field(default_factory=list)


def native_byte_order(dt: np.dtype) -> np.dtype:
    """``dt`` in the machine's byte order (``>u2`` → ``uint16`` on little-endian machines), so that
    ``dt == np.uint16`` holds for big-endian samples too (FITS, some TIFF readers)."""
    return dt.newbyteorder("=") if dt.byteorder not in ("=", "|") else dt


def _depth_of(dtype) -> int:
    dt = native_byte_order(np.dtype(dtype))
    if dt == np.uint8 or dt == bool:
        return 8
    if dt == np.uint16 or dt == np.int16:  # int16: signed 16-bit samples (io.samples._signed16)
        return 16
    if np.issubdtype(dt, np.floating):
        return 32
    return 0


def _np_to_float(x: np.ndarray, name: str, normalize: str = "auto", percentiles=(0.1, 99.9),
                 batched: bool = False, notes: list[str] | None = None) -> np.ndarray:
    """Samples → float64 in [0, 1]. ``batched``: axis 0 holds images, each normalised alone
    (a batch gives what each image gives alone). ``notes`` gets a line for every input that was
    rescaled or clipped (the API's :attr:`~mutualfuse.Fuser.report` notes)."""
    from .io.samples import normalize_samples

    if x.size == 0:
        raise InputError(f"{name}: image has 0 pixels (shape {x.shape})")
    if native_byte_order(x.dtype) != x.dtype:  # big-endian samples: the same values in native order
        x = x.astype(native_byte_order(x.dtype))
    if x.dtype == bool:
        x = x.astype(np.uint8) * 255
    depth = _depth_of(x.dtype)
    if depth == 0:
        raise InputError(_dtype_refusal(name, x.dtype, x))
    images = x if batched else x[None]
    out = np.empty(images.shape, dtype=np.float64)
    scaled, clipped = [], []  # indices of the images rescaled by percentiles / clipped to [0, 1]
    lo_hi = []  # float: (min, max) of each image
    fallback = []  # (index, phrase): percentile mapping that fell back to min/max or a flat image's value
    for i, img in enumerate(images):
        detail: list[str] = []
        out[i], how = normalize_samples(img, depth, normalize, percentiles, name, detail)
        if depth == 32:
            lo_hi.append((float(img.min()), float(img.max())))
        if how == "percentile" and detail:
            fallback.append((i, detail[0]))
        elif how == "percentile":
            scaled.append(i)
        elif depth == 32 and (lo_hi[-1][0] < -_ROUNDING or lo_hi[-1][1] > 1 + _ROUNDING):
            clipped.append(i)
    if notes is not None:
        notes += _scale_notes(name, depth, normalize, percentiles, scaled, clipped, lo_hi, len(images) if batched else 0)
        kind = "float" if depth == 32 else f"{depth}-bit"
        notes += [f"{name}: {kind} input{f' (batch image {i}, from 0)' if batched else ''} {phrase}"
                  for i, phrase in fallback]
    return out if batched else out[0]


#: float samples this close to [0, 1] are float rounding: clipped without a note
_ROUNDING = 1e-6


def _scale_notes(name: str, depth: int, normalize: str, percentiles, scaled: list[int], clipped: list[int],
                 lo_hi: list, batch: int) -> list[str]:
    """The report lines for :func:`_np_to_float`: which input was rescaled or clipped, and how."""
    from .io.samples import FLOAT_TOLERANCE

    def which(idx: list[int]) -> str:
        if not batch:
            return ""
        if len(idx) == batch:
            return f", each of the {batch} images of the batch by its own" if batch > 1 else ""
        return f", batch image{'s' if len(idx) > 1 else ''} {', '.join(map(str, idx))} (from 0)"

    def span(idx: list[int]) -> str:
        return f"[{min(lo_hi[i][0] for i in idx):.6g}, {max(lo_hi[i][1] for i in idx):.6g}]"

    notes = []
    lo, hi = percentiles
    if scaled:
        how = f"scaled by percentile (p{lo:g} → 0, p{hi:g} → 1, clipped{which(scaled)})"
        if depth != 32:
            notes.append(f"{name}: {depth}-bit input {how}"
                         + ("; normalize='full' for the type's full range" if normalize == "auto" else ""))
        elif normalize == "auto":
            notes.append(f"{name}: float input with values in {span(scaled)}, outside [0, 1] (tolerance "
                         f"{FLOAT_TOLERANCE:g}): {how}; to keep the values pass floats in [0, 1] "
                         "(x / 255 for 8-bit data, np.clip(x, 0, 1) for an overshoot)")
        else:
            notes.append(f"{name}: float input {how}")
    if clipped:
        notes.append(f"{name}: float input with values in {span(clipped)} clipped to [0, 1] (within the "
                     f"tolerance {FLOAT_TOLERANCE:g}{which(clipped)})")
    return notes


def _plain(x: np.ndarray, name: str) -> np.ndarray:
    """A numpy subclass as a plain ndarray: ``np.matrix`` (whose ``x[None]`` fails) as its values;
    a masked array only without masked pixels, since fusing would use the hidden values under
    the mask silently."""
    if isinstance(x, np.ma.MaskedArray):
        n = int(np.ma.count_masked(x))
        if n:
            raise InputError(f"{name}: masked array with {n} masked pixels; the fusion has no mask: pass "
                             "x.filled(value) (or np.ma.getdata(x) to fuse the values under the mask)")
        return np.ma.getdata(x)
    return np.asarray(x) if type(x) is not np.ndarray else x


_FUSE_TAKES = "; Fuser.fuse takes uint8, uint16, other float ranges, PIL images and tensors"
_FUSE_RESCALES = "; Fuser.fuse rescales other ranges (x / 255 for 8-bit data)"


def check_unit_float(x: Any, name: str, dtype_hint: str = _FUSE_TAKES, range_hint: str = _FUSE_RESCALES) -> Any:
    """The input check of the low-level entry points (:meth:`mutualfuse.Fuser.fuse_gray`,
    :meth:`~mutualfuse.Fuser.fuse_gray_batch`, :func:`mutualfuse.methods.fuse_gray`): float
    samples, finite, in [0, 1] within :data:`~mutualfuse.io.samples.FLOAT_TOLERANCE`; else a
    one-line :class:`InputError` pointing to :meth:`~mutualfuse.Fuser.fuse`, which takes the
    other kinds (uint8, uint16, any float range, PIL, torch). Returns ``x``, clipped to [0, 1]
    (a copy) when it overshoots within the tolerance. ``dtype_hint`` / ``range_hint``: the words
    ending the refusal of a non-float array / of samples outside [0, 1] (another entry point's
    advice, e.g. :func:`mutualfuse.onnx_export.run_onnx`'s)."""
    from .io.samples import FLOAT_TOLERANCE
    from .validation import in_unit_range

    if in_unit_range(x):  # float, finite, in [0, 1]: returned as it is, after one pass (not three)
        return x
    if not isinstance(x, np.ndarray):
        raise InputError(f"{name}: expected a numpy float array in [0, 1], got {type(x).__name__}; Fuser.fuse "
                         "takes PIL images, tensors and other dtypes")
    x = _plain(x, name)
    dt = x.dtype
    if not np.issubdtype(dt, np.floating):
        raise InputError(f"{name}: expected float samples in [0, 1], got dtype {dt}{dtype_hint}")
    if x.size == 0:
        return x
    if not np.isfinite(x).all():
        raise InputError(f"{name}: image contains NaN or infinite values")
    mn, mx = float(x.min()), float(x.max())
    if mn < -FLOAT_TOLERANCE or mx > 1 + FLOAT_TOLERANCE:
        raise InputError(f"{name}: float samples are in [{mn:.6g}, {mx:.6g}], not [0, 1] (tolerance "
                         f"{FLOAT_TOLERANCE:g}){range_hint}")
    return np.clip(x, 0, 1) if mn < 0 or mx > 1 else x


#: PIL modes with an alpha band (``La``/``RGBa``: premultiplied), dropped when read
_ALPHA_MODES = ("LA", "La", "PA", "RGBA", "RGBa")


#: what :func:`from_any` takes (its dtype refusals say it); numpy integers of other types are
#: read as 16-bit where their values fit (:func:`_integers_as_16bit`), tensors' are refused
_ACCEPTED_DTYPES = "uint8, uint16, bool or float"


def _dtype_refusal(name: str, dtype, values: np.ndarray | None, tensor: bool = False) -> str:
    """The one-line refusal of samples of another dtype (int32, int64, complex …), saying what is
    taken and what to do. ``values``: the samples, where they are integers. Integers in 0..65535
    are 16-bit samples once cast to uint16 (as a PIL mode ``I`` image is read); other integers
    are data of another range, which floats carry (scaled by percentiles). They are not read as
    16-bit here, since the result keeps the input's dtype and an int32 result has no defined range."""
    msg = f"{name}: unsupported {'tensor' if tensor else 'array'} dtype {dtype} (use {_ACCEPTED_DTYPES})"
    if values is None or values.dtype.kind not in "iu":
        return msg
    lo, hi = int(values.min()), int(values.max())
    lib = "torch" if tensor else "np"
    cast = "x.to" if tensor else "x.astype"
    if 0 <= lo and hi <= 65535:
        return (f"{msg}; its values are in 0..65535: pass {cast}({lib}.uint16) to fuse them as 16-bit samples "
                "(as a PIL mode I image is read)")
    if tensor and -32768 <= lo and hi <= 32767:
        return (f"{msg}; its values [{lo}, {hi}] are signed 16-bit ones: pass x.numpy() (a numpy int16 or "
                "int32 array is read as signed 16-bit samples, as the command line reads a signed TIFF)")
    if not tensor:  # numpy: only values that fit no 16-bit type get here (_integers_as_16bit)
        return (f"{msg}; its values [{lo}, {hi}] are outside 0..65535 and -32768..32767: pass "
                f"{cast}({lib}.float64) (floats outside [0, 1] are scaled by percentiles)")
    return (f"{msg}; its values [{lo}, {hi}] are outside 0..65535: pass {cast}({lib}.float64) (floats outside "
            "[0, 1] are scaled by percentiles)")


def _integers_as_16bit(x: np.ndarray, name: str, notes: list[str]) -> np.ndarray:
    """Integer samples of another type than uint8, uint16 and int16 → ``uint16`` or ``int16``, as
    the command line reads a TIFF of that sample type (:func:`mutualfuse.image_io._wide_integers`):
    by their values, 0..65535 as unsigned 16-bit, else -32768..32767 as signed 16-bit (an int32
    CT slice in HU, what Pillow's mode ``I`` holds); a line in ``notes`` says so, since the
    result is in that 16-bit type. Values that fit neither are refused (:func:`_dtype_refusal`).
    ``int16`` is signed 16-bit by its type (as a signed TIFF is); anything else is returned as it
    is. Before session 28 every integer type but uint8/uint16 was refused, while the command
    line fused the same samples from a TIFF."""
    dt = native_byte_order(x.dtype)
    if dt.kind not in "iu" or dt in (np.uint8, np.uint16, np.int16) or x.size == 0:
        return x
    from .io.samples import sixteen_bit_kind

    lo, hi = int(x.min()), int(x.max())
    kind = sixteen_bit_kind(lo, hi)
    if kind is None:
        raise InputError(_dtype_refusal(name, x.dtype, x))
    to = np.uint16 if kind == "unsigned" else np.int16
    article = "an" if x.dtype.name.startswith("i") else "a"
    notes.append(f"{name}: {x.dtype} samples (values {lo}..{hi}) read as {np.dtype(to)} "
                 + ("(unsigned 16-bit)" if to == np.uint16 else "(signed 16-bit)")
                 + f", as the command line reads {article} {x.dtype} TIFF; the result is {np.dtype(to)}")
    return x.astype(to)


def _check_channels(c: int, name: str, allowed=(1, 3, 4), shape=None) -> None:
    if c not in allowed:
        kinds = {1: "1 gray", 3: "3 RGB", 4: "4 RGBA"}
        want = ", ".join(kinds[k] for k in allowed[:-1]) + f" or {kinds[allowed[-1]]}"
        raise InputError(f"{name}: unsupported channel count {c}"
                         + (f" in shape {tuple(shape)}" if shape is not None else "") + f" (expected {want})")


def check_tensor_holds_data(x, name: str) -> None:
    """Refuse a torch tensor whose samples cannot be read as an image's: one on the ``meta``
    device (no data) or a sparse one, in one :class:`InputError` naming ``name``. Shared by
    :func:`from_any` and the metrics' input reading (:func:`mutualfuse.metrics._common.as_array`)."""
    import torch

    if x.device.type == "meta":
        raise InputError(f"{name}: tensor on the 'meta' device holds no data (shape {tuple(x.shape)})")
    if x.layout != torch.strided:
        raise InputError(f"{name}: {x.layout} tensor; pass a dense tensor (x.to_dense())")


def from_any(x: Any, name: str, normalize: str = "auto", percentiles=(0.1, 99.9)) -> tuple[np.ndarray, Kind]:
    """→ (B, H, W) for gray or (B, H, W, 3) for colour, float64 in [0, 1], plus how to convert back.

    Every image of a batch is normalised alone. :attr:`Kind.notes` says what was rescaled or
    clipped, and when a (3|4, H, W) array was read as a batch of gray images."""
    notes: list[str] = []
    conv = lambda arr, batched=False: _np_to_float(arr, name, normalize, percentiles, batched, notes)  # noqa: E731
    f, kind = _from_any(x, name, conv, notes)
    kind.notes = notes
    return f, kind


def _from_any(x: Any, name: str, conv, notes: list[str]) -> tuple[np.ndarray, Kind]:
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover
        Image = None
    if Image is not None and isinstance(x, Image.Image):
        mode = x.mode
        if x.width == 0 or x.height == 0:
            raise InputError(f"{name}: image has 0 pixels ({x.width}x{x.height})")
        try:  # Image.open reads the samples lazily: a truncated or closed file fails here, not at open
            x.load()
        except (OSError, SyntaxError, EOFError, ValueError, AssertionError) as e:
            why = ("its file was closed before the samples were read (call .load() inside the with block)"
                   if getattr(x, "fp", "") is None and not str(e) else str(e) or type(e).__name__)
            raise InputError(f"{name}: PIL image cannot be read: {why}") from None
        from .io.pil_modes import pil_samples

        # alpha: these modes, or a palette/gray/RGB image with a transparent colour (tRNS); not
        # LAB, whose "A" is a colour axis
        alpha = mode in _ALPHA_MODES or "transparency" in x.info
        if mode == "La":  # premultiplied gray + alpha: Pillow converts it to LA only (not to L)
            x = x.convert("LA")
        raw, depth = pil_samples(x, name)
        from .io.pil_modes import cmyk_note, icc_profile_note

        icc = icc_profile_note(name, x.info.get("icc_profile"))  # Adobe RGB, Display P3, a gray gamma
        if icc and mode == "LAB":
            from .io.pil_modes import icc_profile_name

            # Pillow's convert("LAB") tags its L*a*b* samples with a Lab profile, and convert("RGB")
            # turns them into sRGB: not "fused as stored, taken as sRGB", as the note said
            if (icc_profile_name(bytes(x.info.get("icc_profile") or b"")) or ("", ""))[1] == "Lab":
                icc = None
        if not icc and mode == "CMYK":  # no profile: Pillow's plain formula, approximate (as files, s27)
            icc = cmyk_note(name)
        if icc:  # profile: fused as stored, as before, but not without a word
            notes.append(icc)
        signed = raw.dtype == np.int16  # mode I with a negative value: signed 16-bit (pil_samples)
        back = ("RGB" if raw.ndim == 3 else "I" if signed else "I;16" if depth == 16 else "F" if depth == 32
                else "L")
        if mode != back or alpha:  # 1, LA, P, RGBA, I, I;16B …: read as another mode
            # the result is in the mode of the colour input's kind (gray under chroma "gray"),
            # which need not be this one's ``back``; it is never ``mode``
            notes.append(f"{name}: PIL mode {mode}" + (f" read as {back}" if mode != back else "")
                         + (" (alpha not kept)" if alpha else "")
                         + (f"; the result cannot be in mode {mode}" if mode != back else ""))
        if signed:  # as the command line reads a signed TIFF (Pillow shows one as mode I)
            notes.append(f"{name}: PIL mode I with values {int(raw.min())}..{int(raw.max())} read as signed 16-bit "
                         "samples, as the command line reads a signed TIFF; the result is mode I on "
                         "-32768..32767")
            return conv(raw)[None], Kind("pil", np.int16, False, 1, pil_mode="I", bit_depth=16)
        if raw.ndim == 3:
            return conv(raw)[None], Kind("pil", np.uint8, False, 3, pil_mode="RGB")
        if depth == 16:
            return conv(raw)[None], Kind("pil", np.uint16, False, 1, pil_mode="I;16", bit_depth=16)
        if depth == 32:
            return conv(raw.astype(np.float32))[None], Kind("pil", np.float32, False, 1, pil_mode="F", bit_depth=32)
        return conv(raw)[None], Kind("pil", np.uint8, False, 1, pil_mode="L")
    # a tensor exists only where PyTorch is imported: a numpy or PIL input does not import it
    # (0.8-1 s for a classical method that never needs it)
    import sys

    torch = sys.modules.get("torch")
    if torch is not None and isinstance(x, torch.Tensor):
        check_tensor_holds_data(x, name)
        if x.numel() == 0:
            raise InputError(f"{name}: tensor has 0 pixels (shape {tuple(x.shape)})"
                             + (": an empty batch" if x.ndim == 4 and x.shape[0] == 0 else ""))
        t = x.detach().to("cpu")
        batched = t.ndim == 4
        if t.ndim == 2:
            t = t[None, None]
        elif t.ndim == 3:
            t = t[None]
        if t.ndim != 4:
            raise InputError(f"{name}: tensor must be (H, W), (C, H, W) or (B, C, H, W), got {tuple(x.shape)}")
        if t.shape[1] not in (1, 3) and t.shape[-1] in (1, 3, 4):  # (H, W, C): numpy's layout
            rgb = "x[..., :3]" if t.shape[-1] == 4 else "x"
            raise InputError(f"{name}: tensor of shape {tuple(x.shape)} looks channels-last; tensors are "
                             f"channels-first (C, H, W) or (B, C, H, W) with C = 1 or 3: pass "
                             f"{rgb}.permute({'0, 3, 1, 2' if x.ndim == 4 else '2, 0, 1'})")
        _check_channels(t.shape[1], name, (1, 3), tuple(x.shape))
        if t.is_floating_point():
            arr = t.to(torch.float64).numpy()
            depth = 32
        elif t.dtype == torch.uint8:
            arr, depth = t.numpy(), 8
        elif t.dtype == torch.bool:
            arr, depth = t.numpy(), 8
        elif getattr(torch, "uint16", None) is not None and t.dtype == torch.uint16:
            arr, depth = t.numpy(), 16
        else:
            try:  # integer samples: their range says what to do
                values = None if t.is_complex() else t.numpy()
            except (TypeError, RuntimeError):  # a dtype without a NumPy view (quantised …)
                values = None
            raise InputError(_dtype_refusal(name, t.dtype, values, tensor=True))
        arr = np.moveaxis(arr, 1, -1)  # B, H, W, C
        f = conv(arr, True)
        ch = f.shape[-1]
        f = f[..., 0] if ch == 1 else f
        return f, Kind("torch", x.dtype, batched, ch, layout=("chw" if x.ndim >= 3 else "hw"), bit_depth=depth,
                       device=x.device)
    if isinstance(x, np.ndarray):
        x = _plain(x, name)
        x = _integers_as_16bit(x, name, notes)
        depth = _depth_of(x.dtype)
        if x.ndim == 2:
            return conv(x)[None], Kind("numpy", x.dtype, False, 1, layout="hw", bit_depth=depth)
        if x.ndim == 3 and x.shape[-1] < MIN_SIDE:  # (H, W, C): no image of a batch is narrower than MIN_SIDE
            if x.shape[-1] > 4:  # 5..7: neither an image's channels nor a batch's image width
                raise InputError(f"{name}: unsupported channel count {x.shape[-1]} in numpy array of shape "
                                 f"{x.shape} (expected (H, W) gray, (H, W, C) with C = 1 gray, 3 RGB or 4 RGBA, or "
                                 f"a (B, H, W) batch of gray images of at least {MIN_SIDE}x{MIN_SIDE})")
            _check_channels(x.shape[-1], name, shape=x.shape)
            if x.shape[-1] == 1:
                return conv(x[..., 0])[None], Kind("numpy", x.dtype, False, 1, layout="hw1", bit_depth=depth)
            if x.shape[-1] == 4:
                notes.append(f"{name}: RGBA array: alpha not kept, the result is (H, W, 3)")
            return conv(x[..., :3])[None], Kind("numpy", x.dtype, False, 3, bit_depth=depth)
        if x.ndim == 3:  # batch of gray
            if x.shape[0] in (3, 4):  # also the shape of a channels-first colour image: say how it was read
                notes.append(f"{name}: numpy array of shape {x.shape} read as a batch of {x.shape[0]} gray images "
                             "(B, H, W); numpy colour is channels-last: pass x.transpose(1, 2, 0) for one "
                             "(H, W, C) image")
            return conv(x, True), Kind("numpy", x.dtype, True, 1, layout="hw", bit_depth=depth)
        if x.ndim == 4:
            if x.shape[-1] not in (1, 3) and x.shape[1] in (1, 3):
                raise InputError(f"{name}: numpy batch of shape {x.shape} looks channels-first (B, C, H, W); numpy "
                                 "images are channels-last (B, H, W, C): pass x.transpose(0, 2, 3, 1)")
            _check_channels(x.shape[-1], name, (1, 3), x.shape)
            f = conv(x, True)
            return (f[..., 0] if x.shape[-1] == 1 else f), Kind("numpy", x.dtype, True, x.shape[-1],
                                                                 layout="hw1" if x.shape[-1] == 1 else "hwc", bit_depth=depth)
        raise InputError(f"{name}: unsupported array shape {x.shape}")
    if isinstance(x, (str, os.PathLike)):  # a file name: the API fuses images, the CLI fuses files
        raise InputError(f"{name}: expected a numpy array, PIL image or torch tensor, got the path {str(x)!r}: "
                         "read it first (PIL.Image.open, or mutualfuse.image_io.read_image(path)[0] for "
                         "16-bit, TIFF and DICOM), or use the command line (mutualfuse fuse)")
    raise InputError(f"{name}: expected a numpy array, PIL image or torch tensor, got {type(x).__name__}")


def _quantise(f: np.ndarray, dtype) -> np.ndarray:
    dt = np.dtype(dtype)
    if dt == np.uint8:
        return np.round(f * 255).astype(np.uint8)
    if native_byte_order(dt) == np.uint16:  # in the input's byte order
        return np.round(f * 65535).astype(np.uint16).astype(dt, copy=False)
    if native_byte_order(dt) == np.int16:  # the signed 16-bit range: -32768 … 32767
        return (np.round(f * 65535).astype(np.int32) - 32768).astype(np.int16).astype(dt, copy=False)
    if dt == bool:
        return f >= 0.5
    return f.astype(dt)


def to_kind(f: np.ndarray, k: Kind) -> Any:
    """Inverse of :func:`from_any` for the fused (B, H, W[, 3]) result."""
    f = np.clip(f, 0, 1)
    if k.kind == "pil":
        from PIL import Image

        img = f[0]
        if k.pil_mode == "I;16" and img.ndim == 2:
            return Image.fromarray(np.round(img * 65535).astype(np.uint16))
        if k.pil_mode == "I" and img.ndim == 2:  # signed 16-bit samples in mode I (int32)
            return Image.fromarray(np.round(img * 65535).astype(np.int32) - 32768, "I")
        if k.pil_mode == "F" and img.ndim == 2:
            return Image.fromarray(img.astype(np.float32))
        data = np.round(img * 255).astype(np.uint8)
        return Image.fromarray(data)
    if k.kind == "torch":
        import torch

        arr = f if f.ndim == 4 else f[..., None]
        arr = np.ascontiguousarray(np.moveaxis(arr, -1, 1))  # B, C, H, W
        if k.dtype == torch.uint8:
            t = torch.from_numpy(np.round(arr * 255).astype(np.uint8))
        elif k.dtype == torch.bool:
            t = torch.from_numpy(arr >= 0.5)
        elif getattr(torch, "uint16", None) is not None and k.dtype == torch.uint16:
            t = torch.from_numpy(np.round(arr * 65535).astype(np.int32)).to(torch.uint16)
        else:
            t = torch.from_numpy(arr).to(k.dtype)
        if not k.batched:
            t = t[0]
            if k.layout == "hw" and t.shape[0] == 1:
                t = t[0]
        return t.to(k.device) if k.device is not None else t
    out = _quantise(f, k.dtype)
    if not k.batched:
        out = out[0]
    if k.layout == "hw1" and out.ndim == (3 if not k.batched else 4) - 1:
        out = out[..., None]
    return out
