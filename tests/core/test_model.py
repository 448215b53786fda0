"""The networks: every configuration runs, any size, batch, dtypes; the mapping is exact."""
from __future__ import annotations

import itertools

import pytest
import torch

from mutualfuse.model import MODELS, ModelConfig, build_model
from mutualfuse.model.blocks import pad_to_multiple
from mutualfuse.model.mutual_mapping import MutualMappingFusion, cross_map, naive_cross_map
from tolerance import assert_close

SMALL = (4, 8, 8, 8, 8)


@pytest.mark.parametrize("fusion,depth", list(itertools.product(["mapping", "add", "concat"], [3, 4, 5])))
def test_fmm_variants_shape_and_grad(fusion, depth):
    torch.manual_seed(0)
    net = build_model(ModelConfig(widths=SMALL, depth=depth, fusion=fusion))
    a, b = torch.rand(2, 1, 37, 45), torch.rand(2, 1, 37, 45)
    out = net(a, b)
    assert out.shape == (2, 1, 37, 45)
    out.mean().backward()
    grads = [p.grad for p in net.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    # depth adds one encoder level and one decoder aggregation node
    if fusion == "mapping":
        assert len(net.decoder.nodes) == depth - 1
        assert len(net.enc_x.blocks) == depth - 1


@pytest.mark.parametrize("act", ["softmax", "sigmoid", "none"])
def test_map_activations_run(act):
    net = build_model(ModelConfig(widths=SMALL, map_activation=act))
    assert torch.isfinite(net(torch.rand(1, 1, 16, 16), torch.rand(1, 1, 16, 16))).all()


def test_registry_lists_both_architectures():
    assert {"fmm", "vifnet"} <= set(MODELS.names())
    net = build_model(ModelConfig(arch="vifnet"))
    assert net(torch.rand(1, 1, 9, 13), torch.rand(1, 1, 9, 13)).shape == (1, 1, 9, 13)


def test_encoders_share_no_weights():
    net = build_model(ModelConfig(widths=SMALL))
    px = dict(net.enc_x.named_parameters())
    py = dict(net.enc_y.named_parameters())
    assert px.keys() == py.keys()
    assert all(px[k].data_ptr() != py[k].data_ptr() for k in px)
    assert not all(torch.equal(px[k], py[k]) for k in px)


@pytest.mark.parametrize("hw", [(8, 8), (9, 17), (31, 8), (64, 48)])
def test_any_size_output_matches_input(hw):
    net = build_model(ModelConfig(widths=SMALL))
    a = torch.rand(1, 1, *hw)
    assert net(a, a).shape == (1, 1, *hw)


def test_batch_is_independent():
    torch.manual_seed(1)
    net = build_model(ModelConfig(widths=SMALL)).eval()
    a, b = torch.rand(3, 1, 24, 20), torch.rand(3, 1, 24, 20)
    with torch.no_grad():
        full = net(a, b)
        one = net(a[1:2], b[1:2])
    assert_close(full[1:2], one, dtype=torch.float32)  # batch of 3 vs 1: other kernels, same maths


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_close_to_float32(dtype):
    torch.manual_seed(2)
    net = build_model(ModelConfig(widths=SMALL)).eval()
    a, b = torch.rand(1, 1, 32, 32), torch.rand(1, 1, 32, 32)
    with torch.no_grad():
        ref = net(a, b)
        low = net.to(dtype)(a.to(dtype), b.to(dtype)).float()
    assert torch.isfinite(low).all()
    assert_close(low, ref, dtype=dtype)  # the tolerance of the lower precision


def test_cross_map_equals_naive_float64():
    torch.manual_seed(3)
    q, k = torch.randn(2, 16, 12, 20, dtype=torch.float64), torch.randn(2, 16, 12, 20, dtype=torch.float64)
    assert_close(cross_map(q, k), naive_cross_map(q, k), dtype=torch.float64)


def test_cross_map_equals_naive_float32():
    torch.manual_seed(4)
    q, k = torch.randn(1, 64, 48, 64), torch.randn(1, 64, 48, 64)
    assert_close(cross_map(q, k), naive_cross_map(q, k), dtype=torch.float32)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_cross_map_softmax_is_over_the_other_sources_positions(dtype):
    # if every position of the source is identical, the map is that feature everywhere
    g = torch.Generator().manual_seed(6)
    q = torch.randn(1, 8, 5, 6, generator=g, dtype=dtype)
    k = torch.randn(1, 8, 1, 1, generator=g, dtype=dtype).expand(1, 8, 5, 6).contiguous()
    assert_close(cross_map(q, k), k, dtype=dtype)
    # and a source whose positions differ gives a map that is not the mean feature everywhere
    k2 = torch.randn(1, 8, 5, 6, generator=g, dtype=dtype)
    assert not torch.allclose(cross_map(q, k2), k2.mean((2, 3), keepdim=True).expand_as(k2), atol=1e-2)


def test_token_budget_pools_and_reports():
    cfg = ModelConfig(widths=SMALL, token_budget=16)
    fusion = MutualMappingFusion(cfg)
    f = torch.rand(1, 8, 16, 16)
    mx, my = fusion.deepest_maps(f, f)
    assert fusion.last_pool == 4 and mx.shape == f.shape
    cfg.token_budget = 0
    fusion.deepest_maps(f, f)
    assert fusion.last_pool == 1


def test_bad_config_is_rejected():
    with pytest.raises(ValueError, match="fusion"):
        ModelConfig(fusion="multiply")
    with pytest.raises(ValueError, match="depth"):
        ModelConfig(depth=9)


def test_cosine_similarity_mapping_matches_explicit_formula():
    torch.manual_seed(5)
    cfg = ModelConfig(widths=SMALL, attn_similarity="cosine", cosine_init_temperature=7.0)
    fusion = MutualMappingFusion(cfg)
    fx, fy = torch.randn(1, 8, 6, 7, dtype=torch.float64), torch.randn(1, 8, 6, 7, dtype=torch.float64)
    fusion = fusion.double()
    mx, my = fusion.mutual_maps(fx, fy)
    X = fx.flatten(2)[0].T  # N, C
    Y = fy.flatten(2)[0].T
    nx, ny = X / X.norm(dim=1, keepdim=True), Y / Y.norm(dim=1, keepdim=True)
    ref_mx = torch.softmax(7.0 * ny @ nx.T, -1) @ X  # for each y position: a mix of x features
    ref_my = torch.softmax(7.0 * nx @ ny.T, -1) @ Y
    # float64 maths, but the temperature was rounded to float32 when stored: float32 tolerance
    assert_close(mx.flatten(2)[0].T, ref_mx, dtype=torch.float32)
    assert_close(my.flatten(2)[0].T, ref_my, dtype=torch.float32)
    # the temperature is learned
    net = build_model(cfg)
    net(torch.rand(1, 1, 16, 16), torch.rand(1, 1, 16, 16)).mean().backward()
    assert net.fusion.logit_scale.grad is not None


def test_pooled_maps_equal_exact_when_pool_is_one():
    cfg = ModelConfig(widths=SMALL)
    fusion = MutualMappingFusion(cfg)
    f, g = torch.rand(1, 8, 8, 8), torch.rand(1, 8, 8, 8)
    for a, b in zip(fusion.pooled_maps(f, g, 1), fusion.mutual_maps(f, g)):
        assert_close(a, b, dtype=torch.float32)


@pytest.mark.parametrize("padding", ["zeros", "reflect", "replicate"])
@pytest.mark.parametrize("split", [(5,), (2, 3), (1, 1, 3)])
def test_conv_concat_equals_conv_of_the_concatenation(padding, split):
    from mutualfuse.model.blocks import conv_concat

    torch.manual_seed(0)
    conv = torch.nn.Conv2d(sum(split), 4, 3, padding=1, padding_mode=padding).double()
    parts = [torch.randn(2, c, 9, 11, dtype=torch.float64) for c in split]
    expected = conv(torch.cat(parts, 1))
    assert_close(conv_concat(conv, parts), expected)
    # gradients reach the weight slices and every part as through the concatenation
    parts = [p.requires_grad_() for p in parts]
    conv_concat(conv, parts).square().sum().backward()
    grads = [p.grad.clone() for p in parts] + [conv.weight.grad.clone()]
    conv.zero_grad()
    for p in parts:
        p.grad = None
    conv(torch.cat(parts, 1)).square().sum().backward()
    for g, ref in zip(grads, [p.grad for p in parts] + [conv.weight.grad]):
        assert_close(g, ref)


def test_conv_concat_rejects_parts_that_do_not_fit():
    from mutualfuse.model.blocks import conv_concat

    conv = torch.nn.Conv2d(5, 4, 3, padding=1)
    with pytest.raises(ValueError, match="do not fit"):
        conv_concat(conv, [torch.zeros(1, 2, 4, 4), torch.zeros(1, 2, 4, 4)])


@pytest.mark.parametrize("fusion", ["mapping", "add", "concat"])
def test_channels_last_model_equals_contiguous(fusion):
    """The inference runner runs CPU models channels-last; same output up to float rounding."""
    torch.manual_seed(0)
    cfg = ModelConfig(fusion=fusion, attn_dim=8, attn_pos_freqs=2, output="pyramid", pyramid_levels=3,
                      token_budget=64)
    net = build_model(cfg).eval()
    a, b = torch.rand(2, 1, 70, 90), torch.rand(2, 1, 70, 90)
    with torch.no_grad():
        ref = net(a, b)
        out = net.to(memory_format=torch.channels_last)(a, b)
    assert_close(out, ref, dtype=torch.float32)


def test_cross_map_output_is_channels_last_strided():
    """So that the bilinear resizes and Eq. 1 after it stay in the channels-last layout."""
    q, k = torch.randn(2, 8, 5, 7), torch.randn(2, 8, 5, 7)
    out = cross_map(q, k, values=torch.randn(2, 6, 5, 7))
    assert out.shape == (2, 6, 5, 7)
    assert out.is_contiguous(memory_format=torch.channels_last)
    single = cross_map(q[:1], k[:1])
    assert torch.nn.functional.interpolate(single, scale_factor=2, mode="bilinear").is_contiguous(
        memory_format=torch.channels_last)


def test_forward_mean_maps_is_the_network_with_globally_averaged_deepest_maps():
    """``forward_mean_maps``: the fused image with the deepest mutual maps replaced by their
    spatial means (pads and crops as ``forward``); for a pyramid model with a local, centred
    mapping it differs from ``forward``; a model without mutual maps refuses it."""
    torch.manual_seed(0)
    net = build_model(ModelConfig(widths=SMALL, output="pyramid", pyramid_levels=3, attn_dim=8,
                                  attn_local_sigma=1.5, shared_encoder=True, map_center=True)).eval()
    with torch.no_grad():  # lively maps: random decoder output layers start at 0 for some heads
        for p in net.parameters():
            p.add_(0.3 * torch.randn_like(p))
    a, b = torch.rand(1, 1, 45, 61), torch.rand(1, 1, 45, 61)
    with torch.no_grad():
        got = net.forward_mean_maps(a, b)
        pa, pb = (pad_to_multiple(x, net.cfg.multiple) for x in (a, b))
        fx, fy = net.encode(pa, pb)
        maps = tuple(m.mean(dim=(2, 3), keepdim=True).expand_as(m) for m in net.fusion.deepest_maps(fx[-1], fy[-1]))
        want = net.decode(net.fuse(fx, fy, maps=maps), pa, pb)[..., :45, :61]
        plain = net(a, b)
    assert got.shape == (1, 1, 45, 61)
    assert torch.equal(got, want)
    assert (got - plain).abs().max() > 1e-3
    with pytest.raises(ValueError, match="no mutual maps"):
        build_model(ModelConfig(widths=SMALL, fusion="add")).forward_mean_maps(a, b)


@pytest.mark.parametrize("levels", [0, 1, 2, 3])
def test_encoder_float32_levels_under_autocast(levels):
    """Under bfloat16 autocast the first ``float32_levels`` levels are computed in float32 (and
    equal the float32 encoder's), the others' convolutions in bfloat16 (a level's output may still
    be float32: its residual sum promotes); outside autocast it changes nothing."""
    torch.manual_seed(5)
    net = build_model(ModelConfig(widths=SMALL)).eval()
    enc = net.enc_x
    x = torch.rand(2, 1, 32, 40)
    with torch.no_grad():
        ref = enc(x)
        enc.float32_levels = levels
        assert all(torch.equal(u, v) for u, v in zip(enc(x), ref))
        with torch.autocast("cpu", dtype=torch.bfloat16):
            got = enc(x)
    for k, (g, r) in enumerate(zip(got, ref)):
        if k < levels:
            assert g.dtype == torch.float32
            assert_close(g, r, dtype=torch.float32)
        else:  # rounded to bfloat16 somewhere: far from float32's result
            assert (g.float() - r).abs().max() > 1e-4


@pytest.mark.parametrize("over, field, what", [
    ({"token_budget": -1}, "token_budget", "an integer >= 0"),
    ({"token_budget": 1.5}, "token_budget", "an integer or None"),
    ({"token_budget": True}, "token_budget", "an integer or None"),
    ({"in_channels": 3}, "in_channels", "must be 1"),
    ({"in_channels": 0}, "in_channels", "must be 1"),
    ({"attn_similarity": "cosine", "cosine_init_temperature": 0.0}, "cosine_init_temperature", "a finite number > 0"),
    ({"cosine_init_temperature": -1.0}, "cosine_init_temperature", "a finite number > 0"),
    ({"cosine_init_temperature": float("inf")}, "cosine_init_temperature", "a finite number > 0"),
    ({"attn_scale": 0.0}, "attn_scale", "a finite number > 0"),
    ({"attn_scale": float("nan")}, "attn_scale", "a finite number > 0"),
    ({"output": "blend", "blend_bound": -1.0}, "blend_bound", "a finite number >= 0"),
    ({"output": "pyramid", "blend_bound": float("inf")}, "blend_bound", "a finite number >= 0"),
    ({"map_residual": True, "map_residual_init": float("nan")}, "map_residual_init", "a finite number"),
    ({"arch": "foo"}, "arch", "unknown architecture 'foo'"),
    ({"arch": "FMM"}, "arch", "unknown architecture 'FMM'"),
    ({"arch": "vifnet", "output": "pyramid"}, "output", "'fmm' architecture only"),
    ({"depth": "3"}, "depth", "an integer"),
    ({"depth": 3.0}, "depth", "an integer"),
    ({"depth": 0}, "depth", "in 2..6"),
    ({"widths": ()}, "widths", "at least depth = 3"),
    ({"widths": (16, 0, 32)}, "widths", "positive"),
    ({"widths": "abc"}, "widths", "a list of integers"),
    ({"widths": (16.5, 32, 64)}, "widths", "a list of integers"),
    ({"output": "pyramid", "pyramid_levels": 2.5}, "pyramid_levels", "an integer"),
    ({"attn_pos_freqs": 1.5}, "attn_pos_freqs", "an integer"),
    ({"attn_dim": -1}, "attn_dim", "an integer >= 0"),
    ({"map_residual": "yes"}, "map_residual", "true or false"),
    ({"shared_encoder": 1}, "shared_encoder", "true or false"),
    ({"blend_temperature": "1"}, "blend_temperature", "a number"),
    ({"fusion": 3}, "fusion", "a string"),
    ({"padding": "circular"}, "padding", "one of"),
])
def test_model_config_refuses_a_bad_field_naming_it(over, field, what):
    """A bad field is a one-line ParameterError (a ValueError) naming ``model.<field>`` when the
    config is made, not a math domain error, a torch error in the first forward or a silently
    wrong model (``in_channels=3`` built a 3-channel stem that no input of the API fits; a NaN
    ``attn_scale`` or an infinite ``blend_bound`` made every output NaN; ``arch="FMM"`` built an
    fmm network whose config skipped the fmm checks and padding)."""
    from mutualfuse.errors import ParameterError

    with pytest.raises(ParameterError) as e:
        ModelConfig(**over)
    msg = str(e.value)
    assert f"model.{field}" in msg and what in msg and "\n" not in msg


def test_model_config_takes_numpy_scalars_and_ints_for_numbers():
    import numpy as np

    cfg = ModelConfig(depth=np.int64(4), widths=np.array([4, 8, 8, 8]), blend_temperature=np.float32(0.5),
                      map_residual=np.bool_(True), token_budget=np.int32(0), blend_bound=5, output="blend")
    assert type(cfg.depth) is int and cfg.widths == (4, 8, 8, 8) and type(cfg.widths[0]) is int
    assert type(cfg.blend_temperature) is float and cfg.map_residual is True and type(cfg.token_budget) is int
    assert cfg.blend_bound == 5 and ModelConfig.from_dict(cfg.to_dict()) == cfg
    import json

    json.dumps(cfg.to_dict())  # what a weights file stores


def _bad_inputs():
    r = torch.rand
    return [
        ("3-D", r(1, 16, 16), r(1, 16, 16), "must have shape (B, 1, H, W)"),
        ("2-D", r(16, 16), r(16, 16), "must have shape (B, 1, H, W)"),
        ("3 channels", r(1, 3, 16, 16), r(1, 3, 16, 16), "must have shape (B, 1, H, W)"),
        ("sizes", r(1, 1, 16, 16), r(1, 1, 16, 17), "inputs differ in shape"),
        ("batches", r(2, 1, 16, 16), r(1, 1, 16, 16), "inputs differ in shape"),
        ("uint8", (255 * r(1, 1, 16, 16)).byte(), (255 * r(1, 1, 16, 16)).byte(), "must be a floating-point tensor"),
        ("bool", r(1, 1, 16, 16) > 0.5, r(1, 1, 16, 16) > 0.5, "must be a floating-point tensor"),
        ("dtypes", r(1, 1, 16, 16), r(1, 1, 16, 16).double(), "inputs differ in dtype"),
        ("weights' dtype", r(1, 1, 16, 16).double(), r(1, 1, 16, 16).double(), "the network's weights torch.float32"),
    ]


@pytest.mark.parametrize("arch", ["fmm", "vifnet"])
def test_bad_inputs_are_a_clear_error_not_a_torch_error(arch):
    """Each of these was a torch error from deep inside (not enough values to unpack, conv2d's
    channel or dtype mismatch, reflection_pad2d not implemented for 'Bool', 'Padding size 4 is not
    supported for 2D input tensor') or, for VIF-Net's 3-D input, a channel error of its decoder."""
    from mutualfuse.errors import InputError

    net = build_model(ModelConfig(arch=arch, widths=SMALL)).eval()
    for name, a, b, what in _bad_inputs():
        with pytest.raises(InputError) as e:
            net(a, b)
        assert what in str(e.value), name
    with pytest.raises(TypeError, match="must be a torch.Tensor"):
        net(torch.rand(1, 1, 16, 16).numpy(), torch.rand(1, 1, 16, 16).numpy())
    if arch == "fmm":
        with pytest.raises(InputError, match="inputs differ in shape"):
            net.forward_mean_maps(torch.rand(1, 1, 16, 16), torch.rand(1, 1, 16, 17))


@pytest.mark.parametrize("kw, min_side", [
    ({"widths": SMALL}, 5),  # depth 3, reflect: padded to 4, deepest 1/4 must be 2 px: sides > 4
    ({"widths": SMALL, "depth": 4}, 9),
    ({"widths": SMALL, "output": "pyramid"}, 1),  # padded to 8: the deepest level is always 2 px
    ({"widths": SMALL, "output": "pyramid", "depth": 4}, 9),
    ({"widths": SMALL, "padding": "zeros"}, 1),
    ({"arch": "vifnet"}, 2),
])
def test_too_small_inputs_are_refused_with_the_smallest_side(kw, min_side):
    """Below ``min_side`` the reflect padding of a single-pixel level failed inside torch
    ('Padding size should be less than the corresponding input dimension'); at it, and at every
    odd size above it, the output has the input's shape."""
    from mutualfuse.errors import ImageTooSmallError

    net = build_model(ModelConfig(**kw)).eval()
    assert net.min_side == min_side
    with torch.no_grad():
        for s in range(min_side, min_side + 5):
            for hw in ((s, s), (s, 13), (13, s)):
                assert net(torch.rand(1, 1, *hw), torch.rand(1, 1, *hw)).shape == (1, 1, *hw)
        if min_side > 1:
            with pytest.raises(ImageTooSmallError, match=f"at least {min_side} pixels") as e:
                net(torch.rand(1, 1, min_side - 1, 16), torch.rand(1, 1, min_side - 1, 16))
            assert e.value.min_side == min_side


def test_eval_forward_is_deterministic_and_batch_equals_samples_for_a_shipped_model():
    from mutualfuse.weights import load_model

    net, _ = load_model("default")
    g = torch.Generator().manual_seed(5)
    a, b = torch.rand(2, 1, 27, 35, generator=g), torch.rand(2, 1, 27, 35, generator=g)
    with torch.no_grad():
        one = net(a, b)
        assert torch.equal(net(a, b), one)  # the same computation twice: bitwise
        for i in range(2):
            assert_close(net(a[i:i + 1], b[i:i + 1]), one[i:i + 1], dtype=torch.float32)


@pytest.mark.parametrize("name", ["mutualfuse.model", "mutualfuse.model.config", "mutualfuse.model.network"])
def test_model_docstring_examples(name):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
