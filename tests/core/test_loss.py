"""Var-SSIM (Eqs. 2–5) and the mean rule: properties on tiny tensors."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from mutualfuse.losses import mean_ssim_loss, selected_ssim_map, var_ssim_loss, window_stats
from tolerance import assert_close


def test_zero_when_fused_is_the_selected_source():
    torch.manual_seed(0)
    x = torch.rand(2, 1, 40, 40)  # high variance everywhere
    y = 0.5 + 0.01 * torch.rand(2, 1, 40, 40)  # nearly flat
    assert var_ssim_loss(x, y, x).item() == pytest.approx(0.0, abs=1e-5)
    assert var_ssim_loss(x, y, y).item() > 0.5


def test_selection_is_per_window():
    # left half: x textured; right half: y textured -> fused = the textured half of each
    torch.manual_seed(1)
    tex = torch.rand(1, 1, 40, 80)
    flat = torch.full((1, 1, 40, 80), 0.5)
    x = torch.cat([tex[..., :40], flat[..., 40:]], -1)
    y = torch.cat([flat[..., :40], tex[..., 40:]], -1)
    f = tex
    m = selected_ssim_map(x, y, f)
    # windows wholly inside one half score 1
    assert m[..., :, :25].min() > 0.999 and m[..., :, 45:].min() > 0.999
    assert var_ssim_loss(x, y, f) < var_ssim_loss(x, y, (x + y) / 2)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_swap_invariance(dtype):
    # swapping the sources moves them to other channels of the filtered stack: equal up to rounding
    g = torch.Generator().manual_seed(2)
    x, y, f = (torch.rand(3, 1, 32, 32, generator=g, dtype=dtype) for _ in range(3))
    for loss in (var_ssim_loss, mean_ssim_loss):
        a, b = loss(x, y, f), loss(y, x, f)
        assert 0.1 < a.item() < 1.9  # random images: a loss far from its bounds
        assert_close(a, b, dtype=dtype, msg=loss.__name__)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_ties_select_y_as_eq4(dtype):
    """A true tie on textured data: Y = -X has bitwise the same local variances as X.

    Negation commutes exactly with every rounding step (products, sums, FMA), and ``X*X`` is
    ``Y*Y`` bit for bit, so ``var_x == var_y`` exactly in every window on any CPU; constant
    images would instead leave a rounding residue of either sign. The means differ in sign, so
    the SSIM against X and against Y differ: the loss tells which source was selected (a low
    contrast, variance ~ C2, keeps SSIM(X, -X) far from SSIM(X, X) = 1).
    """
    g = torch.Generator().manual_seed(6)
    x = 0.5 + 0.05 * torch.rand(2, 1, 24, 24, generator=g, dtype=dtype)
    y = -x
    s = window_stats(x, y, y)
    assert torch.equal(s["var_x"], s["var_y"]) and (s["var_x"] > 0).all()  # exact ties in every window
    assert var_ssim_loss(x, y, y).item() == 0.0  # Y selected: SSIM(Y, Y) is 1 exactly (identical ops)
    assert mean_ssim_loss(x, y, y).item() > 1.0  # the mean rule selects X here: the value X would give
    assert var_ssim_loss(x, y, x).item() > 1.0  # and with F = X, Y is still the one selected


def test_mean_rule_picks_brighter_window():
    torch.manual_seed(3)
    x = 0.8 + 0.1 * torch.rand(1, 1, 24, 24)
    y = 0.1 * torch.rand(1, 1, 24, 24) + 0.05 * torch.randn(1, 1, 24, 24)
    assert mean_ssim_loss(x, y, x).item() == pytest.approx(0.0, abs=1e-5)


def test_gradients_finite_and_nonzero():
    torch.manual_seed(4)
    x, y = torch.rand(2, 1, 24, 24), torch.rand(2, 1, 24, 24)
    f = torch.rand(2, 1, 24, 24, requires_grad=True)
    var_ssim_loss(x, y, f).backward()
    assert torch.isfinite(f.grad).all() and f.grad.abs().sum() > 0


def test_statistics_match_explicit_window_computation():
    # one valid window of an 11x11 image: weighted stats with the 2-D Gaussian (sigma 1.5)
    rng = np.random.default_rng(5)
    x, y, f = (rng.random((11, 11)) for _ in range(3))
    g = np.exp(-((np.arange(11) - 5) ** 2) / (2 * 1.5**2))
    w = np.outer(g, g) / np.outer(g, g).sum()
    mu_x, mu_f = (w * x).sum(), (w * f).sum()
    var_x, var_f = (w * x * x).sum() - mu_x**2, (w * f * f).sum() - mu_f**2
    cov = (w * x * f).sum() - mu_x * mu_f
    t = lambda a: torch.from_numpy(a)[None, None]
    s = window_stats(t(x), t(y), t(f))
    assert s["mu_x"].shape == (1, 1, 1)
    assert_close(float(s["var_x"]), var_x, dtype=torch.float64)
    assert_close(float(s["cov_xf"]), cov, dtype=torch.float64)
    c1, c2 = 0.01**2, 0.03**2
    var_y = (w * y * y).sum() - (w * y).sum() ** 2
    sel = x if var_x > var_y else y
    mu_s = (w * sel).sum()
    var_s = (w * sel * sel).sum() - mu_s**2
    cov_s = (w * sel * f).sum() - mu_s * mu_f
    ssim = ((2 * mu_s * mu_f + c1) * (2 * cov_s + c2)) / ((mu_s**2 + mu_f**2 + c1) * (var_s + var_f + c2))
    assert_close(float(var_ssim_loss(t(x), t(y), t(f))), 1 - ssim, dtype=torch.float64)


def test_too_small_image_is_a_clear_error():
    with pytest.raises(ValueError, match="at least 11x11"):
        var_ssim_loss(torch.rand(1, 1, 8, 8), torch.rand(1, 1, 8, 8), torch.rand(1, 1, 8, 8))


def _loss_functions():
    from mutualfuse import losses

    return {**{name: fn for name, fn in losses.LOSSES.items()},
            "max_gradient_loss": losses.max_gradient_loss, "max_intensity_loss": losses.max_intensity_loss,
            "selected_ssim_map": losses.selected_ssim_map}


def _bad(r=torch.rand):
    return [
        ("3-D", (r(1, 32, 32), r(1, 32, 32), r(1, 32, 32)), "x must have shape (B, 1, H, W)"),
        ("3 channels", (r(1, 3, 32, 32),) * 3, "x must have shape (B, 1, H, W)"),
        ("sizes", (r(1, 1, 32, 32), r(1, 1, 32, 33), r(1, 1, 32, 32)), "y and x differ in shape"),
        ("fused size", (r(1, 1, 32, 32), r(1, 1, 32, 32), r(1, 1, 30, 32)), "f and x differ in shape"),
        ("batches", (r(2, 1, 32, 32), r(1, 1, 32, 32), r(2, 1, 32, 32)), "y and x differ in shape"),
        ("uint8", ((255 * r(1, 1, 32, 32)).byte(),) * 3, "x must be a floating-point tensor"),
    ]


@pytest.mark.parametrize("name", list(_loss_functions()))
def test_bad_inputs_are_a_clear_error_naming_the_function(name):
    """Before: torch errors from inside ('too many values to unpack', conv2d's groups), and silent
    wrong values: a uint8 batch cast the window to uint8 zeros and gave loss 0 for any F; a batch
    of 1 against a batch of 2 broadcast in the gradient and intensity terms; a (1, H, W) tensor
    ran the Sobel filters over its rows as channels."""
    from mutualfuse.errors import InputError

    fn = _loss_functions()[name]
    for case, args, what in _bad():
        with pytest.raises(InputError) as e:
            fn(*args)
        assert str(e.value).startswith(f"{name if name.endswith(('_loss', '_map')) else fn.__name__}: ") \
            and what in str(e.value), case
    with pytest.raises(TypeError, match="must be a torch.Tensor"):
        fn(*(np.zeros((1, 1, 32, 32)),) * 3)


def test_empty_batch_and_small_images_are_clear_errors():
    from mutualfuse.errors import ImageTooSmallError, InputError
    from mutualfuse.losses import LOSSES, max_gradient_loss, sobel_magnitude

    z = torch.rand(0, 1, 32, 32)
    for name, fn in LOSSES.items():
        with pytest.raises(InputError, match="empty batch"):
            fn(z, z, z)  # was NaN
    t = torch.rand(1, 1, 2, 2)
    for fn in (max_gradient_loss, lambda *a: sobel_magnitude(a[0])):
        with pytest.raises(ImageTooSmallError, match="at least 3x3"):
            fn(t, t, t)


@pytest.mark.parametrize("kw, what", [
    ({"window": 0}, "window must be an integer >= 1"),
    ({"sigma": 0.0}, "sigma must be a finite number > 0"),  # was a NaN window, a NaN loss
    ({"kind": "box"}, "kind must be 'gaussian' or 'uniform'"),  # was the Gaussian, silently
    ({"select_window": "box"}, "select_window must be 'same' or 'uniform'"),  # was 'same', silently
])
def test_bad_window_settings_are_refused(kw, what):
    from mutualfuse.errors import ParameterError

    x = torch.rand(1, 1, 32, 32)
    with pytest.raises(ParameterError, match=what):
        var_ssim_loss(x, x, x, **kw)


def test_truth_loss_mask_must_have_one_value_per_sample():
    from mutualfuse.errors import InputError
    from mutualfuse.losses import truth_loss

    t = torch.rand(2, 1, 32, 32)
    with pytest.raises(InputError, match="mask must be a tensor of B = 2 values"):
        truth_loss(t, t, torch.ones(1))  # broadcast over the batch before
    with pytest.raises(InputError, match="truth and f differ in shape"):
        truth_loss(t, t[:1], torch.ones(2))


@pytest.mark.parametrize("name", ["mean_ssim", "var_ssim", "var_ssim_grad", "var_ssim_grad_int"])
def test_every_registered_loss_has_gradients_and_a_documented_example(name):
    from mutualfuse.losses import LOSSES

    assert sorted(LOSSES) == ["mean_ssim", "var_ssim", "var_ssim_grad", "var_ssim_grad_int"]
    fn = LOSSES[name]
    doc = fn.__doc__ or ""
    assert ">>>" in doc and "(B, 1, H, W)" in doc, f"{name}: docstring without shapes or example"
    g = torch.Generator().manual_seed(7)
    x, y = torch.rand(2, 1, 24, 24, generator=g), torch.rand(2, 1, 24, 24, generator=g)
    f = torch.rand(2, 1, 24, 24, generator=g, requires_grad=True)
    loss = fn(x, y, f)
    assert loss.shape == () and torch.isfinite(loss)
    loss.backward()
    assert torch.isfinite(f.grad).all() and f.grad.abs().sum() > 0
