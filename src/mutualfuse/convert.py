"""Conversion between the user's image kinds and the internal (B, H, W[, 3]) float64 [0, 1]."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import InputError


@dataclass
class Kind:
    kind: str  # "numpy", "pil", "torch"
    dtype: Any
    batched: bool
    channels: int  # 1 or 3
    layout: str = "hwc"  # numpy: hw / hwc ; torch: chw
    pil_mode: str | None = None


def _np_to_float(x: np.ndarray, name: str) -> np.ndarray:
    if x.dtype == np.uint8:
        return x.astype(np.float64) / 255.0
    if x.dtype == np.uint16:
        return x.astype(np.float64) / 65535.0
    if x.dtype == bool:
        return x.astype(np.float64)
    if np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
        if not np.isfinite(x).all():
            raise InputError(f"{name}: array contains NaN or infinite values")
        if x.min() < -1e-6 or x.max() > 1 + 1e-6:
            raise InputError(f"{name}: float array must be in [0, 1], got [{x.min():.4g}, {x.max():.4g}]")
        return np.clip(x, 0, 1)
    raise InputError(f"{name}: unsupported array dtype {x.dtype} (use uint8, uint16 or float in [0, 1])")


def from_any(x: Any, name: str) -> tuple[np.ndarray, Kind]:
    """→ (B, H, W) for gray or (B, H, W, 3) for colour, float64 in [0, 1], plus how to convert back."""
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover
        Image = None
    if Image is not None and isinstance(x, Image.Image):
        mode = x.mode
        if mode in ("I;16", "I;16B", "I;16L", "I"):
            arr = np.asarray(x, dtype=np.uint16)
            return _np_to_float(arr, name)[None], Kind("pil", np.uint16, False, 1, pil_mode="I;16")
        if mode in ("L", "1"):
            return np.asarray(x.convert("L"), dtype=np.float64)[None] / 255.0, Kind("pil", np.uint8, False, 1, pil_mode="L")
        arr = np.asarray(x.convert("RGB"), dtype=np.float64) / 255.0
        return arr[None], Kind("pil", np.uint8, False, 3, pil_mode="RGB")
    try:
        import torch
    except ImportError:  # pragma: no cover
        torch = None
    if torch is not None and isinstance(x, torch.Tensor):
        t = x.detach().to("cpu")
        batched = t.ndim == 4
        if t.ndim == 2:
            t = t[None, None]
        elif t.ndim == 3:
            t = t[None]
        if t.ndim != 4 or t.shape[1] not in (1, 3):
            raise InputError(f"{name}: tensor must be (H, W), (C, H, W) or (B, C, H, W) with C = 1 or 3, got {tuple(x.shape)}")
        arr = t.to(torch.float64).numpy() if t.is_floating_point() else t.numpy()
        arr = np.moveaxis(arr, 1, -1)  # B, H, W, C
        f = _np_to_float(arr, name)
        ch = f.shape[-1]
        f = f[..., 0] if ch == 1 else f
        return f, Kind("torch", x.dtype, batched, ch, layout=("chw" if x.ndim >= 3 else "hw"))
    if isinstance(x, np.ndarray):
        if x.ndim == 2:
            return _np_to_float(x, name)[None], Kind("numpy", x.dtype, False, 1, layout="hw")
        if x.ndim == 3 and x.shape[-1] in (3, 4):
            return _np_to_float(x[..., :3], name)[None], Kind("numpy", x.dtype, False, 3)
        if x.ndim == 3 and x.shape[-1] == 1:
            return _np_to_float(x[..., 0], name)[None], Kind("numpy", x.dtype, False, 1, layout="hw1")
        if x.ndim == 3:  # batch of gray
            return _np_to_float(x, name), Kind("numpy", x.dtype, True, 1, layout="hw")
        if x.ndim == 4 and x.shape[-1] in (1, 3):
            f = _np_to_float(x, name)
            return (f[..., 0] if x.shape[-1] == 1 else f), Kind("numpy", x.dtype, True, x.shape[-1])
        raise InputError(f"{name}: unsupported array shape {x.shape}")
    raise InputError(f"{name}: expected a numpy array, PIL image or torch tensor, got {type(x).__name__}")


def to_kind(f: np.ndarray, k: Kind) -> Any:
    """Inverse of :func:`from_any` for the fused (B, H, W[, 3]) result."""
    f = np.clip(f, 0, 1)
    if k.kind == "pil":
        from PIL import Image

        img = f[0]
        if k.pil_mode == "I;16":
            return Image.fromarray(np.round(img * 65535).astype(np.uint16), mode="I;16")
        data = np.round(img * 255).astype(np.uint8)
        return Image.fromarray(data, mode="RGB" if data.ndim == 3 else "L")
    if k.kind == "torch":
        import torch

        arr = f if f.ndim == 4 else f[..., None]
        arr = np.moveaxis(arr, -1, 1)  # B, C, H, W
        if k.dtype in (torch.uint8,):
            t = torch.from_numpy(np.round(arr * 255).astype(np.uint8))
        elif k.dtype in (torch.int16, torch.int32, torch.uint16) if hasattr(torch, "uint16") else ():
            t = torch.from_numpy(np.round(arr * 65535).astype(np.int32)).to(k.dtype)
        else:
            t = torch.from_numpy(arr).to(k.dtype if k.dtype.is_floating_point else torch.float32)
        if not k.batched:
            t = t[0]
            if k.layout == "hw":
                t = t[0]
        return t
    # numpy
    if np.dtype(k.dtype) == np.uint8:
        out = np.round(f * 255).astype(np.uint8)
    elif np.dtype(k.dtype) == np.uint16:
        out = np.round(f * 65535).astype(np.uint16)
    elif np.issubdtype(np.dtype(k.dtype), np.floating):
        out = f.astype(k.dtype)
    else:
        out = f
    if not k.batched:
        out = out[0]
        if k.layout == "hw1":
            out = out[..., None]
    return out
