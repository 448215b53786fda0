"""Python API: :class:`Fuser` and :func:`fuse`.

>>> import mutualfuse
>>> fused = mutualfuse.fuse(ir, vis)                      # numpy / PIL / torch in, same kind out
>>> f = mutualfuse.Fuser(model="default", device="cpu")   # keeps the network loaded
>>> fused = f.fuse(ir, vis)

Inputs may be gray or colour; colour goes through :mod:`mutualfuse.color` (fuse luminance,
keep chroma). Numpy arrays keep their dtype (uint8 → uint8, uint16 → uint16, float → float in
[0, 1]); PIL images come back as PIL images of the inputs' mode; tensors as tensors
(``(H, W)``, ``(C, H, W)`` or batched ``(B, C, H, W)``).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .errors import InputError, ParameterError
from .methods import check_pair


def _pick_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ParameterError(f"--device {device}: CUDA is not available on this machine")
    if device not in ("cpu",) and not device.startswith("cuda"):
        raise ParameterError(f"device must be cpu, cuda or auto, got {device!r}")
    return torch.device(device)


_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


@dataclass
class FuseReport:
    """What the last fuse did: approximations are reported, never silent."""

    method: str
    mapping_pool: int = 1  # >1: the mutual mapping ran on a pooled grid (token budget)
    notes: list[str] = field(default_factory=list)


class Fuser:
    """A loaded fusion network (or a registered classical method) ready to fuse pairs.

    Args:
        model: shipped weights name (``"default"``), a path to a ``.safetensors`` file, or the
            name of a registered non-network method (``"dwt"``, ``"average"`` …).
        device: ``"cpu"``, ``"cuda"`` or ``"auto"``.
        dtype: ``"float32"`` (default), ``"float16"`` or ``"bfloat16"`` for the network.
        token_budget: override the model's token budget of the mutual mapping
            (``0`` = always exact).
    """

    def __init__(self, model: str | os.PathLike = "default", device: str = "auto", dtype: str | torch.dtype = "float32",
                 token_budget: int | None = -1, **method_params: Any):
        from .methods import METHODS

        self.device = _pick_device(device)
        if isinstance(dtype, str):
            if dtype not in _DTYPES:
                raise ParameterError(f"dtype must be one of {sorted(_DTYPES)}, got {dtype!r}")
            dtype = _DTYPES[dtype]
        self.dtype = dtype
        self.method_params = method_params
        self.report = FuseReport(method=str(model))
        self.net = None
        if str(model) in METHODS and METHODS.meta(str(model)).get("family") != "network":
            self.method = str(model)
            return
        if str(model) in METHODS:  # a registered network method ("mutualfuse") → its weights
            model = METHODS.meta(str(model)).get("weights", "default")
        from .weights import load_model

        overrides = {} if token_budget == -1 else {"token_budget": token_budget}
        self.net, self.weights_meta = load_model(model, **overrides)
        self.net.to(self.device, self.dtype)
        self.method = "network"

    # -- gray core ----------------------------------------------------------------
    @torch.inference_mode()
    def fuse_gray_batch(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """(B, H, W) float arrays in [0, 1] → fused (B, H, W) float64 in [0, 1]."""
        if self.net is None:
            from .methods import fuse_gray

            return np.stack([fuse_gray(self.method, x, y, **self.method_params) for x, y in zip(a, b)])
        ta = torch.as_tensor(np.ascontiguousarray(a), dtype=self.dtype, device=self.device)[:, None]
        tb = torch.as_tensor(np.ascontiguousarray(b), dtype=self.dtype, device=self.device)[:, None]
        out = self.net(ta, tb).float().clamp_(0, 1)
        self.report.mapping_pool = self.net.last_pool
        if self.net.last_pool > 1:
            self.report.notes = [
                f"approximate mutual mapping: computed on a {self.net.last_pool}x pooled grid "
                f"(token budget {self.net.cfg.token_budget}); pass token_budget=0 for exact"
            ]
        else:
            self.report.notes = []
        return out[:, 0].cpu().numpy().astype(np.float64)

    def fuse_gray(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        check_pair(a, b)
        return self.fuse_gray_batch(a[None], b[None])[0]

    # -- any kind -----------------------------------------------------------------
    def fuse(self, a: Any, b: Any) -> Any:
        """Fuse a pair of numpy arrays, PIL images or tensors (single or batched); same kind out."""
        from .convert import from_any, to_kind

        xa, ka = from_any(a, "a")
        xb, kb = from_any(b, "b")
        if xa.shape[:3] != xb.shape[:3]:
            raise InputError(f"size mismatch: a is {xa.shape[2]}x{xa.shape[1]}, b is {xb.shape[2]}x{xb.shape[1]}"
                             + ("" if xa.shape[0] == xb.shape[0] else f" (batch {xa.shape[0]} vs {xb.shape[0]})"))
        from .color import fuse_color

        out = fuse_color(xa, xb, self.fuse_gray_batch)
        return to_kind(out, ka if ka.channels >= kb.channels else kb)


_CACHE: dict[tuple, Fuser] = {}


def fuse(a: Any, b: Any, method: str = "mutualfuse", weights: str | os.PathLike | None = None,
         device: str = "auto", **params: Any) -> Any:
    """Fuse two registered images with the network (default) or any registered method."""
    model = weights if weights is not None else method
    key = (str(model), device, tuple(sorted(params.items())))
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = Fuser(model, device=device, **params)
    return _CACHE[key].fuse(a, b)
