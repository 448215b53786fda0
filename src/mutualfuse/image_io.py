"""Reading and writing images with one-line errors and atomic writes.

Reading returns float arrays in [0, 1] plus what is needed to write the result back in the
inputs' format. Pillow decodes PNG/TIFF/JPEG/BMP (8 and 16 bit); every failure becomes an
:class:`~mutualfuse.errors.InputError` naming the file.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from .errors import InputError

#: refuse images with more pixels than this unless the caller raises it (decompression bombs)
MAX_PIXELS = 200_000_000


@dataclass
class ImageInfo:
    path: str
    mode: str  # "L" or "RGB" after reading
    bit_depth: int  # 8 or 16 (of the stored samples)


def _open(path: str | os.PathLike, max_pixels: int | None = MAX_PIXELS) -> Image.Image:
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: file not found")
    if p.is_dir():
        raise InputError(f"{p}: is a directory, expected an image file")
    if p.stat().st_size == 0:
        raise InputError(f"{p}: file is empty")
    old = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        im = Image.open(p)
        im.load()
    except Image.DecompressionBombError:
        raise InputError(f"{p}: image has more than {max_pixels} pixels (decompression bomb guard; raise the limit to allow it)") from None
    except (OSError, SyntaxError, ValueError) as e:
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise InputError(f"{p}: unreadable or truncated image ({msg})") from None
    finally:
        Image.MAX_IMAGE_PIXELS = old
    if im.width == 0 or im.height == 0:
        raise InputError(f"{p}: image has 0 pixels")
    return im


def read_image(path: str | os.PathLike, max_pixels: int | None = MAX_PIXELS) -> tuple[np.ndarray, ImageInfo]:
    """Read an image as float64 in [0, 1]: (H, W) for gray, (H, W, 3) for colour.

    EXIF orientation is applied. 16-bit images are scaled by 1/65535, 8-bit by 1/255;
    alpha channels are dropped; palette images are expanded to RGB.
    """
    im = _open(path, max_pixels)
    im = ImageOps.exif_transpose(im)
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        arr = np.asarray(im, dtype=np.uint16).astype(np.float64) / 65535.0
        return arr, ImageInfo(str(path), "L", 16)
    if mode == "I":
        arr = np.asarray(im, dtype=np.int64)
        if arr.min() < 0 or arr.max() > 65535:
            raise InputError(f"{path}: 32-bit integer image with values outside 0..65535 is not supported")
        return arr.astype(np.float64) / 65535.0, ImageInfo(str(path), "L", 16)
    if mode == "F":
        arr = np.asarray(im, dtype=np.float64)
        if not np.isfinite(arr).all():
            raise InputError(f"{path}: float image contains NaN or infinite values")
        lo, hi = float(arr.min()), float(arr.max())
        if lo < 0 or hi > 1:
            arr = (arr - lo) / (hi - lo) if hi > lo else np.zeros_like(arr)
        return arr, ImageInfo(str(path), "L", 16)
    if mode in ("1", "L", "LA", "P", "PA") and not (mode.startswith("P") and _palette_is_colour(im)):
        arr = np.asarray(im.convert("L"), dtype=np.float64) / 255.0
        return arr, ImageInfo(str(path), "L", 8)
    if mode in ("RGB", "RGBA", "P", "PA", "CMYK", "YCbCr", "LAB", "HSV", "RGBX"):
        arr = np.asarray(im.convert("RGB"), dtype=np.float64) / 255.0
        return arr, ImageInfo(str(path), "RGB", 8)
    raise InputError(f"{path}: unsupported image mode {mode!r}")


def _palette_is_colour(im: Image.Image) -> bool:
    rgb = np.asarray(im.convert("RGB"))
    return not (np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2]))


def rgb_to_y(rgb: np.ndarray) -> np.ndarray:
    """BT.601 luma (full range): Y = 0.299 R + 0.587 G + 0.114 B."""
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114


def read_gray_float(path: str | os.PathLike) -> np.ndarray:
    """Read any supported image as a float32 gray array in [0, 1] (colour → BT.601 Y)."""
    arr, info = read_image(path)
    if arr.ndim == 3:
        arr = rgb_to_y(arr)
    return arr.astype(np.float32)


def check_writable(path: str | os.PathLike, inputs: tuple = ()) -> Path:
    """Fail early (before any work) if ``path`` cannot be written or equals an input."""
    p = Path(path)
    if p.suffix.lower() not in {".png", ".tif", ".tiff", ".jpg", ".jpeg", ".bmp"}:
        raise InputError(f"{p}: unsupported output format {p.suffix or '(no extension)'!r}; use .png, .tif, .jpg or .bmp")
    if p.is_dir():
        raise InputError(f"{p}: output path is a directory")
    for q in inputs:
        try:
            if Path(q).exists() and p.exists() and p.resolve() == Path(q).resolve():
                raise InputError(f"{p}: output path is the same file as input {q}")
        except OSError:
            pass
        if p.resolve() == Path(q).resolve():
            raise InputError(f"{p}: output path is the same file as input {q}")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.exists():
        raise InputError(f"{p}: output folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise InputError(f"{p}: output folder {parent} is not writable")
    return p


def to_uint(arr: np.ndarray, bit_depth: int) -> np.ndarray:
    """[0, 1] floats → rounded uint8 / uint16."""
    arr = np.clip(np.nan_to_num(arr, nan=0.0), 0.0, 1.0)
    if bit_depth == 16:
        return np.round(arr * 65535.0).astype(np.uint16)
    return np.round(arr * 255.0).astype(np.uint8)


def write_image(path: str | os.PathLike, arr: np.ndarray, bit_depth: int = 8) -> Path:
    """Write a [0, 1] gray (H, W) or colour (H, W, 3) array atomically (temp file + rename)."""
    p = check_writable(path)
    data = to_uint(arr, bit_depth)
    if data.ndim == 3:
        if bit_depth == 16:
            raise InputError(f"{p}: 16-bit colour output is not supported; write 8-bit colour or 16-bit gray")
        im = Image.fromarray(data, mode="RGB")
    elif bit_depth == 16:
        if p.suffix.lower() in (".jpg", ".jpeg", ".bmp"):
            raise InputError(f"{p}: {p.suffix} cannot hold 16-bit data; use .png or .tif")
        im = Image.fromarray(data.astype(np.uint16), mode="I;16")
    else:
        im = Image.fromarray(data, mode="L")
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=p.suffix, dir=str(p.parent if str(p.parent) else "."))
    os.close(fd)
    try:
        fmt = {".png": "PNG", ".tif": "TIFF", ".tiff": "TIFF", ".jpg": "JPEG", ".jpeg": "JPEG", ".bmp": "BMP"}[p.suffix.lower()]
        im.save(tmp, format=fmt)
        os.replace(tmp, p)
    except OSError as e:
        raise InputError(f"{p}: cannot write output ({e.strerror or e})") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return p
