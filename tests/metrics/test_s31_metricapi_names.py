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
