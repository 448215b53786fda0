"""``scripts/attention_stats.py::channel_correspondence``: do the two encoders' channels match?"""
from __future__ import annotations

import torch
from script_module import load


def test_channel_correspondence_identity_permutation_and_dead_channels():
    cc = load("scripts/attention_stats.py").channel_correspondence
    g = torch.Generator().manual_seed(0)
    fx = torch.rand(1, 8, 16, 16, generator=g, dtype=torch.float64)
    fx[0, 7] = 0.25  # a dead channel: constant over the image
    same = cc(fx, fx.clone())
    assert same["live_x"] == same["live_y"] == 7
    assert abs(same["same"] - 1) < 1e-12 and abs(same["best"] - 1) < 1e-12 and same["rank"] == 1.0
    # the same channels in another order: every X channel still has a perfect match, but rarely
    # at its own index, so the same-index correlation is that of independent noise
    perm = torch.tensor([1, 2, 3, 4, 5, 6, 0, 7])
    shuffled = cc(fx, fx[:, perm])
    assert abs(shuffled["best"] - 1) < 1e-12
    assert abs(shuffled["same"]) < 0.2 and shuffled["rank"] > 1.0
    neg = cc(fx, -fx)  # |correlation| ranks: an inverted channel is still the best match
    assert abs(neg["same"] + 1) < 1e-12 and neg["rank"] == 1.0
