"""Audit (session 16): the registered method functions called directly, as a researcher would
(``METHODS.get(name)(a, b)``, ``mutualfuse.methods.classical.pyramid.rp(a, b)``), and through
:func:`mutualfuse.methods.fuse_gray`, with arrays that are not C-contiguous float64.

What was wrong before session 16:

* ``asr`` on a Fortran-ordered array or a transposed view (``np.asfortranarray(a)``, ``a.T`` of a
  C array) gave a result different from the same values C-contiguous (by 1e-15: the patch means
  and variances were summed in the order of the copied patches' memory layout), through
  ``fuse_gray`` too;
* a direct call with float32 images computed in float32: ``rp(a32, b32)`` was off by 0.099
  (25 grey levels) from the same images as float64, ``dtcwt`` by 0.003; several methods returned
  float32 (``fuse_gray`` converts to float64 first and was right);
* a direct call with anything else was not checked: uint8 or 0..255 floats came back as values
  up to 366 (``dwt``), NaN came back as NaN, a colour (H, W, 3) pair came back as (H, W, 3) from
  ``mgff`` / ``average``, a size mismatch or a 3-D array failed inside numpy ("operands could not
  be broadcast together", "too many values to unpack"), a 4x4 pair was fused by ``msvd``.

Now the registered function (the wrapper that checks its parameters, ``params.with_params``)
checks and normalises the images too, as ``fuse_gray`` does: float samples in [0, 1], finite,
2-D, the same shape, at least 8x8, else a one-line :class:`InputError` naming the method; then
C-contiguous float64 (a copy only when needed; inputs are never written).
"""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mutualfuse.errors import InputError
from mutualfuse.methods import METHODS, fuse_gray
from mutualfuse.methods.classical import pyramid, sparse, wavelet

CLASSICAL = ["average", "max", "lp", "rp", "dwt", "dtcwt", "cvt", "msvd", "gtf", "cbf", "mgff", "asr", "csr"]
SLOW = {"asr", "csr"}
FAST = {"csr": {"max_iter": 40}}


@pytest.fixture(scope="module")
def tno(samples):
    def load(n):
        return np.asarray(Image.open(samples / "tno-01" / f"{n}.png").convert("L"), dtype=np.float64) / 255.0
    return load("a"), load("b")


def _pair(tno, method):
    a, b = tno
    h, w = (48, 40) if method in SLOW else (97, 61)  # odd, prime sizes for the fast methods
    return np.ascontiguousarray(a[20:20 + h, 40:40 + w]), np.ascontiguousarray(b[20:20 + h, 40:40 + w])


def _readonly(x):
    x = x.copy()
    x.setflags(write=False)
    return x


def _layouts(a):
    """The same values in other memory layouts (and a read-only copy)."""
    big = np.zeros((2 * a.shape[0], 2 * a.shape[1]))
    big[::2, ::2] = a
    return {
        "fortran": np.asfortranarray(a),
        "transposed view": np.ascontiguousarray(a.T).T,
        "negative strides": np.ascontiguousarray(a[::-1, ::-1])[::-1, ::-1],
        "step 2 view": big[::2, ::2],
        "read-only": _readonly(a),
    }


@pytest.mark.parametrize("method", CLASSICAL)
def test_any_memory_layout_gives_the_same_result_bit_for_bit(tno, method):
    a, b = _pair(tno, method)
    kw = FAST.get(method, {})
    ref = fuse_gray(method, a, b, **kw)
    ref_direct = METHODS.get(method)(a, b, **kw)
    la, lb = _layouts(a), _layouts(b)
    for name in la:
        x, y = la[name], lb[name]
        x0, y0 = x.copy(), y.copy()
        assert np.array_equal(fuse_gray(method, x, y, **kw), ref), (method, name)
        assert np.array_equal(METHODS.get(method)(x, y, **kw), ref_direct), (method, name)
        assert np.array_equal(x, x0) and np.array_equal(y, y0), (method, name, "input modified")


def test_asr_fortran_order_was_not_bit_identical(tno):
    """The case that failed: ``asr`` on Fortran-ordered input (differed by about 1e-15)."""
    a, b = _pair(tno, "asr")
    ref = sparse.asr(a, b)
    assert np.array_equal(sparse.asr(np.asfortranarray(a), np.asfortranarray(b)), ref)
    assert np.array_equal(fuse_gray("asr", a.T.copy().T, b.T.copy().T), ref)


@pytest.mark.parametrize("method", [m for m in CLASSICAL if m not in SLOW] + ["asr"])
def test_direct_float32_call_computes_in_float64(tno, method):
    a, b = _pair(tno, method)
    a32, b32 = a.astype(np.float32), b.astype(np.float32)
    out = METHODS.get(method)(a32, b32)
    assert out.dtype == np.float64, (method, out.dtype)
    assert np.array_equal(out, METHODS.get(method)(a32.astype(np.float64), b32.astype(np.float64))), method


def test_rp_float32_was_25_grey_levels_off(tno):
    a, b = _pair(tno, "rp")
    a32, b32 = a.astype(np.float32), b.astype(np.float32)
    ref = pyramid.rp(a32.astype(np.float64), b32.astype(np.float64))
    assert np.abs(pyramid.rp(a32, b32) - ref).max() < 1e-12
    ref = wavelet.dtcwt(a32.astype(np.float64), b32.astype(np.float64))
    assert np.abs(wavelet.dtcwt(a32, b32) - ref).max() < 1e-12


def _bad_inputs(a, b):
    h, w = a.shape
    nan = a.copy()
    nan[3, 4] = np.nan
    return [
        ("uint8", (a * 255).astype(np.uint8), (b * 255).astype(np.uint8), "expected float samples in [0, 1]"),
        ("0..255 floats", a * 255, b * 255, "not [0, 1]"),
        ("NaN", nan, b, "NaN or infinite"),
        ("colour", np.dstack([a] * 3), np.dstack([b] * 3), "expected a 2-D gray array"),
        ("size mismatch", a, b[:-1], "size mismatch"),
        ("4x4", a[:4, :4].copy(), b[:4, :4].copy(), "smaller than 8x8"),
        ("1xN strip", a[:1].copy(), b[:1].copy(), "smaller than 8x8"),
        ("list", a.tolist(), b.tolist(), "expected a numpy float array"),
        ("complex", a.astype(complex), b.astype(complex), "expected float samples"),
    ]


@pytest.mark.parametrize("method", CLASSICAL)
def test_direct_call_refuses_unusable_images_in_one_line_naming_the_method(tno, method):
    a, b = _pair(tno, method)
    for label, x, y, needle in _bad_inputs(a[:40, :40], b[:40, :40]):
        x0 = np.copy(x)
        with pytest.raises(InputError) as e:
            METHODS.get(method)(x, y)
        msg = str(e.value)
        assert "\n" not in msg and msg.startswith(f"method {method!r}: ") and needle in msg, (label, msg)
        assert np.array_equal(np.asarray(x), x0, equal_nan=True), (method, label, "input modified")


def test_the_reference_paths_check_their_images_too(tno):
    a, b = _pair(tno, "asr")
    with pytest.raises(InputError, match=r"^method 'asr': a: expected float samples"):
        sparse.asr_reference((a * 255).astype(np.uint8), b)
    with pytest.raises(InputError, match=r"^method 'csr': size mismatch"):
        sparse.csr_reference(a, b[:-1])


def test_fuse_gray_messages_are_unchanged(tno):
    """``fuse_gray`` checks first, with its own words (no method prefix), as before."""
    a, b = _pair(tno, "lp")
    with pytest.raises(InputError, match=r"^size mismatch: a is 61x97, b is 61x96$"):
        fuse_gray("lp", a, b[:-1])
    with pytest.raises(InputError, match=r"^a: image is 40x7, smaller than 8x8$"):
        fuse_gray("lp", a[:7, :40], b[:7, :40])


def test_within_tolerance_overshoot_is_clipped_not_refused(tno):
    """Values within the float tolerance of [0, 1] (rounding from a colour conversion) are clipped
    as ``fuse_gray`` clips them, not refused; the caller's array is not touched."""
    a, b = _pair(tno, "lp")
    x = a.copy()
    x[0, 0] = 1.0 + 1e-9
    y = b.copy()
    y[0, 0] = -1e-9
    x0, y0 = x.copy(), y.copy()
    xc, yc = np.clip(x, 0, 1), np.clip(y, 0, 1)
    assert np.array_equal(METHODS.get("lp")(x, y), METHODS.get("lp")(xc, yc))
    assert np.array_equal(x, x0) and np.array_equal(y, y0)


def test_the_list_covers_every_built_in_method():
    """CLASSICAL is the registry's list of the package's classical methods (with average and max)."""
    from builtin_methods import builtin_classical

    assert set(CLASSICAL) == builtin_classical(pixel=True)
