"""Deep-layer-aggregation decoder (paper §3.1; Yu et al., CVPR 2018)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .blocks import ConvReLU, conv3x3, conv_concat, resize
from .config import ModelConfig


class AggregationNode(nn.Sequential):
    """Concatenation + two 3×3 conv-ReLU: one "block" of the paper's decoder."""

    def __init__(self, cin: int, cout: int, padding: str = "reflect"):
        super().__init__(ConvReLU(cin, cout, padding), ConvReLU(cout, cout, padding))


class DLADecoder(nn.Module):
    """Iterative + hierarchical aggregation from the deepest scale to full resolution.

    With fused features ``F_0 … F_{L-1}`` (shallow → deep), ``D_{L-1} = F_{L-1}`` and for
    ``k = L-2 … 0``::

        D_k = Node_k( [F_k, up(D_{k+1}), up(D_{k+2}), …, up(D_{L-1})] )

    i.e. every node aggregates its own scale with *all* deeper aggregated outputs (DLA's
    hierarchical aggregation), so depth L has L-1 aggregation nodes (one more per extra level,
    as in Table 7). A final 3×3 convolution maps ``D_0`` to one channel (the fused image,
    ``output="direct"``, the paper), to two per-pixel logits (``output="blend"``; plus a
    residual channel for ``"blend_residual"``; two logits per band for ``"pyramid"``; see
    :class:`~mutualfuse.model.network.FMMNet`).
    """

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        w = cfg.widths[: cfg.depth]
        self.mode = cfg.decoder_upsample
        self.nodes = nn.ModuleList()
        for k in range(len(w) - 1):
            cin = w[k] + sum(w[k + 1 :])
            self.nodes.append(AggregationNode(cin, w[k], cfg.padding))
        n_out = {"direct": 1, "blend": 2, "blend_residual": 3, "pyramid": 2 * cfg.pyramid_levels}[cfg.output]
        self.head = conv3x3(w[0], n_out, padding=cfg.padding)
        self.gain_head = None
        if cfg.output == "pyramid" and cfg.pyramid_gain > 0:
            # one gain logit per detail band; zero-initialised, so training starts at gain 1
            self.gain_head = conv3x3(w[0], cfg.pyramid_levels - 1, padding=cfg.padding)
            nn.init.zeros_(self.gain_head.weight)
            nn.init.zeros_(self.gain_head.bias)

    def forward(self, fused: list[torch.Tensor]) -> torch.Tensor:
        L = len(fused)
        agg: dict[int, torch.Tensor] = {L - 1: fused[L - 1]}
        for k in range(L - 2, -1, -1):
            size = fused[k].shape[-2:]
            parts = [fused[k]] + [resize(agg[t], size, self.mode) for t in range(k + 1, L)]
            first, second = self.nodes[k]  # = self.nodes[k](torch.cat(parts, 1)), without the copy
            agg[k] = second(F.relu(conv_concat(first[0], parts)))
        if self.gain_head is not None:
            return torch.cat([self.head(agg[0]), self.gain_head(agg[0])], 1)
        return self.head(agg[0])
