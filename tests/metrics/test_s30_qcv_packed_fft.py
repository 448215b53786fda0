"""Q_CV with both filtered differences in one complex FFT (session 30, issue 15).

``structural._qcv_compiled`` transforms z = (A − F) + i·2^e·(B − F) with one complex64 ``fft2`` and
one ``ifft2`` instead of two real transforms: the CSF is real and even, so the real and imaginary
parts of the result are the two filtered differences. The power of two 2^e
(``structural._qcv_balance``) gives both parts about the same norm; without it the round-off of the
larger part swamps the smaller one where that one decides Q_CV (F ≈ A and a source without edges,
λ_B = 0: 3e-2 relative).

* The new kernels (``qcv_front``: saliency and differences in one pass; ``qcv_block_mean_sq2``:
  block means of both parts) give the values of the kernels they replace, bit for bit.
* Q_CV against the float64 NumPy reference (``_qcv_numpy``, MATLAB's operations) on triples made
  for the cross-talk: at the float32 tolerance of ``tests/tolerance.py`` (measured on the AVX-512
  EPYC: ≤ 5.4e-6 relative, where the previous two-real-FFT path was off by up to 6.0e-6: Q_CV of
  5.5e-10 from a smooth image with four changed pixels), exactly 0 where the reference is exactly
  0, and far outside the tolerance without the balancing (3e-2), which is what makes the test
  meaningful.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from tolerance import assert_close

from mutualfuse.metrics import liu_kernels as L
from mutualfuse.metrics import structural as ST


def _bits(a: np.ndarray) -> np.ndarray:
    return a.view(np.int64 if a.dtype == np.float64 else np.int32)


@pytest.mark.parametrize("shape", [(1, 1), (2, 3), (16, 16), (17, 33), (37, 50), (100, 37)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_front_kernel_equals_saliency_and_the_differences(shape, dtype):
    K = L.kernels()
    rng = np.random.default_rng(sum(shape))
    ims = rng.integers(0, 256, (3,) + shape).astype(dtype)  # normalize1-ed images: integers
    ws = 16
    nb = (-(-shape[0] // ws), -(-shape[1] // ws))
    lam = np.full((2,) + nb, np.nan)
    z = np.full(shape, np.nan, np.complex64)
    s1, s2 = K["qcv_front"](ims, ws, lam, z.view(np.float32))
    for q in range(2):
        want = np.empty(nb)
        K["qcv_saliency"](ims[q], ws, want)
        assert np.array_equal(_bits(lam[q]), _bits(want)), q
    d = ims[:2].astype(np.float64) - ims[2]
    assert np.array_equal(z.real, d[0].astype(np.float32)) and np.array_equal(z.imag, d[1].astype(np.float32))
    assert (s1, s2) == (float(np.sum(d[0] ** 2)), float(np.sum(d[1] ** 2)))  # integers: exact


def test_front_kernel_returns_nan_sums_for_nan_images():
    K = L.kernels()
    ims = np.full((3, 20, 21), np.nan, np.float32)
    lam = np.empty((2, 2, 2))
    s1, s2 = K["qcv_front"](ims, 16, lam, np.empty((20, 42), np.float32))
    assert math.isnan(s1) and math.isnan(s2) and np.isnan(lam).all()


@pytest.mark.parametrize("shape", [(1, 1), (16, 32), (37, 50), (65, 17)])
def test_block_mean_sq2_equals_block_mean_sq_of_each_part(shape):
    K = L.kernels()
    rng = np.random.default_rng(shape[1])
    z = (rng.normal(0, 40, shape) + 1j * rng.normal(0, 0.01, shape)).astype(np.complex64)
    nb = (-(-shape[0] // 16), -(-shape[1] // 16))
    D = np.full((2,) + nb, np.nan)
    K["qcv_block_mean_sq2"](z.view(np.float32), 16, D)
    for q, part in enumerate((z.real, z.imag)):
        want = np.empty(nb)
        K["block_mean_sq"](np.ascontiguousarray(part), 16, want)
        assert np.array_equal(_bits(D[q]), _bits(want)), q


def test_balance_exponent():
    assert ST._qcv_balance(4.0, 1.0) == 1  # norms 2 and 1
    assert ST._qcv_balance(1.0, 4.0) == -1
    assert ST._qcv_balance(3.0, 2.0) == 0
    assert ST._qcv_balance(2.0**40, 1.0) == 20
    assert ST._qcv_balance(1e300, 1e-300) == 60  # clamped
    for s1, s2 in [(0.0, 5.0), (5.0, 0.0), (0.0, 0.0), (math.nan, 1.0), (1.0, math.inf)]:
        assert ST._qcv_balance(s1, s2) == 0


def _cross_talk_triples():
    """Triples where one filtered difference is tiny next to the other and still decides Q_CV."""
    rng = np.random.default_rng(30)
    m, n = 120, 160
    yy, xx = np.mgrid[0:m, 0:n]
    noise = rng.integers(0, 256, (m, n)).astype(float)
    smooth = np.round(128 + 100 * np.sin(xx / 30.0) * np.cos(yy / 17.0))
    zero = np.zeros((m, n))
    few = noise.copy()
    idx = rng.choice(m * n, 20, replace=False)
    few.flat[idx] = np.where(few.flat[idx] < 255, few.flat[idx] + 1, 254)
    spot = smooth.copy()
    spot[50:52, 60:62] += 1
    return [
        ("A noise, B black, F = A + 20 px", noise, zero, few),
        ("A smooth, B black, F = A + 4 px", smooth, zero, spot),
        ("A black, B smooth, F = B + 4 px", zero, smooth, spot),  # (the other part: 2^e < 1)
        ("A noise, B smooth, F = A + 20 px", noise, smooth, few),
    ]


@pytest.mark.parametrize("case", range(4))
def test_packed_fft_on_cross_talk_triples_at_the_float32_tolerance_of_numpy(case):
    label, a, b, f = _cross_talk_triples()[case]
    ims = ST._prep3_keep_uint8(a, b, f)
    ref = ST._qcv_numpy(*ST._float64_images(ims))
    got = ST.qcv(a, b, f)
    assert ref != 0  # (relative: Q_CV's scale is arbitrary, 5.5e-10 in two of these)
    assert_close(got / ref, 1.0, dtype=np.float32, msg=label)


def test_without_the_balancing_the_cross_talk_would_decide_the_value(monkeypatch):
    """The point of 2^e: with e = 0 the smooth image's F ≈ A case is off by far more than the tolerance."""
    label, a, b, f = _cross_talk_triples()[1]
    ims = ST._prep3_keep_uint8(a, b, f)
    ref = ST._qcv_numpy(*ST._float64_images(ims))
    assert ST._qcv_balance(*_sums(ims)) != 0
    monkeypatch.setattr(ST, "_qcv_balance", lambda s1, s2: 0)
    with pytest.raises(AssertionError):
        assert_close(ST.qcv(a, b, f) / ref, 1.0, dtype=np.float32, msg=label)


def _sums(ims):
    x = [ST._normalize1(y) for y in ST._float64_images(ims)]
    return float(np.sum((x[0] - x[2]) ** 2)), float(np.sum((x[1] - x[2]) ** 2))  # (B − F, A − F)


def test_a_zero_difference_gives_exactly_zero():
    """F = A with a black B (λ_B = 0): the reference is exactly 0 (A − F = 0, filtered 0), and so is
    ours, although B − F's round-off spreads into the real part of the packed transform."""
    label, a, b, f = _cross_talk_triples()[0]
    assert ST.qcv(a, np.zeros_like(a), a) == 0.0
    assert ST._qcv_numpy(*ST._float64_images(ST._prep3_keep_uint8(a, np.zeros_like(a), a))) == 0.0
    assert ST.qcv(np.zeros_like(a), a, a) == 0.0  # (B = F, A black)
