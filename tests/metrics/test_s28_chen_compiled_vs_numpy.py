"""Q_CB's and Q_CV's compiled float32-FFT paths against the float64 NumPy references
(``_qcb_numpy`` / ``_qcv_numpy``) at the float32 tolerance of ``tests/tolerance.py`` on shapes the
other tests do not cover (odd sizes on both axes, the 31-pixel minimum of Q_CB's compiled path,
partial 16×16 blocks of Q_CV, images under 31 pixels), smooth-plus-noise content, uint8 and float
inputs; and the bundled samples within the errors documented in ``structural.py``.
"""
from __future__ import annotations

import math
from importlib.resources import files

import numpy as np
import pytest

from tolerance import assert_close

from mutualfuse.image_io import read_image
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
def test_compiled_path_equals_numpy_reference(monkeypatch, fn, shape, dtype):
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
def test_compiled_path_on_samples_within_documented_error(monkeypatch, fn, name):
    """The bundled samples: Q_CB within 1e-5, Q_CV within 1e-6 of the NumPy value (the errors
    documented in ``structural.py``)."""
    a, b, f = _sample(name)
    ref = _numpy_value(monkeypatch, fn, a, b, f)
    got = fn(a, b, f)
    assert abs(got - ref) <= (1e-5 if fn is ST.qcb else 1e-6) * abs(ref)
