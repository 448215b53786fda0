"""Fixtures for the input/output, API, tiling, ONNX and video tests.

``lively_weights``: a tiny randomly initialised FMM network whose output head is rescaled so
that fused images span roughly 0.5 ± 0.15 on the bundled samples. A plain random network
clips to a constant, which would make equality tests between code paths vacuous.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "src" / "mutualfuse" / "data" / "samples"


def make_lively(cfg=None, seed: int = 0):
    import torch

    from mutualfuse.image_io import read_gray_float
    from mutualfuse.model import ModelConfig, build_model

    torch.manual_seed(seed)
    cfg = cfg or ModelConfig(widths=(4, 8, 8))
    net = build_model(cfg).eval()
    a = torch.from_numpy(read_gray_float(SAMPLES / "tno-01" / "a.png"))[None, None]
    b = torch.from_numpy(read_gray_float(SAMPLES / "tno-01" / "b.png"))[None, None]
    if getattr(cfg, "map_align", False):  # projections away from the identity, so that they matter
        with torch.no_grad():
            for conv in [*net.fusion.align_x, *net.fusion.align_y]:
                conv.weight.add_(0.5 * torch.randn_like(conv.weight))
    head = net.decoder.head if hasattr(net, "decoder") and hasattr(net.decoder, "head") else net.decoder[-1]
    with torch.no_grad():
        head.bias.zero_()
        o = net._forward(a, b) if cfg.multiple == 1 else net(a, b)
        k = 0.15 / max(float(o.std()), 1e-8)
        head.weight.mul_(k)
        head.bias.fill_(0.5 - k * float(o.mean()))
    return net, cfg


@pytest.fixture(scope="session")
def lively_weights(tmp_path_factory) -> Path:
    from mutualfuse.weights import save_weights

    net, cfg = make_lively()
    path = tmp_path_factory.mktemp("lively") / "lively.safetensors"
    save_weights(path, net, cfg)
    return path


@pytest.fixture(scope="session")
def local_lively_weights(tmp_path_factory) -> Path:
    """Like ``lively_weights`` with learned projections, a position code and the Gaussian
    locality bias of the mutual mapping (``attn_local_sigma``), projected maps in Eq. 1
    (``map_align``, perturbed away from the identity) and one encoder for both sources
    (``shared_encoder``)."""
    return _local_lively_file(tmp_path_factory, "local", map_align=True)


@pytest.fixture(scope="session")
def centred_lively_weights(tmp_path_factory) -> Path:
    """Like ``local_lively_weights`` without ``map_align`` and with the map differences centred
    on their global values (``map_center``, which needs one encoder and no projections)."""
    return _local_lively_file(tmp_path_factory, "centred", map_center=True)


@pytest.fixture(scope="session")
def base_head_lively_weights(tmp_path_factory) -> Path:
    """Like ``centred_lively_weights`` with the pyramid output and a base-band head
    (``base_head``) whose last layer is random (it starts at zero in training)."""
    import torch

    def perturb(net):
        with torch.no_grad():
            torch.nn.init.normal_(net.base_head[2].weight, 0.0, 2.0, generator=torch.Generator().manual_seed(4))

    return _local_lively_file(tmp_path_factory, "base-head", map_center=True, output="pyramid", pyramid_levels=3,
                              blend_bound=5.0, base_head=4, _after=perturb)


@pytest.fixture(scope="session")
def given_rules_lively_weights(tmp_path_factory) -> Path:
    """Like ``centred_lively_weights`` with the pyramid output and its given rules on: the base
    band's brightness rule (``base_brightness``), the detail bands' activity rule
    (``detail_activity``) and a base-band temperature (``base_temperature``)."""
    return _local_lively_file(tmp_path_factory, "given-rules", map_center=True, output="pyramid", pyramid_levels=3,
                              blend_bound=5.0, blend_temperature=0.25, base_brightness=20.0, detail_activity=300.0,
                              base_temperature=0.5)


def _local_lively_file(tmp_path_factory, name: str, _after=None, **options) -> Path:
    """A lively one-encoder model with projections, position code and the locality bias, plus
    ``options``, saved as ``<name>.safetensors``."""
    from mutualfuse.model import ModelConfig
    from mutualfuse.weights import save_weights

    net, cfg = make_lively(ModelConfig(widths=(4, 8, 8), attn_dim=4, attn_pos_freqs=2, attn_local_sigma=1.5,
                                         shared_encoder=True, **options))
    if _after is not None:
        _after(net)
    path = tmp_path_factory.mktemp("lively") / f"{name}.safetensors"
    save_weights(path, net, cfg)
    return path


@pytest.fixture(scope="session")
def fuser(lively_weights):
    from mutualfuse import Fuser

    return Fuser(str(lively_weights), device="cpu")


def gray(path) -> np.ndarray:
    from mutualfuse.image_io import read_gray_float

    return read_gray_float(path).astype(np.float64)
