"""Laplacian-pyramid blending: the ``output="pyramid"`` head of :class:`~mutualfuse.model.network.FMMNet`.

A per-pixel blend ``F = w·X + (1 − w)·Y`` (``output="blend"``) has one weight for all
frequencies at a pixel, so where both sources carry an edge (an IR–VIS contour, a texture
seen by only one sensor next to a shape seen by the other) it can only keep a mixture of their
gradients. Transform-domain rules (``lp``, ``dwt``, IFCNN's max rule) choose per frequency
band, which is why they score higher on the edge metrics. The pyramid head does the same with
learned weights: the network gives two logits per band, the sources are split into Burt &
Adelson Laplacian pyramids, every band is blended with its own softmax weights, and the
pyramid is collapsed.

Construction (Burt & Adelson, IEEE Trans. Commun. 1983): ``G_0 = X``,
``G_{j+1} = ↓2(b ∗ G_j)`` with the 5-tap binomial kernel b = [1 4 6 4 1]/16 (separable,
replicated borders), ``L_j = G_j − ↑2(G_{j+1})`` (bilinear, half-pixel centres) for
``j < n−1`` and ``L_{n−1} = G_{n−1}``. Because each band is *defined* as the residual of the
next coarser level, collapsing is exact for any ↓/↑ pair: with equal bands the input comes back
to float rounding (tested). Written here rather than taken from kornia (whose ``pyrdown``
uses the same kernel) to keep the model free of that dependency and to pin the border and
interpolation conventions that the tests and the ONNX export rely on.

Shapes: images (B, 1, H, W) with H and W divisible by ``2**(n−1)`` (the network pads to
:attr:`ModelConfig.multiple`); logits (B, 2n, H, W) at full resolution, pair ``j`` for band
``j``, average-pooled by ``2**j`` to the band's size.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

_BINOMIAL = (1.0, 4.0, 6.0, 4.0, 1.0)


def _blur_down(x: torch.Tensor) -> torch.Tensor:
    """↓2(b ∗ x): separable binomial blur with replicated borders, then every second sample.

    Channels are folded into the batch so that the kernel has a fixed shape (ONNX export).
    """
    n, c = x.shape[0], x.shape[1]
    k = torch.tensor(_BINOMIAL, dtype=x.dtype, device=x.device) / 16.0
    x = F.pad(x.reshape(n * c, 1, x.shape[-2], x.shape[-1]), (2, 2, 2, 2), mode="replicate")
    x = F.conv2d(x, k.view(1, 1, 1, 5), stride=(1, 2))
    x = F.conv2d(x, k.view(1, 1, 5, 1), stride=(2, 1))
    return x.reshape(n, c, x.shape[-2], x.shape[-1])


def _up(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


def laplacian_pyramid(x: torch.Tensor, levels: int) -> list[torch.Tensor]:
    """Bands ``[L_0, …, L_{n−2}, G_{n−1}]`` (fine → coarse) of (B, C, H, W) ``x``; ``levels`` = n ≥ 1."""
    if levels < 1:
        raise ValueError(f"levels must be >= 1, got {levels}")
    bands: list[torch.Tensor] = []
    g = x
    for _ in range(levels - 1):
        g_next = _blur_down(g)
        bands.append(g - _up(g_next, g.shape[-2:]))
        g = g_next
    bands.append(g)
    return bands


def gaussian_base(x: torch.Tensor, levels: int) -> torch.Tensor:
    """The base band ``G_{n−1}`` of :func:`laplacian_pyramid` alone (``levels − 1`` blur-downs)."""
    for _ in range(levels - 1):
        x = _blur_down(x)
    return x


def collapse_pyramid(bands: list[torch.Tensor]) -> torch.Tensor:
    """Inverse of :func:`laplacian_pyramid`: ``G_j = L_j + ↑2(G_{j+1})`` from the coarsest band up."""
    out = bands[-1]
    for band in reversed(bands[:-1]):
        out = band + _up(out, band.shape[-2:])
    return out


def pyramid_blend(weights: list[torch.Tensor], x: torch.Tensor, y: torch.Tensor,
                  gains: list[torch.Tensor] | None = None) -> torch.Tensor:
    """Collapse of ``g_j·(w_j·L_j(X) + (1 − w_j)·L_j(Y))``; ``weights[j]`` has band ``j``'s size
    (B, 1, h_j, w_j); ``gains`` (optional) one per *detail* band (the base band has none)."""
    n = len(weights)
    return blend_bands(weights, laplacian_pyramid(x, n), laplacian_pyramid(y, n), gains)


def blend_bands(weights: list[torch.Tensor], bx: list[torch.Tensor], by: list[torch.Tensor],
                gains: list[torch.Tensor] | None = None) -> torch.Tensor:
    """:func:`pyramid_blend` of the sources' already computed pyramids ``bx``, ``by``."""
    n = len(weights)
    bands = [w * u + (1 - w) * v for w, u, v in zip(weights, bx, by)]
    if gains is not None:
        if len(gains) != n - 1:
            raise ValueError(f"expected {n - 1} detail-band gains, got {len(gains)}")
        bands = [g * band for g, band in zip(gains, bands[:-1])] + [bands[-1]]
    return collapse_pyramid(bands)


def band_gains(z: torch.Tensor, bound: float) -> list[torch.Tensor]:
    """Full-resolution (B, n−1, H, W) gain logits → per detail band j, ``exp(b·tanh(z_j/b))``
    average-pooled (in the logit domain) by 2**j to the band's size."""
    out = []
    for j in range(z.shape[1]):
        zj = z[:, j : j + 1]
        zj = F.avg_pool2d(zj, 2**j) if j else zj
        out.append(torch.exp(bound * torch.tanh(zj / bound)))
    return out


def band_logits(logits: torch.Tensor, levels: int) -> list[torch.Tensor]:
    """Split full-resolution (B, 2n, H, W) logits into n pairs, pair j average-pooled by 2**j."""
    if logits.shape[1] != 2 * levels:
        raise ValueError(f"expected {2 * levels} logit channels for {levels} bands, got {logits.shape[1]}")
    out = []
    for j in range(levels):
        z = logits[:, 2 * j : 2 * j + 2]
        out.append(F.avg_pool2d(z, 2**j) if j else z)
    return out


def band_activity(band: torch.Tensor) -> torch.Tensor:
    """Activity of a detail band: the 3×3 mean of ``|L|`` (borders: the mean over the pixels inside),
    the local-energy measure of the classical choose-max rules (Burt & Kolczynski 1993 use a
    windowed energy; |L| rather than L² keeps it linear in contrast)."""
    return F.avg_pool2d(band.abs(), 3, stride=1, padding=1, count_include_pad=False)
