"""Audit (session 16): ``dtcwt`` no longer sets the process-wide root logger's level.

It set ``logging.getLogger()`` to ERROR for the duration of every call (to hide the ``dtcwt``
package's "The image entered is now a ... NOT a ..." warnings) and restored the saved level
after. Global state: a warning logged by another thread during a ``dtcwt`` call was dropped,
and two threads fusing at once could leave the root logger at ERROR for good (thread 1 saves
WARNING, thread 2 saves ERROR, thread 1 restores WARNING, thread 2 restores ERROR). The package
only logs when it extends an odd-sized image, and ``dtcwt`` pads odd sizes to even itself
before the transform, so nothing is logged and nothing needs hiding.
"""
from __future__ import annotations

import logging

import numpy as np
import pytest

from mutualfuse.methods import fuse_gray
from mutualfuse.methods.classical import wavelet
from threads import errors_in_threads

rng = np.random.default_rng(16)


def test_root_logger_level_is_not_touched_during_the_call(monkeypatch):
    seen = []
    forward = wavelet._dtcwt.Transform2d.forward

    def spy(self, *args, **kwargs):
        seen.append(logging.getLogger().level)
        return forward(self, *args, **kwargs)

    monkeypatch.setattr(wavelet._dtcwt.Transform2d, "forward", spy)
    root = logging.getLogger()
    monkeypatch.setattr(root, "level", logging.WARNING)
    a, b = rng.random((61, 75)), rng.random((61, 75))
    fuse_gray("dtcwt", a, b)
    assert seen == [logging.WARNING, logging.WARNING]
    assert root.level == logging.WARNING


@pytest.mark.parametrize("shape", [(61, 75), (64, 75), (61, 64), (97, 33), (35, 35)])
def test_nothing_is_logged_for_odd_sizes(caplog, shape):
    a, b = rng.random(shape), rng.random(shape)
    with caplog.at_level(logging.DEBUG):
        for levels in (1, 2, 3):
            fuse_gray("dtcwt", a, b, levels=levels)
    assert caplog.records == []


def test_threads_leave_the_root_level_alone(monkeypatch):
    root = logging.getLogger()
    monkeypatch.setattr(root, "level", logging.WARNING)
    a, b = rng.random((33, 35)), rng.random((33, 35))
    errors = errors_in_threads(lambda: fuse_gray("dtcwt", a, b, levels=2), repeat=15)
    assert not errors and root.level == logging.WARNING
