"""Audit (session 15): an image too small for a method's decomposition or window is refused in one
line that names the size limit (it said only "too deep for a 17x33 image" / "too small for
ksize=31"), and the smallest allowed size works, odd or even."""
from __future__ import annotations

import numpy as np
import pytest

from mutualfuse.errors import ParameterError
from mutualfuse.methods import fuse_gray

rng = np.random.default_rng(0)


@pytest.mark.parametrize("method", ["lp", "rp", "dwt", "dtcwt"])
@pytest.mark.parametrize("levels", [1, 2, 4, 5])
def test_depth_limit_names_the_size_and_holds_at_the_edge(method, levels):
    need = 2 * 2 ** levels
    for side in (max(need, 8), max(need, 8) + 1):  # the smallest allowed side, even and odd
        a, b = rng.random((side, 3 * side)), rng.random((side, 3 * side))
        out = fuse_gray(method, a, b, levels=levels)
        assert out.shape == a.shape and np.isfinite(out).all()
    if need - 1 >= 8:
        a, b = rng.random((need - 1, 40)), rng.random((need - 1, 40))
        with pytest.raises(ParameterError, match=rf"levels={levels} is too deep for a 40x{need - 1} image "
                                                 rf"\(needs at least {need} px per side"):
            fuse_gray(method, a, b, levels=levels)


@pytest.mark.parametrize("ksize,cov_wsize,need", [(31, 5, 16), (21, 3, 11)])
def test_cbf_window_limit_names_the_size(ksize, cov_wsize, need):
    a, b = rng.random((need - 1, 30)), rng.random((need - 1, 30))
    with pytest.raises(ParameterError, match=rf"too small for ksize={ksize} \(needs at least {need} px per side\)"):
        fuse_gray("cbf", a, b, ksize=ksize, cov_wsize=cov_wsize)
    a, b = rng.random((need, 30)), rng.random((need, 30))
    assert np.isfinite(fuse_gray("cbf", a, b, ksize=ksize, cov_wsize=cov_wsize)).all()
