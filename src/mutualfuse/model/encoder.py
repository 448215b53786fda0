"""One encoder branch: 3×3 conv, then (downsample + res-block) per deeper level (paper §3.1)."""
from __future__ import annotations

from contextlib import nullcontext

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

        #: under autocast, the first ``float32_levels`` levels run in float32 (inference in
        #: half precision: :class:`mutualfuse.runner.NetworkRunner`; 0 = all in autocast's dtype)
        self.float32_levels = 0

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        dev = x.device.type
        keep = self.float32_levels if torch.is_autocast_enabled(dev) else 0
        with _float32(dev, keep > 0):
            feats = [self.stem(x.float() if keep > 0 else x)]
        for k, (down, block) in enumerate(zip(self.downs, self.blocks), start=1):
            with _float32(dev, keep > k):
                feats.append(block(down(feats[-1].float() if keep > k else feats[-1])))
        return feats


def _float32(device_type: str, on: bool):
    """A context that runs its body without autocast (in float32) when ``on``, else nothing."""
    return torch.autocast(device_type, enabled=False) if on else nullcontext()
