"""Audit (session 16): ``mgff``'s ``eps`` has a floor, 1e-6 (in the authors' 0..255 units).

It was declared "> 0". Divided by 255^2 for [0, 1] data, a tiny ``eps`` no longer regularises
the guided filter's ``cov / (var + eps)`` in flat windows, where both are rounding noise:
``fuse_gray("mgff", 0.3 * ones, 0.7 * ones, eps=1e-300)`` returned an all-NaN image (5120 NaN
of 64x80, only RuntimeWarnings), ``eps=5e-324`` the same on any image with a flat region, and
``eps`` 1e-30 .. 1e-15 finite garbage (0 or 1 instead of 0.5 for two constant images). From
1e-12 up the result is sane; at 1e-6 it is the small-eps limit (the same as 1e-9 to 4e-10 on
these images), so nothing usable is lost.
"""
from __future__ import annotations

import numpy as np
import pytest

from mutualfuse.errors import ParameterError
from mutualfuse.methods import METHODS, check_method_params, fuse_gray

rng = np.random.default_rng(16)
H, W = 64, 80
CASES = {
    "constant": (np.full((H, W), 0.3), np.full((H, W), 0.7)),
    "tiny noise": (0.5 + 1e-9 * rng.standard_normal((H, W)), 0.5 + 1e-12 * rng.standard_normal((H, W))),
    "steps": (np.where(np.arange(W) < 40, 0.2, 0.8)[None].repeat(H, 0),
              np.where(np.arange(H) < 30, 0.9, 0.1)[:, None].repeat(W, 1)),
}


@pytest.mark.parametrize("eps", [1e-300, 5e-324, 1e-15, 9.99e-7])
def test_eps_below_the_floor_is_refused_in_one_line(eps):
    a, b = CASES["constant"]
    msg = rf"^method 'mgff': parameter eps must be a finite number >= 1e-6, got {eps!r}$"
    with pytest.raises(ParameterError, match=msg.replace("+", r"\+").replace(".", r"\.")):
        fuse_gray("mgff", a, b, eps=eps)
    with pytest.raises(ParameterError, match="parameter eps must be a finite number >= 1e-6"):
        check_method_params("mgff", {"eps": eps})
    with pytest.raises(ParameterError, match="parameter eps must be a finite number >= 1e-6"):
        METHODS.get("mgff")(a, b, eps=eps)


@pytest.mark.parametrize("case", list(CASES))
def test_eps_at_the_floor_is_finite_and_the_small_eps_limit(case):
    a, b = CASES[case]
    for radius in (1, 9, 100):
        for levels in (1, 4, 10):
            out = fuse_gray("mgff", a, b, eps=1e-6, radius=radius, levels=levels)
            ref = fuse_gray("mgff", a, b, eps=1e-3, radius=radius, levels=levels)
            assert np.isfinite(out).all(), (case, radius, levels)
            assert np.abs(out - ref).max() < 1e-8, (case, radius, levels)
            if case == "constant":
                assert np.abs(out - 0.5).max() < 1e-12


def test_floor_is_declared_and_shown():
    assert "mgff" in METHODS.names()
    assert METHODS.meta("mgff")["params"]["eps"].allowed() == "a finite number >= 1e-6"
