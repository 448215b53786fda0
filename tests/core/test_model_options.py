"""The options beyond the paper: learned query/key projections, the relative-position code,
the blend output head, zero padding, explicit network stages, the max-gradient loss, the
synthetic multi-focus pairs and the learning-rate schedule."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from mutualfuse.losses import LOSSES, max_gradient_loss, var_ssim_grad_loss, var_ssim_loss
from mutualfuse.model import ModelConfig, build_model
from mutualfuse.model.mutual_mapping import cross_map, locality_channels, pool_for, position_code
from mutualfuse.tiling import streamed_forward
from mutualfuse.train.config import TrainConfig
from mutualfuse.train.data import synthetic_multifocus
from mutualfuse.train.loop import lr_at
from tolerance import assert_close

LOCAL = dict(widths=(4, 8, 8), attn_dim=6, attn_pos_freqs=3, padding="zeros", output="blend")


def _net(dtype=torch.float64, **over):
    torch.manual_seed(0)
    cfg = ModelConfig(**{**LOCAL, **over})
    return build_model(cfg).to(dtype).eval()


def test_cross_map_with_other_value_width_equals_explicit_product():
    g = torch.Generator().manual_seed(1)
    q = torch.randn(2, 5, 6, 7, dtype=torch.float64, generator=g)
    k = torch.randn(2, 5, 6, 7, dtype=torch.float64, generator=g)
    for cv in (3, 5, 9):  # fewer, as many and more value channels than q/k channels
        v = torch.randn(2, cv, 6, 7, dtype=torch.float64, generator=g)
        out = cross_map(q, k, 0.3, values=v)
        qt, kt, vt = (t.flatten(2).transpose(1, 2) for t in (q, k, v))
        ref = (torch.softmax(qt @ kt.transpose(1, 2) * 0.3, -1) @ vt).transpose(1, 2).reshape(2, cv, 6, 7)
        assert out.shape == ref.shape
        assert_close(out, ref)


def test_position_code_product_depends_only_on_displacement():
    pe = position_code(9, 11, 3).flatten(2)[0].T.double()  # (N, 12)
    gram = pe @ pe.T
    ys, xs = np.divmod(np.arange(99), 11)
    # Σ_k cos(ω_k Δy) + cos(ω_k Δx), ω_k = 2π / 2^(k+2)
    om = 2 * np.pi / 2.0 ** np.arange(2, 5)
    dy = ys[:, None] - ys[None, :]
    dx = xs[:, None] - xs[None, :]
    ref = sum(np.cos(w * dy) + np.cos(w * dx) for w in om)
    assert_close(gram, torch.from_numpy(ref), dtype=torch.float32)


def test_pooled_position_code_sits_at_cell_centres():
    exact = position_code(8, 8, 2)
    pooled = position_code(4, 4, 2, pool=2)
    # cell (i, j) of the 2x pooled grid is centred between exact positions 2i and 2i+1
    centre = (exact[..., 0::2, 0::2] + exact[..., 1::2, 1::2]) / 2
    # the code is not linear in position, so compare positions, recovered from the lowest frequency
    ang = torch.atan2(pooled[0, 0], pooled[0, 2])  # sin(ωy), cos(ωy) with period 4
    want = ((torch.arange(4) + 0.5) * 2 - 0.5) * 2 * math.pi / 4
    want = torch.atan2(torch.sin(want), torch.cos(want))[:, None].expand(4, 4)
    assert_close(ang, want.float())
    assert centre.shape == pooled.shape


def test_mutual_maps_equal_attention_matrices_times_values():
    net = _net()
    fx = torch.rand(1, 8, 5, 6, dtype=torch.float64)
    fy = torch.rand(1, 8, 5, 6, dtype=torch.float64)
    mx, my = net.fusion.mutual_maps(fx, fy)
    ax, ay = net.fusion.attention(fx, fy)
    ref_x = (ax @ fx.flatten(2).transpose(1, 2)).transpose(1, 2).reshape(mx.shape)
    ref_y = (ay @ fy.flatten(2).transpose(1, 2)).transpose(1, 2).reshape(my.shape)
    assert_close(mx, ref_x)
    assert_close(my, ref_y)
    assert_close(ax.sum(-1), torch.ones_like(ax.sum(-1)))


def test_position_weights_can_make_the_attention_local():
    """With large position weights and zero content projections every row peaks at its own position."""
    net = _net()
    fus = net.fusion
    with torch.no_grad():
        for conv in (fus.q_x, fus.q_y, fus.k_x, fus.k_y):
            conv.weight.zero_()
            conv.bias.zero_()
        fus.pos_weight.fill_(30.0)
    fx = torch.rand(1, 8, 6, 6, dtype=torch.float64)
    ax, _ = fus.attention(fx, fx)
    assert torch.equal(ax[0].argmax(-1), torch.arange(36))
    assert float(ax[0].diagonal().min().detach()) > 0.9


def test_position_code_alone_cannot_be_local_beyond_its_longest_period():
    """All periods of the sinusoidal code realign 2^(P+1) cells away: that displacement scores as
    high as the query's own position, whatever the position weights (why ``attn_local_sigma``)."""
    pe = position_code(1, 40, 3).flatten(2)[0].T.double()  # periods 4, 8, 16 cells
    gram = pe @ pe.T
    assert_close(gram[3, 3 + 16], gram[3, 3], dtype=torch.float32)  # the code is float32


def test_locality_channels_add_exactly_a_gaussian_of_the_displacement():
    h, w, pool, scale = 5, 7, 2, 0.25
    beta = torch.tensor(0.3)
    q, k = locality_channels(h, w, beta, scale, pool)
    logits = (q.flatten(2)[0].T.double() @ k.flatten(2)[0].double()) * scale  # (N, N)
    ys, xs = np.divmod(np.arange(h * w), w)
    py, px = (ys + 0.5) * pool - 0.5, (xs + 0.5) * pool - 0.5  # unpooled units
    d2 = (py[:, None] - py[None, :]) ** 2 + (px[:, None] - px[None, :]) ** 2
    # up to a per-query constant, which the softmax over keys removes
    got = logits - logits[:, :1]
    want = torch.from_numpy(-0.3 * (d2 - d2[:, :1]))
    assert_close(got, want, dtype=torch.float32)


def test_local_sigma_makes_the_attention_a_gaussian_around_each_query():
    net = _net(attn_local_sigma=0.8)
    fus = net.fusion
    with torch.no_grad():
        for conv in (fus.q_x, fus.q_y, fus.k_x, fus.k_y):
            conv.weight.zero_()
            conv.bias.zero_()
        fus.pos_weight.zero_()
    g = torch.Generator().manual_seed(5)
    fx = torch.rand(1, 8, 9, 40, dtype=torch.float64, generator=g)  # wider than the code's period
    fy = torch.rand(1, 8, 9, 40, dtype=torch.float64, generator=g)
    ax, ay = fus.attention(fx, fy)
    ys, xs = np.divmod(np.arange(9 * 40), 40)
    d2 = torch.from_numpy((ys[:, None] - ys[None, :]) ** 2 + (xs[:, None] - xs[None, :]) ** 2.0)
    sig = fus.local_sigma().detach()  # 0.8 to float32 rounding (the parameter starts as a float32 log)
    assert_close(sig, torch.full((2,), 0.8, dtype=torch.float64), dtype=torch.float32)
    for a, s in ((ax, sig[0]), (ay, sig[1])):
        assert_close(a, torch.softmax(-d2 / (2 * s**2), -1)[None])


@pytest.mark.parametrize("pool", [1, 3])
def test_local_sigma_maps_equal_attention_matrices_times_values(pool):
    """The fused kernel with the three extra channels equals the explicit N×N computation."""
    net = _net(attn_local_sigma=1.5, token_budget=0)
    g = torch.Generator().manual_seed(6)
    fx = torch.rand(1, 8, 7, 9, dtype=torch.float64, generator=g)
    fy = torch.rand(1, 8, 7, 9, dtype=torch.float64, generator=g)
    mx, my = net.fusion.mutual_maps(fx, fy, pool)
    if pool == 1:
        ax, ay = net.fusion.attention(fx, fy)
    else:  # the explicit product with the same pooled positions
        (qa, ka), (qb, kb) = net.fusion._qk(fx, fy, pool)[0]
        scale = net.fusion._qk(fx, fy, pool)[1]
        ax, ay = (torch.softmax(q.flatten(2).transpose(1, 2) @ k.flatten(2) * scale, -1) for q, k in ((qa, ka), (qb, kb)))
    for m, a, f in ((mx, ax, fx), (my, ay, fy)):
        assert_close(m, (a @ f.flatten(2).transpose(1, 2)).transpose(1, 2).reshape(m.shape))
    # pooled positions are in unpooled units: the bias of neighbouring pooled cells is pool² times larger
    if pool == 3:
        beta = 0.5 / 1.5**2
        assert float((ax[0, 0, 0] / ax[0, 0, 1]).detach()) > math.exp(beta * 9 * 0.5)


def test_local_sigma_mapping_runs_in_float32_for_half_precision_features():
    """In bfloat16 the bias terms (≈ β|p|²) would not cancel; the mapping is computed in float32."""
    net = _net(torch.float32, attn_local_sigma=1.0, token_budget=0)
    g = torch.Generator().manual_seed(7)
    fx = torch.rand(1, 8, 30, 40, generator=g).bfloat16()
    fy = torch.rand(1, 8, 30, 40, generator=g).bfloat16()
    with torch.no_grad():
        mx, my = net.fusion.mutual_maps(fx, fy)
        rx, ry = net.fusion.mutual_maps(fx.float(), fy.float())
    assert mx.dtype == torch.bfloat16
    assert_close(mx, rx, dtype=torch.bfloat16)  # only the final rounding to bfloat16
    assert_close(my, ry, dtype=torch.bfloat16)
    # float32 features under autocast: the projections must not round the bias to bfloat16
    f32 = (fx.float(), fy.float())
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        ax, ay = net.fusion.mutual_maps(*f32)
    assert ax.dtype == torch.float32
    assert_close(ax, rx, dtype=torch.float32)
    assert_close(ay, ry, dtype=torch.float32)


def test_local_sigma_is_validated_and_old_configs_load_without_it():
    for bad in (-1.0, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="attn_local_sigma"):
            ModelConfig(**{**LOCAL, "attn_local_sigma": bad})
    with pytest.raises(ValueError, match="attn_local_sigma"):
        ModelConfig(**{**LOCAL, "attn_local_sigma": 1.0, "attn_similarity": "cosine"})
    assert "fusion.local_log_sigma" not in _net().state_dict()
    assert "fusion.local_log_sigma" in _net(attn_local_sigma=1.0).state_dict()


def test_blend_output_is_a_convex_combination_of_the_sources():
    net = _net()
    a = torch.rand(2, 1, 20, 28, dtype=torch.float64)
    b = torch.rand(2, 1, 20, 28, dtype=torch.float64)
    with torch.no_grad():
        f = net(a, b)
        w = net.blend_weights(a, b)
    assert f.shape == a.shape
    lo, hi = torch.minimum(a, b), torch.maximum(a, b)
    assert bool(((f >= lo - 1e-12) & (f <= hi + 1e-12)).all())
    assert_close(f, w * a + (1 - w) * b)
    # identical sources are returned unchanged (no intensity drift possible)
    with torch.no_grad():
        assert_close(net(a, a), a)


def test_explicit_stages_equal_forward():
    net = _net()
    a = torch.rand(1, 1, 16, 24, dtype=torch.float64)
    b = torch.rand(1, 1, 16, 24, dtype=torch.float64)
    with torch.no_grad():
        fx, fy = net.encode(a, b)
        maps = net.fusion.deepest_maps(fx[-1], fy[-1])
        staged = net.decode(net.fuse(fx, fy, maps=maps), a, b)
        assert_close(staged, net(a, b))
        # replacing the maps by their global means changes the output (the maps are used)
        mean_maps = tuple(m.mean(dim=(2, 3), keepdim=True).expand_as(m) for m in maps)
        assert not torch.allclose(net.decode(net.fuse(fx, fy, maps=mean_maps), a, b), staged)


@pytest.mark.parametrize("residual,local,align,shared,center,gbound", [
    (False, 0.0, False, False, False, 0.0), (True, 0.0, False, False, False, 0.0),
    (False, 1.5, False, False, False, 0.0), (False, 1.5, True, False, False, 0.0),
    (False, 1.5, False, True, False, 0.0),
    (False, 1.5, False, True, True, 0.0),  # map_center: the deepest maps are centred before the streaming crops
    (False, 1.5, False, True, True, 2.0),  # ... and the global term, from the whole image's means
])
def test_streaming_equals_one_shot_for_the_new_options(residual, local, align, shared, center, gbound):
    net = _net(torch.float32, token_budget=0, map_residual=residual, attn_local_sigma=local, map_align=align,
               shared_encoder=shared, map_center=center, map_global_bound=gbound)
    if gbound:  # a non-zero gain, so the global term is exercised
        with torch.no_grad():
            net.fusion.map_global_gain.copy_(torch.linspace(-20, 20, net.fusion.map_global_gain.numel()))
    if align:  # projections away from the identity
        with torch.no_grad():
            for conv in [*net.fusion.align_x, *net.fusion.align_y]:
                conv.weight.add_(0.5 * torch.randn(conv.weight.shape, generator=torch.Generator().manual_seed(1)))
    if residual:  # a non-zero γ, so the residual path is exercised
        with torch.no_grad():
            net.fusion.map_gain.copy_(torch.linspace(-1, 1, 16).view(2, 8))
    from mutualfuse.tiling import n_windows

    g = torch.Generator().manual_seed(3)
    a = torch.rand(1, 1, 120, 200, generator=g)
    b = torch.rand(1, 1, 120, 200, generator=g)
    assert n_windows(net, 120, 200, 40 * 40) >= 3  # (60×92 was one window: the halo sets a minimum)
    with torch.no_grad():
        ref = net(a, b)
    out = streamed_forward(net, a, b, max_window_pixels=40 * 40)
    assert_close(out, ref, dtype=torch.float32)


def test_channels_last_equals_contiguous():
    net = _net(torch.float32)
    a = torch.rand(2, 1, 32, 40)
    b = torch.rand(2, 1, 32, 40)
    with torch.no_grad():
        ref = net(a, b)
        cl = net.to(memory_format=torch.channels_last)
        out = cl(a.contiguous(memory_format=torch.channels_last), b.contiguous(memory_format=torch.channels_last))
    assert_close(out, ref, dtype=torch.float32)


def test_pool_for():
    assert pool_for(10, 10, None) == 1
    assert pool_for(10, 10, 0) == 1
    assert pool_for(10, 10, 100) == 1
    assert pool_for(10, 10, 99) == 2
    assert pool_for(128, 128, 16384) == 1
    assert pool_for(270, 480, 16384) == 3  # ceil(sqrt(129600 / 16384)) = ceil(2.81)
    # a minimum pool applies under a budget only, and never lowers the budget's pool
    assert pool_for(64, 64, 16384, 2) == 2
    assert pool_for(270, 480, 16384, 2) == 3
    assert pool_for(64, 64, 0, 2) == 1 and pool_for(64, 64, None, 4) == 1


def test_map_min_pool_pools_small_inputs_and_token_budget_0_stays_exact():
    """``map_min_pool = 2``: an input far under the budget runs the mapping on the 2× pooled grid
    (the output equals the network with its maps from ``pooled_maps(…, 2)``), ``last_pool``
    reports it, and ``token_budget = 0`` is the exact network whatever the minimum."""
    g = torch.Generator().manual_seed(7)
    a = torch.rand(1, 1, 32, 48, dtype=torch.float64, generator=g)
    b = torch.rand(1, 1, 32, 48, dtype=torch.float64, generator=g)
    exact, pooled = _net(), _net(map_min_pool=2)
    with torch.no_grad():
        fx, fy = exact.encode(a, b)
        ref_pooled = exact.decode(exact.fuse(fx, fy, maps=exact.fusion.pooled_maps(fx[-1], fy[-1], 2)), a, b)
        out = pooled(a, b)
        assert pooled.fusion.last_pool == 2
        assert_close(out, ref_pooled, dtype=torch.float64)
        assert float((out - exact(a, b)).abs().max()) > 1e-6  # the pooling is not a no-op here
        off = _net(map_min_pool=2, token_budget=0)
        assert_close(off(a, b), exact(a, b), dtype=torch.float64)
        assert off.fusion.last_pool == 1
    with pytest.raises(ValueError, match="map_min_pool"):
        ModelConfig(map_min_pool=0)


def test_max_gradient_loss():
    x = torch.rand(2, 1, 24, 24, dtype=torch.float64)
    flat = torch.full_like(x, 0.5)
    assert float(max_gradient_loss(x, flat, x)) < 1e-5  # F = the textured source: nothing to gain
    assert float(max_gradient_loss(x, flat, flat)) > 0.1  # a flat F loses every edge
    full = var_ssim_grad_loss(x, flat, flat, grad_weight=2.0)
    assert_close(full, var_ssim_loss(x, flat, flat) + 2.0 * max_gradient_loss(x, flat, flat))
    assert "var_ssim_grad" in LOSSES


def test_synthetic_multifocus_pairs():
    rng_img = np.random.default_rng(0)
    sharp = rng_img.random((40, 50)).astype(np.float32)
    t1, a1, b1 = synthetic_multifocus(sharp, np.random.default_rng(5))
    t2, a2, b2 = synthetic_multifocus(sharp, np.random.default_rng(5))
    assert np.array_equal(a1, a2) and np.array_equal(b1, b2)  # deterministic
    assert np.array_equal(t1, sharp)
    # a + b = I + G(I) pixel by pixel: the two sources blur complementary regions
    from scipy import ndimage

    blur_sum = a1 + b1 - sharp
    assert np.abs(blur_sum - ndimage.gaussian_filter(sharp, 1.0)).max() > 1e-3  # not the σ=1 blur
    # each source is sharp where the other is blurred: both differ from the truth somewhere
    assert np.abs(a1 - sharp).max() > 0.05 and np.abs(b1 - sharp).max() > 0.05
    assert a1.dtype == np.float32 and a1.shape == sharp.shape


def test_synthetic_multifocus_disc_psf_and_the_mixed_stream():
    """``psf="disc"``: the same draws (mask, σ) as the Gaussian pair, the blur a normalised pillbox of
    radius 2σ; ``multifocus_psf="mixed"`` picks one of the two per sample from its own stream, so
    its Gaussian samples are exactly those of ``"gaussian"``."""
    from scipy import ndimage

    from mutualfuse.errors import ParameterError
    from mutualfuse.train.data import PairCrops

    sharp = np.random.default_rng(1).random((48, 56)).astype(np.float32)
    tg, ag, bg = synthetic_multifocus(sharp, np.random.default_rng(7), (1.5, 1.5))
    td, ad, bd = synthetic_multifocus(sharp, np.random.default_rng(7), (1.5, 1.5), psf="disc")
    assert np.array_equal(tg, td) and not np.allclose(ad, ag, atol=1e-3)
    k = np.arange(-3, 4)
    disc = (k[:, None] ** 2 + k[None, :] ** 2 <= 9).astype(np.float32)
    blur = ndimage.convolve(sharp, disc / disc.sum(), mode="reflect")
    gauss = ndimage.gaussian_filter(sharp, 1.5, mode="reflect").astype(np.float64)
    ok = (np.abs(sharp - blur) > 0.05) & (np.abs(sharp - gauss) > 0.05)  # where the mask is well defined
    m_g = np.where(ok, (ag - gauss) / np.where(ok, sharp - gauss, 1.0), 0.0)
    # a = m·I + (1 − m)·blur with the Gaussian pair's mask m
    assert_close(ad[ok], (m_g * sharp + (1 - m_g) * blur)[ok], dtype=np.float32)
    with pytest.raises(ParameterError, match="psf"):
        synthetic_multifocus(sharp, np.random.default_rng(7), psf="box")

    class Stub(PairCrops):  # PairCrops without reading files
        def __init__(self, **kw):
            self.images, self.names = [(sharp, sharp)] * 6, [f"{i}" for i in range(6)]
            self.crop, self.seed, self.hflip, self.center, self.with_truth = 32, 0, False, False, True
            self.multifocus, self.multifocus_sigma, self.swap, self.blackout, self.epoch = 1.0, (1.0, 4.0), 0.0, 0.0, 0
            self.multifocus_psf = kw["psf"]
            self.multifocus_breathing = kw.get("breathing", (0.0, 0.0))

    g, d, mixed = Stub(psf="gaussian"), Stub(psf="disc"), Stub(psf="mixed")
    kinds = []
    for i in range(6):
        m = [x[i][0] for x in (mixed, g, d)]
        kinds.append("gaussian" if np.array_equal(m[0], m[1]) else "disc" if np.array_equal(m[0], m[2]) else "?")
    assert "?" not in kinds and set(kinds) == {"gaussian", "disc"}, kinds

    # focus breathing: one source (either) magnified by 1 + u from its own stream; the rest unchanged
    from mutualfuse.train.data import magnify

    br = Stub(psf="mixed", breathing=(0.01, 0.01))
    which = []
    for i in range(6):
        (a0, b0, t0, _), (a1, b1, t1, _) = mixed[i], br[i]
        assert torch.equal(t0, t1)
        if torch.equal(a0, a1):
            which.append("b")
            assert_close(b1[0].numpy(), magnify(b0[0].numpy(), 1.01), dtype=np.float32)
        else:
            which.append("a")
            assert torch.equal(b0, b1)
            assert_close(a1[0].numpy(), magnify(a0[0].numpy(), 1.01), dtype=np.float32)
    assert set(which) == {"a", "b"}, which


def test_magnify_scales_about_the_centre():
    """:func:`magnify`: scale 1 is the identity; a ramp's slope is multiplied by the scale about the
    centre (bilinear is exact on a ramp away from the edges); shape and dtype kept."""
    from mutualfuse.train.data import magnify

    x = np.tile(np.arange(41, dtype=np.float32), (31, 1))
    assert_close(magnify(x, 1.0), x, dtype=np.float32)
    y = magnify(x, 1.25)
    assert y.shape == x.shape and y.dtype == np.float32
    assert_close(y[:, 5:36], ((x - 20) / 1.25 + 20)[:, 5:36], dtype=np.float32)


def test_cosine_schedule():
    cfg = TrainConfig(lr=1e-3, lr_schedule="cosine", warmup_steps=10, min_lr_ratio=0.1, steps=110)
    assert lr_at(cfg, 1) == pytest.approx(1e-4)
    assert lr_at(cfg, 10) == pytest.approx(1e-3)
    assert lr_at(cfg, 60) == pytest.approx(1e-4 + 0.5 * 9e-4)
    assert lr_at(cfg, 110) == pytest.approx(1e-4)
    assert lr_at(TrainConfig(lr=3e-4), 57) == 3e-4


def test_blend_residual_adds_the_third_channel():
    net = _net(output="blend_residual")
    a = torch.rand(1, 1, 16, 20, dtype=torch.float64)
    b = torch.rand(1, 1, 16, 20, dtype=torch.float64)
    with torch.no_grad():
        fx, fy = net.encode(a, b)
        raw = net.decoder(net.fuse(fx, fy))
        w = net.blend_weights(a, b)
        assert raw.shape[1] == 3
        assert_close(net(a, b), w * a + (1 - w) * b + raw[:, 2:])


def test_losses_fusion_rules_and_profiles_are_registries():
    from mutualfuse.metrics.profiles import PROFILE_REGISTRY, PROFILES
    from mutualfuse.model.mutual_mapping import FUSION_RULES
    from mutualfuse.registry import Registry

    for reg in (FUSION_RULES, PROFILE_REGISTRY):
        assert isinstance(reg, Registry)
    assert FUSION_RULES.names() == ["mapping", "add", "concat"]
    assert list(PROFILES) == PROFILE_REGISTRY.names() and "paper" in PROFILES
    assert sorted(LOSSES) == ["mean_ssim", "var_ssim", "var_ssim_grad", "var_ssim_grad_int"]
    with pytest.raises(KeyError, match="did you mean"):
        FUSION_RULES.get("maping")


@pytest.mark.parametrize("over, key", [
    ({"data": {"multifocus": 1.5}}, "data.multifocus"),
    ({"data": {"multifocus_sigma": [3.0, 1.0]}}, "data.multifocus_sigma"),
    ({"data": {"multifocus_psf": "box"}}, "data.multifocus_psf"),
    ({"data": {"multifocus_breathing": [0.02, 0.01]}}, "data.multifocus_breathing"),
    ({"data": {"multifocus_breathing": [0.0, 0.5]}}, "data.multifocus_breathing"),
    ({"lr_schedule": "step"}, "lr_schedule"),
    ({"warmup_steps": -1}, "warmup_steps"),
    ({"min_lr_ratio": 2.0}, "min_lr_ratio"),
    ({"loss_params": [1, 2]}, "loss_params"),
    ({"cpu_amp": "fp16"}, "cpu_amp"),
    ({"cpu_amp": True}, "cpu_amp"),
    ({"train_token_budget": -1}, "train_token_budget"),
])
def test_new_training_options_are_validated(over, key):
    from mutualfuse.errors import ParameterError

    with pytest.raises(ParameterError, match=key.replace(".", r"\.")):
        TrainConfig.from_dict(over)


def test_map_residual_starts_at_zero_and_adds_the_own_feature():
    """``map_residual``: Map_X = attention + γ_X ⊙ f_x; γ = 0 at start (same output as without)."""
    plain, res = _net(), _net(map_residual=True)
    res.load_state_dict({**plain.state_dict(), "fusion.map_gain": torch.zeros(2, 8, dtype=torch.float64)})
    g = torch.Generator().manual_seed(4)
    a = torch.rand(1, 1, 24, 32, dtype=torch.float64, generator=g)
    b = torch.rand(1, 1, 24, 32, dtype=torch.float64, generator=g)
    with torch.no_grad():
        assert_close(res(a, b), plain(a, b))
        res.fusion.map_gain.copy_(torch.linspace(-1, 1, 16, dtype=torch.float64).view(2, 8))
        fx, fy = res.encode(a, b)
        mx, my = res.fusion.deepest_maps(fx[-1], fy[-1])
        ax, ay = res.fusion.mutual_maps(fx[-1], fy[-1])
        gam = res.fusion.map_gain
        assert_close(mx, ax + gam[0].view(1, -1, 1, 1) * fx[-1])
        assert_close(my, ay + gam[1].view(1, -1, 1, 1) * fy[-1])
        # pooled (token budget): only the attention is pooled; the residual stays exact
        px, _ = res.fusion.pooled_maps(fx[-1], fy[-1], 2)
        saved = gam.clone()
        gam.zero_()
        attn_pooled, _ = res.fusion.pooled_maps(fx[-1], fy[-1], 2)
        gam.copy_(saved)
        assert_close(px, attn_pooled + gam[0].view(1, -1, 1, 1) * fx[-1])
        assert not torch.allclose(res(a, b), plain(a, b))


def test_map_residual_init_sets_every_gamma():
    net = _net(map_residual=True, map_residual_init=10.0)
    assert torch.equal(net.fusion.map_gain, torch.full((2, 8), 10.0, dtype=torch.float64))
    assert not hasattr(_net().fusion, "map_gain")


def test_truth_loss_is_one_minus_ssim_plus_l1_on_the_marked_samples():
    """L_truth against an independent SSIM (scikit-image, Gaussian σ 1.5, valid windows, L = 1)."""
    from skimage.metrics import structural_similarity

    from mutualfuse.losses import truth_loss

    g = torch.Generator().manual_seed(0)
    t = torch.rand(3, 1, 32, 40, generator=g, dtype=torch.float64)
    f = (t + 0.1 * torch.rand(3, 1, 32, 40, generator=g, dtype=torch.float64)).clamp(0, 1)
    mask = torch.tensor([1.0, 0.0, 1.0])
    expect = 0.0
    for i in (0, 2):
        s = structural_similarity(f[i, 0].numpy(), t[i, 0].numpy(), data_range=1.0, gaussian_weights=True,
                                  sigma=1.5, use_sample_covariance=False)
        expect += (1 - s) + float((f[i] - t[i]).abs().mean())
    assert_close(truth_loss(f, t, mask).double(), torch.tensor(expect / 3, dtype=torch.float64),
                 dtype=torch.float32)  # the loss computes in float32
    assert float(truth_loss(f, t, torch.zeros(3))) == 0.0  # no truth in the batch: no term
    assert float(truth_loss(t, t, torch.ones(3))) < 1e-5   # F = truth: nothing to gain
    w = f.clone().requires_grad_(True)
    truth_loss(w, t, mask).backward()
    assert float(w.grad[1].abs().max()) == 0.0 and float(w.grad[0].abs().max()) > 0  # unmarked: no gradient


def test_pair_crops_truth_and_swap(tmp_path):
    from PIL import Image

    from mutualfuse.train.data import PairCrops

    rng = np.random.default_rng(1)
    for role in ("ir", "vis"):
        (tmp_path / role).mkdir()
    pairs = []
    for k in range(4):
        for role in ("ir", "vis"):
            Image.fromarray((rng.random((40, 44)) * 255).astype(np.uint8)).save(tmp_path / role / f"{k}.png")
        pairs.append((tmp_path / "ir" / f"{k}.png", tmp_path / "vis" / f"{k}.png"))
    plain = PairCrops(pairs, 32, 0, multifocus=0.5)
    truth = PairCrops(pairs, 32, 0, multifocus=0.5, with_truth=True)
    swapped = PairCrops(pairs, 32, 0, multifocus=0.5, with_truth=True, swap=1.0)
    kinds = set()
    for i in range(4):
        a, b = plain[i]
        ta, tb, t, m = truth[i]
        sa, sb, st, sm = swapped[i]
        assert torch.equal(a, ta) and torch.equal(b, tb)      # the truth changes no sample
        assert torch.equal(sa, b) and torch.equal(sb, a)      # swap 1: roles exchanged
        assert torch.equal(st, t) and float(sm) == float(m)   # ... the truth stays
        if float(m):  # a multi-focus sample: a + b = truth + its blur, both differ from the truth
            assert float((a - t).abs().max()) > 0.01 and float((b - t).abs().max()) > 0.01
        else:
            assert float(t.abs().max()) == 0.0
        kinds.add(float(m))
    assert kinds == {0.0, 1.0}
    # blackout 1: every sample without a truth has one source black under a mask, the other intact
    dark = PairCrops(pairs, 32, 0, multifocus=0.5, with_truth=True, blackout=1.0)
    blacked = set()
    for i in range(4):
        a, b, t, m = truth[i]
        da, db, dt, dm = dark[i]
        if float(m):  # multi-focus samples keep their truth: no blackout
            assert torch.equal(da, a) and torch.equal(db, b)
            continue
        which = "a" if not torch.equal(da, a) else "b"
        src, out, other, kept = (a, da, b, db) if which == "a" else (b, db, a, da)
        assert torch.equal(kept, other)
        assert float((out == 0).float().mean()) > 0.1 and bool((out <= src).all())
        blacked.add(which)
    assert blacked


def test_truth_loss_gradient_term_is_the_mean_sobel_magnitude_difference():
    """γ · mean | |∇F| − |∇T| | on the marked samples, against SciPy's Sobel filters ('valid' part)."""
    from scipy import ndimage

    from mutualfuse.losses import truth_loss

    g = torch.Generator().manual_seed(1)
    t = torch.rand(2, 1, 24, 30, generator=g, dtype=torch.float64)
    f = (0.8 * t + 0.2 * torch.rand(2, 1, 24, 30, generator=g, dtype=torch.float64)).clamp(0, 1)
    mask = torch.tensor([1.0, 1.0])

    def mag(x):
        x = x.numpy()
        return np.hypot(ndimage.sobel(x, axis=1), ndimage.sobel(x, axis=0))[1:-1, 1:-1]  # 'valid' borders

    expect = sum(float(np.abs(mag(f[i, 0]) - mag(t[i, 0])).mean()) for i in range(2)) / 2
    got = truth_loss(f, t, mask, grad_weight=3.0) - truth_loss(f, t, mask)
    assert_close(got.double(), torch.tensor(3.0 * expect, dtype=torch.float64), dtype=torch.float32)
    assert float(truth_loss(t, t, mask, grad_weight=3.0)) < 1e-5  # F = truth: nothing to gain
    # a blurred truth loses edge strength: the term is what grows
    blur = torch.nn.functional.avg_pool2d(t, 3, 1, 1, count_include_pad=False)
    assert float(truth_loss(blur, t, mask, grad_weight=1.0) - truth_loss(blur, t, mask)) > 0.05


@pytest.mark.parametrize("over, key", [
    ({"truth_weight": 1.0}, "truth_weight"),  # no multi-focus samples: nothing has a truth
    ({"truth_weight": -1.0, "data": {"multifocus": 0.3}}, "truth_weight"),
    ({"truth_grad_weight": 1.0, "data": {"multifocus": 0.3}}, "truth_grad_weight"),  # no truth term to be part of
    ({"truth_grad_weight": -1.0, "truth_weight": 1.0, "data": {"multifocus": 0.3}}, "truth_grad_weight"),
    ({"data": {"swap": 1.5}}, "data.swap"),
    ({"data": {"swap": True}}, "data.swap"),
    ({"data": {"blackout": -0.1}}, "data.blackout"),
])
def test_truth_and_swap_options_are_validated(over, key):
    from mutualfuse.errors import ParameterError

    with pytest.raises(ParameterError, match=key.replace(".", r"\.")):
        TrainConfig.from_dict(over)


def test_detail_gain_scales_the_detail_bands():
    from mutualfuse.model.pyramid import pyramid_blend

    net = _net(output="pyramid", pyramid_levels=3)
    a = torch.rand(1, 1, 16, 20, dtype=torch.float64)
    b = torch.rand(1, 1, 16, 20, dtype=torch.float64)
    with torch.no_grad():
        ws = net._band_weights(net.decoder(net.fuse(*net.encode(a, b))))
        plain = net(a, b)
        assert_close(plain, pyramid_blend([w.double() for w in ws], a, b))
        net.cfg.detail_gain = 1.3
        sharp = net(a, b)
    assert_close(sharp, pyramid_blend([w.double() for w in ws], a, b, [1.3, 1.3]))
    assert float((sharp - plain).abs().max()) > 1e-3
    with pytest.raises(ValueError, match="detail_gain"):
        ModelConfig(output="blend", detail_gain=1.2)
    with pytest.raises(ValueError, match="detail_gain"):
        ModelConfig(output="pyramid", detail_gain=3.0)


def test_validation_blackout_rewards_taking_the_other_source():
    from mutualfuse.train.loop import validation_blackout

    class Rule(torch.nn.Module):
        def __init__(self, fn):
            super().__init__()
            self.fn = fn

        def forward(self, x, y):
            return self.fn(x, y)

    rng = np.random.default_rng(0)
    images = [(rng.random((48, 56)).astype(np.float32), rng.random((48, 56)).astype(np.float32)) for _ in range(2)]
    best = validation_blackout(Rule(torch.maximum), images)["val_black_psnr"]  # max(0, s) = s: exact
    first = validation_blackout(Rule(lambda x, y: x), images)["val_black_psnr"]  # half the time black
    mean = validation_blackout(Rule(lambda x, y: (x + y) / 2), images)["val_black_psnr"]
    assert best == pytest.approx(120.0)  # MSE 0 is capped at 1e-12
    assert first < mean < best


def test_map_align_starts_as_eq1_and_projects_each_levels_maps():
    """``map_align``: w_X = act(P_X Map_X, P_Y Map_Y) per level; P = identity at the start."""
    from mutualfuse.model.mutual_mapping import apply_maps

    plain, al = _net(), _net(map_align=True)
    missing = al.load_state_dict(plain.state_dict(), strict=False).missing_keys
    assert sorted(missing) == [f"fusion.align_{s}.{k}.weight" for s in "xy" for k in range(3)]
    g = torch.Generator().manual_seed(5)
    a = torch.rand(1, 1, 24, 32, dtype=torch.float64, generator=g)
    b = torch.rand(1, 1, 24, 32, dtype=torch.float64, generator=g)
    with torch.no_grad():
        assert_close(al(a, b), plain(a, b))  # identity projections: Eq. 1 per channel
        # P_Y swaps Y's first two channels at the deepest level: the weights of channel 0 now
        # compare Map_X[0] with Map_Y[1]
        p = torch.eye(8, dtype=torch.float64)[[1, 0, *range(2, 8)]]
        al.fusion.align_y[2].weight.copy_(p.view(8, 8, 1, 1))
        fx, fy = al.encode(a, b)
        mx, my = al.fusion.deepest_maps(fx[-1], fy[-1])
        fused = al.fusion(fx, fy)
        wx = torch.sigmoid(mx - my[:, [1, 0, *range(2, 8)]])
        assert_close(fused[2], wx * fx[-1] + (1 - wx) * fy[-1])
        assert_close(apply_maps(mx, my, fx[-1], fy[-1], "softmax", (al.fusion.align_x[2], al.fusion.align_y[2])),
                     fused[2])
        # the shallower levels still use the raw (unprojected) deepest maps in their dense
        # connections: level 1 is unchanged by the deepest projection
        assert_close(fused[1], plain.fusion(*plain.encode(a, b))[1])
        assert not torch.allclose(al(a, b), plain(a, b))
    assert not hasattr(plain.fusion, "align_x")


def test_shared_encoder_is_one_encoder_for_both_sources(tmp_path):
    """``shared_encoder``: the weights hold ``enc_x`` only, both sources go through it, and a
    two-encoder file initialises it from its ``enc_x`` (its ``enc_y`` reported unused)."""
    from mutualfuse.train.loop import init_from_weights
    from mutualfuse.weights import save_weights

    two, one = _net(), _net(shared_encoder=True)
    assert not hasattr(one, "enc_y") and not any(k.startswith("enc_y.") for k in one.state_dict())
    n_enc = sum(p.numel() for p in two.enc_x.parameters())
    assert sum(p.numel() for p in two.parameters()) - sum(p.numel() for p in one.parameters()) == n_enc
    g = torch.Generator().manual_seed(7)
    a = torch.rand(2, 1, 24, 32, dtype=torch.float64, generator=g)
    b = torch.rand(2, 1, 24, 32, dtype=torch.float64, generator=g)
    with torch.no_grad():
        fx, fy = one.encode(a, b)
        for f, ref in zip(fx + fy, one.enc_x(a) + one.enc_x(b)):
            assert_close(f, ref)
        # one encoder and Eq. 1's symmetric rule: swapping the sources swaps the features
        gx, gy = one.encode(b, a)
        for f, ref in zip(gx + gy, fy + fx):
            assert_close(f, ref)
    path = tmp_path / "two.safetensors"
    save_weights(path, two.float(), two.cfg, {})
    fresh = _net(shared_encoder=True).float()
    report = init_from_weights(fresh, str(path))
    assert report["unused"] == sorted(k for k in two.state_dict() if k.startswith("enc_y."))
    assert not report["fresh"]
    for k, v in fresh.state_dict().items():
        assert torch.equal(v, two.state_dict()[k])
    # a shared-encoder file round-trips (its config says to build one encoder)
    from mutualfuse.weights import load_model

    save_weights(tmp_path / "one.safetensors", fresh, fresh.cfg, {})
    back = load_model(tmp_path / "one.safetensors")[0].double().eval()
    assert back.cfg.shared_encoder and not hasattr(back, "enc_y")
    with torch.no_grad():
        assert_close(back(a, b), fresh.double()(a, b))
    with pytest.raises(ValueError, match="shared_encoder"):
        ModelConfig(arch="vifnet", shared_encoder=True)


def test_map_center_makes_global_mean_maps_symmetric():
    """``map_center``: with the maps replaced by their global means, Eq. 1 weighs both sources
    by ½ away from the borders, so with one encoder the fused features are symmetric in the
    sources; the shallow offsets are the dense convolutions' bias chain (closed form = the
    convolutions run on zero deepest maps); the real maps are centred and change the output."""
    net = _net(attn_local_sigma=1.5, shared_encoder=True, map_center=True, padding="reflect")
    fusion = net.fusion
    with torch.no_grad():  # random biases, so that the offsets are not trivially zero
        for i, conv in enumerate(list(fusion.map_convs_x) + list(fusion.map_convs_y)):
            conv.bias.normal_(0, 0.5, generator=torch.Generator().manual_seed(i))
    g = torch.Generator().manual_seed(5)
    a = torch.rand(1, 1, 32, 48, dtype=torch.float64, generator=g)
    b = torch.rand(1, 1, 32, 48, dtype=torch.float64, generator=g)
    with torch.no_grad():
        fx, fy = net.encode(a, b)
        mx, my = fusion.deepest_maps(fx[-1], fy[-1])
        assert_close(mx.mean(dim=(2, 3)), torch.zeros_like(mx.mean(dim=(2, 3))))
        assert mx.std() > 0
        # closed-form offsets = the dense convolutions on zero deepest maps (reflect padding: exact)
        offsets = fusion.center_offsets()
        deep = len(fx) - 1
        zx = {deep: torch.zeros_like(mx)}
        zy = {deep: torch.zeros_like(my)}
        for k in range(deep - 1, -1, -1):
            size = fx[k].shape[-2:]
            zx[k] = fusion.map_convs_x[k](torch.cat([torch.nn.functional.interpolate(zx[t], size=size) for t in range(k + 1, deep + 1)], 1))
            zy[k] = fusion.map_convs_y[k](torch.cat([torch.nn.functional.interpolate(zy[t], size=size) for t in range(k + 1, deep + 1)], 1))
            assert offsets[k].abs().max() > 0.1
            assert_close((zx[k] - zy[k]).mean(dim=(2, 3))[0], offsets[k])
        mean = tuple(m.mean(dim=(2, 3), keepdim=True).expand_as(m) for m in (mx, my))
        fused = net.fuse(fx, fy, maps=mean)
        for f, u, v in zip(fused, fx, fy):
            assert_close(f, (u + v) / 2)  # w_X = 1/2 everywhere (reflect padding: no border effect)
        full = net.fuse(fx, fy)
        assert max((f - h).abs().max() for f, h in zip(full, fused)) > 1e-3
    with pytest.raises(ValueError, match="map_center"):
        ModelConfig(map_center=True)  # two encoders
    with pytest.raises(ValueError, match="map_center"):
        ModelConfig(map_center=True, shared_encoder=True, map_activation="sigmoid")


def test_map_global_bound_adds_back_a_bounded_global_preference():
    """``map_global_bound``: at s = 0 the model is the centred one; with s ≠ 0 the deepest logit of
    global-mean maps is g = B·tanh(s ⊙ (μ_X − μ_Y)/B) of the uncentred maps' means, |g| < B, the
    local part is unchanged, and global-mean maps no longer blend the sources ½/½."""
    bound = 0.5
    opts = dict(attn_local_sigma=1.5, shared_encoder=True, map_center=True, padding="reflect")
    centred = _net(**opts)
    net = _net(**opts, map_global_bound=bound)
    assert net.load_state_dict(centred.state_dict(), strict=False).missing_keys == ["fusion.map_global_gain"]
    g = torch.Generator().manual_seed(7)
    a = torch.rand(1, 1, 32, 48, dtype=torch.float64, generator=g)
    b = torch.rand(1, 1, 32, 48, dtype=torch.float64, generator=g) ** 2
    with torch.no_grad():
        assert_close(net(a, b), centred(a, b))  # s = 0: exactly the centred model
        net.fusion.map_global_gain.copy_(torch.linspace(-400, 400, net.fusion.map_global_gain.numel()))
        fx, fy = net.encode(a, b)
        mx, my = net.fusion.deepest_maps(fx[-1], fy[-1])
        raw_x, raw_y = net.fusion.mutual_maps(fx[-1], fy[-1])
        diff = (raw_x - raw_y).mean(dim=(2, 3))[0]
        s = net.fusion.map_global_gain
        want = bound * torch.tanh(s * diff / bound)
        got = (mx - my).mean(dim=(2, 3))[0]
        assert_close(got, want)
        assert got.abs().max() > 0.5 * bound and bool((got.abs() < bound).all())
        assert_close(((mx - my) - (mx - my).mean(dim=(2, 3), keepdim=True)),
                     (raw_x - raw_y) - (raw_x - raw_y).mean(dim=(2, 3), keepdim=True))  # local part unchanged
        mean = tuple(m.mean(dim=(2, 3), keepdim=True).expand_as(m) for m in (mx, my))
        deep = net.fuse(fx, fy, maps=mean)[-1]
        wx = torch.sigmoid(want).view(1, -1, 1, 1)
        assert_close(deep, wx * fx[-1] + (1 - wx) * fy[-1])
        assert not torch.allclose(deep, (fx[-1] + fy[-1]) / 2)
    with pytest.raises(ValueError, match="map_global_bound needs map_center"):
        ModelConfig(map_global_bound=1.0, shared_encoder=True)
    with pytest.raises(ValueError, match="map_global_bound"):
        ModelConfig(**{**opts, "map_global_bound": -1.0})


def _base_head_pair(**over):
    """A pyramid model without and with ``base_head`` (same other weights), the head's last layer random."""
    opts = dict(output="pyramid", pyramid_levels=3, blend_bound=5.0, **over)
    plain = _net(**opts)
    net = _net(**opts, base_head=6)
    assert sorted(net.load_state_dict(plain.state_dict(), strict=False).missing_keys) == [
        "base_head.0.bias", "base_head.0.weight", "base_head.2.bias", "base_head.2.weight"]
    return plain, net


def test_base_head_changes_only_the_base_band_and_is_antisymmetric():
    """``base_head``: zero at the start (the model without it); afterwards the base band's weights
    move and the detail bands' do not; d(a, b) = −d(b, a) exactly; validation of the field."""
    from mutualfuse.model.pyramid import gaussian_base, laplacian_pyramid

    plain, net = _base_head_pair()
    g = torch.Generator().manual_seed(11)
    a = torch.rand(2, 1, 32, 40, dtype=torch.float64, generator=g)
    b = torch.rand(2, 1, 32, 40, dtype=torch.float64, generator=g) ** 3
    with torch.no_grad():
        assert_close(net(a, b), plain(a, b))  # last layer zero: the model without the head
        torch.nn.init.normal_(net.base_head[2].weight, 0.0, 2.0, generator=torch.Generator().manual_seed(2))
        net.base_head[2].bias.fill_(0.7)  # cancels in the antisymmetric difference
        d = net.base_logit(a, b)
        assert d.shape == (2, 1, 8, 10) and float(d.abs().max()) > 0.1
        assert_close(net.base_logit(b, a), -d)
        assert_close(gaussian_base(a, 3), laplacian_pyramid(a, 3)[-1])
        out = net.decoder(net.fuse(*net.encode(a, b)))
        w0, w1 = plain._band_weights(out), net._band_weights(out, a, b)
        for j in range(2):
            assert_close(w1[j], w0[j])
        assert float((w1[2] - w0[2]).abs().max()) > 1e-2
        assert float((net(a, b) - plain(a, b)).abs().max()) > 1e-3
        with pytest.raises(ValueError, match="needs the sources"):
            net._band_weights(out)
    with pytest.raises(ValueError, match="base_head"):
        ModelConfig(output="blend", base_head=4)
    with pytest.raises(ValueError, match="base_head"):
        ModelConfig(output="pyramid", base_head=-1)


def test_streaming_equals_one_shot_with_a_base_head():
    """The head is pointwise at the base band's resolution, so the pyramid's halo covers it."""
    _, net = _base_head_pair(attn_local_sigma=1.5, shared_encoder=True, map_center=True, token_budget=0)
    net = net.float()
    with torch.no_grad():
        torch.nn.init.normal_(net.base_head[2].weight, 0.0, 2.0, generator=torch.Generator().manual_seed(2))
    from mutualfuse.tiling import n_windows

    g = torch.Generator().manual_seed(3)
    a = torch.rand(1, 1, 150, 400, generator=g)
    b = torch.rand(1, 1, 150, 400, generator=g)
    assert n_windows(net, 150, 400, 40 * 40) >= 3  # the pyramid's halo makes windows large
    with torch.no_grad():
        ref = net(a, b)
    assert_close(streamed_forward(net, a, b, max_window_pixels=40 * 40), ref, dtype=torch.float32)


def _given_rule_net(**over):
    """A pyramid model (three bands, bounded logits, T = 0.5) and its head output on a random pair."""
    net = _net(output="pyramid", pyramid_levels=3, blend_bound=5.0, blend_temperature=0.5, **over)
    g = torch.Generator().manual_seed(21)
    a = torch.rand(2, 1, 32, 40, dtype=torch.float64, generator=g)
    b = torch.rand(2, 1, 32, 40, dtype=torch.float64, generator=g) ** 2
    with torch.no_grad():
        out = net.decoder(net.fuse(*net.encode(a, b)))
    return net, a, b, out


def _weight_closed_form(net, z_pair, temperature, extra=None):
    """σ(b·tanh(Δz/b)/T + e) written out: the weight of X in one band."""
    bnd = net.cfg.blend_bound
    dz = bnd * torch.tanh(z_pair[:, :1] / bnd) - bnd * torch.tanh(z_pair[:, 1:] / bnd)
    return torch.sigmoid(dz / temperature + (0 if extra is None else extra))


def test_base_brightness_adds_the_given_rule_to_the_base_band_only():
    """w_base = σ(Δz/T + β·(G_X − G_Y)); detail bands as without it; swapping the sources with
    swapped logits gives 1 − w; β = 0 is the model without the rule."""
    from mutualfuse.model.pyramid import band_logits, laplacian_pyramid

    net, a, b, out = _given_rule_net()
    with torch.no_grad():
        w0 = net._band_weights(out, a, b)
        net.cfg.base_brightness = 7.0
        w1 = net._band_weights(out, a, b)
        zs = band_logits(out[:, :6], 3)
        gx, gy = laplacian_pyramid(a, 3)[-1], laplacian_pyramid(b, 3)[-1]
        assert_close(w1[2], _weight_closed_form(net, zs[2], 0.5, 7.0 * (gx - gy)))
        for j in range(2):
            assert_close(w1[j], w0[j])
        assert float((w1[2] - w0[2]).abs().max()) > 0.05
        swapped = net._band_weights(torch.cat([out[:, 1::2], out[:, 0::2]], 1)[:, [0, 3, 1, 4, 2, 5]], b, a)
        assert_close(swapped[2], 1 - w1[2])
        assert float((net(a, b) - pyramid_blend_of(net, w0, a, b)).abs().max()) > 1e-3
        with pytest.raises(ValueError, match="needs the sources"):
            net._band_weights(out)


def pyramid_blend_of(net, ws, a, b):
    from mutualfuse.model.pyramid import pyramid_blend

    return pyramid_blend([w.to(a.dtype) for w in ws], a, b)


def test_detail_activity_adds_the_choose_max_rule_to_the_detail_bands_only():
    """w_j = σ(Δz_j/T + γ·(A_X,j − A_Y,j)), A = 3×3 mean of |L_j| (border windows: the pixels
    inside); the base band as without it; the forward pass blends with these weights."""
    from mutualfuse.model.pyramid import band_activity, band_logits, laplacian_pyramid

    band = torch.arange(20, dtype=torch.float64).reshape(1, 1, 4, 5) - 7.0
    act = band_activity(band)
    assert_close(act[0, 0, 1, 1], band[0, 0, :3, :3].abs().mean())
    assert_close(act[0, 0, 0, 0], band[0, 0, :2, :2].abs().mean())
    assert_close(act[0, 0, 3, 4], band[0, 0, 2:, 3:].abs().mean())
    net, a, b, out = _given_rule_net()
    with torch.no_grad():
        w0 = net._band_weights(out, a, b)
        net.cfg.detail_activity = 150.0
        w1 = net._band_weights(out, a, b)
        zs = band_logits(out[:, :6], 3)
        px, py = laplacian_pyramid(a, 3), laplacian_pyramid(b, 3)
        for j in range(2):
            e = 150.0 * (band_activity(px[j]) - band_activity(py[j]))
            assert_close(w1[j], _weight_closed_form(net, zs[j], 0.5, e))
            assert float((w1[j] - w0[j]).abs().max()) > 0.05
        assert_close(w1[2], w0[2])
        assert_close(net(a, b), pyramid_blend_of(net, w1, a, b))


def test_base_temperature_applies_to_the_base_band_only():
    from mutualfuse.model.pyramid import band_logits

    net, a, b, out = _given_rule_net()
    with torch.no_grad():
        w0 = net._band_weights(out, a, b)
        net.cfg.base_temperature = 2.0
        w1 = net._band_weights(out, a, b)
        zs = band_logits(out[:, :6], 3)
        assert_close(w1[2], _weight_closed_form(net, zs[2], 2.0))
        assert_close(w0[2], _weight_closed_form(net, zs[2], 0.5))
        for j in range(2):
            assert_close(w1[j], w0[j])


@pytest.mark.parametrize("field, bad, good", [
    ("base_brightness", (-1.0, float("nan"), float("inf"), 2000.0), 5.0),
    ("detail_activity", (-1.0, float("nan"), float("inf"), 20000.0), 5.0),
    ("base_temperature", (-0.5, float("nan"), float("inf")), 1.0),
])
def test_given_rule_fields_are_validated(field, bad, good):
    """Out-of-range values are refused; a valid value is refused on a non-pyramid output."""
    assert getattr(ModelConfig(output="pyramid", **{field: good}), field) == good
    for v in bad:
        with pytest.raises(ValueError, match=field):
            ModelConfig(output="pyramid", **{field: v})
    for out in ("blend", "blend_residual", "direct"):
        with pytest.raises(ValueError, match=field):
            ModelConfig(output=out, **{field: good})


def test_streaming_equals_one_shot_with_the_given_rules():
    """The brightness rule is pointwise at the base band's resolution and the activity a 3×3
    window per band, inside the pyramid's halo: streaming gives the one-shot result."""
    net = _net(output="pyramid", pyramid_levels=3, blend_bound=5.0, attn_local_sigma=1.5, shared_encoder=True,
               map_center=True, token_budget=0, blend_temperature=0.25, base_brightness=20.0,
               detail_activity=300.0, base_temperature=0.5).float()
    from mutualfuse.tiling import n_windows

    g = torch.Generator().manual_seed(5)
    a = torch.rand(1, 1, 150, 400, generator=g)
    b = torch.rand(1, 1, 150, 400, generator=g) ** 2
    assert n_windows(net, 150, 400, 40 * 40) >= 3
    with torch.no_grad():
        ref = net(a, b)
        plain = _net(output="pyramid", pyramid_levels=3, blend_bound=5.0, attn_local_sigma=1.5, shared_encoder=True,
                     map_center=True, token_budget=0, blend_temperature=0.25).float()
        plain.load_state_dict(net.state_dict())
        assert float((ref - plain(a, b)).abs().max()) > 1e-3  # the rules change the output
    assert_close(streamed_forward(net, a, b, max_window_pixels=40 * 40), ref, dtype=torch.float32)


def test_max_intensity_loss_compares_low_passes_with_their_maximum():
    """L_int = mean |G(F) − max(G(X), G(Y))|: zero when F is the brighter source everywhere,
    the mean low-pass difference when F is the darker one, symmetric in X and Y; the combined
    loss adds it with its weight."""
    from mutualfuse.losses import max_intensity_loss, var_ssim_grad_int_loss, var_ssim_grad_loss
    from mutualfuse.model.pyramid import gaussian_base

    g = torch.Generator().manual_seed(8)
    y = 0.5 * torch.rand(2, 1, 32, 40, dtype=torch.float64, generator=g)
    x = y + 0.1 + 0.3 * torch.rand(2, 1, 32, 40, dtype=torch.float64, generator=g)  # brighter everywhere
    assert float(max_intensity_loss(x, y, x)) < 1e-6
    want = float((gaussian_base(x.float(), 4) - gaussian_base(y.float(), 4)).mean())
    assert_close(max_intensity_loss(x, y, y), torch.tensor(want, dtype=torch.float32))
    assert want > 0.1
    f = 0.5 * (x + y)
    assert_close(max_intensity_loss(x, y, f), max_intensity_loss(y, x, f))
    assert_close(var_ssim_grad_int_loss(x, y, f, grad_weight=2.0, int_weight=3.0, int_levels=3),
                 var_ssim_grad_loss(x, y, f, grad_weight=2.0) + 3.0 * max_intensity_loss(x, y, f, 3),
                 dtype=torch.float32)
    assert "var_ssim_grad_int" in LOSSES


def test_local_sigma_network_runs_cast_to_bfloat16():
    """A network cast to bfloat16 (weights too) with query/key projections and the locality bias:
    the mapping runs in float32 with its projections' weights cast to float32 (it used to fail:
    float32 input, bfloat16 bias)."""
    ref_net = _net(torch.float32, attn_local_sigma=1.0, token_budget=0)
    g = torch.Generator().manual_seed(8)
    a, b = torch.rand(1, 1, 32, 40, generator=g), torch.rand(1, 1, 32, 40, generator=g)
    with torch.no_grad():
        ref = ref_net(a, b)
        low = ref_net.to(torch.bfloat16)(a.bfloat16(), b.bfloat16())
    assert low.dtype == torch.bfloat16 and torch.isfinite(low).all()
    assert_close(low.float(), ref, dtype=torch.bfloat16)
