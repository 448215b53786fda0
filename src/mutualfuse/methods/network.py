"""The trained networks as registered fusion methods."""
from __future__ import annotations

import numpy as np

from . import register_method
from .params import Int, Text

_FUSERS: dict = {}


def _fuser(weights: str, device: str, token_budget):
    key = (weights, device, token_budget)
    if key not in _FUSERS:
        from ..api import Fuser

        _FUSERS.clear()
        _FUSERS[key] = Fuser(weights, device=device, token_budget=token_budget)
    return _FUSERS[key]


@register_method("mutualfuse", family="network", weights="default",
                 cite="D. Rao, X.-J. Wu, T. Xu, G. Chen, Unsupervised Image Fusion Method based on Feature Mutual Mapping",
                 params={"weights": Text("a shipped weights name or a .safetensors file"),
                         "device": Text("a device name (auto, cpu, cuda)"),
                         "token_budget": Int(-1, optional=True,
                                             meaning="-1 = the weights' own budget (16384 for the shipped ones), "
                                                     "0 or None = always exact (fuse --token-budget N: N >= 0)")})
def mutualfuse_net(a: np.ndarray, b: np.ndarray, weights: str = "default", device: str = "auto",
                   token_budget: int | None = -1) -> np.ndarray:
    """The feature-mutual-mapping network with the shipped default weights (or ``weights=PATH``)."""
    return _fuser(weights, device, token_budget).fuse_gray(a, b)
