"""Audit (session 21): a method parameter that the chosen settings ignore is refused, not dropped.

``gtf`` has two solvers: ``loops`` is the IRN solver's (the default), ``max_iter`` and ``tol`` are
ADMM's. Before session 21 ``--param tol=1e-8`` with the default solver (or ``loops=7`` with
``solver=admm``) was accepted and changed nothing: a sweep over ``tol`` gave the same image for
every value. Now a value other than the default is refused in one line naming the parameter and
the solver that uses it, wherever parameters are checked (``Fuser``, ``fuse_gray``, the
registered function called directly, ``fuse`` on the command line before any image is read);
the default itself still passes (the web page sends every default), and so does everything with
the solver that uses it.
"""
from __future__ import annotations

import numpy as np
import pytest
from one_line_error import assert_one_line_error  # tests/ is on sys.path

from mutualfuse import Fuser
from mutualfuse.errors import ParameterError
from mutualfuse.methods import METHODS, check_method_params, fuse_gray, method_card

rng = np.random.default_rng(21)
A, B = rng.random((24, 28)), rng.random((24, 28))

IGNORED = [
    ({"tol": 1e-8}, "tol=1e-08", "solver=irn", "solver=admm"),
    ({"max_iter": 10}, "max_iter=10", "solver=irn", "solver=admm"),
    ({"solver": "irn", "tol": 0.5}, "tol=0.5", "solver=irn", "solver=admm"),
    ({"solver": "admm", "loops": 7}, "loops=7", "solver=admm", "solver=irn"),
]


@pytest.mark.parametrize("params,what,got,need", IGNORED, ids=[w for _, w, _, _ in IGNORED])
def test_a_parameter_the_solver_ignores_is_refused_everywhere(params, what, got, need):
    msg = rf"method 'gtf': parameter {what} has no effect with {got} \(it is used only with {need}\)"
    with pytest.raises(ParameterError, match=msg):
        check_method_params("gtf", params)
    with pytest.raises(ParameterError, match=msg):
        Fuser("gtf", **params)
    with pytest.raises(ParameterError, match=msg):
        fuse_gray("gtf", A, B, **params)
    with pytest.raises(ParameterError, match=msg):
        METHODS.get("gtf")(A, B, **params)  # the registered function, called directly


def test_the_command_line_refuses_it_in_one_line_before_reading_anything(capsys, tmp_path):
    out = tmp_path / "f.png"
    assert_one_line_error(capsys, ["fuse", str(tmp_path / "missing-a.png"), str(tmp_path / "missing-b.png"),
                                   "-o", str(out), "--method", "gtf", "--param", "tol=1e-8"],
                          "parameter tol=1e-08 has no effect with solver=irn", "solver=admm")
    assert not out.exists()


def test_defaults_and_the_solver_that_uses_a_parameter_still_pass():
    every_default = {"lam": 4.0, "solver": "irn", "loops": 5, "max_iter": 300, "tol": 1e-5}  # the web form
    np.testing.assert_array_equal(fuse_gray("gtf", A, B, **every_default), fuse_gray("gtf", A, B))
    admm = {"solver": "admm", "max_iter": 40, "tol": 1e-3, "loops": 5}
    assert check_method_params("gtf", admm) == admm
    assert np.isfinite(fuse_gray("gtf", A, B, **admm)).all()
    assert check_method_params("gtf", {"loops": 2}) == {"loops": 2}
    # and the ADMM parameters do change the ADMM result (what the refusal points the user to)
    assert not np.array_equal(fuse_gray("gtf", A, B, solver="admm", max_iter=1),
                              fuse_gray("gtf", A, B, solver="admm"))


def test_the_card_says_which_solver_uses_each_parameter():
    card = method_card("gtf")
    assert "loops     default 5; an integer in 1..1000; used only with solver=irn" in card
    assert "max_iter  default 300; an integer in 1..100000; used only with solver=admm" in card
    assert "tol       default 1e-05; a finite number > 0 and <= 1; used only with solver=admm" in card


def test_a_value_out_of_range_is_still_named_as_such():
    with pytest.raises(ParameterError, match=r"parameter tol must be a finite number > 0 and <= 1; used only "
                                             r"with solver=admm, got 5"):
        check_method_params("gtf", {"solver": "admm", "tol": 5})


def test_a_condition_must_name_another_parameter_of_the_function():
    from mutualfuse.methods.params import Choice, Int, with_params

    def fn(a, b, *, mode: str = "x", n: int = 1):
        return a

    with pytest.raises(ValueError, match="parameter n is declared used only with 'solver'"):
        with_params("s21-x", {"mode": Choice(("x", "y")), "n": Int(1, 5).only_with("solver", "y")})(fn)
    f = with_params("s21-x", {"mode": Choice(("x", "y")), "n": Int(1, 5).only_with("mode", "y")})(fn)
    with pytest.raises(ParameterError, match="parameter n=2 has no effect with mode=x"):
        f(A, B, n=2)
    assert f(A, B, n=1) is not None and f(A, B, mode="y", n=2) is not None
