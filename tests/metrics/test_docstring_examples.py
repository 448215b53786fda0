"""The ``>>>`` examples in the docstrings of the metrics and the training losses run and print
what they say (each module's doctests, with ELLIPSIS and NORMALIZE_WHITESPACE).

The examples print floats rounded to a few decimals, chosen away from rounding boundaries, so
they hold on any x86 CPU and thread count. Some read the bundled sample pair
(``mutualfuse/data/samples/tno-01``), located through ``importlib.resources``.
"""
from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "mutualfuse.metrics",
    "mutualfuse.metrics.information",
    "mutualfuse.metrics.gradient",
    "mutualfuse.metrics.stats",
    "mutualfuse.metrics.structural",
    "mutualfuse.metrics.fidelity",
    "mutualfuse.metrics.viff",
    "mutualfuse.metrics.liu_info",
    "mutualfuse.metrics.liu_gradient",
    "mutualfuse.metrics.liu_phase",
    "mutualfuse.metrics.liu_structural",
    "mutualfuse.losses",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
                             verbose=False, report=True)
    assert result.attempted > 0, f"{name} has no docstring examples"
    assert result.failed == 0, f"{result.failed} of {result.attempted} docstring examples of {name} failed (see stdout)"
