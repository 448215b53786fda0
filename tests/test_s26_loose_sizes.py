"""The smallest sizes of the classical methods (session 26 loose end, docs/baselines.md "Edge
inputs"): a 7x7 pair given to ``lp`` was told only "smaller than 8x8", and at 8x8 was refused again
as too small for ``levels=4``. ``methods.classical.size_need_note`` says, for a method whose
decomposition needs more than 8 px per side at its settings, what it needs and the setting that
fits 8 px; checked here against the methods themselves: the side it names is the smallest each
accepts (one less is refused, naming the same need) and the setting it names fuses 8x8."""
from __future__ import annotations

import re

import numpy as np
import pytest

from mutualfuse.errors import ParameterError
from mutualfuse.methods import MIN_SIDE, fuse_gray

RNG = np.random.default_rng(26)

CASES = [("lp", {}), ("rp", {}), ("dwt", {}), ("dtcwt", {}), ("lp", {"levels": 3}), ("dwt", {"levels": 5}),
         ("cvt", {}), ("cvt", {"scales": 4}), ("cvt", {"scales": 3, "wedges": 24}), ("cbf", {"ksize": 31}),
         ("cbf", {"ksize": 17})]


def _pair(side):
    return RNG.random((side, side)), RNG.random((side, side))


@pytest.mark.parametrize("method,params", CASES)
def test_the_note_names_the_smallest_side_and_a_setting_that_fits_8px(method, params):
    from mutualfuse.methods.classical import size_need_note

    note = size_need_note(method, params)
    m = re.fullmatch(rf"; method '{method}' at (.+) needs at least (\d+) px per side \(at {MIN_SIDE} px: at most "
                     r"(\w+)=(\d+)(?: with (\w+)=(\d+))?\)", note)
    assert m, note
    need = int(m.group(2))
    fuse_gray(method, *_pair(need), **params)  # the side named is accepted
    with pytest.raises(ParameterError, match=f"needs at least {need} px per side"):
        fuse_gray(method, *_pair(need - 1), **params)  # one less is not, by the same need
    fits = dict(params)
    fits[m.group(3)] = int(m.group(4))
    if m.group(5):
        fits[m.group(5)] = int(m.group(6))
    out = fuse_gray(method, *_pair(MIN_SIDE), **fits)  # the setting named fuses 8x8
    assert out.shape == (MIN_SIDE, MIN_SIDE)


@pytest.mark.parametrize("method,params", [("lp", {"levels": 2}), ("cvt", {"scales": 3}), ("cbf", {}),
                                           ("cbf", {"ksize": 15}), ("msvd", {}), ("gtf", {}), ("mgff", {}),
                                           ("asr", {}), ("csr", {}), ("average", {}), ("max", {}),
                                           ("mutualfuse", {})])
def test_no_note_where_8px_suffices(method, params):
    from mutualfuse.methods.classical import size_need_note

    assert size_need_note(method, params) == ""
    if method != "mutualfuse":
        assert fuse_gray(method, *_pair(MIN_SIDE), **params).shape == (MIN_SIDE, MIN_SIDE)
