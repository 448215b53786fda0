"""Fusion networks and their registry.

>>> from mutualfuse.model import build_model, ModelConfig
>>> net = build_model(ModelConfig(depth=3, fusion="mapping"))
"""
from __future__ import annotations

from typing import Callable

from torch import nn

from ..registry import Registry
from .config import ModelConfig
from .network import FMMNet, FusionNet
from .vifnet import VIFNet

MODELS: Registry[Callable[[ModelConfig], FusionNet]] = Registry("architecture")
MODELS.add("fmm", FMMNet, cite="Rao, Wu, Xu, Chen: Unsupervised Image Fusion Method based on Feature Mutual Mapping")
MODELS.add("vifnet", VIFNet, cite="Hou et al., VIF-Net, IEEE TCI 2020")


def build_model(cfg: ModelConfig) -> FusionNet:
    return MODELS.get(cfg.arch)(cfg)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


__all__ = ["MODELS", "ModelConfig", "FMMNet", "VIFNet", "FusionNet", "build_model", "count_parameters"]
