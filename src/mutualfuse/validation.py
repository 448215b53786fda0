"""Validation of fusion inputs and options: a leaf module (numpy and :mod:`.errors` only).

:class:`mutualfuse.Fuser`, the method registry and the CLI share these checks, so that a bad
pair or option gives the same one-line error whichever way it arrives.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .errors import InputError, ParameterError
from .wording import counted

#: default pixel budget of one streaming window (per batch item); about 0.25 GB of activations
#: per 100k pixels for the default network, see docs/inputs.md. Here, not in :mod:`.tiling`
#: (which imports PyTorch), so that the command line builds its options without PyTorch.
DEFAULT_WINDOW_PIXELS = 400_000

#: ONNX opsets the network exports with (:mod:`.onnx_export`): scaled_dot_product_attention needs
#: 14 (opset 13 fails, 14 and 20 export with torch 2.13); the TorchScript exporter stops at 20
MIN_OPSET = 14
MAX_OPSET = 20

#: smallest image side any method accepts
MIN_SIDE = 8
#: network precisions by name
DTYPE_NAMES = ("float32", "float16", "bfloat16")


#: elements of one block of :func:`in_unit_range` (512 KiB of float64: its minimum and maximum
#: read it from the cache the second time, so the check is one pass over memory, not two)
_RANGE_BLOCK = 1 << 16


def in_unit_range(x: np.ndarray) -> bool:
    """Whether every value of the float array ``x`` is finite and in [0, 1]: one pass over the
    samples, block by block, with nothing allocated (``np.isfinite(x).all()`` and ``x.min()``,
    ``x.max()`` were three passes and a boolean copy). NaN propagates into a block's minimum
    (NumPy's ``min``/``max`` propagate NaN), infinities are its minimum or maximum, so both fail
    the comparisons. False for an empty array, another dtype or a subclass (the full check
    decides those and says what is wrong)."""
    if type(x) is not np.ndarray or x.dtype.kind != "f" or x.size == 0:
        return False
    flat = x.reshape(-1) if x.flags.c_contiguous else x.T.reshape(-1) if x.flags.f_contiguous else None
    if flat is None:  # strided: two whole passes (a copy would cost more)
        return bool(x.min() >= 0) and bool(x.max() <= 1)
    for i in range(0, flat.size, _RANGE_BLOCK):
        part = flat[i:i + _RANGE_BLOCK]
        if not (part.min() >= 0 and part.max() <= 1):  # NaN: both comparisons are False
            return False
    return True


def unit_float(x: Any, name: str) -> Any:
    """:func:`mutualfuse.convert.check_unit_float` (the low-level entry points' input check) in
    one pass where the input passes it: ``x`` itself when it is a float array with every value
    finite and in [0, 1] (:func:`in_unit_range`), which is what the full check returns for it;
    anything else (other types and dtypes, NaN, infinities, an overshoot to clip or refuse) goes
    to the full check, which says what is wrong or returns the clipped copy."""
    if in_unit_range(x):
        return x
    from .convert import check_unit_float  # (convert imports this module)

    return check_unit_float(x, name)


def check_pair(a: np.ndarray, b: np.ndarray, names: tuple[str, str] = ("a", "b"), finite: bool = True) -> None:
    """Raise :class:`InputError` unless ``a``/``b`` form a usable gray pair. ``names``: the two
    inputs as the messages name them (file names where the caller has them). ``finite=False``:
    the caller has checked the values already (finite, in [0, 1]), the shapes only."""
    for x, n in zip((a, b), names):
        if not isinstance(x, np.ndarray) or x.ndim != 2:
            raise InputError(f"{n}: expected a 2-D gray array, got shape {getattr(x, 'shape', None)}")
        if min(x.shape) < MIN_SIDE:
            raise InputError(f"{n}: image is {x.shape[1]}x{x.shape[0]}, smaller than {MIN_SIDE}x{MIN_SIDE}")
        if finite and not np.isfinite(x).all():
            raise InputError(f"{n}: image contains NaN or infinite values")
    if a.shape != b.shape:
        raise InputError(
            f"size mismatch: {names[0]} is {a.shape[1]}x{a.shape[0]}, {names[1]} is {b.shape[1]}x{b.shape[0]}"
        )


def check_batch_pair(a: np.ndarray, b: np.ndarray, names: tuple[str, str] = ("a", "b")) -> None:
    """(B, H, W[, 3]) float pair: same batch and size, sides at least :data:`MIN_SIDE`.
    ``names``: the two inputs as the messages name them (file names where the caller has them)."""
    na, nb = names
    if a.shape[1:3] == b.shape[1:3] and a.shape[0] != b.shape[0]:  # the sizes agree: not a "size mismatch"
        raise InputError(f"batch mismatch: {na} has {counted(a.shape[0], 'image')}, {nb} has {b.shape[0]}")
    if a.shape[:3] != b.shape[:3]:
        raise InputError(f"size mismatch: {na} is {a.shape[2]}x{a.shape[1]}, {nb} is {b.shape[2]}x{b.shape[1]}"
                         + ("" if a.shape[0] == b.shape[0] else f" (batch {a.shape[0]} vs {b.shape[0]})"))
    if min(a.shape[1:3]) < MIN_SIDE:  # the sizes agree here: both inputs are that small
        raise InputError(f"{na} and {nb}: images are {a.shape[2]}x{a.shape[1]}, smaller than {MIN_SIDE}x{MIN_SIDE}")


def pick_device(device: Any, api: bool = False):
    """``"auto"`` → CUDA when available else CPU; ``"cpu"``, ``"cuda[:n]"`` checked → ``torch.device``.

    ``api``: the caller is the Python API (:class:`mutualfuse.Fuser`), whose user gave
    ``device="cuda"``, not ``--device cuda``: a refusal names the keyword as it was written
    (the command line, the web server and the benchmark keep their option's wording)."""
    import torch

    device = str(device)
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        if api:
            raise ParameterError(f"device={device!r}: CUDA is not available on this machine (PyTorch "
                                 f"{torch.__version__} sees no CUDA device); use device='cpu' or device='auto'")
        raise ParameterError(f"--device {device}: CUDA is not available on this machine")
    if device not in ("cpu",) and not device.startswith("cuda"):
        raise ParameterError(f"device must be cpu, cuda or auto, got {device!r}")
    return torch.device(device)


def pick_dtype(dtype: Any, device) :
    """A dtype name or ``torch.dtype`` → ``torch.dtype``; float16 on CPU is refused (no fast kernels)."""
    import torch

    table = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
    if isinstance(dtype, str):
        if dtype not in table:
            raise ParameterError(f"dtype must be one of {sorted(table)}, got {dtype!r}")
        dtype = table[dtype]
    if dtype not in table.values():
        raise ParameterError(f"dtype must be one of {sorted(table)}, got {dtype!r}")
    if dtype == torch.float16 and device.type == "cpu":
        raise ParameterError("dtype float16 on CPU is refused: CPUs have no fast float16 kernels (measured 42x "
                             "slower than float32 on a 256x256 pair); use float32, or bfloat16, or a CUDA device")
    return dtype


#: the smallest streaming window (``max_window_pixels``, ``--window-pixels``)
MIN_WINDOW_PIXELS = 4096

#: the largest selection temperature (``blend_temperature``, ``--blend-temperature``): at 1e6 the
#: learned weights of the shipped blend and pyramid models are 1/2 to within 3e-6 (measured), so a
#: larger T changes nothing visible (and from about 3.4e38 on it is infinite in float32)
MAX_BLEND_TEMPERATURE = 1e6


def _is_int(x: Any) -> bool:
    import numbers

    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def _is_number(x: Any) -> bool:
    """A real number (Python or NumPy), not a bool."""
    import numbers

    return isinstance(x, numbers.Real) and not isinstance(x, bool) and np.isfinite(float(x))


def check_fuse_options(*, chroma: str, normalize: str, tile: int | None, tile_overlap: int,
                       token_budget: int | None, blend_temperature: float | None = None,
                       detail_gain: float | None = None, detail_activity: float | None = None,
                       percentiles: Any = (0.1, 99.9), max_window_pixels: Any = MIN_WINDOW_PIXELS) -> None:
    """The option checks of :class:`mutualfuse.Fuser` (one-line :class:`ParameterError`), as strict
    as the command line's: integers where it takes integers, finite numbers in range, no bools."""
    from .color import CHROMA_RULES
    from .image_io import NORMALIZE_MODES

    if chroma not in CHROMA_RULES:
        raise ParameterError(f"chroma must be one of {CHROMA_RULES}, got {chroma!r}")
    if normalize not in NORMALIZE_MODES:
        raise ParameterError(f"normalize must be one of {NORMALIZE_MODES}, got {normalize!r}")
    if tile is not None and not (_is_int(tile) and tile >= 16):
        raise ParameterError(f"tile must be an integer of at least 16 pixels (or None), got {tile!r}")
    if not (_is_int(tile_overlap) and tile_overlap >= 0):
        raise ParameterError(f"tile_overlap must be an integer >= 0, got {tile_overlap!r}")
    if token_budget is not None and not (_is_int(token_budget) and token_budget >= -1):
        raise ParameterError(f"token_budget must be an integer >= 0 (0 = exact) or -1 (model default), "
                             f"got {token_budget!r}")
    if not (_is_int(max_window_pixels) and max_window_pixels >= MIN_WINDOW_PIXELS):
        raise ParameterError(f"max_window_pixels must be an integer of at least {MIN_WINDOW_PIXELS}, "
                             f"got {max_window_pixels!r}")
    try:
        lo, hi = percentiles
    except (TypeError, ValueError):
        raise ParameterError(f"percentiles must be a pair (low, high), got {percentiles!r}") from None
    if not (_is_number(lo) and _is_number(hi) and 0 <= float(lo) < float(hi) <= 100):
        raise ParameterError(f"percentiles must be numbers with 0 <= low < high <= 100, got {percentiles!r}")
    if blend_temperature is not None and not (_is_number(blend_temperature)
                                              and 0 < float(blend_temperature) <= MAX_BLEND_TEMPERATURE):
        raise ParameterError(f"blend_temperature must be a finite number > 0 and <= {MAX_BLEND_TEMPERATURE:.0f}, "
                             f"got {blend_temperature!r}")
    if detail_gain is not None and not (_is_number(detail_gain) and 0.5 <= float(detail_gain) <= 2.0):
        raise ParameterError(f"detail_gain must be a number in [0.5, 2], got {detail_gain!r}")
    if detail_activity is not None and not (_is_number(detail_activity) and 0.0 <= float(detail_activity) <= 10000.0):
        raise ParameterError(f"detail_activity must be a number in [0, 10000], got {detail_activity!r}")
