"""VIF-Net (Hou et al., IEEE TCI 6:640–651, 2020), the paper's Fig. 10 / Table 4 baseline.

Per source: C1 = 3×3 conv (1→16) and a dense block of three 3×3 conv layers with 16 outputs
each, every layer fed the concatenation of all previous outputs (DenseNet), giving 64
channels. The two 64-channel features are concatenated (the "cascade" fusion) and decoded by
four 3×3 convolutions 128→64→32→16→1. ReLU after every layer except the last.
Departure: VIF-Net's encoders are written here without weight sharing, like ours, so that
Table 4 compares structure only.
"""
from __future__ import annotations

import torch
from torch import nn

from .blocks import ConvReLU, conv3x3
from .config import ModelConfig
from .network import FusionNet


class DenseBlock(nn.Module):
    def __init__(self, cin: int = 16, growth: int = 16, layers: int = 3):
        super().__init__()
        self.layers = nn.ModuleList(ConvReLU(cin + i * growth, growth) for i in range(layers))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = [x]
        for layer in self.layers:
            feats.append(layer(torch.cat(feats, 1)))
        return torch.cat(feats, 1)


class VIFNet(FusionNet):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.enc_x = nn.Sequential(ConvReLU(cfg.in_channels, 16), DenseBlock())
        self.enc_y = nn.Sequential(ConvReLU(cfg.in_channels, 16), DenseBlock())
        self.decoder = nn.Sequential(
            ConvReLU(128, 64), ConvReLU(64, 32), ConvReLU(32, 16), conv3x3(16, 1)
        )

    @property
    def min_side(self) -> int:
        """Reflect-padded 3×3 convolutions at full resolution: sides of at least 2 pixels."""
        return 2

    def _forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return self.decoder(torch.cat([self.enc_x(a), self.enc_y(b)], 1))
