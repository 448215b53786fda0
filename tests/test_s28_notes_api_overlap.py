"""Fuser(tile=256, tile_overlap=200) blended over at most 128 px without a word (s28 notes): the API
now warns (UserWarning, at the user's line); an overlap not smaller than the tile is a
ParameterError; the default overlap of a small tile, and half the tile, are not warned of."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from mutualfuse import Fuser
from mutualfuse.errors import ParameterError


def test_a_reduced_overlap_is_warned_of():
    with pytest.warns(UserWarning, match=r"^tile_overlap=200 reduced to 128, half of tile=256: ") as got:
        f = Fuser("average", tile=256, tile_overlap=200)
    assert got[0].filename == __file__
    a = np.random.default_rng(0).random((300, 300))
    assert np.array_equal(f.fuse(a, a[::-1]), Fuser("average", tile=256, tile_overlap=128).fuse(a, a[::-1]))


@pytest.mark.parametrize("kw", [dict(tile=64), dict(tile=100), dict(tile=256, tile_overlap=128), dict(tile_overlap=64)])
def test_nothing_asked_reduced_is_not_warned_of(kw):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Fuser("average", **kw)


@pytest.mark.parametrize("tile,overlap", [(256, 256), (64, 1000)])
def test_an_overlap_not_smaller_than_the_tile_is_refused(tile, overlap):
    with pytest.raises(ParameterError, match=rf"^tile_overlap={overlap} must be smaller than tile={tile} "):
        Fuser("average", tile=tile, tile_overlap=overlap)
