"""``mutualfuse.fuse(a, b, model=...)``, spelt as ``Fuser(model=...)`` is in the README, was
``TypeError: Fuser.__init__() got multiple values for argument 'model'`` (a call the user never
made); and a bad value of a method's own parameter (``cvt``'s ``wedges=4``) was followed by
"did you mean the Fuser option weights (for wedges)?"."""
from __future__ import annotations

import numpy as np
import pytest

import mutualfuse
from mutualfuse.errors import ParameterError


def _pair():
    rng = np.random.default_rng(3)
    return rng.random((40, 40)), rng.random((40, 40))


def test_fuse_takes_model_as_fuser_does():
    a, b = _pair()
    got = mutualfuse.fuse(a, b, model="dwt", levels=3)
    want = mutualfuse.Fuser("dwt", levels=3).fuse(a, b)
    assert np.array_equal(got, want)


@pytest.mark.parametrize("other", [{"method": "cbf"}, {"weights": "blend"}])
def test_fuse_model_given_twice_is_one_line(other):
    a, b = _pair()
    with pytest.raises(ParameterError, match=r"^the model is given twice: model='dwt' and ") as e:
        mutualfuse.fuse(a, b, model="dwt", **other)
    assert "\n" not in str(e.value)


def test_fuse_model_of_another_type_is_a_type_error_naming_model():
    a, b = _pair()
    with pytest.raises(TypeError, match=r"^model must be a method name"):
        mutualfuse.fuse(a, b, model=3)


def test_bad_value_of_a_method_parameter_suggests_no_fuser_option():
    with pytest.raises(ParameterError) as e:
        mutualfuse.Fuser("cvt", wedges=4)
    assert "wedges must be an integer" in str(e.value)
    assert "Fuser option" not in str(e.value)


def test_unknown_method_parameter_still_suggests_the_fuser_option():
    with pytest.raises(ParameterError, match=r"did you mean the Fuser option token_budget \(for tokn_budget\)"):
        mutualfuse.Fuser("cvt", tokn_budget=0)
