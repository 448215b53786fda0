"""Python API: :class:`Fuser` and :func:`fuse`.

>>> import mutualfuse
>>> fused = mutualfuse.fuse(ir, vis)                      # numpy / PIL / torch in, same kind out
>>> f = mutualfuse.Fuser(model="default", device="cpu")   # keeps the network loaded
>>> fused = f.fuse(ir, vis)
>>> f.report.notes                                        # approximations of the last call

Inputs may be gray or colour, single or batched; colour goes through :mod:`mutualfuse.color`
(fuse luminance, keep chroma). Numpy arrays keep their dtype (uint8 → uint8, uint16 → uint16,
float → float in [0, 1]); PIL images come back as PIL images of the inputs' mode; tensors as
tensors (``(H, W)``, ``(C, H, W)`` or batched ``(B, C, H, W)``). When one input is colour the
result is colour, in the kind of the colour input.

Memory stays bounded at any size: large images run through the exact halo streaming of
:mod:`mutualfuse.tiling` (``max_window_pixels``), and the mutual mapping above the token budget
runs on a pooled grid (reported in :attr:`Fuser.report`; ``token_budget=0`` for exact).
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .errors import InputError, ParameterError
from .methods import check_pair
from .tiling import DEFAULT_WINDOW_PIXELS


def _pick_device(device: str | torch.device) -> torch.device:
    device = str(device)
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
    windows: int = 1  # exact streaming windows per image (1 = one-shot forward)
    tiles: int = 1  # independent blended tiles (--tile); >1 changes the result
    notes: list[str] = field(default_factory=list)


class Fuser:
    """A loaded fusion network (or a registered classical method) ready to fuse pairs.

    Args:
        model: shipped weights name (``"default"``), a path to a ``.safetensors`` file, or the
            name of a registered method (``"dwt"``, ``"average"`` …).
        device: ``"cpu"``, ``"cuda"`` or ``"auto"``.
        dtype: ``"float32"`` (default), ``"float16"`` or ``"bfloat16"`` for the network.
        token_budget: override the model's token budget of the mutual mapping
            (``0`` = always exact, ``-1`` = the model's default).
        chroma: rule for Cb/Cr when both sources are colour (:data:`mutualfuse.color.CHROMA_RULES`).
        normalize: intensity policy for 16-bit / float inputs (see :mod:`mutualfuse.image_io`).
        max_window_pixels: pixels of one exact streaming window (bounds memory; any value gives
            the same result).
        tile, tile_overlap: fuse independent ``tile``×``tile`` tiles blended over
            ``tile_overlap`` pixels (approximation; off by default).
        progress: show a progress bar (stderr) for multi-window images.
    """

    def __init__(self, model: str | os.PathLike = "default", device: str = "auto", dtype: str | torch.dtype = "float32",
                 token_budget: int | None = -1, *, chroma: str = "saturation", normalize: str = "auto",
                 percentiles: tuple[float, float] = (0.1, 99.9), max_window_pixels: int = DEFAULT_WINDOW_PIXELS,
                 tile: int | None = None, tile_overlap: int = 64, progress: bool = False, **method_params: Any):
        from .color import CHROMA_RULES
        from .image_io import NORMALIZE_MODES
        from .methods import METHODS

        self.device = _pick_device(device)
        if isinstance(dtype, str):
            if dtype not in _DTYPES:
                raise ParameterError(f"dtype must be one of {sorted(_DTYPES)}, got {dtype!r}")
            dtype = _DTYPES[dtype]
        if dtype == torch.float16 and self.device.type == "cpu":
            raise ParameterError("dtype float16 on CPU is refused: CPUs have no fast float16 kernels (measured 42x "
                                 "slower than float32 on a 256x256 pair); use float32, or bfloat16, or a CUDA device")
        if chroma not in CHROMA_RULES:
            raise ParameterError(f"chroma must be one of {CHROMA_RULES}, got {chroma!r}")
        if normalize not in NORMALIZE_MODES:
            raise ParameterError(f"normalize must be one of {NORMALIZE_MODES}, got {normalize!r}")
        if tile is not None and tile < 16:
            raise ParameterError(f"tile must be at least 16 pixels, got {tile}")
        if tile_overlap < 0:
            raise ParameterError(f"tile_overlap must be >= 0, got {tile_overlap}")
        if token_budget is not None and token_budget < -1:
            raise ParameterError(f"token_budget must be >= 0 (0 = exact) or -1 (model default), got {token_budget}")
        self.dtype = dtype
        self.chroma = chroma
        self.normalize = normalize
        self.percentiles = tuple(percentiles)
        self.max_window_pixels = int(max_window_pixels)
        self.tile = tile
        self.tile_overlap = int(tile_overlap)
        self.progress = progress
        self.method_params = method_params
        self.report = FuseReport(method=str(model))
        self.net = None
        if str(model) in METHODS and METHODS.meta(str(model)).get("family") != "network":
            self.method = str(model)
            return
        from .weights import SHIPPED

        if str(model) not in METHODS and str(model) not in SHIPPED and not os.path.exists(model) \
                and not str(model).lower().endswith(".safetensors") and os.sep not in str(model):
            import difflib

            names = METHODS.names() + [n for n in SHIPPED if n not in METHODS]
            close = difflib.get_close_matches(str(model).lower(), names, n=3)
            raise ParameterError(f"unknown method or weights {str(model)!r}"
                                 + (f"; did you mean {', '.join(close)}?" if close else "")
                                 + f" (methods: {', '.join(METHODS.names())}; shipped weights: {', '.join(SHIPPED)}; "
                                 "or a path to a .safetensors file)")
        if method_params:
            raise ParameterError(f"the network takes no method parameters (got {', '.join(sorted(method_params))}); "
                                 "they apply to classical methods (--method)")
        if str(model) in METHODS:  # a registered network method ("mutualfuse") → its weights
            model = METHODS.meta(str(model)).get("weights", "default")
        from .weights import load_model

        overrides = {} if token_budget == -1 else {"token_budget": token_budget}
        self.net, self.weights_meta = load_model(model, **overrides)
        self.net.to(self.device, self.dtype)
        self.method = "network"

    # -- gray core ----------------------------------------------------------------
    def _net_batch(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """(B, H, W) → (B, H, W) through the network, exact streaming for large images."""
        from .tiling import n_passes, n_windows, streamed_forward

        B, h, w = a.shape
        per_chunk = max(1, self.max_window_pixels // max(1, h * w))
        outs = []
        windows = n_passes(self.net, h, w, self.max_window_pixels)
        bar = None
        if self.progress and windows > 2:
            from tqdm import tqdm

            bar = tqdm(total=windows * B, desc="windows", unit="win", file=sys.stderr, leave=False)
        done = 0
        with torch.inference_mode():
            for i in range(0, B, per_chunk):
                ta = torch.as_tensor(np.ascontiguousarray(a[i:i + per_chunk]), dtype=self.dtype, device=self.device)[:, None]
                tb = torch.as_tensor(np.ascontiguousarray(b[i:i + per_chunk]), dtype=self.dtype, device=self.device)[:, None]
                prog = None
                if bar is not None:
                    def prog(n, base=done):  # noqa: E306
                        bar.n = base + n
                        bar.refresh()
                out = streamed_forward(self.net, ta, tb, self.max_window_pixels, progress=prog)
                done += windows * ta.shape[0]
                outs.append(out.float().clamp_(0, 1)[:, 0].cpu().numpy().astype(np.float64))
                del ta, tb, out
        if bar is not None:
            bar.close()
        self.report.windows = n_windows(self.net, h, w, self.max_window_pixels)
        self.report.mapping_pool = max(self.report.mapping_pool, int(self.net.last_pool))
        return np.concatenate(outs, 0)

    def fuse_gray_batch(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """(B, H, W) float arrays in [0, 1] → fused (B, H, W) float64 in [0, 1]."""
        if a.shape != b.shape:
            raise InputError(f"size mismatch: a is {a.shape[-1]}x{a.shape[-2]}, b is {b.shape[-1]}x{b.shape[-2]}")
        self.report = FuseReport(method=self.report.method)
        if self.net is None:
            from .methods import fuse_gray

            core = lambda x, y: np.stack([fuse_gray(self.method, p, q, **self.method_params)  # noqa: E731
                                          for p, q in zip(x, y)])
        else:
            core = self._net_batch
        h, w = a.shape[-2:]
        if self.tile and (h > self.tile or w > self.tile):
            from .tiling import count_tiles, tiled_fuse

            n = count_tiles(h, w, self.tile, self.tile_overlap)
            pools = []

            def one(x, y):
                r = core(x, y)
                pools.append(self.report.mapping_pool)
                return r

            out = tiled_fuse(one, a, b, self.tile, self.tile_overlap)
            self.report.tiles = n
            self.report.mapping_pool = max(pools) if pools else 1
            self.report.notes.append(
                f"tiled: {n} independent {self.tile}px tiles blended over {min(self.tile_overlap, self.tile // 2)}px "
                "(each tile's mutual mapping sees only that tile)")
        else:
            out = core(a, b)
        if self.net is not None and self.report.mapping_pool > 1:
            self.report.notes.append(
                f"approximate mutual mapping: computed on a {self.report.mapping_pool}x pooled grid "
                f"(token budget {self.net.cfg.token_budget}); use token_budget=0 / --token-budget 0 for exact")
        return out

    def fuse_gray(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        check_pair(a, b)
        return self.fuse_gray_batch(a[None], b[None])[0]

    def fuse_arrays(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Internal float form: (B, H, W) gray or (B, H, W, 3) RGB in [0, 1] → same form fused."""
        from .color import fuse_color
        from .methods import MIN_SIDE

        if a.shape[:3] != b.shape[:3]:
            raise InputError(f"size mismatch: a is {a.shape[2]}x{a.shape[1]}, b is {b.shape[2]}x{b.shape[1]}"
                             + ("" if a.shape[0] == b.shape[0] else f" (batch {a.shape[0]} vs {b.shape[0]})"))
        if min(a.shape[1:3]) < MIN_SIDE:
            raise InputError(f"image is {a.shape[2]}x{a.shape[1]}, smaller than {MIN_SIDE}x{MIN_SIDE}")
        return fuse_color(a, b, self.fuse_gray_batch, chroma=self.chroma)

    # -- any kind -----------------------------------------------------------------
    def fuse(self, a: Any, b: Any) -> Any:
        """Fuse a pair of numpy arrays, PIL images or tensors (single or batched); same kind out."""
        from .convert import from_any, to_kind

        xa, ka = from_any(a, "a", self.normalize, self.percentiles)
        xb, kb = from_any(b, "b", self.normalize, self.percentiles)
        if ka.batched != kb.batched and xa.shape[0] != xb.shape[0]:
            raise InputError(f"batch mismatch: a has {xa.shape[0]} images, b has {xb.shape[0]}")
        out = self.fuse_arrays(xa, xb)
        return to_kind(out, ka if ka.channels >= kb.channels else kb)


_CACHE: dict[tuple, Fuser] = {}


def fuse(a: Any, b: Any, method: str = "mutualfuse", weights: str | os.PathLike | None = None,
         device: str = "auto", **params: Any) -> Any:
    """Fuse two registered images with the network (default) or any registered method.

    ``params`` go to :class:`Fuser` (``token_budget``, ``chroma``, ``normalize``, ``tile`` …)
    or, for classical methods, to the method.
    """
    from .methods import METHODS

    if weights is not None and method != "mutualfuse":
        if method not in METHODS or METHODS.meta(method).get("family") != "network":
            raise ParameterError(f"weights={weights!r} applies to the network; method {method!r} takes no weights "
                                 "(drop one of them)")
    model = weights if weights is not None else method
    key = (str(model), device, tuple(sorted((k, repr(v)) for k, v in params.items())))
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = Fuser(model, device=device, **params)
    return _CACHE[key].fuse(a, b)
