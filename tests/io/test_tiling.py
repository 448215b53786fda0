"""Exact halo streaming equals the one-shot forward; blended tiles form a partition of unity."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from mutualfuse.model import ModelConfig, build_model
from mutualfuse.tiling import count_tiles, iter_tiles, plan_windows, streamed_forward, tiled_fuse
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


@pytest.mark.parametrize("h,w,tile,overlap", [(150, 233, 64, 24), (101, 77, 16, 8), (97, 97, 17, 8),
                                               (33, 200, 16, 100), (40, 300, 64, 32), (50, 50, 100, 64)])
def test_tiled_fuse_is_seamless_for_a_pointwise_rule(h, w, tile, overlap):
    """Odd sizes, odd tiles, an overlap above T/2 (reduced), a tile larger than the image along
    one side or both: equal to the untiled result up to float64 rounding (not bit-exact: the
    normalised blend of equal values rounds; docs/inputs.md)."""
    rng = np.random.default_rng(0)
    a, b = rng.random((2, h, w)), rng.random((2, h, w))
    calls = []
    out = tiled_fuse(lambda x, y: np.maximum(x, y), a, b, tile=tile, overlap=overlap, progress=calls.append)
    assert out.shape == a.shape and len(calls) == count_tiles(h, w, tile, overlap)
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


def test_an_error_in_a_tile_says_it_is_a_tile():
    """A method that refuses a tile's size named the tile as 'a 16x16 image' although the
    user's image is larger (and fuses untiled): the message says it is a tile of the image."""
    from mutualfuse import Fuser
    from mutualfuse.errors import ParameterError

    rng = np.random.default_rng(0)
    a, b = rng.random((41, 53)), rng.random((41, 53))
    assert Fuser("lp", device="cpu").fuse(a, b).shape == a.shape  # untiled: fine
    with pytest.raises(ParameterError, match=r"tile 16 .*a 16x16 tile of the 53x41 image: .*too deep.*larger tile"):
        Fuser("lp", device="cpu", tile=16, tile_overlap=8).fuse(a, b)


@pytest.mark.parametrize("task", ["ir-vis", "multi-focus", "medical", "stored"])
def test_window_size_does_not_change_the_shipped_models_result(samples, task):
    """docs/inputs.md: ``--window-pixels`` changes memory and speed, not the result. Checked with
    the shipped ``default`` weights at every task setting (pyramid output, 40 px halo, detail
    activity, base-band brightness rule, pooled local mapping) on an odd-sized real crop cut
    into several windows, against the one-shot forward."""
    from mutualfuse import Fuser
    from mutualfuse.image_io import read_gray_float

    a, b = (read_gray_float(samples / "tno-01" / f"{s}.png").astype(np.float64)[:221, :263] for s in "ab")
    one = Fuser("default", device="cpu", task=task)
    ref = one.fuse(a, b)
    streamed = Fuser("default", device="cpu", task=task, max_window_pixels=4096)
    out = streamed.fuse(a, b)
    assert one.report.windows == 1 and streamed.report.windows > 1
    assert one.report.mapping_pool == streamed.report.mapping_pool
    assert_close(out, ref, dtype=torch.float32)
