"""Q_CB and Q_CV read uint8 images as they are (issue 15 speed): no float64 copies of them.

``structural.qcb`` / ``qcv`` keep an image whose gray is uint8 as uint8 (``_prep3_keep_uint8``)
and hand it to the compiled ``normalize1`` kernel, which computes in float64 from it; they convert
it to float64 (as ``prep3`` did) only before the float64 or NumPy paths. So every value must equal
the value of the same samples given as float64, exactly (not within a tolerance), on every path:
the float32 one, the float64 one it hands over to (black backgrounds, constant images), the NumPy
one (images under 31 pixels a side, no numba), and the errors must be ``prep3``'s.
"""
from __future__ import annotations

from importlib.resources import files

import numpy as np
import pytest
from PIL import Image

from mutualfuse.errors import ImageTooSmallError, InputError
from mutualfuse.metrics import _common as C
from mutualfuse.metrics import structural as ST
from tests.metrics.test_liu_speed_kernels import black_background_triple

FNS = [ST.qcb, ST.qcv]


def _same(u: float, d: float) -> bool:
    """Equal bit for bit (NaN equal to NaN)."""
    return np.array_equal(np.float64(u), np.float64(d), equal_nan=True)


def _sample(name: str):
    """A bundled pair as Pillow reads it (uint8, gray or RGB) and their rounded mean (uint8)."""
    a, b = (np.asarray(Image.open(files("mutualfuse") / f"data/samples/{name}/{n}.png")) for n in "ab")
    return a, b, ((a.astype(np.int32) + b + 1) // 2).astype(np.uint8)


def _triples():
    rng = np.random.default_rng(20261207)
    out = []
    for shape in [(2, 2), (5, 9), (30, 44), (31, 31), (33, 47), (64, 31), (97, 130)]:
        a, b, f = rng.integers(0, 256, (3,) + shape, dtype=np.uint8)
        out.append((f"random {shape}", a, b, f))
        lo = rng.integers(90, 100, (3,) + shape, dtype=np.uint8)  # a narrow range: stretched
        out.append((f"narrow {shape}", *lo))
    shape = (40, 50)
    noise = rng.integers(0, 256, shape, dtype=np.uint8)
    out += [("constant F", noise, 255 - noise, np.full(shape, 77, np.uint8)),
            ("all constant", *(np.full(shape, v, np.uint8) for v in (3, 200, 77))),
            ("all zero", *np.zeros((3,) + shape, np.uint8)),
            ("A = B = F", noise, noise, noise),
            ("black backgrounds", *(x.astype(np.uint8) for x in black_background_triple()))]
    for name in ("tno-01", "lytro-01", "ct-mr-c01"):
        out.append((name, *_sample(name)))
    return out


TRIPLES = _triples()


@pytest.mark.parametrize("fn", FNS, ids=lambda f: f.__name__)
def test_uint8_images_give_the_float64_value_bit_for_bit(fn):
    for label, a, b, f in TRIPLES:
        with np.errstate(all="ignore"):  # (constant images: NaN, as the reference gives)
            want = fn(*C.prep3(a, b, f))  # the same samples as 0-255 float64 (gray for RGB)
            assert _same(fn(a, b, f), want), label
            # mixed dtypes, and uint8 views that are not C-contiguous (Fortran order, strided)
            assert _same(fn(a, C.prep3(a, b, f)[1], f), want), label
            assert _same(fn(np.asfortranarray(a), b[::1, ::1], np.asfortranarray(f)), want), label
    big = np.random.default_rng(5).integers(0, 256, (3, 80, 140), dtype=np.uint8)
    a, b, f = big[:, ::2, ::2]  # strided views, 40 × 70
    assert _same(fn(a, b, f), fn(*C.prep3(a, b, f)))


@pytest.mark.parametrize("fn", FNS, ids=lambda f: f.__name__)
def test_the_compiled_paths_read_uint8_images_without_a_float64_copy(fn, monkeypatch):
    """The point of the change: ``normalize1`` reads the uint8 arrays themselves."""
    seen = []
    orig = ST._normalize1_into

    def spy(K, x, out):
        seen.append(x.dtype)
        return orig(K, x, out)

    monkeypatch.setattr(ST, "_normalize1_into", spy)
    _, a, b, f = TRIPLES[-3]  # tno-01, where the float32 path answers
    fn(a, b, f)
    assert seen == [np.dtype(np.uint8)] * 3
    seen.clear()
    fn(a, b.astype(np.float64), f)  # a float image is still read as its float64 copy
    # (in either order: Q_CV takes its two sources in one lexicographic order since s30)
    assert sorted(seen, key=str) == [np.dtype(np.float64), np.dtype(np.uint8), np.dtype(np.uint8)]


@pytest.mark.parametrize("path", ["float64", "numpy", "no numba"])
def test_qcb_fallback_paths_get_float64_images_and_the_same_values(path, monkeypatch):
    """Where the float32 path hands over (forced here), the float64 and NumPy paths get the
    float64 copies that ``prep3`` made, and the value is the float64 input's bit for bit."""
    calls = []

    def wrap(name):
        orig = getattr(ST, name)

        def w(*args):
            calls.append((name, [x.dtype for x in args if isinstance(x, np.ndarray)]))
            return orig(*args)
        return w

    monkeypatch.setattr(ST, "_qcb_compiled32", lambda *args: None)
    if path == "numpy":
        monkeypatch.setattr(ST, "_qcb_compiled", lambda *args: None)
    if path == "no numba":
        monkeypatch.setattr(ST, "kernels", lambda: None)
    else:
        monkeypatch.setattr(ST, "_qcb_compiled", wrap("_qcb_compiled"))
    monkeypatch.setattr(ST, "_qcb_numpy", wrap("_qcb_numpy"))
    for label, a, b, f in [TRIPLES[4], TRIPLES[-3]]:  # random 30 × 44 is NumPy-sized anyway
        calls.clear()
        want = ST.qcb(*C.prep3(a, b, f))
        assert _same(ST.qcb(a, b, f), want), label
        assert calls and all(d == [np.dtype(np.float64)] * 3 for _, d in calls), (label, calls)


def test_qcv_without_numba_gets_float64_images(monkeypatch):
    monkeypatch.setattr(ST, "kernels", lambda: None)
    _, a, b, f = TRIPLES[-3]
    orig = ST._qcv_numpy
    seen = []
    monkeypatch.setattr(ST, "_qcv_numpy", lambda *x: seen.append([y.dtype for y in x]) or orig(*x))
    assert _same(ST.qcv(a, b, f), ST.qcv(*C.prep3(a, b, f)))
    assert seen == [[np.dtype(np.float64)] * 3] * 2


@pytest.mark.parametrize("fn", FNS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("case", ["sizes differ", "too small", "bad dtype", "NaN", "1-D", "4 channels"])
def test_errors_are_prep3s(fn, case):
    u = np.zeros((40, 50), np.uint8)
    inputs = {
        "sizes differ": (u, u, np.zeros((41, 50), np.uint8)),
        "too small": (u[:1], u[:1], u[:1]),
        "bad dtype": (u, u.astype(np.complex128), u),
        "NaN": (u, u, np.full((40, 50), np.nan)),
        "1-D": (u[0], u[0], u[0]),
        "4 channels": (u, u, np.zeros((40, 50, 5), np.uint8)),
    }[case]
    with pytest.raises((InputError, ImageTooSmallError)) as want:
        C.prep3(*inputs)
    with pytest.raises(type(want.value)) as got:
        fn(*inputs)
    assert str(got.value) == str(want.value)
