"""The selection rules compare complex magnitudes (DT-CWT, curvelet) as sqrt(re² + im²), the
same on every CPU: NumPy's np.abs of complex128 takes a SIMD path on CPUs with AVX2 and
hypot elsewhere, 1 ulp apart for ~4 % of values, so near-ties went different ways and dtcwt
moved by up to 1.1 grey levels between CPUs (found by emulating a CPU without AVX2)."""
from __future__ import annotations

import numpy as np

from mutualfuse.methods.classical._common import magnitude, select_consistency, select_maxabs


def _tie_pairs(n: int = 2000):
    """Complex c1 and real c2 with |c1| == c2 by sqrt(re² + im²) where hypot(re, im) differs."""
    rng = np.random.default_rng(0)
    x, y = rng.random(200000), rng.random(200000)
    s = np.sqrt(x * x + y * y)
    odd = np.nonzero(np.hypot(x, y) != s)[0][:n]
    assert odd.size > 100  # hypot and the sqrt form do disagree on such values
    return (x[odd] + 1j * y[odd]), s[odd], np.hypot(x[odd], y[odd])


def test_magnitude_is_the_sqrt_form_not_hypot():
    c1, s, h = _tie_pairs()
    assert np.array_equal(magnitude(c1), s) and not np.array_equal(magnitude(c1), h)
    assert np.array_equal(magnitude(np.array([-3.0, 4.0])), [3.0, 4.0])


def test_ties_by_the_sqrt_form_go_to_the_second_source_whatever_the_cpu():
    c1, s, _ = _tie_pairs()
    assert np.array_equal(select_maxabs(c1, s + 0j), s + 0j)  # ties go to c2 (selc rule 1)
    side = int(np.sqrt(c1.size))
    a, b = c1[:side * side].reshape(side, side), (s[:side * side] + 0j).reshape(side, side)
    assert np.array_equal(select_consistency(a, b), b)  # no window has a1 > a2: all from c2
