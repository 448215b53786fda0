"""Q_CB and Q_CV with float32 FFTs (``structural._qcb_compiled32``, ``structural._qcv_compiled``).

Their FFTs run in float32 (complex64 spectra); everything around them in float64. So the compiled
values are compared with the float64 NumPy reference (``_qcb_numpy`` / ``_qcv_numpy``, MATLAB's
complex operations) at the float32 tolerance of ``tests/tolerance.py``, and, on the bundled
samples, within the error documented in ``structural.py`` (Q_CB ≤ 1e-5 relative where the float32
path answers, measured ≤ 6.1e-6 on the 77 conformance triples; Q_CV ≤ 1e-6, measured ≤ 2.2e-7).
Where float32 round-off could decide Q_CB (black backgrounds, an exact float32 zero of
b_σ2 − b_σ4), ``qcb`` must take the float64 path and give its value exactly.
"""
from __future__ import annotations

import math
from importlib.resources import files

import numpy as np
import pytest

from tolerance import assert_close

from mutualfuse.image_io import read_image
from mutualfuse.metrics import _common as C
from mutualfuse.metrics import liu_kernels as L
from mutualfuse.metrics import structural as ST
from tests.metrics.test_liu_speed_kernels import black_background_triple


def _sample(name: str):
    a, b = (255 * read_image(files("mutualfuse") / f"data/samples/{name}/{n}.png")[0] for n in "ab")
    return a, b, np.round((a + b) / 2)


def _numpy(monkeypatch, fn, a, b, f) -> float:
    with monkeypatch.context() as m:
        m.setattr(ST, "kernels", lambda: None)
        return fn(a, b, f)


def _triples():
    rng = np.random.default_rng(20261206)
    out = []
    for shape in [(96, 128), (83, 101), (31, 40)]:
        a = rng.integers(0, 256, shape).astype(np.uint8)
        b = rng.integers(0, 256, shape).astype(np.uint8)
        f = ((a.astype(float) + b) / 2).round().astype(np.uint8)
        out.append((f"uint8 {shape}", a, b, f))
    yy, xx = np.mgrid[0:90, 0:85]
    base = 127 + 60 * np.sin(xx / 9.0) * np.cos(yy / 13.0)
    a = base + rng.normal(0, 7, base.shape)
    b = 255 - base + rng.normal(0, 7, base.shape)
    out.append(("smooth float", a, b, 0.6 * a + 0.4 * b + rng.normal(0, 2, base.shape)))
    noise = rng.integers(0, 256, (84, 90)).astype(float)
    const = np.full(noise.shape, 77.0)
    out += [("constant", const, const, const), ("zero", 0 * noise, 0 * noise, 0 * noise),
            ("A = B = F", noise, noise, noise), ("F = A", noise, 255 - noise, noise)]
    for name in ("tno-01", "lytro-01", "ct-mr-c01"):
        out.append((name, *_sample(name)))
    return out


@pytest.mark.parametrize("fn", [ST.qcb, ST.qcv], ids=["Qcb", "Qcv"])
def test_float32_fft_path_matches_the_float64_numpy_reference(monkeypatch, fn):
    """At the float32 tolerance (the FFTs' precision), NaN where the reference is NaN."""
    assert L.kernels() is not None
    for label, a, b, f in _triples():
        with np.errstate(all="ignore"):
            ref = _numpy(monkeypatch, fn, a, b, f)
            got = fn(a, b, f)
        if math.isnan(ref):
            assert math.isnan(got), f"{label}: NumPy NaN, compiled {got!r}"
        else:
            assert_close(got, ref, dtype=np.float32, msg=f"{fn.__name__} {label}")


@pytest.mark.parametrize("name", ["tno-01", "lytro-01"])
def test_float32_paths_answer_on_natural_images_within_the_documented_error(monkeypatch, name):
    """The float32 Q_CB path gives a value (no hand-over) on natural images, within 1e-5 of the
    float64 compiled one; Q_CV within 1e-6 of the NumPy reference. Both differ from the float64
    values (the float32 FFTs are really used: the old path agreed to ~1e-14)."""
    K = L.kernels()
    A, B, F = C.prep3(*_sample(name))
    v32 = ST._qcb_compiled32(K, A, B, F)
    v64 = ST._qcb_compiled(K, A, B, F)
    assert v32 is not None and v64 is not None
    assert abs(v32 - v64) <= 1e-5 * abs(v64)
    assert ST.qcb(A, B, F) == v32
    cv, cv_ref = ST.qcv(A, B, F), _numpy(monkeypatch, ST.qcv, A, B, F)
    assert abs(cv - cv_ref) <= 1e-6 * abs(cv_ref)
    assert cv != cv_ref or v32 != v64


def test_qcb_hands_over_to_float64_on_black_backgrounds():
    """Objects in exactly black backgrounds (the CT/MR case): the float32 estimate is above
    ``_QCB_MAX_RISK32``, so ``qcb`` gives the float64 paths' value exactly (here: NumPy's)."""
    K = L.kernels()
    a, b, f = black_background_triple()
    A, B, F = C.prep3(a, b, f)
    assert ST._qcb_compiled32(K, A, B, F) is None
    assert ST.qcb(a, b, f) == ST._qcb_numpy(A, B, F)
    A, B, F = C.prep3(*_sample("ct-mr-c01"))
    v64 = ST._qcb_compiled(K, A, B, F)
    assert ST._qcb_compiled32(K, A, B, F) is None
    assert ST.qcb(A, B, F) == (ST._qcb_numpy(A, B, F) if v64 is None else v64)


def test_qcb_exact_float32_zero_of_the_contrast_hands_over_to_float64(monkeypatch):
    """An exact float32 zero of b_σ2 − b_σ4 (seen once on the Lytro conformance image 09) makes
    C' = 0 and the reference formula 0/0 = NaN: the float32 path must not return that NaN but hand
    over, and ``qcb`` then gives the float64 compiled value exactly."""
    K = L.kernels()
    A, B, F = C.prep3(*_sample("tno-01"))
    real = K["qcb_contrast32"]

    def with_zero(d, b4, e, first, cp, t):
        d[100, 100] = 0.0
        real(d, b4, e, first, cp, t)

    monkeypatch.setitem(K, "qcb_contrast32", with_zero)
    assert ST._qcb_compiled32(K, A, B, F) is None
    v64 = ST._qcb_compiled(K, A, B, F)
    assert v64 is not None and math.isfinite(v64)
    assert ST.qcb(A, B, F) == v64
