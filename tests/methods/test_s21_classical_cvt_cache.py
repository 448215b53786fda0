"""Audit (session 21): ``cvt`` keeps the transforms of recent image shapes, bounded in memory.

A UDCT transform holds 31-36 bytes per pixel of its shape (measured); the cache was
``functools.lru_cache(maxsize=8)``, so eight large shapes (a folder of 4096x4096 images of several
sizes) kept about 4 GB alive after their fusion. It is now bounded in pixels too (8 Mpx in all,
the newest always kept); the bound is lowered here so that small images exercise it.
"""
from __future__ import annotations

import gc
import weakref

import numpy as np

from mutualfuse.methods import fuse_gray
from mutualfuse.methods.classical import curvelet

rng = np.random.default_rng(21)


def _fuse_and_ref(side: int):
    a, b = rng.random((side, side)), rng.random((side, side))
    out = fuse_gray("cvt", a, b)
    assert out.shape == a.shape and np.isfinite(out).all()
    return weakref.ref(curvelet._transform((side, side), 5, 3)), out, (a, b)


def test_transforms_beyond_the_pixel_budget_are_released(monkeypatch):
    monkeypatch.setattr(curvelet, "_CACHE_PIXELS", 2 * 64 * 64, raising=False)
    first, out, (a, b) = _fuse_and_ref(64)
    assert first() is curvelet._transform((64, 64), 5, 3)  # the same shape again: the cached transform
    second, _, _ = _fuse_and_ref(80)   # 64^2 + 80^2 > the budget: the 64x64 one goes
    gc.collect()
    assert first() is None, "the transform of an evicted shape is still alive"
    assert second() is not None        # the newest is always kept, even alone over the budget
    np.testing.assert_array_equal(fuse_gray("cvt", a, b), out)  # rebuilt: the same result
