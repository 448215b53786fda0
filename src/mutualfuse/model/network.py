"""The paper's fusion network (Fig. 1): two encoders → mutual mapping fusion → DLA decoder."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ImageTooSmallError, InputError
from .blocks import pad_to_multiple
from .config import ModelConfig
from .decoder import DLADecoder
from .encoder import Encoder
from .mutual_mapping import make_fusion
from .pyramid import band_activity, band_gains, band_logits, blend_bands, gaussian_base, laplacian_pyramid


class FusionNet(nn.Module):
    """Base class: pads inputs to the needed multiple (replicate), runs ``_forward``, crops back.

    ``forward(a, b)`` takes two (B, 1, H, W) float tensors in [0, 1] of the weights' dtype and
    device, of any H×W with sides of at least :attr:`min_side`, and returns the fused
    (B, 1, H, W) tensor (not clipped; :mod:`mutualfuse.api` clips for output). Other inputs are
    refused by :meth:`check_inputs` with a one-line error.

    >>> import torch
    >>> from mutualfuse.model import ModelConfig, build_model
    >>> net = build_model(ModelConfig(widths=(4, 8, 8))).eval()
    >>> net(torch.rand(2, 1, 13, 21), torch.rand(2, 1, 13, 21)).shape
    torch.Size([2, 1, 13, 21])
    >>> net.min_side  # depth 3, reflect padding: the 1/4 level must be at least 2 pixels
    5
    """

    cfg: ModelConfig

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return self._padded(self._forward, a, b)

    def _padded(self, fn, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """``fn`` on the inputs padded to the needed multiple, cropped back to their size."""
        self.check_inputs(a, b)
        h, w = a.shape[-2:]
        m = self.cfg.multiple
        out = fn(pad_to_multiple(a, m), pad_to_multiple(b, m))
        return out[..., :h, :w]

    def _forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError

    @property
    def min_side(self) -> int:
        """The smallest input side (pixels) the network takes: 1 unless its reflect-padded 3×3
        convolutions meet a level of a single pixel, which reflection cannot pad."""
        return 1

    def check_inputs(self, a: torch.Tensor, b: torch.Tensor) -> None:
        """Refuse inputs :meth:`forward` cannot take, with a one-line error instead of a torch error
        deep inside: ``TypeError`` for a non-tensor, :class:`~mutualfuse.errors.InputError` (a
        ``ValueError``) for a shape other than (B, in_channels, H, W), two different shapes,
        dtypes or devices, a non-float dtype or one other than the weights' (outside autocast),
        :class:`~mutualfuse.errors.ImageTooSmallError` for a side below :attr:`min_side`."""
        c = self.cfg.in_channels
        for name, x in (("a", a), ("b", b)):
            if not isinstance(x, torch.Tensor):
                raise TypeError(f"input {name} must be a torch.Tensor of shape (B, {c}, H, W), got {type(x).__name__}")
            if x.dim() != 4 or x.shape[1] != c:
                raise InputError(f"input {name} must have shape (B, {c}, H, W) (a batch of gray images), "
                                 f"got {tuple(x.shape)}")
            if not x.is_floating_point():
                raise InputError(f"input {name} must be a floating-point tensor (intensities in [0, 1]), "
                                 f"got {x.dtype}")
        if a.shape != b.shape:
            raise InputError(f"inputs differ in shape: {tuple(a.shape)} vs {tuple(b.shape)}")
        if a.dtype != b.dtype:
            raise InputError(f"inputs differ in dtype: {a.dtype} vs {b.dtype}")
        if a.device != b.device:
            raise InputError(f"inputs are on different devices: {a.device} vs {b.device}")
        p = next(self.parameters(), None)
        if p is not None:
            if p.device != a.device:
                raise InputError(f"inputs are on {a.device} but the network's weights on {p.device} "
                                 f"(move one: net.to(device) or a.to(device))")
            if p.dtype != a.dtype and not torch.is_autocast_enabled(a.device.type):
                raise InputError(f"inputs are {a.dtype} but the network's weights {p.dtype} "
                                 f"(convert one: net.to(dtype) or a.to(dtype), or run under torch.autocast)")
        h, w = a.shape[-2:]
        if min(h, w) < self.min_side:
            raise ImageTooSmallError(f"inputs are {w}x{h} pixels; this network needs sides of at least "
                                     f"{self.min_side} pixels", self.min_side)

    @property
    def last_pool(self) -> int:
        """Pooling factor of the token budget in the last forward (1 = exact mapping)."""
        return 1


class FMMNet(FusionNet):
    """Unsupervised fusion by feature mutual mapping (Rao, Wu, Xu, Chen).

    Encoders for X and Y share no weights (§3.1), unless ``cfg.shared_encoder`` (one encoder,
    ``enc_x``, for both; beyond the paper). ``cfg.fusion`` selects the rule of Table 6.
    The forward pass is three explicit stages, which the streaming runner and the ONNX
    export call directly: :meth:`encode` → :meth:`fuse` (optionally with precomputed deepest
    maps) → :meth:`decode`. With ``cfg.output == "blend"`` the decoder's two output channels
    are per-pixel logits and the result is ``softmax(logits)`` · (X, Y); ``"blend_residual"``
    adds the decoder's third channel to that; ``"pyramid"`` blends the sources' Laplacian
    bands, each with its own pair of logits (:mod:`mutualfuse.model.pyramid`).
    """

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.enc_x = Encoder(cfg)
        if not cfg.shared_encoder:
            self.enc_y = Encoder(cfg)
        self.fusion = make_fusion(cfg)
        self.decoder = DLADecoder(cfg)
        if cfg.base_head:
            # h(G_X, G_Y): per-pixel MLP of the two base-band intensities; last layer 0 = off at the start
            self.base_head = nn.Sequential(nn.Conv2d(2, cfg.base_head, 1), nn.ReLU(), nn.Conv2d(cfg.base_head, 1, 1))
            nn.init.zeros_(self.base_head[2].weight)
            nn.init.zeros_(self.base_head[2].bias)

    def encode(self, a: torch.Tensor, b: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Per-level features (shallow → deep) of both sources."""
        if self.cfg.shared_encoder:  # one pass over both sources (the same as two)
            n = a.shape[0]
            feats = self.enc_x(torch.cat([a, b], 0))
            return [f[:n] for f in feats], [f[n:] for f in feats]
        return self.enc_x(a), self.enc_y(b)

    @property
    def encoders(self) -> tuple[nn.Module, nn.Module]:
        """(encoder of X, encoder of Y): the same module twice with ``cfg.shared_encoder``."""
        return (self.enc_x, self.enc_x) if self.cfg.shared_encoder else (self.enc_x, self.enc_y)

    def forward_mean_maps(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """``forward(a, b)`` with the deepest mutual maps replaced by their global (spatial) means:
        the network as it would fuse if its mapping carried no spatial information. The issue-10
        check "the mapping matters" compares the two (``benchmarks/bench_quality.py --mean-maps``,
        ``scripts/mf_val_metrics.py --mean-maps``). Mapping-rule models only."""
        if not hasattr(self.fusion, "deepest_maps"):
            raise ValueError(f"fusion {self.cfg.fusion!r} has no mutual maps")
        return self._padded(self._forward_mean_maps, a, b)

    def _forward_mean_maps(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        fx, fy = self.encode(a, b)
        maps = self.fusion.deepest_maps(fx[-1], fy[-1])
        maps = tuple(m.mean(dim=(2, 3), keepdim=True).expand_as(m) for m in maps)
        return self.decode(self.fuse(fx, fy, maps=maps), a, b)

    def fuse(self, fx: list[torch.Tensor], fy: list[torch.Tensor],
             maps: tuple[torch.Tensor, torch.Tensor] | None = None) -> list[torch.Tensor]:
        """Fused features per level; ``maps`` replaces the deepest mutual maps (mapping rule)."""
        return self.fusion(fx, fy, maps=maps)

    def decode(self, fused: list[torch.Tensor], a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """The fused image (B, 1, H, W) from the fused features (and the sources, for "blend")."""
        out = self.decoder(fused)
        if self.cfg.output == "pyramid" and torch.is_autocast_enabled(a.device.type):
            # the sources' pyramids, the band weights and the blend in float32: in half precision
            # the detail bands and the activity rule (γ up to 10⁴) and a base temperature of 0.1
            # amplify rounding to tens of grey levels (docs/inputs.md, "bfloat16 on CPU")
            with torch.autocast(a.device.type, enabled=False):
                return self._decode_pyramid(out.float(), a.float(), b.float())
        if self.cfg.output == "pyramid":
            return self._decode_pyramid(out, a, b)
        if self.cfg.output in ("blend", "blend_residual"):
            w = self._blend_softmax(out[:, :2]).to(a.dtype)
            f = w[:, :1] * a + w[:, 1:] * b
            return f + out[:, 2:] if self.cfg.output == "blend_residual" else f
        return out

    def _decode_pyramid(self, out: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """The ``"pyramid"`` output: the sources' Laplacian bands blended with the head's band weights."""
        n = self.cfg.pyramid_levels
        bx, by = laplacian_pyramid(a, n), laplacian_pyramid(b, n)  # once: blend and base head
        ws = [w.to(a.dtype) for w in self._band_weights(out, bases=(bx[-1], by[-1]), details=(bx[:-1], by[:-1]))]
        gains = None
        if self.cfg.pyramid_gain > 0:
            gains = [g.to(a.dtype) for g in band_gains(out[:, 2 * n :].float(), self.cfg.pyramid_gain)]
        if self.cfg.detail_gain != 1.0:
            k = float(self.cfg.detail_gain)
            gains = [k * g for g in gains] if gains is not None else [k] * (n - 1)
        return blend_bands(ws, bx, by, gains)

    def _band_weights(self, out: torch.Tensor, a: torch.Tensor | None = None, b: torch.Tensor | None = None,
                      bases: tuple[torch.Tensor, torch.Tensor] | None = None,
                      details: tuple[list[torch.Tensor], list[torch.Tensor]] | None = None) -> list[torch.Tensor]:
        """The weight of X in every pyramid band (band j at its own size) from the head's output
        (and, with ``cfg.base_head`` / ``cfg.base_brightness``, the sources' base bands ``bases`` =
        (G_X, G_Y); with ``cfg.detail_activity`` their detail bands ``details``; either computed
        from the sources ``a``, ``b`` as padded when not given)."""
        n = self.cfg.pyramid_levels
        zs = band_logits(out[:, : 2 * n], n)
        beta = float(self.cfg.base_brightness)
        gamma = float(self.cfg.detail_activity)
        need_bases = bool(self.cfg.base_head or beta) and bases is None
        need_details = bool(gamma) and details is None
        if need_bases or need_details:
            if a is None or b is None:
                raise ValueError("a base_head, base_brightness or detail_activity model needs the sources "
                                 "for its band weights")
            if need_details:  # the detail bands; the base band comes with them
                bx, by = laplacian_pyramid(a, n), laplacian_pyramid(b, n)
                bases, details = (bx[-1], by[-1]), (bx[:-1], by[:-1])
            else:  # the base band alone: no detail bands built
                bases = self.base_bands(a, b)
        if self.cfg.base_head:
            d = self._base_logit(*bases).to(zs[-1].dtype)
            zs[-1] = zs[-1] + torch.cat([0.5 * d, -0.5 * d], 1)
        base_extra = None
        if beta:  # a given rule, after the bound and the temperature: β·(G_X − G_Y)
            base_extra = beta * (bases[0] - bases[1])
        extras: list[torch.Tensor | None] = [None] * (n - 1)
        if gamma:  # a given rule: γ·(A_X − A_Y), A = 3×3 mean of |L_j| (choose-max activity)
            extras = [gamma * (band_activity(u) - band_activity(v)) for u, v in zip(*details)]
        bt = float(self.cfg.base_temperature) or None
        return ([self._blend_softmax(z, e)[:, :1] for z, e in zip(zs[:-1], extras)]
                + [self._blend_softmax(zs[-1], base_extra, temperature=bt)[:, :1]])

    def base_bands(self, a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(G_X, G_Y): the base bands of the two sources' pyramids (one batched pass)."""
        n = a.shape[0]
        g = gaussian_base(torch.cat([a, b], 0), self.cfg.pyramid_levels)
        return g[:n], g[n:]

    def base_logit(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """``d = h(G_X, G_Y) − h(G_Y, G_X)`` of ``cfg.base_head``, (B, 1, h, w) at the base band's size."""
        return self._base_logit(*self.base_bands(a, b))

    def _base_logit(self, ga: torch.Tensor, gb: torch.Tensor) -> torch.Tensor:
        n = ga.shape[0]
        h = self.base_head(torch.cat([torch.cat([ga, gb], 1), torch.cat([gb, ga], 1)], 0))
        return h[:n] - h[n:]

    def _blend_softmax(self, logits: torch.Tensor, extra: torch.Tensor | None = None,
                       temperature: float | None = None) -> torch.Tensor:
        """softmax(b·tanh(z/b) / T + (e/2, −e/2)) over the pair of logits ``z``; ``extra`` = e, a given
        logit difference (B, 1, h, w) added after the bound b and the temperature T (or None);
        T = ``temperature`` or, when None, ``cfg.blend_temperature``."""
        z = logits if logits.dtype == torch.float64 else logits.float()
        bound = self.cfg.blend_bound
        if bound:
            z = bound * torch.tanh(z / bound)
        t = self.cfg.blend_temperature if temperature is None else temperature
        if t != 1.0:
            z = z / t
        if extra is not None:
            e = extra.to(z.dtype)
            z = z + torch.cat([0.5 * e, -0.5 * e], 1)
        return torch.softmax(z, dim=1)

    def blend_weights(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """The per-pixel weight of X, (B, 1, H, W), of a blend model (inputs padded).

        For a ``"pyramid"`` model, (B, n, H, W): the weight of X in every band, band j's
        weights repeated over its 2**j × 2**j cells (fine → coarse).
        """
        if self.cfg.output not in ("blend", "blend_residual", "pyramid"):
            raise ValueError("blend_weights needs a model with a blend or pyramid output")
        fx, fy = self.encode(a, b)
        logits = self.decoder(self.fuse(fx, fy))
        if self.cfg.output == "pyramid":
            size = a.shape[-2:]
            return torch.cat([F.interpolate(w, size=size, mode="nearest") for w in self._band_weights(logits, a, b)], 1)
        return self._blend_softmax(logits[:, :2])[:, :1]

    def _forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        fx, fy = self.encode(a, b)
        return self.decode(self.fuse(fx, fy), a, b)

    @property
    def last_pool(self) -> int:
        return int(getattr(self.fusion, "last_pool", 1))

    @property
    def min_side(self) -> int:
        """With ``"reflect"`` padding the deepest level of the padded input must be at least 2
        pixels wide: inputs are padded to a multiple m of :attr:`ModelConfig.multiple`, and the
        deepest level is 1/2**(depth-1) of that, so sides of at least m + 1 unless m alone is
        wide enough (a pyramid output with more bands than levels). Zero padding takes any size."""
        if self.cfg.padding != "reflect":
            return 1
        m = self.cfg.multiple
        return 1 if m >= 2 ** self.cfg.depth else m + 1
