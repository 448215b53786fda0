"""Training losses: variance-selected SSIM (the paper's Eqs. 2–5), VIF-Net's mean rule and the
variants built on them (registered in ``LOSSES``).

References: D. Rao, X.-J. Wu, T. Xu, G. Chen, "Unsupervised Image Fusion Method based on Feature
Mutual Mapping" (Eqs. 2–5: SSIM, image variance, Var_SSIM, L_var_SSIM); Z. Wang, A. C. Bovik,
H. R. Sheikh, E. P. Simoncelli, "Image quality assessment: from error visibility to structural
similarity", IEEE TIP 13(4), 2004 (SSIM, its window and constants); the paper gives the 11×11
window and calls C1, C2 "stability coefficients" without values: the Gaussian weighting and
the constants are Wang et al.'s.

Conventions (shared by all of them):

* inputs: (B, 1, H, W) floating-point tensors of one shape, data range ``L = 1`` (images in
  [0, 1]); half precision is computed in float32, the result has the first input's precision
  (float32 or float64). Anything else (another shape, two shapes, an integer dtype, B = 0,
  a non-tensor) is a one-line ``ValueError`` (:class:`~mutualfuse.errors.InputError`;
  ``TypeError`` for a non-tensor) naming the function and the argument;
* window: 11×11 Gaussian, σ = 1.5, normalised to sum 1 (Wang et al. 2004, the window of the
  reference ``ssim.m``); ``window="uniform"`` gives the 11×11 box instead;
* constants ``C1 = (0.01·L)²``, ``C2 = (0.03·L)²`` (Wang et al.);
* border: "valid" — only windows that lie entirely inside the image are used (no padding),
  as in Wang's ``ssim_index.m`` with its 'valid' filtering; an image must be ≥ 11×11;
* statistics per window: μ = Σ w·x, σ² = Σ w·x² − μ², σ_xy = Σ w·x·y − μ_x μ_y (the
  weighted, biased estimates of ``ssim.m``);
* selection (Eq. 4): per window, the source with the larger variance; ties go to Y
  (``σ²(Y) ≥ σ²(X)`` selects Y, exactly as Eq. 4 is written). The comparison is of the
  computed variances ``Σ w·x² − μ²``, which carry rounding: two flat windows (true variance 0
  in both) get values of order 1e-8–1e-7 in float32, so there the selection follows the
  rounding, not Y (on the constant pairs 0.3/0.7, 0.1/0.9, 0.33/0.77 in float32 the brighter
  window won, either way round); only exactly equal computed values go to Y;
* loss (Eq. 5): ``1 − mean over windows`` of the selected SSIM.

The paper's Eq. 3 writes the variance with uniform weights; we use the same Gaussian window
for the variance that selects and the SSIM that is scored, so that both look at the same
patch (``select_window="same"``); ``select_window="uniform"`` uses Eq. 3's box variance.

:data:`LOSSES` holds the training losses by name (``TrainConfig.loss``); each takes (X, Y, F)
batches and returns a 0-d tensor. A loss of one's own is added with :func:`register_loss`
(whose docstring is the contract) and trained with ``mutualfuse train --import MODULE``. The terms that some of them add (:func:`max_gradient_loss`,
:func:`max_intensity_loss`) are not training losses on their own and are not registered;
:func:`truth_loss` (F against a known fused image) is added by ``TrainConfig.truth_weight``:

>>> import numpy as np, torch
>>> from mutualfuse.losses import LOSSES
>>> sorted(LOSSES)
['mean_ssim', 'var_ssim', 'var_ssim_grad', 'var_ssim_grad_int']
>>> x = torch.from_numpy(np.random.default_rng(0).random((2, 1, 32, 32)))  # (B, 1, H, W) in [0, 1]
>>> loss = LOSSES["var_ssim"](x, x.flip(-1), x)  # F = X: perfect only where X varies more
>>> loss.shape, round(loss.item(), 3)
(torch.Size([]), 0.472)
"""
from __future__ import annotations

import functools

import torch
import torch.nn.functional as F

from .errors import ImageTooSmallError, InputError, ParameterError

C1 = 0.01**2
C2 = 0.03**2


def _check_images(fn: str, min_side: int = 1, what: str = "", maps: bool = False, **images: torch.Tensor) -> None:
    """Refuse arguments a loss cannot take (module docstring, "inputs"), naming ``fn`` and the
    argument: each a floating-point (B, 1, H, W) tensor, all of one shape, B ≥ 1 (B = 0 too
    with ``maps``: a per-window map of no image is empty, a mean over it undefined), H and W ≥
    ``min_side`` (``what`` says why, for :class:`~mutualfuse.errors.ImageTooSmallError`)."""
    first = None
    for name, x in images.items():
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"{fn}: {name} must be a torch.Tensor of shape (B, 1, H, W), got {type(x).__name__}")
        if x.dim() != 4 or x.shape[1] != 1:
            raise InputError(f"{fn}: {name} must have shape (B, 1, H, W) (a batch of gray images), "
                             f"got {tuple(x.shape)}")
        if not x.is_floating_point():
            raise InputError(f"{fn}: {name} must be a floating-point tensor (intensities in [0, 1]), got {x.dtype}")
        if first is None:
            first = (name, x)
        elif x.shape != first[1].shape:
            raise InputError(f"{fn}: {name} and {first[0]} differ in shape: {tuple(x.shape)} vs "
                             f"{tuple(first[1].shape)}")
    if first is not None:
        shape = first[1].shape
        if shape[0] == 0 and not maps:
            raise InputError(f"{fn}: empty batch (B = 0): the mean over it is undefined")
        if min(shape[-2:]) < min_side:
            raise ImageTooSmallError(f"images must be at least {min_side}x{min_side} for {what or fn}, "
                                     f"got {tuple(shape[-2:])}", min_side)


def _check_window(window: int, sigma: float, kind: str) -> None:
    if isinstance(window, bool) or not isinstance(window, int) or window < 1:
        raise ParameterError(f"window must be an integer >= 1 (pixels), got {window!r}")
    if isinstance(sigma, bool) or not isinstance(sigma, (int, float)) or not 0 < sigma < float("inf"):
        raise ParameterError(f"sigma must be a finite number > 0, got {sigma!r}")
    if kind not in ("gaussian", "uniform"):
        raise ParameterError(f"kind must be 'gaussian' or 'uniform', got {kind!r}")


@functools.lru_cache(maxsize=16)
def _window_cpu(size: int, sigma: float, kind: str) -> torch.Tensor:
    if kind == "uniform":
        g = torch.full((size,), 1.0 / size, dtype=torch.float64)
    else:
        x = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
        g = torch.exp(-(x**2) / (2 * sigma**2))
        g = g / g.sum()
    return g


def _filter(x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """Separable 'valid' filtering of (B, C, H, W) with the 1-D kernel g (same for all C)."""
    c = x.shape[1]
    k = g.numel()
    gh = g.view(1, 1, 1, k).expand(c, 1, 1, k)
    gv = g.view(1, 1, k, 1).expand(c, 1, k, 1)
    return F.conv2d(F.conv2d(x, gh, groups=c), gv, groups=c)


def window_stats(x: torch.Tensor, y: torch.Tensor, f: torch.Tensor, window: int = 11, sigma: float = 1.5,
                 kind: str = "gaussian") -> dict[str, torch.Tensor]:
    """Local weighted means, variances and covariances with the fused image, per valid window.

    ``x``, ``y``, ``f``: (B, 1, H, W), H and W ≥ ``window``; ``kind`` ``"gaussian"`` (σ =
    ``sigma``, normalised) or ``"uniform"`` (box). Returns (B, H − window + 1, W − window + 1)
    tensors ``mu_x``, ``mu_y``, ``mu_f`` (μ = Σ w·x), ``var_x``, ``var_y``, ``var_f``
    (σ² = Σ w·x² − μ²) and ``cov_xf``, ``cov_yf`` (σ_xy = Σ w·x·y − μ_x μ_y): the weighted, biased
    estimates of Wang et al.'s ``ssim.m`` ('valid' windows, no padding).
    """
    _check_window(window, sigma, kind)
    _check_images("window_stats", window, "the SSIM loss", maps=True, x=x, y=y, f=f)
    g = _window_cpu(window, sigma, kind).to(device=x.device, dtype=torch.float32 if x.dtype in (torch.float16, torch.bfloat16) else x.dtype)
    xf = x.float() if x.dtype in (torch.float16, torch.bfloat16) else x
    yf = y.to(xf.dtype)
    ff = f.to(xf.dtype)
    stack = torch.cat([xf, yf, ff, xf * xf, yf * yf, ff * ff, xf * ff, yf * ff], 1)
    m = _filter(stack, g)
    mx, my, mf, xx, yy, ffm, xfm, yfm = m.unbind(1)
    return {
        "mu_x": mx, "mu_y": my, "mu_f": mf,
        "var_x": xx - mx * mx, "var_y": yy - my * my, "var_f": ffm - mf * mf,
        "cov_xf": xfm - mx * mf, "cov_yf": yfm - my * mf,
    }


def _ssim_map(mu_a, mu_f, var_a, var_f, cov_af, c1=C1, c2=C2):
    return ((2 * mu_a * mu_f + c1) * (2 * cov_af + c2)) / ((mu_a**2 + mu_f**2 + c1) * (var_a + var_f + c2))


def selected_ssim_map(x: torch.Tensor, y: torch.Tensor, f: torch.Tensor, rule: str = "var", window: int = 11,
                      sigma: float = 1.5, kind: str = "gaussian", select_window: str = "same") -> torch.Tensor:
    """Per-window SSIM of the fused image against the selected source (B, H-10, W-10).

    SSIM(S, F | W) = (2 μ_S μ_F + C1)(2 σ_SF + C2) / ((μ_S² + μ_F² + C1)(σ_S² + σ_F² + C2)) (Eq. 2,
    Wang et al. 2004) with S, per window, the source of the larger criterion: the local variance
    for ``rule="var"`` (Eq. 4; Y on ties; ``select_window="uniform"`` takes it over Eq. 3's box
    window, ``"same"`` over the SSIM's window) or the local mean for ``rule="mean"`` (VIF-Net).
    ``select_window`` has no effect with ``rule="mean"`` (the mean is the SSIM window's) or
    ``kind="uniform"`` (the SSIM window is then the box). "Ties" are of the computed criteria
    (module docstring: two flat windows are decided by rounding). Conventions: L = 1, C1, C2,
    'valid' windows, weighted biased statistics (module docstring). ``x``, ``y``, ``f``:
    (B, 1, H, W) in [0, 1], H and W ≥ ``window``; the map is (B, H − window + 1, W − window + 1),
    in [−1, 1].

    Example (valid 11×11 windows of a 2×1×32×32 batch):

    >>> import numpy as np, torch
    >>> from mutualfuse.losses import selected_ssim_map
    >>> x = torch.from_numpy(np.random.default_rng(0).random((2, 1, 32, 32)))
    >>> selected_ssim_map(x, x.flip(-1), x).shape
    torch.Size([2, 22, 22])
    """
    _check_images("selected_ssim_map", maps=True, x=x, y=y, f=f)
    if select_window not in ("same", "uniform"):
        raise ParameterError(f"select_window must be 'same' or 'uniform', got {select_window!r}")
    s = window_stats(x, y, f, window, sigma, kind)
    ssim_x = _ssim_map(s["mu_x"], s["mu_f"], s["var_x"], s["var_f"], s["cov_xf"])
    ssim_y = _ssim_map(s["mu_y"], s["mu_f"], s["var_y"], s["var_f"], s["cov_yf"])
    if rule == "var":
        if select_window == "uniform" and kind != "uniform":
            su = window_stats(x, y, f, window, sigma, "uniform")
            crit_x, crit_y = su["var_x"], su["var_y"]
        else:
            crit_x, crit_y = s["var_x"], s["var_y"]
    elif rule == "mean":
        crit_x, crit_y = s["mu_x"], s["mu_y"]
    else:
        raise ValueError(f"selection rule must be 'var' or 'mean', got {rule!r}")
    return torch.where(crit_x > crit_y, ssim_x, ssim_y)


def var_ssim_loss(x: torch.Tensor, y: torch.Tensor, f: torch.Tensor, **kw) -> torch.Tensor:
    """L_var_SSIM = 1 − (1/N) Σ_W Var_SSIM(I_X, I_Y, I_F | W)   (paper Eqs. 4–5).

    For every 11×11 window W the source with the larger local variance is selected
    (Y on ties) and the SSIM (Eq. 2) of that source's window against the fused window is
    averaged over all N valid windows and the batch. Conventions: see the module docstring.
    ``x``, ``y``, ``f``: (B, 1, H, W) in [0, 1], H and W ≥ 11 (``window``); returns a 0-d tensor
    in [0, 2] (0 = F equals the selected source in every window). Keywords: ``window``,
    ``sigma``, ``kind``, ``select_window`` of :func:`selected_ssim_map`.

    Example (X textured, Y flat and brighter, F = X: the variance rule scores F against X, the
    mean rule of :func:`mean_ssim_loss` against Y):

    >>> import numpy as np, torch
    >>> from mutualfuse.losses import mean_ssim_loss, var_ssim_loss
    >>> x = torch.from_numpy(np.random.default_rng(0).random((2, 1, 32, 32)))
    >>> y = torch.full_like(x, 0.9)
    >>> abs(var_ssim_loss(x, y, x).item()) < 1e-6, round(mean_ssim_loss(x, y, x).item(), 3)
    (True, 0.99)
    """
    _check_images("var_ssim_loss", x=x, y=y, f=f)
    return 1.0 - selected_ssim_map(x, y, f, rule="var", **kw).mean()


def mean_ssim_loss(x: torch.Tensor, y: torch.Tensor, f: torch.Tensor, **kw) -> torch.Tensor:
    """L_mean_SSIM = 1 − (1/N) Σ_W SSIM(I_S, I_F | W), S = the source of the larger local mean.

    VIF-Net's rule (Hou et al., IEEE TCI 2020; the paper's Table 5 "Mean"): as
    :func:`var_ssim_loss` with the window's weighted mean μ in place of its variance as the
    criterion (Y on ties). Same conventions and shapes: ``x``, ``y``, ``f`` (B, 1, H, W) in
    [0, 1], H and W ≥ 11, 'valid' windows; returns a 0-d tensor.

    Example (Y brighter everywhere: the mean rule scores F against Y):

    >>> import numpy as np, torch
    >>> from mutualfuse.losses import mean_ssim_loss
    >>> x = torch.from_numpy(0.5 * np.random.default_rng(0).random((2, 1, 32, 32)))
    >>> y = 0.5 + x
    >>> abs(mean_ssim_loss(x, y, y).item()) < 1e-6, mean_ssim_loss(x, y, x).item() > 0.1
    (True, True)
    """
    _check_images("mean_ssim_loss", x=x, y=y, f=f)
    return 1.0 - selected_ssim_map(x, y, f, rule="mean", **kw).mean()


def sobel_magnitude(x: torch.Tensor) -> torch.Tensor:
    """|∇x| = sqrt(gx² + gy² + ε) by 3×3 Sobel filters, (B, 1, H, W) → (B, 1, H-2, W-2) ('valid').

    ε = 1e-12 keeps the gradient of the square root finite on flat patches. Kernels
    gx = [[−1, 0, 1], [−2, 0, 2], [−1, 0, 1]] (correlation, no flip), gy its transpose; H, W ≥ 3.

    Example (a ramp rising by 1 per column: |∇x| = 8 everywhere):

    >>> import torch
    >>> from mutualfuse.losses import sobel_magnitude
    >>> g = sobel_magnitude(torch.arange(6.0).repeat(1, 1, 6, 1))
    >>> g.shape, g.unique()
    (torch.Size([1, 1, 4, 4]), tensor([8.]))
    """
    _check_images("sobel_magnitude", 3, "the 3x3 Sobel filters", maps=True, x=x)
    k = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]], dtype=x.dtype, device=x.device)
    w = torch.stack([k, k.t()])[:, None]  # (2, 1, 3, 3): d/dx, d/dy
    g = F.conv2d(x, w)
    return torch.sqrt((g * g).sum(1, keepdim=True) + 1e-12)


def max_gradient_loss(x: torch.Tensor, y: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """L_grad = mean | |∇F| − max(|∇X|, |∇Y|) |   (Sobel magnitudes, 'valid' borders).

    The texture term of later unsupervised fusion losses (e.g. Tang et al., SeAFusion,
    Information Fusion 2022, Eq. 6, there with the L1 norm of Sobel gradients): the fused
    gradient should follow the stronger of the two sources' gradients at every pixel. Not part
    of the paper; used by ``var_ssim_grad``. Inputs (B, 1, H, W) in [0, 1], H and W ≥ 3; the
    mean is over the batch and the (H − 2)·(W − 2) valid pixels; a 0-d float32 tensor.

    Example (X textured, Y flat: F = X keeps the stronger edges everywhere, F = Y none):

    >>> import numpy as np, torch
    >>> from mutualfuse.losses import max_gradient_loss
    >>> x = torch.from_numpy(np.random.default_rng(0).random((2, 1, 32, 32)))
    >>> y = torch.full_like(x, 0.5)
    >>> round(max_gradient_loss(x, y, x).item(), 3), round(max_gradient_loss(x, y, y).item(), 3)
    (0.0, 1.245)
    """
    _check_images("max_gradient_loss", 3, "the 3x3 Sobel filters", x=x, y=y, f=f)
    gx, gy, gf = sobel_magnitude(x.float()), sobel_magnitude(y.float()), sobel_magnitude(f.float())
    return (gf - torch.maximum(gx, gy)).abs().mean()


def var_ssim_grad_loss(x: torch.Tensor, y: torch.Tensor, f: torch.Tensor, grad_weight: float = 1.0,
                       **kw) -> torch.Tensor:
    """L = L_var_SSIM + λ · L_grad (beyond the paper; λ = ``grad_weight``).

    Var-SSIM (Eqs. 4–5, conventions above) rewards the structure of the locally more varied
    source per 11×11 window; the max-gradient term (:func:`max_gradient_loss`) rewards edges at
    full resolution, where the window average lets a slightly blurred output score well.
    Inputs (B, 1, H, W) in [0, 1], H and W ≥ 11; keywords ``**kw`` go to :func:`var_ssim_loss`;
    returns a 0-d tensor.

    Example (F = X = Y: both terms are 0; a blurred F loses edges, so the gradient term adds):

    >>> import numpy as np, torch
    >>> import torch.nn.functional as F
    >>> from mutualfuse.losses import var_ssim_grad_loss, var_ssim_loss
    >>> x = torch.from_numpy(np.random.default_rng(0).random((2, 1, 32, 32)))
    >>> abs(var_ssim_grad_loss(x, x, x).item()) < 1e-6
    True
    >>> soft = F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)
    >>> bool(var_ssim_grad_loss(x, x, soft) > var_ssim_loss(x, x, soft) + 0.5)
    True
    """
    _check_images("var_ssim_grad_loss", x=x, y=y, f=f)
    return var_ssim_loss(x, y, f, **kw) + grad_weight * max_gradient_loss(x, y, f)


def max_intensity_loss(x: torch.Tensor, y: torch.Tensor, f: torch.Tensor, levels: int = 4) -> torch.Tensor:
    """L_int = mean | G(F) − max(G(X), G(Y)) |, G the low-pass of ``levels − 1`` binomial blur-downs.

    The intensity term of later unsupervised IR–VIS losses (Tang et al., SeAFusion, Information
    Fusion 2022, Eq. 5: ‖I_F − max(I_X, I_Y)‖₁ / HW, "keep the brighter, salient source"), taken
    here on the coarse intensities only: G is the base band of the Laplacian pyramid that the
    ``pyramid`` output blends (:func:`mutualfuse.model.pyramid.gaussian_base`: 5-tap binomial
    blur, ↓2, replicated borders; 1/2^(levels−1) resolution), so the term tells the low
    frequencies which source to keep and leaves the detail to Var-SSIM and the gradient term
    (a full-resolution max would pull towards the brighter source's noise). On multi-focus
    pairs G(X) ≈ G(Y) and the term is nearly neutral; where one source is black it selects the
    other. Not part of the paper; used by ``var_ssim_grad_int``. Inputs (B, 1, H, W) in [0, 1] of
    any size (the blur replicates the borders; G is ⌈H/2^(levels−1)⌉ × ⌈W/2^(levels−1)⌉); the
    mean is over the batch and the low-pass pixels; a 0-d float32 tensor.

    Example (Y black: the term asks for X's low-pass):

    >>> import numpy as np, torch
    >>> from mutualfuse.losses import max_intensity_loss
    >>> x = torch.from_numpy(np.random.default_rng(0).random((2, 1, 32, 32)))
    >>> y = torch.zeros_like(x)
    >>> round(max_intensity_loss(x, y, x).item(), 3), round(max_intensity_loss(x, y, y).item(), 3)
    (0.0, 0.498)
    """
    from .model.pyramid import gaussian_base

    _check_images("max_intensity_loss", x=x, y=y, f=f)
    if isinstance(levels, bool) or not isinstance(levels, int) or levels < 1:
        raise ParameterError(f"levels must be an integer >= 1, got {levels!r}")
    n = x.shape[0]
    g = gaussian_base(torch.cat([x.float(), y.float(), f.float()], 0), levels)
    return (g[2 * n :] - torch.maximum(g[:n], g[n : 2 * n])).abs().mean()


def var_ssim_grad_int_loss(x: torch.Tensor, y: torch.Tensor, f: torch.Tensor, grad_weight: float = 1.0,
                           int_weight: float = 1.0, int_levels: int = 4, **kw) -> torch.Tensor:
    """L = L_var_SSIM + λ · L_grad + μ · L_int (beyond the paper; λ = ``grad_weight``,
    μ = ``int_weight``): :func:`var_ssim_grad_loss` plus the low-pass max-intensity term
    :func:`max_intensity_loss` on ``int_levels`` pyramid levels. Inputs (B, 1, H, W) in [0, 1],
    H and W ≥ 11; returns a 0-d tensor.

    Example (F = X = Y: every term is 0):

    >>> import numpy as np, torch
    >>> from mutualfuse.losses import var_ssim_grad_int_loss
    >>> x = torch.from_numpy(np.random.default_rng(0).random((2, 1, 32, 32)))
    >>> abs(var_ssim_grad_int_loss(x, x, x, grad_weight=0.5).item()) < 1e-6
    True
    """
    _check_images("var_ssim_grad_int_loss", x=x, y=y, f=f)
    return var_ssim_grad_loss(x, y, f, grad_weight, **kw) + int_weight * max_intensity_loss(x, y, f, int_levels)


def truth_loss(f: torch.Tensor, truth: torch.Tensor, mask: torch.Tensor, window: int = 11,
               sigma: float = 1.5, grad_weight: float = 0.0) -> torch.Tensor:
    """Supervised term for samples with a known fused image (beyond the paper):

        L_truth = (1/B) Σ_i m_i · [ (1 − mean_W SSIM(F_i, T_i | W)) + mean |F_i − T_i|
                                    + γ · mean | |∇F_i| − |∇T_i| | ]

    ``f``, ``truth``: (B, 1, H, W) in [0, 1]; ``mask``: (B,) of 0/1, 1 where ``truth`` is the
    real answer (the synthetic multi-focus pairs made from one sharp crop, whose truth is that
    crop; ``TrainConfig.truth_weight``). SSIM conventions as the module docstring (11×11 Gaussian
    window, σ 1.5, C1, C2, 'valid' windows); the L1 term pins the mean intensity, which SSIM's
    luminance term weighs little. The gradient term (γ = ``grad_weight``, 0 = off; Sobel
    magnitudes, 'valid' borders, as :func:`max_gradient_loss` with the truth in place of the
    sources' maximum) asks for the truth's edge strength pixel by pixel, which SSIM's 11×11
    windows and the L1 term let a slightly soft output approach. Divided by the batch size B,
    not by Σ m, so that a sample weighs the same whatever the batch's mix. Returns a 0-d float32
    tensor (0 where F = T; exactly 0, still in the graph, when no sample has a truth).

    Example (a batch of two; only the first sample has a truth):

    >>> import numpy as np, torch
    >>> from mutualfuse.losses import truth_loss
    >>> t = torch.from_numpy(0.8 * np.random.default_rng(0).random((2, 1, 32, 32)))
    >>> abs(truth_loss(t, t, torch.ones(2)).item()) < 1e-6  # F = truth
    True
    >>> round(truth_loss(t + 0.1, t, torch.tensor([1.0, 0.0])).item(), 3)  # divided by B = 2
    0.062
    """
    _check_images("truth_loss", window, "the SSIM loss", f=f, truth=truth)
    if not isinstance(mask, torch.Tensor) or mask.numel() != f.shape[0]:
        raise InputError(f"truth_loss: mask must be a tensor of B = {f.shape[0]} values (1 where the truth is "
                         f"known), got {tuple(mask.shape) if isinstance(mask, torch.Tensor) else type(mask).__name__}")
    m = mask.to(torch.float32).view(-1)
    if not bool((m > 0).any()):
        return f.float().sum() * 0.0
    ff, tt = f.float(), truth.float()
    s = window_stats(tt, tt, ff, window, sigma)  # the truth in both source slots: its stats against F
    ssim = _ssim_map(s["mu_x"], s["mu_f"], s["var_x"], s["var_f"], s["cov_xf"]).mean(dim=(-2, -1))
    per = (1.0 - ssim) + (ff - tt).abs().mean(dim=(1, 2, 3))
    if grad_weight:
        per = per + grad_weight * (sobel_magnitude(ff) - sobel_magnitude(tt)).abs().mean(dim=(1, 2, 3))
    return (m * per).sum() / m.numel()


from .registry import Registry  # noqa: E402

#: the training losses by name (``TrainConfig.loss``); :data:`LOSSES` is its read-only dict view
LOSS_REGISTRY: Registry = Registry("loss")
LOSS_REGISTRY.add("var_ssim", var_ssim_loss, cite="the paper, Eqs. 2-5")
LOSS_REGISTRY.add("mean_ssim", mean_ssim_loss, cite="VIF-Net (Hou et al. 2020): Table 5's Mean-SSIM")
LOSS_REGISTRY.add("var_ssim_grad", var_ssim_grad_loss, cite="Var-SSIM + max-gradient term (beyond the paper)")
LOSS_REGISTRY.add("var_ssim_grad_int", var_ssim_grad_int_loss,
                  cite="Var-SSIM + max-gradient + low-pass max-intensity terms (beyond the paper)")
LOSSES = LOSS_REGISTRY.view()
#: the losses shipped with mutualfuse (:func:`register_loss` refuses these names)
BUILTIN_LOSSES = tuple(LOSS_REGISTRY.names())


def register_loss(name: str, fn=None, *, cite: str = ""):
    """Register a training loss of one's own under ``name``, so that ``TrainConfig.loss`` (the
    config's ``loss: NAME``) trains with it; as a call, ``register_loss("mine", fn)``, or as a
    decorator, ``@register_loss("mine")``. Returns ``fn``.

    The contract, which the trainer checks on a probe before any image is read and on every step:

    * ``fn(x, y, f, **loss_params) -> loss``: ``x`` and ``y`` the first-role (infrared, CT, ...)
      and second-role (visible, MR, ...) crops, ``f`` the network's fused output, each a float32
      ``(B, 1, H, W)`` tensor (B = the batch per process, H = W = ``data.crop``; the validation
      calls it with B = 1 and the crop of each held-out pair), intensities in [0, 1] as the
      trainer reads the images (``mutualfuse.image_io.read_gray_float``: 8-bit ``v/255``, 16-bit
      by each image's 0.1–99.9 percentiles, colour as BT.601 luma, the policy ``mutualfuse
      fuse`` reads images with by default); ``loss_params`` are the config's ``loss_params``.
    * ``loss``: a floating-point tensor of one element (a 0-d tensor, as the built-in losses
      return), finite, differentiable with respect to ``f`` (the optimiser minimises it). Anything
      else, or an exception, is a one-line error naming the loss and the file and line it failed
      at (at the probe: before training; during training: at that step).
    * ``fn`` must take ``x``, ``y`` and ``f`` as three positional arguments: ``fn(f)`` (a loss of
      the output alone takes ``x`` and ``y`` too) is refused here, when the module is imported, as
      ``register_metric`` refuses a metric that cannot be called as ``fn(a, b, f)``.
    * ``name``: letters, digits, ``_``, ``-`` and ``.``, not the name of a built-in loss
      (:data:`BUILTIN_LOSSES`; names are case-insensitive); the same function registered again
      (a module imported twice, a notebook cell run again) replaces itself, another function under
      a taken name is a :class:`~mutualfuse.errors.ParameterError`.

    What is recorded: the weights and checkpoints of a run with it hold ``loss_source`` (the
    loss's name, module, file and the sha256 of that file, :func:`loss_source`); ``mutualfuse
    train --import FILE`` imports the module that calls this (each ``torchrun`` rank runs the
    command, and so imports it too), and a ``--resume`` of such a run without it is refused in
    one line naming the file. ``cite``: a reference, kept in the registry's metadata."""
    import re

    from .errors import ParameterError

    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", name):
        raise ParameterError(f"register_loss: name must be letters, digits, '_', '-' or '.', got {name!r}")
    if name.lower() in {n.lower() for n in BUILTIN_LOSSES}:
        raise ParameterError(f"register_loss: {name!r} is a built-in loss ({', '.join(BUILTIN_LOSSES)}); "
                             "register yours under another name")

    def deco(f):
        if not callable(f):
            raise ParameterError(f"register_loss({name!r}): a loss must be a function f(x, y, f, **loss_params), "
                                 f"got {type(f).__name__}")
        import inspect

        try:
            sig = inspect.signature(f)
        except (TypeError, ValueError):  # no signature (a builtin): the trainer's probe calls it
            sig = None
        if sig is not None:
            try:  # as the trainer calls it: refused here, at the --import, not after the model is built
                sig.bind_partial(None, None, None)  # its other parameters may come from loss_params
            except TypeError as e:
                target = inspect.unwrap(f)
                where = f"{getattr(target, '__module__', '?')}.{getattr(target, '__qualname__', type(f).__name__)}"
                raise ParameterError(f"register_loss({name!r}): {where}{sig} cannot be called as "
                                     f"fn(x, y, f, **loss_params) ({e}): a loss takes the two sources and the fused "
                                     "output, also when it uses the fused output only") from None
        try:
            LOSS_REGISTRY.add(name, f, cite=cite, user=True)
        except ValueError as e:  # the name is taken by another definition
            raise ParameterError(f"register_loss: {e}") from None
        return f

    return deco if fn is None else deco(fn)


def loss_source(name: str) -> dict[str, str] | None:
    """Where the training loss ``name`` comes from, for a loss of one's own (:func:`register_loss`):
    ``{"loss", "module", "file", "sha256"}`` (the file's sha256, "" if it cannot be read; file ""
    for a function defined without one, e.g. in a notebook cell); ``None`` for a built-in loss.
    What weights and checkpoints record as ``loss_source``."""
    import inspect
    import sys

    if name not in LOSS_REGISTRY or not LOSS_REGISTRY.meta(name).get("user"):
        return None
    entry = LOSS_REGISTRY.entry(name)
    fn = entry.obj
    module = getattr(fn, "__module__", None) or ""
    try:
        file = inspect.getsourcefile(fn) or ""
    except TypeError:  # a callable object, a builtin
        file = getattr(sys.modules.get(module), "__file__", None) or ""
    if file.startswith("<"):  # "<ipython-input-…>", "<stdin>": no file to name
        file = ""
    digest = ""
    if file:
        from pathlib import Path

        from .io.digest import sha256_file

        try:
            file = str(Path(file).resolve())
            digest = sha256_file(file)
        except OSError:
            digest = ""
    return {"loss": entry.name, "module": module, "file": file, "sha256": digest}
