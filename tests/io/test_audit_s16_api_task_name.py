"""Audit s16: an unknown ``task`` name is refused by every fuser, not only in task mode "auto".

Before: ``Fuser("dwt").fuse_stack([a, b], task="multifocus")`` and
``Fuser("average").fuse_gray_batch(a, b, task="bogus")`` fused silently, ignoring the typo,
while ``Fuser("default")`` refused the same call with a ParameterError.
"""
from __future__ import annotations

import numpy as np
import pytest

from mutualfuse import Fuser
from mutualfuse.errors import ParameterError

H, W = 48, 40


@pytest.mark.parametrize("model", ["average", "dwt"])
def test_unknown_task_refused_by_classical_methods(model):
    rng = np.random.default_rng(7)
    a, b = rng.random((1, H, W)), rng.random((1, H, W))
    f = Fuser(model, device="cpu")
    with pytest.raises(ParameterError, match="unknown task 'multifocus'"):
        f.fuse_stack([a[0], b[0]], task="multifocus")
    with pytest.raises(ParameterError, match="unknown task 'bogus'"):
        f.fuse_gray_batch(a, b, task="bogus")
    with pytest.raises(ParameterError, match="unknown task 'bogus'"):
        f.fuse_arrays(a, b, task="bogus")
    # a known task name is still accepted (classical methods have no task settings)
    assert np.array_equal(f.fuse_stack([a[0], b[0]], task="multi-focus"), f.fuse_stack([a[0], b[0]], task=None))
    assert np.array_equal(f.fuse_gray_batch(a, b, task="medical"), f.fuse_gray_batch(a, b))
