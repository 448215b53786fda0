"""``register_method`` took any name: ``''``, ``'my method'``, ``'a,b'`` (which ``benchmark --methods``
splits at the comma), ``'k=v'`` (``--param NAME.KEY=VALUE`` splits at the '='), a line break (the
listing's row split), and a name that is no str was ``AttributeError: 'int' object has no
attribute 'lower'``. Each is a one-line ParameterError now; ordinary names still register."""
from __future__ import annotations

import pytest

from mutualfuse.errors import ParameterError
from mutualfuse.methods import METHODS, register_method
from registry_state import registries_restored


@pytest.mark.parametrize("name", ["", " ", "my method", "a,b", "k=v", "x\ny", "tab\there"])
def test_names_no_command_line_can_give_are_refused(name):
    with registries_restored("s31"):
        with pytest.raises(ParameterError, match=r"^method name .*: a name is one word of printable characters"):
            register_method(name, family="pixel")(lambda a, b: a)
        assert name.lower() not in METHODS


@pytest.mark.parametrize("name", [3, None, b"mine"])
def test_a_name_that_is_no_str_is_a_parameter_error(name):
    with pytest.raises(ParameterError, match=r"^method name must be a str, got "):
        register_method(name, family="pixel")


@pytest.mark.parametrize("name", ["s31-mine", "s31_mine.v2", "s31é"])
def test_ordinary_names_register(name):
    with registries_restored("s31"):
        register_method(name, family="pixel")(lambda a, b: a)
        assert name in METHODS
