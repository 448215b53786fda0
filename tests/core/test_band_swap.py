"""``scripts/band_swap.py``: per-band mixes of two pyramid models' weights."""
from __future__ import annotations

import torch
from script_module import load

from mutualfuse.model import ModelConfig, build_model
from mutualfuse.model.pyramid import pyramid_blend
from tolerance import assert_close


def test_unmixed_rows_are_the_models_and_a_mix_takes_each_band_from_its_model():
    mixed_fusions = load("scripts/band_swap.py").mixed_fusions
    cfg = ModelConfig(widths=(4, 8, 8), output="pyramid", pyramid_levels=3, blend_bound=5.0, token_budget=0)
    nets = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        nets.append(build_model(cfg).double().eval())
    g = torch.Generator().manual_seed(3)
    a = torch.rand(1, 1, 32, 40, dtype=torch.float64, generator=g)
    b = torch.rand(1, 1, 32, 40, dtype=torch.float64, generator=g)
    mixes = [frozenset(), frozenset({0, 1, 2}), frozenset({2})]
    out = mixed_fusions(nets, a, b, mixes)
    with torch.no_grad():
        assert_close(out[mixes[0]], nets[0](a, b))
        assert_close(out[mixes[1]], nets[1](a, b))
        w0 = nets[0]._band_weights(nets[0].decoder(nets[0].fuse(*nets[0].encode(a, b))), a, b)
        w1 = nets[1]._band_weights(nets[1].decoder(nets[1].fuse(*nets[1].encode(a, b))), a, b)
    assert_close(out[mixes[2]], pyramid_blend([w0[0].double(), w0[1].double(), w1[2].double()], a, b))
    assert float((out[mixes[2]] - out[mixes[0]]).abs().max()) > 1e-3
