"""One encoder branch: 3×3 conv, then (downsample + res-block) per deeper level (paper §3.1)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .blocks import ConvReLU, ResBlock, conv3x3
from .config import ModelConfig


class Downsample(nn.Module):
    def __init__(self, mode: str, channels: int, padding: str = "reflect"):
        super().__init__()
        self.mode = mode
        self.conv = conv3x3(channels, channels, stride=2, padding=padding) if mode == "conv" else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "maxpool":
            return F.max_pool2d(x, 2)
        if self.mode == "avgpool":
            return F.avg_pool2d(x, 2)
        return F.relu(self.conv(x))


class Encoder(nn.Module):
    """Multi-scale res-block encoder of one modality.

    Level 0 is ``ConvReLU(in → w0)`` at full resolution; level ``k ≥ 1`` is
    ``ResBlock(w_{k-1} → w_k)`` after a 2× downsampling, so depth 3 gives features at scales
    1, 1/2 and 1/4 (the paper's "3×3 convolution and two res-blocks"). The two sources each
    get their own encoder (no weight sharing, as in the paper).
    """

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        w = cfg.widths[: cfg.depth]
        pad = cfg.padding
        self.stem = ConvReLU(cfg.in_channels, w[0], padding=pad)
        self.downs = nn.ModuleList(Downsample(cfg.downsample, w[k - 1], pad) for k in range(1, len(w)))
        self.blocks = nn.ModuleList(ResBlock(w[k - 1], w[k], pad) for k in range(1, len(w)))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        feats = [self.stem(x)]
        for down, block in zip(self.downs, self.blocks):
            feats.append(block(down(feats[-1])))
        return feats
