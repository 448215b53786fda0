"""Exact halo streaming equals the one-shot forward; blended tiles form a partition of unity."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from mutualfuse.model import ModelConfig, build_model
from mutualfuse.tiling import iter_tiles, plan_windows, streamed_forward, tiled_fuse
from tolerance import assert_close


@pytest.mark.parametrize("cfg,size,win", [
    (ModelConfig(widths=(4, 8, 8)), (203, 150), 96 * 96),                     # exact mapping, odd sizes
    (ModelConfig(widths=(4, 8, 8), token_budget=300), (203, 150), 96 * 96),   # pooled mapping (token budget)
    (ModelConfig(depth=4, widths=(4, 8, 8, 8)), (301, 283), 200 * 200),       # deeper variant, stride 8
    (ModelConfig(widths=(4, 8, 8), fusion="add"), (203, 150), 96 * 96),        # purely local network
    (ModelConfig(arch="vifnet"), (100, 81), 40 * 40),
])
@pytest.mark.parametrize("channels_last", [False, True], ids=["nchw", "channels_last"])
def test_streamed_equals_one_shot(cfg, size, win, channels_last):
    torch.manual_seed(1)
    net = build_model(cfg).eval()
    if channels_last:  # as the inference runner runs CPU models
        net = net.to(memory_format=torch.channels_last)
    a = torch.rand(2 if cfg.arch == "vifnet" else 1, 1, *size)
    b = torch.rand_like(a)
    with torch.inference_mode():
        ref = net(a, b)
        pool_ref = net.last_pool
        calls = []
        out = streamed_forward(net, a, b, max_window_pixels=win, progress=calls.append)
    assert out.shape == ref.shape
    assert len(calls) > 2, "the test must actually split the image"
    assert_close(out, ref, dtype=torch.float32)
    assert net.last_pool == pool_ref
    if cfg.token_budget == 300:
        assert pool_ref > 1
    assert "deepest_maps" not in getattr(net, "fusion", torch.nn.Module()).__dict__  # override removed


@pytest.mark.parametrize("h,w,halo,m,budget", [(208, 152, 32, 4, 96 * 96), (1080, 1920, 32, 4, 400_000),
                                               (64, 64, 32, 4, 10_000), (2160, 3840, 64, 8, 400_000)])
def test_plan_windows_partition(h, w, halo, m, budget):
    wins = plan_windows(h, w, halo, m, budget)
    cover = np.zeros((h, w), np.int32)
    for (y0, y1, x0, x1), (Y0, Y1, X0, X1) in wins:
        assert all(v % m == 0 for v in (y0, y1, x0, x1, Y0, Y1, X0, X1))
        assert Y0 <= y0 < y1 <= Y1 and X0 <= x0 < x1 <= X1
        assert (Y0 == 0 or y0 - Y0 >= halo) and (Y1 == h or Y1 - y1 >= halo)
        assert (Y1 - Y0) * (X1 - X0) <= max(budget, (4 * halo + m) ** 2)
        cover[y0:y1, x0:x1] += 1
    assert (cover == 1).all()


def test_tile_weights_sum_to_one():
    acc = np.zeros((300, 411))
    for y0, y1, x0, x1, wgt in iter_tiles(300, 411, 128, 32):
        acc[y0:y1, x0:x1] += wgt
    assert_close(acc, np.ones_like(acc), dtype=np.float64)


def test_tiled_fuse_is_seamless_for_a_pointwise_rule():
    rng = np.random.default_rng(0)
    a, b = rng.random((1, 150, 233)), rng.random((1, 150, 233))
    out = tiled_fuse(lambda x, y: np.maximum(x, y), a, b, tile=64, overlap=24)
    assert_close(out, np.maximum(a, b), dtype=np.float64)


def test_fuser_tile_option_reports_and_stays_close(fuser, samples):
    from mutualfuse import Fuser

    from mutualfuse.image_io import read_gray_float

    a, b = (read_gray_float(samples / "tno-01" / f"{s}.png").astype(np.float64) for s in "ab")
    full = fuser.fuse(a, b)
    tiled = Fuser(fuser.report.method, device="cpu", tile=160, tile_overlap=48)
    out = tiled.fuse(a, b)
    assert out.shape == a.shape
    assert tiled.report.tiles > 1 and any("tiled" in n for n in tiled.report.notes)
    assert not np.array_equal(out, full)
    assert np.abs(out - full).mean() < 0.05


def test_runner_progress_goes_through_tqdm_update(monkeypatch):
    """The windows' progress reaches trackers that hook ``tqdm.update`` (the web page's does)."""
    import tqdm

    from mutualfuse.runner import NetworkRunner

    steps = []
    real = tqdm.tqdm.update
    monkeypatch.setattr(tqdm.tqdm, "update", lambda self, n=1: (steps.append(n), real(self, n))[1])
    torch.manual_seed(1)
    net = build_model(ModelConfig(widths=(4, 8, 8))).eval()
    a, b = np.random.default_rng(0).random((2, 2, 203, 150))
    runner = NetworkRunner(net, torch.device("cpu"), torch.float32, max_window_pixels=96 * 96, progress=True)
    out, info = runner.run(a, b)
    assert info.windows > 2 and out.shape == (2, 203, 150)
    from mutualfuse.tiling import n_passes

    passes = n_passes(net, 203, 150, 96 * 96)
    assert len(steps) >= passes and all(n >= 0 for n in steps)
    assert sum(steps) == 2 * passes  # every pass of both images, counted once
