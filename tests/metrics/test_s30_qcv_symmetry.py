"""Q_CV packs A − F and B − F into one complex FFT (session 30), whose round-off depends on which
difference is the real part: ``qcv(a, b, f)`` and ``qcv(b, a, f)`` were 1.6e-8 apart (the suite's
symmetry test asks 1e-12). The two images are now taken in one order for both calls."""
from __future__ import annotations

import numpy as np
import pytest

from mutualfuse.metrics import structural as S


@pytest.mark.parametrize("seed", range(4))
def test_qcv_does_not_depend_on_the_order_of_the_sources(seed):
    rng = np.random.default_rng(seed)
    a, b, f = rng.integers(0, 256, (3, 80, 96), dtype=np.uint8)
    b[:7] = a[:7]  # the first rows equal: the order is decided further down
    for x, y, z in ((a, b, f), (a.astype(np.float64), b, f), (a, b, (a // 2 + b // 2))):
        assert S.qcv(x, y, z) == S.qcv(y, x, z)


def test_comes_before_is_an_order():
    x = np.array([[1, 2], [3, 4]])
    y = np.array([[1, 2], [3, 5]])
    assert S._comes_before(x, y) and not S._comes_before(y, x)
    assert not S._comes_before(x, x.copy())
