"""Feature mutual mapping (paper §3.2, Eq. 1, Fig. 2).

At the deepest scale the two sources' features ``f_x, f_y`` (B, C, H, W) are flattened to
N = H·W tokens of C channels. The correlation of every position of one source with every
position of the other is a matrix product over channels; a softmax over the *other source's
positions* (the key axis) turns each row into a distribution, and that distribution
aggregates the other source's features:

    Map_X = softmax(f_y f_xᵀ · s) f_x        (for each position of y: where x looks alike)
    Map_Y = softmax(f_x f_yᵀ · s) f_y
    fuse  = w_X ⊙ f_x + w_Y ⊙ f_y,   (w_X, w_Y) = act(Map_X, Map_Y)

with s = 1/√C (the usual attention temperature, ``attn_scale`` overrides it) and ``act`` the
configured map activation (``softmax`` across the two sources by default, ``none`` = Eq. 1
read literally). The softmax axis and scale are discussed in ``docs/architecture.md``.

The attention is computed by :func:`torch.nn.functional.scaled_dot_product_attention` on
contiguous ``(B, 1, N, C)`` tensors, which dispatches to a fused (flash) kernel that never
materialises the N×N matrix: memory is O(N·C). :func:`naive_cross_map` is the explicit
matmul-softmax-matmul, kept as the reference the tests compare against.

Shallower scales (§3.2, last paragraph): the deeper raw maps are upsampled to the scale and
densely connected (Huang et al.): the map at scale k is a 3×3 convolution of the
concatenation of *all* deeper maps resized to scale k, followed by the same activation and
the same Eq. 1.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .blocks import conv3x3, resize
from .config import ModelConfig


def _tokens(x: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) → contiguous (B, 1, N, C)."""
    b, c, h, w = x.shape
    return x.reshape(b, c, h * w).transpose(1, 2).unsqueeze(1).contiguous()


def cross_map(query: torch.Tensor, source: torch.Tensor, scale: float | None = None,
              values: torch.Tensor | None = None) -> torch.Tensor:
    """softmax(query · sourceᵀ · scale) · values, for (B, C, H, W) feature maps; memory O(N·C).

    ``values`` defaults to ``source``. Returns a (B, C, H, W) map aligned with ``query``'s
    positions.
    """
    b, c, h, w = query.shape
    q = _tokens(query)
    k = _tokens(source)
    v = k if values is None else _tokens(values)
    if scale is None:
        scale = 1.0 / math.sqrt(c)
    out = F.scaled_dot_product_attention(q, k, v, scale=scale)  # (B, 1, N, C)
    return out.squeeze(1).transpose(1, 2).reshape(b, c, h, w)


def naive_cross_map(query: torch.Tensor, source: torch.Tensor, scale: float | None = None) -> torch.Tensor:
    """The same as :func:`cross_map` with an explicit N×N matrix (reference; O(N²) memory)."""
    b, c, h, w = query.shape
    q = query.reshape(b, c, h * w).transpose(1, 2)  # (B, N, C)
    k = source.reshape(b, c, h * w).transpose(1, 2)
    if scale is None:
        scale = 1.0 / math.sqrt(c)
    attn = torch.softmax(q @ k.transpose(1, 2) * scale, dim=-1)
    return (attn @ k).transpose(1, 2).reshape(b, c, h, w)


def apply_maps(map_x: torch.Tensor, map_y: torch.Tensor, fx: torch.Tensor, fy: torch.Tensor, act: str) -> torch.Tensor:
    """Eq. 1 with the configured activation of the raw maps."""
    if act == "softmax":
        wx = torch.sigmoid(map_x - map_y)  # = softmax over the pair, first component
        return wx * fx + (1.0 - wx) * fy
    if act == "sigmoid":
        return torch.sigmoid(map_x) * fx + torch.sigmoid(map_y) * fy
    return map_x * fx + map_y * fy


class MutualMappingFusion(nn.Module):
    """Deepest-scale mutual mapping plus densely connected maps for the shallower scales.

    ``forward(feats_x, feats_y)`` takes the per-level features of both encoders (shallow →
    deep) and returns the fused features per level. ``last_pool`` records the pooling factor
    used by the token budget in the last call (1 = exact).
    """

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        w = cfg.widths[: cfg.depth]
        deep = len(w) - 1
        # dense map convolutions for each shallower level k: in = sum of deeper widths
        self.map_convs_x = nn.ModuleList()
        self.map_convs_y = nn.ModuleList()
        for k in range(deep):
            cin = sum(w[k + 1 :])
            self.map_convs_x.append(conv3x3(cin, w[k]))
            self.map_convs_y.append(conv3x3(cin, w[k]))
        self.last_pool = 1
        if cfg.attn_similarity == "cosine":
            self.logit_scale = nn.Parameter(torch.tensor(math.log(cfg.cosine_init_temperature)))

    def mutual_maps(self, fx: torch.Tensor, fy: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(Map_X, Map_Y) on the given grid, exact (no token budget)."""
        if self.cfg.attn_similarity == "cosine":
            # cosine similarity with a learned temperature (the values stay the raw features)
            t = self.logit_scale.clamp(max=math.log(100.0)).exp()
            nx = F.normalize(fx, dim=1)
            ny = F.normalize(fy, dim=1)
            return cross_map(ny * t, nx, 1.0, values=fx), cross_map(nx * t, ny, 1.0, values=fy)
        scale = self.cfg.attn_scale
        return cross_map(fy, fx, scale), cross_map(fx, fy, scale)

    def pooled_maps(self, fx: torch.Tensor, fy: torch.Tensor, pool: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The maps computed on a ``pool``× average-pooled grid, upsampled back (token budget)."""
        if pool <= 1:
            return self.mutual_maps(fx, fy)
        h, w = fx.shape[-2:]
        px = F.avg_pool2d(fx, pool, ceil_mode=True)
        py = F.avg_pool2d(fy, pool, ceil_mode=True)
        mx, my = self.mutual_maps(px, py)
        mode = self.cfg.map_upsample
        return resize(mx, (h, w), mode), resize(my, (h, w), mode)

    def deepest_maps(self, fx: torch.Tensor, fy: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h, w = fx.shape[-2:]
        n = h * w
        budget = self.cfg.token_budget
        pool = 1
        if budget and n > budget:
            pool = math.ceil(math.sqrt(n / budget))
        self.last_pool = pool
        return self.pooled_maps(fx, fy, pool)

    def forward(self, feats_x: list[torch.Tensor], feats_y: list[torch.Tensor]) -> list[torch.Tensor]:
        act = self.cfg.map_activation
        mode = self.cfg.map_upsample
        deep = len(feats_x) - 1
        mx, my = self.deepest_maps(feats_x[deep], feats_y[deep])
        maps_x = {deep: mx}
        maps_y = {deep: my}
        fused = [None] * len(feats_x)
        fused[deep] = apply_maps(mx, my, feats_x[deep], feats_y[deep], act)
        for k in range(deep - 1, -1, -1):
            size = feats_x[k].shape[-2:]
            cat_x = torch.cat([resize(maps_x[t], size, mode) for t in range(k + 1, deep + 1)], 1)
            cat_y = torch.cat([resize(maps_y[t], size, mode) for t in range(k + 1, deep + 1)], 1)
            maps_x[k] = self.map_convs_x[k](cat_x)
            maps_y[k] = self.map_convs_y[k](cat_y)
            fused[k] = apply_maps(maps_x[k], maps_y[k], feats_x[k], feats_y[k], act)
        return fused  # type: ignore[return-value]


class AddFusion(nn.Module):
    """Table 6 "Add": fuse_k = f_x,k + f_y,k."""

    last_pool = 1

    def __init__(self, cfg: ModelConfig):
        super().__init__()

    def forward(self, feats_x, feats_y):
        return [a + b for a, b in zip(feats_x, feats_y)]


class ConcatFusion(nn.Module):
    """Table 6 "Concat": fuse_k = ReLU(conv1×1([f_x,k, f_y,k])), keeping the decoder unchanged."""

    last_pool = 1

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        w = cfg.widths[: cfg.depth]
        self.convs = nn.ModuleList(nn.Conv2d(2 * c, c, 1) for c in w)

    def forward(self, feats_x, feats_y):
        return [F.relu(conv(torch.cat([a, b], 1))) for conv, a, b in zip(self.convs, feats_x, feats_y)]


def make_fusion(cfg: ModelConfig) -> nn.Module:
    return {"mapping": MutualMappingFusion, "add": AddFusion, "concat": ConcatFusion}[cfg.fusion](cfg)
