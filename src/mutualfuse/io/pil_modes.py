"""The one table from Pillow image modes to samples, shared by the file reader and the API.

:func:`pil_samples` turns a PIL image into integer or float samples plus their bit depth;
:mod:`mutualfuse.image_io` (files) and :mod:`mutualfuse.convert` (PIL images passed to the API)
both use it, so a mode means the same whichever way an image arrives.
"""
from __future__ import annotations

import numpy as np
from PIL import Image

from ..errors import InputError

#: modes read as 16-bit gray
GRAY16_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I")
#: modes read as 8-bit gray (palette modes only when the palette is gray)
GRAY8_MODES = ("1", "L", "LA", "La")
#: modes converted to 8-bit RGB
COLOUR_MODES = ("RGB", "RGBA", "RGBa", "P", "PA", "CMYK", "YCbCr", "LAB", "HSV", "RGBX")


def palette_is_colour(im: Image.Image) -> bool:
    """True when a palette image has colours other than grays."""
    rgb = np.asarray(im.convert("RGB"))
    return not (np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2]))


def pil_samples(im: Image.Image, name) -> tuple[np.ndarray, int]:
    """A PIL image → (samples, bit depth): (H, W) gray or (H, W, 3) RGB; uint8 (8), uint16 (16)
    or float64 (32). Alpha is dropped; unsupported modes raise :class:`InputError` naming ``name``."""
    mode = im.mode
    if mode in GRAY16_MODES:
        arr = np.asarray(im)
        if mode == "I":
            arr = arr.astype(np.int64)
            if arr.size and (arr.min() < 0 or arr.max() > 65535):
                raise InputError(f"{name}: 32-bit integer image with values outside 0..65535 is not supported")
        return arr.astype(np.uint16), 16
    if mode == "F":
        return np.asarray(im, dtype=np.float64), 32
    if mode in GRAY8_MODES or (mode in ("P", "PA") and not palette_is_colour(im)):
        if mode == "La":  # premultiplied alpha: Pillow converts La to LA (un-premultiplied) only
            im = im.convert("LA")
        return np.asarray(im.convert("L")), 8
    if mode in COLOUR_MODES:
        return np.asarray(im.convert("RGB")), 8
    raise InputError(f"{name}: unsupported image mode {mode!r}")
