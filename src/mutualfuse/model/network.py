"""The paper's fusion network (Fig. 1): two encoders → mutual mapping fusion → DLA decoder."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .config import ModelConfig
from .decoder import DLADecoder
from .encoder import Encoder
from .mutual_mapping import make_fusion


class FusionNet(nn.Module):
    """Base class: pads inputs to the needed multiple (replicate), runs ``_forward``, crops back.

    ``forward(a, b)`` takes two (B, 1, H, W) tensors in [0, 1] of any H×W and returns the fused
    (B, 1, H, W) tensor (not clipped; :mod:`mutualfuse.api` clips for output).
    """

    cfg: ModelConfig

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        if a.shape != b.shape:
            raise ValueError(f"inputs differ in shape: {tuple(a.shape)} vs {tuple(b.shape)}")
        h, w = a.shape[-2:]
        m = self.cfg.multiple
        ph, pw = (-h) % m, (-w) % m
        if ph or pw:
            a = F.pad(a, (0, pw, 0, ph), mode="replicate")
            b = F.pad(b, (0, pw, 0, ph), mode="replicate")
        out = self._forward(a, b)
        return out[..., :h, :w]

    def _forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError

    @property
    def last_pool(self) -> int:
        """Pooling factor of the token budget in the last forward (1 = exact mapping)."""
        return 1


class FMMNet(FusionNet):
    """Unsupervised fusion by feature mutual mapping (Rao, Wu, Xu, Chen).

    Encoders for X and Y share no weights (§3.1). ``cfg.fusion`` selects the rule of Table 6.
    """

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.enc_x = Encoder(cfg)
        self.enc_y = Encoder(cfg)
        self.fusion = make_fusion(cfg)
        self.decoder = DLADecoder(cfg)

    def _forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        fx = self.enc_x(a)
        fy = self.enc_y(b)
        return self.decoder(self.fusion(fx, fy))

    @property
    def last_pool(self) -> int:
        return int(getattr(self.fusion, "last_pool", 1))
