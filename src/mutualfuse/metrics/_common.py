"""Shared helpers for the metric ports: MATLAB-exact gray conversion, input scaling and filters.

Input convention of every metric function in :mod:`mutualfuse.metrics`
----------------------------------------------------------------------
Every metric takes the images *as read from disk*: 2-D gray arrays on the **0–255 scale**
(``uint8``, or a float array holding 0–255 values). ``uint16`` arrays are scaled by 255/65535;
``bool`` arrays map to 0/255; other integer types are taken as 0–255 values (the registered
metrics refuse one holding values outside 0–255: :mod:`.input_range`). Colour arrays (H×W×3) are converted to gray first with
:func:`rgb2gray_matlab`, the MATLAB ``rgb2gray`` the reference tables were made with. Each metric
then applies its reference code's own conventions internally (e.g. ``im2double`` for the
rfn-nest/nestfuse code, raw 0–255 doubles for VIFB); the docstrings say which.

Float arrays in 0–1 are **not** auto-detected (an image with all values ≤ 1 is a valid 0–255
image): multiply them by 255 first. Any memory layout (views, transposes, Fortran order,
read-only arrays, big-endian data) gives the same values; inputs are never modified
(:func:`as255` copies).

Besides NumPy arrays (and nested lists), every metric takes PIL images and torch tensors
(:func:`as_array`): a PIL image gives the samples that ``mutualfuse evaluate`` reads from a file
of that mode (Pillow's shared mode table, :func:`mutualfuse.io.pil_modes.pil_samples`: a palette
image its colours, not its palette indices; ``CMYK``, ``YCbCr``, ``LAB`` and ``HSV`` converted to
RGB; alpha dropped; ``I;16`` 16-bit), except mode ``"I"``, whose int32 samples are taken as they
are (0–255 values, as for any integer array; ``evaluate`` reads an int32 file as 16-bit data), and
mode ``"F"``, whose floats are 0–255 values as any float array's (``evaluate`` refuses a float
fused file). ``PIL.Image.open`` applies no EXIF / TIFF orientation and reads 16-bit colour at 8 bits
(``evaluate`` applies the orientation and reads the 16 bits): :func:`mutualfuse.evaluation.read_gray`
reads a file exactly as ``evaluate`` scores it. A tensor is detached and copied to the CPU
(``bfloat16`` widened to float32) and then follows the array rules, on the same 0–255 scale and
in the same (H, W) or (H, W, 3) layout (a channels-first (3, H, W) tensor is refused).
"""
from __future__ import annotations

import os
import sys

import numpy as np
from scipy import ndimage

from ..errors import ImageTooSmallError, InputError, ParameterError

#: MATLAB ``rgb2gray`` weights: the first row of ``inv([1 .956 .621; 1 -.272 -.647; 1 -1.106 1.703])``
#: (0.298936021293775, 0.587043074451121, 0.114020904255103), *not* the rounded Rec.601 0.299/0.587/0.114.
RGB2GRAY_WEIGHTS = np.linalg.inv(
    np.array([[1.0, 0.956, 0.621], [1.0, -0.272, -0.647], [1.0, -1.106, 1.703]])
)[0]

EPS = np.finfo(np.float64).eps  # MATLAB eps


def round_half_away(x: np.ndarray) -> np.ndarray:
    """MATLAB ``round``: halves are rounded away from zero (numpy's ``round`` rounds to even)."""
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def as_array(x, name: str = "image") -> np.ndarray:
    """The samples of an image given as a NumPy array, nested lists, PIL image or torch tensor,
    as a NumPy array in native byte order (see the module docstring); the values and layout are
    not changed otherwise. Unsupported inputs raise :class:`InputError` naming ``name``."""
    image_mod = sys.modules.get("PIL.Image")  # a PIL image exists only where Pillow is imported
    if image_mod is not None and isinstance(x, image_mod.Image):
        if x.mode == "I":  # int32 samples: 0-255 values, as for any integer array
            return np.asarray(x)
        from ..io.pil_modes import pil_samples

        return pil_samples(x, name)[0]
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(x, torch.Tensor):
        from ..convert import check_tensor_holds_data

        check_tensor_holds_data(x, name)
        t = x.detach()
        if t.dtype == torch.bfloat16:  # NumPy has no bfloat16; float32 holds every value exactly
            t = t.to(torch.float32)
        try:
            return t.numpy(force=True)  # copied to the CPU where it is elsewhere
        except (TypeError, RuntimeError) as e:
            raise InputError(f"{name}: unsupported tensor dtype {t.dtype}") from e
    if isinstance(x, (str, bytes, os.PathLike)):
        raise InputError(f"{name}: expected an image (NumPy array, PIL image or torch tensor), got the path "
                         f"{os.fsdecode(x)!r}: read it first (e.g. np.asarray(PIL.Image.open(path)))")
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as e:  # ragged nested lists: NumPy's "inhomogeneous shape"
        raise InputError(f"{name}: not an image: NumPy cannot make this {type(x).__name__} one array of numbers "
                         "(rows of different lengths?)") from None
    if not arr.dtype.isnative:  # big-endian data (FITS, some TIFF readers, PIL I;16B): '>u2' is not uint16
        arr = arr.astype(arr.dtype.newbyteorder("="))
    return arr


def rgb2gray_matlab(x: np.ndarray) -> np.ndarray:
    """MATLAB ``rgb2gray`` exactly.

    Weighted sum with :data:`RGB2GRAY_WEIGHTS` in float64; for integer input the result is
    rounded half away from zero, saturated and cast back to the input dtype (as MATLAB does for
    uint8/uint16); float input is not rounded; boolean input is taken as 0/255 uint8, as a
    boolean gray image is.
    """
    x = as_array(x)
    if x.dtype == np.bool_:
        x = x.astype(np.uint8) * np.uint8(255)
    if x.ndim != 3 or x.shape[2] != 3:
        raise InputError(f"rgb2gray expects an H×W×3 array, got shape {x.shape}")
    d = x[..., 0].astype(np.float64) * RGB2GRAY_WEIGHTS[0]
    d = d + x[..., 1].astype(np.float64) * RGB2GRAY_WEIGHTS[1]
    d = d + x[..., 2].astype(np.float64) * RGB2GRAY_WEIGHTS[2]
    if np.issubdtype(x.dtype, np.integer):
        info = np.iinfo(x.dtype)
        return np.clip(round_half_away(d), info.min, info.max).astype(x.dtype)
    return d.astype(x.dtype) if np.issubdtype(x.dtype, np.floating) else d


def to_gray(x: np.ndarray, name: str = "") -> np.ndarray:
    """Return a 2-D gray array: 2-D input unchanged, H×W×1 squeezed, H×W×3 via :func:`rgb2gray_matlab`.

    An H×W×4 (RGBA) array loses its alpha channel first. PIL images and torch tensors are read
    with :func:`as_array`. ``name`` (``"a"``, ``"f"``...), when given, starts the one-line
    :class:`InputError` of an input that is no image.
    """
    if x is None:
        raise InputError(f"{name + ': ' if name else ''}expected a gray (H×W) or colour (H×W×3) image, got None")
    x = as_array(x, name or "image")
    if x.ndim == 2:
        return x
    if x.ndim == 3 and x.shape[2] == 1:
        return x[..., 0]
    if x.ndim == 3 and x.shape[2] == 4:
        x = x[..., :3]
    if x.ndim == 3 and x.shape[2] == 3:
        return rgb2gray_matlab(x)
    raise InputError(f"{name + ': ' if name else ''}expected a gray (H×W) or colour (H×W×3) image, "
                     f"got shape {x.shape}{layout_hint(x.shape)}")


def layout_hint(shape: tuple[int, ...]) -> str:
    """How to turn an array of ``shape`` that is no H×W / H×W×C image into one, where a tensor
    layout explains it (channels first, a batch of one), as a parenthesised suffix; else ``""``."""
    if len(shape) == 3 and shape[0] in (1, 3, 4):
        return " (channels first? pass x.permute(1, 2, 0) or x.transpose(1, 2, 0))"
    if len(shape) == 3 and shape[2] == 2:
        return " (gray + alpha? pass x[..., 0])"
    if len(shape) == 4 and shape[0] == 1:
        if shape[1] == 1:
            return " (a batch of one gray image? pass x[0, 0])"
        if shape[1] in (3, 4):
            return " (a batch of one, channels first? pass x[0].permute(1, 2, 0) or x[0].transpose(1, 2, 0))"
        if shape[3] in (1, 3, 4):
            return " (a batch of one? pass x[0])"
    return ""


def as255(x: np.ndarray, name: str = "") -> np.ndarray:
    """Gray float64 array on the 0–255 scale (see the module docstring for the input rules).

    Always a new C-contiguous array (the input is never modified, and a Fortran-ordered,
    transposed or strided view gives bit-identical metric values: NumPy's pairwise sums follow
    the memory order). An empty image is an :class:`ImageTooSmallError` (``min_side`` 1; the
    metrics of F alone have no other minimum size). ``name`` (``"f"``), when given, starts the
    one-line :class:`InputError` of an input that is no image or holds NaN or infinity.
    """
    g = _as255(x, name)
    if g.size == 0:
        raise ImageTooSmallError(f"empty image ({g.shape[1]}×{g.shape[0]} pixels)", 1)
    return g


def _as255(x: np.ndarray, name: str = "") -> np.ndarray:
    """:func:`as255` without the empty-image test (:func:`prep3` tests the size itself)."""
    g = to_gray(x, name)
    what = f"{name}: " if name else ""
    if g.dtype == np.bool_:
        return g.astype(np.float64, order="C") * 255.0
    if g.dtype == np.uint16:
        return g.astype(np.float64, order="C") * (255.0 / 65535.0)
    if g.dtype == np.uint8 or np.issubdtype(g.dtype, np.integer):
        return g.astype(np.float64, order="C")  # integers are always finite
    if np.issubdtype(g.dtype, np.floating):
        out = g.astype(np.float64, order="C")
        finite = np.isfinite(out)
        if not finite.all():
            raise InputError(f"{what}image contains NaN or infinite values ({out.size - np.count_nonzero(finite)} "
                             f"of {out.size} pixels)")
        return out
    raise InputError(f"{what}unsupported image dtype {g.dtype}")


def unknown_convention(metric: str, convention, allowed: tuple[str, ...]) -> ParameterError:
    """The one-line error of a ``convention=`` that ``metric`` does not have, naming those it has."""
    return ParameterError(f"{metric}: unknown convention {convention!r} (use "
                          f"{', '.join(repr(c) for c in allowed[:-1])}{' or ' if len(allowed) > 1 else ''}"
                          f"{allowed[-1]!r})")


def im2uint8_values(x255: np.ndarray) -> np.ndarray:
    """Values of MATLAB ``im2uint8(x/255)``: rounded half away from zero and saturated to 0–255."""
    return np.clip(round_half_away(x255), 0, 255)


def check_same_shape(*imgs: np.ndarray, names: tuple[str, ...] = ("a", "b", "f")) -> None:
    shapes = [im.shape for im in imgs]
    if any(s != shapes[0] for s in shapes):
        desc = ", ".join(f"{n} {s[1]}×{s[0]}" for n, s in zip(names, shapes))
        raise InputError(f"images differ in size: {desc}")
    if min(shapes[0]) < 2:
        raise ImageTooSmallError(f"image too small for fusion metrics: {shapes[0][1]}×{shapes[0][0]} "
                                 "(at least 2 pixels per side)", 2)


def prep3(a, b, f) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Convert a source pair and a fused image to 0–255 float64 gray and check their sizes."""
    A, B, F = _as255(a, "a"), _as255(b, "b"), _as255(f, "f")
    check_same_shape(A, B, F)
    return A, B, F


def fspecial_gaussian(size: int, sigma: float) -> np.ndarray:
    """MATLAB ``fspecial('gaussian', size, sigma)``: exp(-(x²+y²)/2σ²), tiny values zeroed, sum 1."""
    r = (size - 1) / 2.0
    x = np.arange(-r, r + 1)
    xx, yy = np.meshgrid(x, x)
    h = np.exp(-(xx * xx + yy * yy) / (2.0 * sigma * sigma))
    h[h < EPS * h.max()] = 0
    return h / h.sum()


def gaussian_1d(size: int, sigma: float) -> np.ndarray:
    """1-D factor of :func:`fspecial_gaussian` (the 2-D kernel is its outer product to ~1e-16)."""
    r = (size - 1) / 2.0
    x = np.arange(-r, r + 1)
    g = np.exp(-(x * x) / (2.0 * sigma * sigma))
    return g / g.sum()


# MATLAB boundary names -> scipy.ndimage modes.
_MODES = {
    "zero": "constant",  # filter2/conv2 'same', imfilter default
    "replicate": "nearest",  # imfilter 'replicate'
    "symmetric": "reflect",  # imfilter 'symmetric' (edge pixel repeated)
    "reflect1": "mirror",  # pyrTools 'reflect1' (mirror about the edge pixel, not repeated)
}


def correlate(img: np.ndarray, kernel: np.ndarray, border: str = "zero") -> np.ndarray:
    """Same-size 2-D correlation (MATLAB ``filter2(k, img, 'same')`` / ``imfilter(img, k, border)``)

    for odd kernels, centred on the kernel's middle element.
    """
    return ndimage.correlate(img, np.asarray(kernel, dtype=np.float64), mode=_MODES[border], cval=0.0)


def convolve(img: np.ndarray, kernel: np.ndarray, border: str = "zero") -> np.ndarray:
    """Same-size 2-D convolution (MATLAB ``conv2(img, k, 'same')`` for odd kernels)."""
    return ndimage.convolve(img, np.asarray(kernel, dtype=np.float64), mode=_MODES[border], cval=0.0)


def sep_correlate_valid(img: np.ndarray, k1: np.ndarray) -> np.ndarray:
    """Separable 'valid' correlation with the outer product ``k1 ⊗ k1`` (MATLAB ``filter2(.., 'valid')``)."""
    n = len(k1)
    h = n // 2
    out = ndimage.correlate1d(img, k1, axis=0, mode="constant")
    out = ndimage.correlate1d(out, k1, axis=1, mode="constant")
    return out[h : img.shape[0] - (n - 1 - h), h : img.shape[1] - (n - 1 - h)]


def box_sum_valid(img: np.ndarray, n: int) -> np.ndarray:
    """Sum over every n×n window fully inside the image (exact for integer-valued data)."""
    c = np.cumsum(np.cumsum(np.pad(img, ((1, 0), (1, 0))), axis=0), axis=1)
    return c[n:, n:] - c[:-n, n:] - c[n:, :-n] + c[:-n, :-n]


def entropy_bits(counts: np.ndarray) -> float:
    """Shannon entropy (log2) of a histogram, empty bins dropped."""
    p = counts[counts > 0] / counts.sum()
    return 0.0 - float(np.sum(p * np.log2(p)))  # 0.0 for a one-level image, not -0.0

