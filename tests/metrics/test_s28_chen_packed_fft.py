"""Q_CB / Q_CV with packed complex FFTs (``chen_kernels``: two real images per complex64 transform).

The compiled paths are compared with the float64 NumPy references (``_qcb_numpy`` / ``_qcv_numpy``)
at the float32 tolerance of ``tests/tolerance.py`` (their FFTs run in float32), on several shapes
(odd sizes, the 31-pixel minimum of Q_CB's compiled path, partial 16×16 blocks), uint8 and float
inputs; the packing kernels against NumPy's FFTs; the number of transforms per call; and the
hand-over of Q_CB's float32 path on an exact float32 zero of b_σ2 − b_σ4.
"""
from __future__ import annotations

import math
from importlib.resources import files

import numpy as np
import pytest
import scipy.fft

from tolerance import assert_close

from mutualfuse.image_io import read_image
from mutualfuse.metrics import _common as C
from mutualfuse.metrics import chen_kernels as CK
from mutualfuse.metrics import liu_kernels as L
from mutualfuse.metrics import structural as ST


def _numpy_value(monkeypatch, fn, a, b, f) -> float:
    with monkeypatch.context() as m:
        m.setattr(ST, "kernels", lambda: None)
        return fn(a, b, f)


def _sample(name: str):
    a, b = (255 * read_image(files("mutualfuse") / f"data/samples/{name}/{n}.png")[0] for n in "ab")
    return a, b, np.round((a + b) / 2)


SHAPES = [(31, 31), (31, 40), (33, 47), (47, 33), (64, 97), (97, 64), (80, 120), (12, 20)]


@pytest.mark.parametrize("dtype", ["uint8", "float64"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("fn", [ST.qcb, ST.qcv], ids=lambda f: f.__name__)
def test_packed_compiled_path_equals_numpy_reference(monkeypatch, fn, shape, dtype):
    rng = np.random.default_rng(shape[0] * 1000 + shape[1])
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]]
    base = 127 + 60 * np.sin(xx / 5.0) * np.cos(yy / 7.0)
    a = np.clip(base + rng.normal(0, 12, shape), 0, 255)
    b = np.clip(255 - base + rng.normal(0, 12, shape), 0, 255)
    f = 0.6 * a + 0.4 * b
    if dtype == "uint8":
        a, b, f = (np.round(x).astype(np.uint8) for x in (a, b, f))
    ref = _numpy_value(monkeypatch, fn, a, b, f)
    assert math.isfinite(ref)
    assert_close(fn(a, b, f), ref, dtype=np.float32)


@pytest.mark.parametrize("fn", [ST.qcb, ST.qcv], ids=lambda f: f.__name__)
@pytest.mark.parametrize("name", ["tno-01", "lytro-01"])
def test_packed_path_on_samples_within_documented_error(monkeypatch, fn, name):
    """The bundled samples: Q_CB within 1e-5, Q_CV within 1e-6 of the NumPy value (the errors
    documented in ``structural.py``)."""
    a, b, f = _sample(name)
    ref = _numpy_value(monkeypatch, fn, a, b, f)
    got = fn(a, b, f)
    assert abs(got - ref) <= (1e-5 if fn is ST.qcb else 1e-6) * abs(ref)


@pytest.mark.parametrize("shape", [(31, 31), (33, 47), (48, 64)])
def test_split_filter_gives_each_images_filtered_spectrum(shape):
    """``qcb_split_filter``: from the spectrum of x + i·y, X·(h0 + i·h1) and Y·(h0 + i·h1)."""
    KC = CK.kernels()
    rng = np.random.default_rng(sum(shape))
    x, y = rng.integers(0, 256, (2,) + shape).astype(np.float32)
    h = rng.random((2,) + shape).astype(np.float32)
    Z = scipy.fft.fft2(x + 1j * y.astype(np.complex64)).astype(np.complex64)
    WX, WY = np.empty((2,) + shape, np.complex64)
    KC["qcb_split_filter"](Z.view(np.float32), h, WX.view(np.float32), WY.view(np.float32))
    hc = h[0] + 1j * h[1].astype(np.float64)
    scale = np.abs(np.fft.fft2(x)).max()
    assert np.abs(WX - np.fft.fft2(x.astype(float)) * hc).max() <= 1e-5 * scale
    assert np.abs(WY - np.fft.fft2(y.astype(float)) * hc).max() <= 1e-5 * scale


@pytest.mark.parametrize("shape", [(31, 31), (33, 47), (48, 64)])
def test_full_filter_extends_a_half_spectrum(shape):
    KC = CK.kernels()
    m, n = shape
    rng = np.random.default_rng(m + 7 * n)
    x = rng.integers(0, 256, shape).astype(np.float32)
    h = rng.random((2,) + shape).astype(np.float32)
    XF = scipy.fft.rfft2(x)
    W = np.empty(shape, np.complex64)
    KC["qcb_full_filter"](XF.view(np.float32), n, h, W.view(np.float32))
    want = np.fft.fft2(x.astype(float)) * (h[0] + 1j * h[1].astype(np.float64))
    assert np.abs(W - want).max() <= 1e-5 * np.abs(want).max()


def _count_transforms(monkeypatch, fn, a, b, f) -> int:
    """2-D transforms per call: fft2/ifft2/rfft2/irfft2 calls, and an ifft + irfft pair as one."""
    n = {"2d": 0, "ifft": 0}
    for name in ("fft2", "ifft2", "rfft2", "irfft2", "ifft"):
        orig = getattr(scipy.fft, name)

        def w(*args, _orig=orig, _name=name, **kw):
            n["ifft" if _name == "ifft" else "2d"] += 1
            return _orig(*args, **kw)
        monkeypatch.setattr(ST.scipy.fft, name, w)
    fn(a, b, f)
    monkeypatch.undo()
    return n["2d"] + n["ifft"]


def test_transform_counts(monkeypatch):
    """Q_CB's float32 path (it answers on tno-01): 7 transforms per call (img1 + i·img2 and F
    forward, four packed inverses, x_F's real inverse), not 12; Q_CV: 2 (one packed pair), not 5."""
    a, b, f = (np.round(x).astype(np.uint8) for x in _sample("tno-01"))
    assert _count_transforms(monkeypatch, ST.qcb, a, b, f) <= 7
    assert _count_transforms(monkeypatch, ST.qcv, a, b, f) <= 2


def test_exact_float32_zero_of_the_contrast_hands_over_to_float64(monkeypatch):
    """An exact float32 zero of b_σ2 − b_σ4 (the real part of the packed inverse) makes C' = 0
    and the reference formula 0/0 = NaN: the float32 path hands over and ``qcb`` gives the float64
    compiled value exactly."""
    K = L.kernels()
    KC = CK.kernels()
    A, B, F = C.prep3(*_sample("tno-01"))
    real = KC["qcb_contrast_w"]

    def with_zero(w, e, first, cp, t):
        w[100, 200] = 0.0  # (column 2·100: the real part, d, of pixel (100, 100))
        real(w, e, first, cp, t)

    monkeypatch.setitem(KC, "qcb_contrast_w", with_zero)
    assert ST._qcb_compiled32(K, A, B, F) is None
    v64 = ST._qcb_compiled(K, A, B, F)
    assert v64 is not None and math.isfinite(v64)
    assert ST.qcb(A, B, F) == v64
