"""The benchmark's runtime: a method's first timed fusion no longer carries its one-off costs
(measured 2026-12-06, one thread: ASR's first TNO image 10.9 s cold, 10.0 s after the warm-up;
the network and gtf/cbf showed no first-call cost)."""
from __future__ import annotations

import numpy as np
import pytest

import mutualfuse.benchmark.jobs as jobs
from mutualfuse.api import Fuser


def test_a_new_fuser_is_warmed_up_before_the_timed_fusion(monkeypatch):
    calls = []
    real = Fuser.fuse
    monkeypatch.setattr(Fuser, "fuse", lambda self, a, b, **k: calls.append(a.shape) or real(self, a, b, **k))
    monkeypatch.setattr(jobs, "_FUSERS", {})
    from mutualfuse.benchmark.sources import Source

    src = Source(id="method:average", label="average", kind="method", method="average")
    a = np.zeros((40, 48), np.uint8)
    out, dt = jobs.fuse_pair(src, a, a)
    assert calls == [(jobs.WARM_UP_SIDE, jobs.WARM_UP_SIDE), (40, 48)] and dt >= 0
    jobs.fuse_pair(src, a, a)  # the cached fuser: no second warm-up
    assert calls[2:] == [(40, 48)]


def _pair():
    rng = np.random.default_rng(3)
    y, x = np.mgrid[0:48, 0:64]
    a = np.clip(80 + 60 * np.sin(x / 5) + rng.normal(0, 8, (48, 64)), 0, 255).astype(np.uint8)
    b = np.clip(120 + 50 * np.cos(y / 4) + rng.normal(0, 8, (48, 64)), 0, 255).astype(np.uint8)
    return a, b


def _methods():
    from mutualfuse.methods import METHODS

    return [m for m in METHODS.names() if m != "mutualfuse"] + ["default"]





@pytest.mark.parametrize("name", _methods())
def test_the_warm_up_does_not_change_what_is_fused(name):
    """No method keeps state from the warm-up's random pair (a learned dictionary, a detected
    task, a cached mapping): the timed fusion's image is the one a fresh fuser makes."""
    a, b = _pair()
    fresh = Fuser(name, device="cpu")
    warmed = Fuser(name, device="cpu")
    jobs._warm_up(warmed)
    assert np.array_equal(np.asarray(fresh.fuse(a, b)), np.asarray(warmed.fuse(a, b)))
