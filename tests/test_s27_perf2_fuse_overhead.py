"""Session 27 (perf2): the per-call overhead of ``Fuser.fuse`` around the method.

``methods.fuse_gray`` copied both inputs, clipped the result into a third array and checked the
values (``check_unit_float``: ``isfinite``, ``min``, ``max``; ``check_pair``: ``isfinite`` again)
that ``Fuser.fuse_gray_batch`` had just checked, and the gray core stacked the one result into a
fourth: a gray 1000x1000 pair through ``Fuser('average').fuse_arrays`` peaked at 4 images of
float64 on top of its inputs. Now the values are checked once, in one pass
(:func:`mutualfuse.validation.unit_float`), the package's methods get read-only views of C-ordered
float64 inputs, their results are clipped where they are, and a single pair's result is not
stacked: the peak is the result itself. The outputs are the same bytes (checked with ``cmp``
on every method and input kind when the change was made); the checks refuse what they refused.
"""
from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from builtin_methods import builtin_classical
from registry_state import registries_restored

IMAGE_BYTES = 1000 * 1000 * 8  # one float64 1000x1000 image


def _peak(call) -> tuple[int, np.ndarray]:
    tracemalloc.start()
    try:
        out = call()
        return tracemalloc.get_traced_memory()[1], out
    finally:
        tracemalloc.stop()


@pytest.fixture(scope="module")
def gray_pair():
    rng = np.random.default_rng(27)
    return rng.random((1, 1000, 1000)), rng.random((1, 1000, 1000))


def test_gray_fuse_arrays_allocates_only_its_result(gray_pair):
    from mutualfuse import Fuser

    a, b = gray_pair
    f = Fuser("average")
    peak, out = _peak(lambda: f.fuse_arrays(a, b))
    # before: 4 images (two input copies, the clipped result, the stacked result); now the result
    assert peak < 1.5 * IMAGE_BYTES, peak / IMAGE_BYTES
    assert np.array_equal(out, np.clip(0.5 * (a + b), 0, 1))


def test_methods_fuse_gray_allocates_only_its_result(gray_pair):
    from mutualfuse.methods import fuse_gray

    a, b = gray_pair
    peak, out = _peak(lambda: fuse_gray("max", a[0], b[0]))
    assert peak < 1.5 * IMAGE_BYTES, peak / IMAGE_BYTES
    assert np.array_equal(out, np.maximum(a[0], b[0]))
    assert not np.shares_memory(out, a) and not np.shares_memory(out, b) and out.flags.writeable


@pytest.mark.parametrize("method", sorted(builtin_classical(pixel=True)))
def test_each_package_method_fuses_read_only_inputs(method):
    """The package's methods get read-only views of their inputs (no copies): each must fuse them
    as it fuses writable ones, without a warning, and return an array of its own."""
    import warnings

    from mutualfuse.methods import METHODS, fuse_gray

    side = (24, 20) if METHODS.meta(method).get("slow") else (48, 40)
    rng = np.random.default_rng(5)
    a, b = rng.random(side), rng.random(side)
    fn = METHODS.get(method)
    want = np.clip(getattr(fn, "unchecked", fn)(a.copy(), b.copy()), 0, 1)
    ra, rb = a.copy(), b.copy()
    ra.setflags(write=False)
    rb.setflags(write=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = fuse_gray(method, ra, rb)
    assert np.array_equal(got, want)  # the same body on the same float64 values
    assert np.array_equal(ra, a) and np.array_equal(rb, b)
    assert not np.shares_memory(got, ra) and not np.shares_memory(got, rb)


def test_an_own_method_still_gets_copies_and_its_bad_result_is_caught(gray_pair):
    from mutualfuse import Fuser
    from mutualfuse.methods import MethodResultError, register_method

    a, b = (x[:, :64, :48].copy() for x in gray_pair)
    keep_a, keep_b = a.copy(), b.copy()
    with registries_restored("test_s27_perf2"):
        @register_method("s27perf2_writes", family="pixel")
        def writes(x, y):
            x *= 0.5  # writes into its input: the caller's array must not change
            y[:] = 0
            return x

        @register_method("s27perf2_nan", family="pixel")
        def nan(x, y):
            out = 0.5 * (x + y)
            out[3, 4] = np.nan
            return out

        out = Fuser("s27perf2_writes").fuse_arrays(a, b)
        assert np.array_equal(a, keep_a) and np.array_equal(b, keep_b)
        assert np.array_equal(out[0], np.clip(keep_a[0] * 0.5, 0, 1))
        with pytest.raises(MethodResultError, match="1 of its 3072 values are NaN or infinite"):
            Fuser("s27perf2_nan").fuse_arrays(a, b)


def _cases():
    rng = np.random.default_rng(9)
    big = rng.random((300, 400))  # 120000 values: more than one block of the one-pass check
    late_nan = big.copy()
    late_nan[-1, -1] = np.nan
    late_inf = big.copy()
    late_inf[-2, 7] = np.inf
    over = big.copy()
    over[-1, 3] = 1.0004  # within the tolerance: clipped (a copy)
    under = big.copy()
    under[200, 3] = -0.0004
    far = big.copy()
    far[250, 1] = 1.5
    neg_zero = big.copy()
    neg_zero[0, 0] = -0.0
    return {
        "plain": big, "late_nan": late_nan, "late_inf": late_inf, "neg_inf": -late_inf, "over": over,
        "under": under, "far": far, "neg_zero": neg_zero, "float32": big.astype(np.float32),
        "float16": big.astype(np.float16), "fortran": np.asfortranarray(big), "strided": big[::2, ::3],
        "strided_nan": late_nan[1::2, 1::3], "transposed_over": over.T, "uint8": (big * 255).astype(np.uint8),
        "empty": np.zeros((0, 5)), "masked": np.ma.masked_array(big, mask=False), "list": [[0.5]],
        "batch_nan": np.stack([big, late_nan]), "ones": np.ones((9, 9)), "zeros": np.zeros((9, 9)),
    }


@pytest.mark.parametrize("case", sorted(_cases()))
def test_the_one_pass_check_says_what_check_unit_float_says(case):
    from mutualfuse.convert import check_unit_float
    from mutualfuse.errors import InputError
    from mutualfuse.validation import unit_float

    x = _cases()[case]
    try:
        want = check_unit_float(x, "a")
    except InputError as e:
        with pytest.raises(InputError) as got:
            unit_float(x, "a")
        assert str(got.value) == str(e)
        return
    got = unit_float(x, "a")
    assert (got is x) == (want is x), case  # returned as it is, or a clipped copy, as the full check does
    assert type(got) is type(want) and got.dtype == want.dtype and np.array_equal(got, want), case


@pytest.mark.parametrize("colour", [False, True])
def test_fuse_arrays_reads_each_image_once_to_check_it(monkeypatch, colour):
    """The value check runs once per input (and once per luminance of a colour pair), not again
    in ``fuse_gray_batch`` and ``methods.fuse_gray``."""
    import mutualfuse.validation as validation
    from mutualfuse import Fuser

    rng = np.random.default_rng(3)
    shape = (1, 40, 48, 3) if colour else (1, 40, 48)
    a, b = rng.random(shape), rng.random(shape)
    f = Fuser("average")
    want = f.fuse_arrays(a, b)
    seen = []
    real = validation.in_unit_range
    monkeypatch.setattr(validation, "in_unit_range", lambda x: seen.append(x.shape) or real(x))
    assert np.array_equal(f.fuse_arrays(a, b), want)
    assert seen == ([shape, shape, shape[:3], shape[:3]] if colour else [shape, shape])


def test_fuse_arrays_still_clips_an_overshoot_and_refuses_nan():
    from mutualfuse import Fuser
    from mutualfuse.errors import InputError

    rng = np.random.default_rng(4)
    a, b = rng.random((1, 40, 48)), rng.random((1, 40, 48))
    f = Fuser("max")
    over = a.copy()
    over[0, 5, 6] = 1.0004  # within the tolerance: clipped to 1 before the method
    clipped = over.copy()
    clipped[0, 5, 6] = 1.0
    assert np.array_equal(f.fuse_arrays(over, b), f.fuse_arrays(clipped, b))
    assert over[0, 5, 6] == 1.0004  # the caller's array as it was
    bad = a.copy()
    bad[0, 39, 47] = np.nan
    with pytest.raises(InputError, match="^b: image contains NaN or infinite values$"):
        f.fuse_arrays(a, bad)
    with pytest.raises(InputError, match="^a: image contains NaN or infinite values$"):
        f.fuse_gray(bad[0], b[0])
