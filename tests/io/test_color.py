"""BT.601 YCbCr and the chroma rules."""
from __future__ import annotations

import numpy as np
import pytest

from mutualfuse.color import combine_chroma, fuse_color, rgb_to_ycbcr, ycbcr_to_rgb


def test_ycbcr_matches_bt601_and_round_trips():
    rng = np.random.default_rng(0)
    rgb = rng.random((5, 7, 3))
    ycc = rgb_to_ycbcr(rgb)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    assert np.allclose(ycc[..., 0], 0.299 * r + 0.587 * g + 0.114 * b)
    assert np.allclose(ycc[..., 1], -0.168736 * r - 0.331264 * g + 0.5 * b + 0.5)
    assert np.allclose(ycc[..., 2], 0.5 * r - 0.418688 * g - 0.081312 * b + 0.5)
    assert np.allclose(ycbcr_to_rgb(ycc), rgb, atol=1e-9)


def test_saturation_rule_prefers_the_more_saturated_source():
    ca = np.array([0.5, 0.9, 0.6, 0.2])
    cb = np.array([0.8, 0.5, 0.5, 0.8])
    out = combine_chroma(ca, cb)
    assert out[0] == pytest.approx(0.8)  # a neutral → b's colour
    assert out[1] == pytest.approx(0.9)  # b neutral → a's colour
    assert out[2] == pytest.approx(0.6)
    assert out[3] == pytest.approx((0.2 * 0.3 + 0.8 * 0.3) / 0.6)
    assert combine_chroma(np.array([0.5]), np.array([0.5]))[0] == 0.5


def _mean(x, y):
    return 0.5 * (x + y)


@pytest.mark.parametrize("rule", ["saturation", "a", "b", "mean"])
def test_fuse_color_rules(rule):
    rng = np.random.default_rng(1)
    a = rng.random((2, 6, 8, 3)) * 0.6 + 0.2
    b = rng.random((2, 6, 8, 3)) * 0.6 + 0.2
    out = fuse_color(a, b, _mean, chroma=rule)
    yo, ya, yb = rgb_to_ycbcr(out), rgb_to_ycbcr(a), rgb_to_ycbcr(b)
    assert np.allclose(yo[..., 0], 0.5 * (ya[..., 0] + yb[..., 0]), atol=1e-9)
    expect = {"a": ya[..., 1:], "b": yb[..., 1:], "mean": 0.5 * (ya[..., 1:] + yb[..., 1:]),
              "saturation": np.stack([combine_chroma(ya[..., i], yb[..., i]) for i in (1, 2)], -1)}[rule]
    assert np.allclose(yo[..., 1:], expect, atol=1e-9)


def test_colour_plus_gray_keeps_colour_chroma_either_order():
    rng = np.random.default_rng(2)
    c = rng.random((1, 6, 8, 3)) * 0.5 + 0.25
    g = rng.random((1, 6, 8))
    for out in (fuse_color(c, g, _mean), fuse_color(g, c, _mean)):
        assert out.shape == c.shape
        assert np.allclose(rgb_to_ycbcr(out)[..., 1:], rgb_to_ycbcr(c)[..., 1:], atol=1e-9)
    assert fuse_color(g, g, _mean).shape == g.shape


def test_bad_chroma_rule():
    from mutualfuse.errors import ParameterError

    with pytest.raises(ParameterError, match="chroma must be one of"):
        fuse_color(np.zeros((1, 8, 8, 3)), np.zeros((1, 8, 8, 3)), _mean, chroma="max")


def test_gray_rule_drops_the_chroma():
    """``chroma="gray"``: the fused luminance, gray, for colour + colour, colour + gray (either
    order) and gray + gray alike; the other rules' luminance is the same."""
    rng = np.random.default_rng(3)
    c1 = rng.random((2, 6, 8, 3)) * 0.6 + 0.2
    c2 = rng.random((2, 6, 8, 3)) * 0.6 + 0.2
    g = rng.random((2, 6, 8))
    y1, y2 = rgb_to_ycbcr(c1)[..., 0], rgb_to_ycbcr(c2)[..., 0]
    for a, b, ya, yb in ((c1, c2, y1, y2), (c1, g, y1, g), (g, c2, g, y2), (g, g, g, g)):
        out = fuse_color(a, b, _mean, chroma="gray")
        assert out.shape == g.shape
        np.testing.assert_array_equal(out, _mean(ya, yb))
    colour = fuse_color(c1, c2, _mean, chroma="mean")
    inside = ((colour > 0.01) & (colour < 0.99)).all(-1)  # away from RGB clipping
    gray = fuse_color(c1, c2, _mean, chroma="gray")
    assert np.abs(rgb_to_ycbcr(colour)[..., 0] - gray)[inside].max() < 1e-9
