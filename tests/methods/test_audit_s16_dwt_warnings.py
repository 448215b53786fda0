"""Audit (session 16): ``dwt`` no longer edits the process-wide warning filters.

Since session 15 it wrapped ``pywt.wavedec2`` in ``warnings.catch_warnings()`` with an "ignore"
filter, to silence "Level value of 4 is too high" for long wavelets. ``catch_warnings`` swaps
the module-global ``warnings.filters`` (Python's documentation: not thread-safe): during a
``dwt`` call every thread saw the extra filter, and two threads fusing at once could leave it
installed for good. The decomposition is now ``pywt.dwt2`` level by level, which is what
``wavedec2`` runs after its level check (so the coefficients are the same to the bit) and which
does not warn.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import pywt

from mutualfuse.methods import fuse_gray
from mutualfuse.methods.classical import wavelet as wmod
from mutualfuse.methods.classical._common import select_highpass
from threads import errors_in_threads

rng = np.random.default_rng(16)


def _dwt_via_wavedec2(a, b, levels, wavelet, highpass):
    """The session-15 code path, for comparison."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Level value of .* is too high", category=UserWarning)
        ca = pywt.wavedec2(255.0 * a.T, wavelet, mode="periodization", level=levels)
        cb = pywt.wavedec2(255.0 * b.T, wavelet, mode="periodization", level=levels)
    fused = [0.5 * (ca[0] + cb[0])]
    for da, db in zip(ca[1:], cb[1:]):
        fused.append(tuple(select_highpass(highpass, x, y) for x, y in zip(da, db)))
    out = pywt.waverec2(fused, wavelet, mode="periodization").T / 255.0
    return np.clip(out[: a.shape[0], : a.shape[1]], 0, 1)


@pytest.mark.parametrize("wavelet,levels,shape", [("db1", 4, (97, 61)), ("db38", 4, (270, 360)), ("dmey", 3, (33, 17)),
                                                  ("bior6.8", 5, (64, 64)), ("sym4", 1, (8, 9)), ("coif1", 2, (40, 41))])
@pytest.mark.parametrize("highpass", ["maxabs", "consistency"])
def test_same_result_to_the_bit(wavelet, levels, shape, highpass):
    a, b = rng.random(shape), rng.random(shape)
    ref = _dwt_via_wavedec2(a, b, levels, wavelet, highpass)
    assert np.array_equal(fuse_gray("dwt", a, b, wavelet=wavelet, levels=levels, highpass=highpass), ref)


def test_warning_filters_are_not_touched(monkeypatch):
    seen = []
    dwt2 = pywt.dwt2

    def spy(*args, **kwargs):
        seen.append(list(warnings.filters))
        return dwt2(*args, **kwargs)

    monkeypatch.setattr(wmod.pywt, "dwt2", spy)
    before = list(warnings.filters)
    a, b = rng.random((270, 360)), rng.random((270, 360))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and no warning at all
        expect = list(warnings.filters)
        fuse_gray("dwt", a, b, wavelet="db38", levels=4)
    assert seen and all(f == expect for f in seen)
    assert list(warnings.filters) == before


def test_threads_leave_the_filters_alone():
    before = list(warnings.filters)
    a, b = rng.random((64, 64)), rng.random((64, 64))
    errors = errors_in_threads(lambda: fuse_gray("dwt", a, b, wavelet="db10", levels=4), repeat=20)
    assert not errors and list(warnings.filters) == before
