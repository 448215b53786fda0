"""The Python API takes metric names as ``mutualfuse evaluate --metrics`` does, and the package
docstring's examples pass a plain doctest run (audit s31, metricapi).

* ``evaluate_pair(a, b, f, metrics=["Qabf"])`` was "unknown metric 'Qabf'; did you mean
  Qabf@vifb?" although ``evaluate --metrics Qabf`` takes it, and ``metrics="VIF"`` suggested
  "SF@vifb, SD@vifb, MI@vifb"; ``metrics="Qabf@vifb,EN@vifb"`` (the CLI's comma list) was one
  unknown name. Now bare names follow the CLI's rule (one key, or one checked key, else an
  "ambiguous" error naming the keys) and a string is split at commas.
* ``python -m doctest`` / ``pytest --doctest-modules`` on ``mutualfuse.metrics`` failed: the
  example's expected dict is wrapped over two lines, which only NORMALIZE_WHITESPACE (the
  project's own test sets it) accepts.
"""
from __future__ import annotations

import doctest

import numpy as np
import pytest

import mutualfuse.metrics as M
from mutualfuse.errors import ParameterError
from mutualfuse.evaluation import select_metrics

RNG = np.random.default_rng(8)
A = RNG.integers(0, 256, (32, 32)).astype(np.uint8)
B = RNG.integers(0, 256, (32, 32)).astype(np.uint8)
F = np.maximum(A, B)


@pytest.mark.parametrize("bare", ["Qabf", "qabf", "SF", "VIFF", "Qte_cvejic", "FMI_pixel", "SSIM_AF", "Qsf"])
def test_a_bare_name_is_the_key_evaluate_takes(bare):
    (key,) = select_metrics([bare], None).values()
    assert M.resolve(bare) == {key: key}
    assert M.resolve([bare]) == {key: key}


def test_evaluate_pair_takes_bare_names_and_a_comma_list():
    want = M.evaluate_pair(A, B, F, metrics=["Qabf@vifb", "SF@vifb"])
    assert M.evaluate_pair(A, B, F, metrics=["Qabf", "SF"]) == want
    assert M.evaluate_pair(A, B, F, metrics="Qabf@vifb, SF@vifb") == want
    assert M.resolve("VIF") == {"VIF@nestfuse": "VIF@nestfuse"}  # its one checked key (VIF@0-255 is not)


@pytest.mark.parametrize("bare,keys", [("EN", "EN@rfn-nest, EN@vifb"), ("Qcb", "Qcb@vifb, Qcb@liu"),
                                       ("MI", "MI@rfn-nest, MI@vifb, MI@bits")])
def test_an_ambiguous_bare_name_names_the_keys(bare, keys):
    with pytest.raises(ParameterError, match=rf"^metric '{bare}' is ambiguous: use one of {keys}$"):
        M.resolve([bare])
    with pytest.raises(ParameterError, match=rf"^metric '{bare}' is ambiguous: use one of {keys}$"):
        select_metrics([bare], None)


def test_the_package_docstring_passes_a_plain_doctest_run():
    result = doctest.testmod(M, optionflags=0, verbose=False, report=False)
    assert result.attempted > 0 and result.failed == 0


def test_profiles_combine_as_in_evaluate_and_a_metric_asked_twice_is_one_column():
    """``profile=["paper", "liu"]`` was "unknown metric profile ['paper']"; ``metrics=["Qabf@vifb"]``
    with ``profile="paper"`` computed Q^AB/F twice, as ``Qabf`` and ``Qabf@vifb``."""
    assert M.resolve(profile=["paper", "liu"]) == select_metrics(None, ["paper", "liu"])
    assert M.resolve(profile=["paper", "PAPER"]) == M.resolve(profile="paper")  # one profile: short labels
    assert M.resolve(["Qabf@vifb"], "paper") == M.resolve(profile="paper") == select_metrics(["Qabf@vifb"], "paper")
    a, b = (RNG.integers(0, 256, (48, 48)).astype(np.uint8) for _ in "ab")  # MEF-SSIM needs 44 pixels
    got = M.evaluate_pair(a, b, np.maximum(a, b), metrics=["SF@vifb", "Qabf"], profile=["rfn-nest", "vifb"])
    assert list(got) == list(M.resolve(profile=["rfn-nest", "vifb"]))
    assert got["Qabf@vifb"] == M.evaluate_pair(a, b, np.maximum(a, b), metrics="Qabf@vifb")["Qabf@vifb"]
    with pytest.raises(ParameterError, match=r"^profile must be a profile name or a list of them, got int 3$"):
        M.evaluate_pair(A, B, F, profile=3)


def test_timings_that_are_not_a_dict_are_refused_before_any_metric():
    with pytest.raises(ParameterError, match=r"^timings must be a dict .* got list$"):
        M.evaluate_pair(A, B, F, metrics=["EN@vifb"], timings=[])
