"""GTF's fast solvers equal the straightforward ones (``benchmarks/bench_gtf.py`` times them)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mutualfuse.methods import fuse_gray
from mutualfuse.methods.classical import gtf as g

SAMPLES = Path(__file__).resolve().parents[2] / "src" / "mutualfuse" / "data" / "samples"


@pytest.fixture(scope="module")
def s():
    ir, vis = (np.asarray(Image.open(SAMPLES / "tno-01" / f"{k}.png"), dtype=np.float64)[60:156, 100:212] / 255
               for k in "ab")
    return ir - vis


def test_irn_fast_equals_line_for_line_transcription(s):
    # Same float64 iteration; only the order of additions in the PCG operator differs. That can
    # move the iteration where PCG meets its tolerance or a value across a histogram bin edge of
    # the adaptive thresholds: measured max |diff| 8e-14 on the full TNO pair 01 and 1.6e-6 on
    # this crop. Bound 1e-4 (0.026 grey levels), an approximation bound, not rounding.
    slow = g.irn_l1tv_reference(s, 4.0)
    fast, its = g.irn_l1tv(s, 4.0)
    assert len(its) >= 2 and all(k > 0 for k in its[:2])  # really iterated
    assert np.abs(fast - slow).max() < 1e-4


def test_admm_fast_equals_reference(s):
    # Same iterates in float32 instead of float64: measured max |diff| 3e-4 grey levels after 300
    # iterations on TNO pair 01; bound 0.01 grey levels.
    y0, k0 = g.tv_l1_reference(s, 4.0, max_iter=200)
    y1, k1 = g.tv_l1(s, 4.0, max_iter=200)
    assert k1 >= k0
    assert np.abs(y1 - y0).max() * 255 < 0.01


def test_pcg_matches_octave_conventions():
    rng = np.random.default_rng(0)
    m = rng.standard_normal((30, 30))
    a = m @ m.T + 30 * np.eye(30)
    b = rng.standard_normal(30)
    x, it = g._pcg(lambda v: a @ v, b, 1e-10, 500, np.zeros(30))
    np.testing.assert_allclose(a @ x, b, atol=1e-8)
    assert 0 < it <= 30
    # x0 already within tolerance: 0 iterations (irntv.m stops its IRN loop on this)
    assert g._pcg(lambda v: a @ v, b, 1e-3, 500, x)[1] == 0
    # b = 0: x = 0 without iterating, as Octave's pcg
    x0, it0 = g._pcg(lambda v: a @ v, np.zeros(30), 1e-3, 500, np.ones(30))
    assert it0 == 0 and not x0.any()


@pytest.mark.parametrize("solver", ["irn", "admm"])
def test_gtf_self_fusion_and_constant_difference(s, solver):
    v = np.clip(s + 0.5, 0, 1)
    assert np.array_equal(fuse_gray("gtf", v, v, solver=solver), v)
    f = fuse_gray("gtf", np.clip(v + 0.1, 0, 1) * 0 + 0.6, np.full_like(v, 0.5), solver=solver)
    assert np.isfinite(f).all()


@pytest.mark.parametrize("method,params", [("gtf", {"solver": "lbfgs"}), ("gtf", {"loops": 0}),
                                           ("msvd", {"signs": "positive"}), ("msvd", {"mat2gray": 1})])
def test_new_options_reject_bad_values_in_one_line(method, params):
    from mutualfuse.errors import ParameterError

    a = np.zeros((16, 16))
    with pytest.raises(ParameterError) as e:
        fuse_gray(method, a, a + 0.5, **params)
    assert "\n" not in str(e.value) and method in str(e.value)
