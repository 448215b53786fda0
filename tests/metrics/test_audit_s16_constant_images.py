"""Constant images: VIF, Qmi and Qte give MATLAB's 0/0 = NaN, not a Python exception (audit s16)."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import mutualfuse.metrics as M
from textured import textured_triple


_triple = textured_triple


@pytest.mark.parametrize("key", ["VIF@nestfuse", "VIF_AF@nestfuse", "VIF_BF@nestfuse", "VIF@0-255"])
@pytest.mark.parametrize("value", [0.0, 100.0])
def test_vif_of_constant_images_is_nan(key, value):
    """Constant sources and fused image: VIF raised ZeroDivisionError ('float division by zero',
    value 100: a traceback in evaluate) or numpy's LinAlgError ('Singular matrix', all zero).
    The reference term is 0/0: NaN, as MATLAB gives."""
    c = np.full((70, 70), value)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert math.isnan(M.METRICS.get(key)(c, c, c))
    a, b, f = _triple(70, 70)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert math.isnan(M.METRICS.get("VIF_AF@nestfuse")(c, b, f))  # only A constant
        assert np.isfinite(M.METRICS.get("VIF_BF@nestfuse")(c, b, f))


@pytest.mark.parametrize("key", ["Qmi@liu", "Qte@liu"])
def test_qmi_qte_of_all_zero_images_are_nan(key):
    """All-zero A, B, F (normalize1 keeps them): Qmi and Qte raised ZeroDivisionError; MATLAB's
    0/0 is NaN. A constant non-zero image stays a one-line InputError."""
    z = np.zeros((16, 16))
    assert math.isnan(M.METRICS.get(key)(z, z, z))
    a, b, f = _triple(16, 16)
    assert np.isfinite(M.METRICS.get(key)(z, b, f))
    with pytest.raises(ValueError, match="constant"):
        M.METRICS.get(key)(np.full((16, 16), 7.0), b, f)
