"""Q_CV with one packed complex FFT pair (``chen_kernels``: its two differences as the real and
imaginary parts of one complex64 image), and Q_CB's compiled path, against the float64 NumPy
references (``_qcb_numpy`` / ``_qcv_numpy``) at the float32 tolerance of ``tests/tolerance.py``
(their FFTs run in float32) on several shapes (odd sizes, the 31-pixel minimum of Q_CB's compiled
path, partial 16×16 blocks, tiny images), uint8 and float inputs; the packing kernels against
NumPy's real FFTs; the number of transforms per Q_CV call.
"""
from __future__ import annotations

import math
from importlib.resources import files

import numpy as np
import pytest
import scipy.fft

from tolerance import assert_close

from mutualfuse.image_io import read_image
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


@pytest.mark.parametrize("shape", [(17, 17), (33, 47), (48, 64)])
def test_packed_pair_filters_each_difference(shape):
    """``qcv_pack`` + one complex FFT pair with a real even filter give each real image filtered
    on its own (the half-spectrum real transforms of the previous path), as real and imaginary
    parts; ``block_mean_sq2`` gives both block means of ``liu_kernels.block_mean_sq``."""
    KC = CK.kernels()
    K = L.kernels()
    m, n = shape
    rng = np.random.default_rng(m * n)
    ims = rng.integers(0, 256, (3, m, n)).astype(np.float32)
    z = np.empty(shape, np.complex64)
    KC["qcv_pack"](ims, z)
    assert np.array_equal(z.real, ims[0] - ims[2]) and np.array_equal(z.imag, ims[1] - ims[2])
    h = ST._qcv_filter_full(m, n)
    assert np.array_equal(h, h[(-np.arange(m)) % m][:, (-np.arange(n)) % n])  # real and even
    z = scipy.fft.fft2(z, workers=1, overwrite_x=True)
    KC["scale_full"](z, h)
    z = scipy.fft.ifft2(z, workers=1, overwrite_x=True)
    for k, part in enumerate((z.real, z.imag)):
        want = np.fft.irfft2(np.fft.rfft2((ims[k] - ims[2]).astype(float)) * h[:, : n // 2 + 1], s=shape)
        scale = np.abs(want).max()  # (FFT round-off scales with the largest value)
        assert_close(part / scale, want / scale, dtype=np.float32)
    D = np.empty((2, -(-m // 16), -(-n // 16)))
    KC["block_mean_sq2"](z, 16, D)
    for k, part in enumerate((z.real, z.imag)):
        want = np.empty(D.shape[1:])
        K["block_mean_sq"](np.ascontiguousarray(part), 16, want)
        assert np.array_equal(D[k], want)


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


def test_qcv_transform_count(monkeypatch):
    """Q_CV: one packed complex FFT pair per call (2 transforms), not a batched real forward
    and two half-spectrum inverses (5 calls)."""
    a, b, f = (np.round(x).astype(np.uint8) for x in _sample("tno-01"))
    assert _count_transforms(monkeypatch, ST.qcv, a, b, f) == 2
