"""Session 19 audit, a researcher's own method: what the benchmark refuses before any work
(mutualfuse.benchmark.plugins.check_method_rows) instead of scoring garbage, the registry's
messages, and the cache key of a user's callable. In-process: every method registered here is
removed again (``registry`` fixture), so later tests of this worker see the built-in registry."""
from __future__ import annotations

import functools

import numpy as np
import pytest

from mutualfuse.benchmark.plugins import check_method_rows, contract_problem, fuser_options, probe_pair
from mutualfuse.errors import ParameterError
from mutualfuse.methods import METHODS, register_method


@pytest.fixture()
def registry(method_registry):
    """tests/conftest.py's ``method_registry``, under this file's name."""
    return method_registry


def _avg(a, b):
    return (a + b) / 2


BAD = {
    "none": (lambda a, b: None, "returned None (a missing return statement?)"),
    "shape": (lambda a, b: _avg(a, b)[:-1], "returned shape (71, 88) for inputs of shape (72, 88)"),
    "transposed": (lambda a, b: _avg(a, b).T, "(transposed?)"),
    "colour": (lambda a, b: np.stack([a, b, a], -1), "returned shape (72, 88, 3)"),
    "uint8": (lambda a, b: np.round(_avg(a, b) * 255).astype(np.uint8), "the 0-255 scale? divide by 255"),
    "x255": (lambda a, b: _avg(a, b) * 255, "the 0-255 scale? divide by 255"),
    "nan": (lambda a, b: np.where(a > 0.8, np.nan, _avg(a, b)), "are NaN or infinite"),
    "inf": (lambda a, b: np.where(a > 0.8, np.inf, _avg(a, b)), "are NaN or infinite"),
    "complex": (lambda a, b: _avg(a, b) + 0j, "dtype complex128, not a real-valued array"),
    "text": (lambda a, b: "fused", "not a real-valued array"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_result_that_breaks_the_contract_is_refused_before_any_work(registry, case):
    """These results used to be clipped into an all-white (0-255, uint8), black (NaN) or wrong
    image and scored without a word, or (shape) failed on every pair."""
    fn, said = BAD[case]
    register_method(f"s19_{case}", family="pixel")(fn)
    with pytest.raises(ParameterError) as e:
        check_method_rows([(f"s19_{case}", {})])
    msg = str(e.value)
    assert f"method 's19_{case}'" in msg and "breaks the method contract" in msg and said in msg, msg
    assert "\n" not in msg


@pytest.mark.parametrize("fn", [
    _avg,
    lambda a, b: (_avg(a, b) * 1.3 - 0.15),  # a small overshoot: clipped, as for the built-in methods
    lambda a, b: _avg(a, b).astype(np.float32),
    lambda a, b: _avg(a, b).tolist(),
    lambda a, b: __import__("torch").from_numpy(_avg(a, b)),
    lambda a, b: a > b,  # a 0/1 mask is in range
])
def test_results_within_the_contract_pass(registry, fn):
    register_method("s19_ok", family="pixel")(fn)
    check_method_rows([("s19_ok", {})])


def test_an_exception_on_the_test_pair_is_left_to_the_real_pairs(registry):
    @register_method("s19_raises", family="pixel")
    def raises(a, b):
        raise RuntimeError("needs 256x256")

    check_method_rows([("s19_raises", {})])


def test_the_probe_pair_is_gray_unit_float_and_not_square():
    a, b = probe_pair()
    assert a.shape == b.shape and a.shape[0] != a.shape[1]
    assert a.dtype == np.float64 and 0 <= a.min() and a.max() <= 1 and a.std() > 0.1 and b.std() > 0.1
    assert contract_problem(np.zeros(a.shape), a.shape) is None


def test_a_name_the_fuser_takes_for_the_network_is_refused(registry):
    """Fuser('default') is the shipped weights 'default', and a method of family 'network' is run
    as the project's network: the row was the network's values under the user's label."""
    register_method("Default", family="pixel")(_avg)
    with pytest.raises(ParameterError, match="has the name of shipped weights"):
        check_method_rows([("Default", {})])
    # family "network" without weights= is a network of one's own, a method like any other: it
    # used to be taken for the project's network (Fuser ran the shipped weights under its name)
    register_method("s19_net", family="network")(_avg)
    check_method_rows([("s19_net", {})])


@pytest.mark.parametrize("option", ["tile", "normalize", "device", "chroma", "task", "model", "weights"])
def test_a_param_named_like_a_fuser_option_is_refused(registry, option):
    """--param m.tile=64 used to make the Fuser tile the image (approximate) and label the row
    M(tile=64), while the method ran with its own default."""
    assert option in fuser_options()
    ns: dict = {}
    exec(f"def m(a, b, {option}=None):\n    return (a + b) / 2", ns)
    register_method("s19_opt", family="pixel")(ns["m"])
    with pytest.raises(ParameterError, match=rf"--param s19_opt\.{option}: '{option}' is an option of mutualfuse.Fuser"):
        check_method_rows([("s19_opt", {option: 1})])


def test_a_call_the_signature_cannot_take_is_refused_with_the_param_to_give(registry):
    @register_method("s19_needs_w", family="pixel")
    def needs_w(a, b, w):
        return w * a + (1 - w) * b

    with pytest.raises(ParameterError, match=r"missing a required argument: 'w' \(give it with --param s19_needs_w\.w=VALUE"):
        check_method_rows([("s19_needs_w", {})])
    check_method_rows([("s19_needs_w", {"w": 0.3})])


def test_declared_values_of_an_imported_method_are_checked_up_front(registry):
    """They were checked by the CLI only for methods registered before --import ran: a bad
    value failed every pair."""
    from mutualfuse.methods.params import Float

    register_method("s19_decl", family="pixel", params={"w": Float(0, 1)})(lambda a, b, w=0.5: w * a + (1 - w) * b)
    with pytest.raises(ParameterError, match=r"--param s19_decl\.w: .*>= 0 and <= 1, got 3"):
        check_method_rows([("s19_decl", {"w": 3})])


def test_builtin_methods_are_not_probed(registry, monkeypatch):
    from mutualfuse.benchmark import plugins

    monkeypatch.setattr(plugins, "probe_pair", lambda: pytest.fail("a built-in method was probed"))
    check_method_rows([("dwt", {"levels": 2}), ("average", {})])


def test_registry_names_the_holder_and_allows_the_same_definition_again(registry):
    with pytest.raises(ValueError) as e:
        register_method("DWT", family="pixel")(_avg)
    msg = str(e.value)
    assert "'DWT' is already registered as 'dwt' (names are case-insensitive)" in msg
    assert "mutualfuse.methods.classical.wavelet.dwt" in msg and "registered twice" not in msg
    src = "def cell(a, b):\n    return (a + b) * {}\n"
    for k in (0.5, 0.25):  # a notebook cell run twice: the new definition replaces the old, in place
        ns = {"__name__": "__main__"}
        exec(src.format(k), ns)
        register_method("s19_cell", family="pixel")(ns["cell"])
    assert METHODS.get("s19_cell")(np.ones((2, 2)), np.ones((2, 2)))[0, 0] == 0.5
    assert METHODS.names().count("s19_cell") == 1


def test_user_cache_key_sees_version_partial_arguments_and_compiled_code():
    from mutualfuse.benchmark.sources import _code_sha

    def f(a, b, w=0.5):
        return w * a + (1 - w) * b

    assert _code_sha(f) == _code_sha(f, {"family": "pixel"})  # unchanged keys for a plain function
    assert len({_code_sha(f), _code_sha(f, {"version": 1}), _code_sha(f, {"version": 2})}) == 3
    assert _code_sha(functools.partial(f, w=0.2)) != _code_sha(functools.partial(f, w=0.3))
    one, two = {}, {}
    exec("def g(a, b):\n    return a\n", one)
    exec("def g(a, b):\n    return b\n", two)  # no source file: keyed by the compiled code
    assert _code_sha(one["g"]) != _code_sha(two["g"]) and _code_sha(one["g"]) == _code_sha(one["g"])

    class Callable:
        def __call__(self, a, b):
            return a

    assert _code_sha(Callable()) is not None


def test_a_method_of_an_interactive_session_is_refused_with_workers(registry, monkeypatch):
    """A notebook's method is unknown to the spawned -j N workers: every pair failed."""
    import sys
    import types

    def nb(a, b):
        return (a + b) / 2

    nb.__module__ = "__main__"
    register_method("s19_nb", family="pixel")(nb)
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))  # no __file__, as in Jupyter
    check_method_rows([("s19_nb", {})], jobs=1)
    with pytest.raises(ParameterError, match="defined in an interactive session, which the -j 2 worker processes cannot import"):
        check_method_rows([("s19_nb", {})], jobs=2)


def test_two_lambdas_of_one_module_under_one_name_still_clash(registry):
    register_method("s19_lam", family="pixel")(lambda a, b: a)
    with pytest.raises(ValueError, match="'s19_lam' is already registered by .*<lambda>: choose another name"):
        register_method("s19_lam", family="pixel")(lambda a, b: b)
