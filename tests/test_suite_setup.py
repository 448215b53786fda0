"""The suite's own machinery: the tolerance policy, the thread count, the shared-data policy."""
from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from shared_data import missing, require
from tolerance import TOLERANCES, assert_close, tolerance


def test_policy_table_is_ordered_and_above_rounding():
    for dtype, (rtol, atol) in TOLERANCES.items():
        eps = torch.finfo(dtype).eps
        assert rtol >= 5 * eps, dtype  # never at the edge of the dtype's rounding
    assert tolerance("float32") == (1e-4, 1e-5) and tolerance(np.float64) == (1e-10, 1e-12)
    assert tolerance(torch.float16)[0] > tolerance(torch.float32)[0] > tolerance(torch.float64)[0]
    with pytest.raises(ValueError, match="no tolerance"):
        tolerance(np.int32)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
def test_assert_close_accepts_rounding_and_rejects_more(dtype):
    rtol, atol = tolerance(dtype)
    x = torch.linspace(-2, 2, 101, dtype=torch.float64)
    assert_close(x * (1 + rtol / 2) + atol / 2, x, dtype=dtype)
    with pytest.raises(AssertionError, match="max \\|diff\\|"):
        assert_close(x + 3 * (atol + rtol * 2), x, dtype=dtype)


def test_assert_close_dtype_defaults_to_the_less_precise_input():
    a = torch.ones(3, dtype=torch.float32)
    assert_close(a + 5e-6, np.ones(3))  # float32 tolerance: passes
    with pytest.raises(AssertionError):
        assert_close(np.ones(3) + 5e-6, np.ones(3))  # float64 tolerance: fails
    with pytest.raises(AssertionError, match="shape"):
        assert_close(np.ones(3), np.ones(4), dtype=np.float32)
    with pytest.raises(AssertionError):
        assert_close(np.array([np.nan]), np.array([np.nan]), dtype=np.float32)


def test_torch_uses_the_configured_thread_count():
    # make test runs the suite with OMP_NUM_THREADS=1 and the network tests again with 2; nothing
    # in the suite may pin another count (tests/conftest.py restores it after in-process training)
    want = os.environ.get("OMP_NUM_THREADS", "")
    if not want.isdigit():
        pytest.skip("OMP_NUM_THREADS is not set (make test sets it)")
    assert torch.get_num_threads() == int(want)


def test_missing_shared_data_skips_or_fails_by_one_policy(tmp_path, monkeypatch):
    monkeypatch.setenv("MUTUALFUSE_SHARED", str(tmp_path))
    (tmp_path / "data").mkdir()
    assert missing("data") is None and require("data") == tmp_path
    assert "nope" in missing("data", "nope") and "MUTUALFUSE_SHARED" in missing("nope")
    monkeypatch.delenv("MUTUALFUSE_REQUIRE_SHARED", raising=False)
    with pytest.raises(pytest.skip.Exception, match="nope"):
        require("nope")
    monkeypatch.setenv("MUTUALFUSE_REQUIRE_SHARED", "1")
    with pytest.raises(pytest.fail.Exception, match="nope"):
        require("nope")
