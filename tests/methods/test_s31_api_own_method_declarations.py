"""A method of one's own: a parameter without a default that is not given failed on every call
(``TypeError: f() missing 1 required positional argument``, said by ``fuse`` as the first input
file's problem, by ``fuse-dir`` per pair); ``params={"w": 3}`` failed at import as
``AttributeError: 'int' object has no attribute 'check'``. Both are one-line errors now, the first
before any image is read."""
from __future__ import annotations

import numpy as np
import pytest

import mutualfuse
from mutualfuse.errors import ParameterError
from mutualfuse.methods import register_method
from registry_state import registries_restored


def test_parameter_without_default_is_refused_before_any_image():
    with registries_restored("s31"):
        @register_method("s31nodefault", family="pixel")
        def s31nodefault(a, b, w):
            return w * a + (1 - w) * b

        with pytest.raises(ParameterError, match=r"^method 's31nodefault' \(.*s31nodefault\): parameter w has no "
                                                 r"default: give w=VALUE") as e:
            mutualfuse.Fuser("s31nodefault")
        assert "\n" not in str(e.value)
        rng = np.random.default_rng(0)
        a, b = rng.random((16, 16)), rng.random((16, 16))
        got = mutualfuse.Fuser("s31nodefault", w=0.25).fuse(a, b)
        assert np.allclose(got, 0.25 * a + 0.75 * b, atol=1e-12)


@pytest.mark.parametrize("params", [{"w": 3}, {"w": "Float(0, 1)"}])
def test_a_declaration_that_is_no_param_is_named(params):
    with pytest.raises(ValueError, match=r"^method 's31baddecl': parameter w is declared as .*; declare it with "
                                         r"Int, Float, Choice, Bool or Text"):
        @register_method("s31baddecl", family="pixel", params=params)
        def s31baddecl(a, b, w=1.0):
            return a
    from mutualfuse.methods import METHODS

    assert "s31baddecl" not in METHODS
