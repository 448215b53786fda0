"""Parameters of the plain metric functions and of ``evaluate_pair`` (audit s21): a bad value is a
``ParameterError`` naming it, never a wrong number or an internal NumPy / Python error.
"""
from __future__ import annotations

import numpy as np
import pytest

from mutualfuse.errors import ParameterError
from mutualfuse.metrics import METRICS, evaluate_pair, fmi, mef_ssim, resolve

RNG = np.random.default_rng(21)
A, B, F = RNG.integers(0, 256, (3, 48, 48)).astype(np.float64)


@pytest.mark.parametrize("chunk", [-1, 0, 2.5, True])
def test_fmi_chunk_must_be_a_positive_integer(chunk):
    """chunk=-1 returned 0.0 (no window scored), chunk=0 raised "range() arg 3 must not be zero"."""
    with pytest.raises(ParameterError, match=r"FMI: chunk must be an integer >= 1"):
        fmi(A[:12, :12], B[:12, :12], F[:12, :12], chunk=chunk)


@pytest.mark.parametrize("w", [0, -1, 3.0])
def test_fmi_window_must_be_a_positive_integer(w):
    """w=0 raised "cannot reshape array of size 0", w=-1 "`window_shape` cannot contain negative values"."""
    with pytest.raises(ParameterError, match=r"FMI: w must be an integer >= 1"):
        fmi(A[:12, :12], B[:12, :12], F[:12, :12], w=w)


def test_fmi_chunk_does_not_change_the_value():
    a, b, f = A[:12, :12], B[:12, :12], F[:12, :12]
    assert fmi(a, b, f, chunk=7) == pytest.approx(fmi(a, b, f), rel=1e-12)


@pytest.mark.parametrize("levels", [0, -1, 4, 2.0])
def test_mef_ssim_levels_must_be_1_to_3(levels):
    """levels=0 returned 1.0 (an empty product), levels=4 raised a NumPy broadcast error (the
    reference has three scale weights), -1 another one."""
    big = RNG.integers(0, 256, (3, 96, 96)).astype(np.float64)
    with pytest.raises(ParameterError, match=r"levels must be 1, 2 or 3"):
        mef_ssim(*big, levels=levels)


def test_mef_ssim_default_is_the_registered_metric():
    big = RNG.integers(0, 256, (3, 48, 48)).astype(np.float64)
    assert mef_ssim(*big) == METRICS.get("MS_SSIM@rfn-nest")(*big)


def test_evaluate_pair_metrics_of_a_wrong_type_is_a_parameter_error():
    """metrics=3 raised "TypeError: 'int' object is not iterable"."""
    with pytest.raises(ParameterError, match=r"metrics must be a registered key or a list of keys, got int 3"):
        evaluate_pair(A, B, F, metrics=3)


def test_an_unknown_metric_message_is_not_quoted():
    """str(KeyError) wraps its message in quotes; the ParameterError began with a stray "'"."""
    with pytest.raises(ParameterError) as e:
        resolve([None])
    assert str(e.value).startswith("unknown metric None")
