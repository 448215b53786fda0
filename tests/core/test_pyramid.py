"""The Laplacian-pyramid output head (``output="pyramid"``) and warm starts (``init_weights``)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from mutualfuse.errors import ParameterError
from mutualfuse.model import ModelConfig, build_model
from mutualfuse.model.pyramid import band_logits, collapse_pyramid, laplacian_pyramid, pyramid_blend
from mutualfuse.train.loop import init_from_weights
from mutualfuse.weights import save_weights
from tolerance import assert_close

PYR = dict(widths=(4, 8, 8), attn_dim=6, attn_pos_freqs=3, padding="zeros", output="pyramid", blend_bound=5.0)


def _net(**over):
    torch.manual_seed(0)
    return build_model(ModelConfig(**{**PYR, **over})).double().eval()


@pytest.mark.parametrize("levels", [1, 2, 4])
def test_pyramid_collapses_back_to_the_image(levels):
    x = torch.rand(2, 3, 48, 40, dtype=torch.float64)
    bands = laplacian_pyramid(x, levels)
    assert [tuple(b.shape[-2:]) for b in bands] == [(48 // 2**j, 40 // 2**j) for j in range(levels)]
    assert_close(collapse_pyramid(bands), x)
    if levels > 1:  # detail bands of a constant image are zero; its base keeps the constant
        c = laplacian_pyramid(torch.full((1, 1, 32, 32), 0.3, dtype=torch.float64), levels)
        assert float(c[0].abs().max()) < 1e-12 and float((c[-1] - 0.3).abs().max()) < 1e-12


def test_base_band_is_the_binomial_lowpass():
    x = torch.zeros(1, 1, 16, 16, dtype=torch.float64)
    x[0, 0, 8, 8] = 16.0 * 16.0  # an impulse: blurred by the 5x5 binomial kernel, then every 2nd sample
    g1 = laplacian_pyramid(x, 2)[1][0, 0]
    k = torch.tensor([1.0, 6, 1], dtype=torch.float64)  # the even taps of [1 4 6 4 1] around sample 8
    assert_close(g1[3:6, 3:6], torch.outer(k, k))
    assert float(g1.sum()) == pytest.approx(64.0)


def test_pyramid_blend_selects_per_band():
    g = torch.Generator().manual_seed(3)
    x = torch.rand(1, 1, 32, 32, dtype=torch.float64, generator=g)
    y = torch.rand(1, 1, 32, 32, dtype=torch.float64, generator=g)
    sizes = [32, 16, 8]
    ones = [torch.ones(1, 1, s, s, dtype=torch.float64) for s in sizes]
    assert_close(pyramid_blend(ones, x, y), x)
    assert_close(pyramid_blend([1 - w for w in ones], x, y), y)
    # details of X on the base of Y: the collapse of exactly those bands
    mixed = pyramid_blend([ones[0], ones[1], 0 * ones[2]], x, y)
    bx, by = laplacian_pyramid(x, 3), laplacian_pyramid(y, 3)
    assert_close(mixed, collapse_pyramid([bx[0], bx[1], by[2]]))
    # half weights in every band = the pixel average (the pyramid is linear)
    assert_close(pyramid_blend([0.5 * w for w in ones], x, y), (x + y) / 2)


def test_band_logits_pools_each_pair_to_its_band():
    z = torch.arange(2 * 3 * 8 * 8, dtype=torch.float64).view(1, 6, 8, 8)
    bands = band_logits(z, 3)
    assert [tuple(b.shape) for b in bands] == [(1, 2, 8, 8), (1, 2, 4, 4), (1, 2, 2, 2)]
    assert_close(bands[2][0, 0, 0, 0], z[0, 4, :4, :4].mean())
    with pytest.raises(ValueError, match="expected 6 logit channels"):
        band_logits(z[:, :4], 3)


def test_pyramid_model_fuses_any_size_and_keeps_identical_sources():
    net = _net()
    assert net.cfg.multiple == 8  # 4 bands need sides divisible by 2**3 (depth 3 alone: 4)
    a = torch.rand(1, 1, 37, 51, dtype=torch.float64)
    b = torch.rand(1, 1, 37, 51, dtype=torch.float64)
    with torch.no_grad():
        f = net(a, b)
        assert f.shape == a.shape and torch.isfinite(f).all()
        assert_close(net(a, a), a)
        w = net.blend_weights(torch.rand(1, 1, 40, 48, dtype=torch.float64), torch.rand(1, 1, 40, 48, dtype=torch.float64))
    assert w.shape == (1, 4, 40, 48) and bool(((w > 0) & (w < 1)).all())
    # band j's weights are constant over its 2**j cells
    assert float((w[:, 3, :8, :8] - w[:, 3, :1, :1]).abs().max()) == 0.0


def test_pyramid_model_equals_explicit_band_blend():
    net = _net()
    a = torch.rand(2, 1, 32, 24, dtype=torch.float64)
    b = torch.rand(2, 1, 32, 24, dtype=torch.float64)
    with torch.no_grad():
        logits = net.decoder(net.fuse(*net.encode(a, b)))
        ws = [torch.softmax(5.0 * torch.tanh(z / 5.0), 1)[:, :1] for z in band_logits(logits, 4)]
        assert_close(net(a, b), pyramid_blend(ws, a, b))


def test_config_checks_pyramid_levels():
    with pytest.raises(ValueError, match="pyramid_levels"):
        ModelConfig(output="pyramid", pyramid_levels=0)
    assert ModelConfig(output="blend", pyramid_levels=6).multiple == 4  # only the pyramid head pads more


def test_init_weights_copies_and_tiles_a_blend_head(tmp_path):
    torch.manual_seed(5)
    cfg_b = ModelConfig(**{**PYR, "output": "blend"})
    blend = build_model(cfg_b).eval()
    p = tmp_path / "blend.safetensors"
    save_weights(p, blend, cfg_b)
    pyr = build_model(ModelConfig(**PYR)).eval()
    report = init_from_weights(pyr, str(p))
    assert report["tiled"] == ["decoder.head.weight", "decoder.head.bias"] and not report["fresh"]
    sb, sp = blend.state_dict(), pyr.state_dict()
    for k in report["copied"]:
        assert torch.equal(sb[k], sp[k])
    assert torch.equal(sp["decoder.head.weight"][6:8], sb["decoder.head.weight"])
    # warm-started, every band starts from the blend's weights: on a smooth pair the two agree closely
    yy, xx = torch.meshgrid(torch.linspace(0, 1, 64), torch.linspace(0, 1, 64), indexing="ij")
    a, b = (0.5 + 0.3 * torch.sin(3 * xx + yy))[None, None], (0.4 + 0.2 * torch.cos(2 * yy))[None, None]
    with torch.no_grad():
        assert float((pyr(a, b) - blend(a, b)).abs().mean()) < 0.02


def test_init_weights_refuses_a_tensor_that_fits_no_way(tmp_path):
    cfg = ModelConfig(**{**PYR, "output": "blend", "widths": (4, 8, 16)})
    p = tmp_path / "other.safetensors"
    save_weights(p, build_model(cfg), cfg)
    with pytest.raises(ParameterError, match="init_weights .*other.safetensors: tensor .* has shape"):
        init_from_weights(build_model(ModelConfig(**PYR)), str(p))


def test_streamed_pyramid_equals_one_shot():
    from mutualfuse.tiling import streamed_forward

    torch.manual_seed(1)
    net = build_model(ModelConfig(**PYR)).eval()
    a = torch.rand(1, 1, 541, 403)  # windows are at least (4·halo + 8)² = 264² pixels
    b = torch.rand_like(a)
    with torch.inference_mode():
        ref = net(a, b)
        calls = []
        out = streamed_forward(net, a, b, max_window_pixels=270 * 270, progress=calls.append)
    assert len(calls) > 2
    assert_close(out, ref, dtype=torch.float32)


def test_pyramid_model_exports_to_onnx(tmp_path):
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    from mutualfuse import Fuser
    from mutualfuse.onnx_export import export_onnx, run_onnx

    torch.manual_seed(2)
    cfg = ModelConfig(**PYR)
    net = build_model(cfg).eval()
    p = tmp_path / "pyr.safetensors"
    save_weights(p, net, cfg)
    onnx_path = export_onnx(tmp_path / "pyr.onnx", p)
    g = np.random.default_rng(0)
    for h, w in ((61, 90), (128, 72)):  # two sizes through one graph, one that needs padding
        yy, xx = np.mgrid[0:h, 0:w] / 20.0
        a = (0.5 + 0.3 * np.sin(xx + yy) + 0.05 * g.random((h, w))).clip(0, 1)
        b = (0.4 + 0.3 * np.cos(2 * yy) + 0.05 * g.random((h, w))).clip(0, 1)
        ref = Fuser(str(p), device="cpu", token_budget=0).fuse(a, b)
        got = run_onnx(onnx_path, a, b)
        assert got.shape == (h, w) and float(got.std()) > 0.05
        assert_close(got, ref, dtype=np.float32)


def _saved_pyramid_model(tmp_path, seed: int):
    """A random float64 pyramid model (eval mode) and the weights file it was saved to."""
    torch.manual_seed(seed)
    cfg = ModelConfig(**PYR)
    net = build_model(cfg).double().eval()
    p = tmp_path / "pyr.safetensors"
    save_weights(p, net, cfg)
    return net, p


def test_detail_gain_starts_at_one_and_scales_only_the_detail_bands(tmp_path):
    plain, p = _saved_pyramid_model(tmp_path, 4)
    gained = build_model(ModelConfig(**PYR, pyramid_gain=0.7)).eval()
    report = init_from_weights(gained, str(p))
    assert report["fresh"] == ["decoder.gain_head.weight", "decoder.gain_head.bias"]
    gained = gained.double()
    a = torch.rand(1, 1, 40, 32, dtype=torch.float64)
    b = torch.rand(1, 1, 40, 32, dtype=torch.float64)
    with torch.no_grad():
        assert_close(gained(a, b), plain(a, b))  # zero-initialised gain head: g = 1 exactly
        gained.decoder.gain_head.bias.fill_(100.0)  # saturates at the bound: g = e^0.7
        bands = laplacian_pyramid(a, 4)
        want = collapse_pyramid([np.exp(0.7) * t for t in bands[:-1]] + [bands[-1]])
        assert_close(gained(a, a), want, dtype=torch.float32)  # identical sources: details scaled (gain in fp32)
    with pytest.raises(ValueError, match="pyramid_gain"):
        ModelConfig(output="pyramid", pyramid_gain=3.0)


def test_blend_temperature_sharpens_the_learned_weights(tmp_path):
    """w_T = σ(Δ / T) for the (bounded) logit difference Δ of each band; T = 1 is the model."""
    from mutualfuse.errors import WeightsError
    from mutualfuse.weights import load_model

    net, p = _saved_pyramid_model(tmp_path, 3)
    g = torch.Generator().manual_seed(5)
    a = torch.rand(1, 1, 32, 40, dtype=torch.float64, generator=g)
    b = torch.rand(1, 1, 32, 40, dtype=torch.float64, generator=g)
    one, _ = load_model(p, blend_temperature=1.0)
    sharp, _ = load_model(p, blend_temperature=0.25)
    with torch.no_grad():
        w1 = one.double().blend_weights(a, b)
        w4 = sharp.double().blend_weights(a, b)
        assert_close(one.double()(a, b), net(a, b))
    logit = torch.log(w1) - torch.log1p(-w1)
    assert_close(w4, torch.sigmoid(logit / 0.25))
    assert bool(((w4 - 0.5).abs() >= (w1 - 0.5).abs() - 1e-12).all())
    with pytest.raises(WeightsError, match="blend_temperature"):
        load_model(p, blend_temperature=0.0)
    with pytest.raises(ValueError, match="blend_temperature"):
        ModelConfig(**PYR, blend_temperature=-1.0)
