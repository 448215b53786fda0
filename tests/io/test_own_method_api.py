"""A method of one's own through the Python API (``mutualfuse.fuse``, ``Fuser``): its result is
checked as the benchmark checks it (a NaN, 0-255 or transposed result used to be clipped into a
black or white image and returned), its inputs are copies, ``family="network"`` does not make it
the project's network, and a shipped weights name cannot hide it."""
from __future__ import annotations

import numpy as np
import pytest

from mutualfuse.errors import ParameterError
from mutualfuse.methods import MethodResultError, fuse_gray, register_method


@pytest.fixture()
def registry(method_registry):
    """tests/conftest.py's ``method_registry``, under this file's name."""
    return method_registry


def _pair():
    rng = np.random.default_rng(3)
    return rng.random((40, 48)), rng.random((40, 48))


@pytest.mark.parametrize("fn,said", [
    (lambda a, b: (a + b) / 2 * 255, "the 0-255 scale"),
    (lambda a, b: np.where(a > 0.5, np.nan, b), "NaN or infinite"),
    (lambda a, b: ((a + b) / 2).T, "(transposed?)"),
    (lambda a, b: None, "returned None"),
])
def test_a_broken_result_is_an_error_not_an_image(registry, fn, said):
    register_method("s19_api_bad", family="pixel")(fn)
    a, b = _pair()
    with pytest.raises(MethodResultError, match=said) as e:
        fuse_gray("s19_api_bad", a, b)
    assert "method 's19_api_bad'" in str(e.value)
    import mutualfuse

    with pytest.raises(MethodResultError, match=said):
        mutualfuse.fuse((a * 255).astype(np.uint8), (b * 255).astype(np.uint8), method="s19_api_bad")


def test_a_method_that_writes_into_its_inputs_leaves_the_callers_arrays(registry):
    @register_method("s19_api_inplace", family="pixel")
    def inplace(a, b):
        a *= 0.5
        return a

    a, b = _pair()
    a0 = a.copy()
    out = fuse_gray("s19_api_inplace", a, b)
    np.testing.assert_array_equal(a, a0)
    np.testing.assert_array_equal(out, a0 * 0.5)


def test_family_network_without_weights_is_the_users_method(registry):
    import mutualfuse

    @register_method("s19_api_mynet", family="network")
    def mynet(a, b):
        return np.minimum(a, b)

    a, b = _pair()
    out = mutualfuse.Fuser("s19_api_mynet").fuse(a, b)
    np.testing.assert_allclose(out, np.minimum(a, b), rtol=0, atol=1e-12)


def test_a_shipped_weights_name_cannot_hide_a_method(registry):
    import mutualfuse

    register_method("Paper", family="pixel")(lambda a, b: np.maximum(a, b))
    with pytest.raises(ParameterError, match="name of shipped weights and of the method"):
        mutualfuse.Fuser("paper")


@pytest.mark.parametrize("name", ["mine.safetensors", "runs/mine"])
def test_a_weights_like_name_is_refused_at_registration(name):
    with pytest.raises(ParameterError, match="weights file"):
        register_method(name, family="pixel")
