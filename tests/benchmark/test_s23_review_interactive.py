"""A method or metric of one's own defined in an interactive session (``__main__`` without a
file) is refused before a ``-j N`` benchmark starts, in one line naming it: the spawned workers
could not import it (one helper for both checks since the s23 review)."""
from __future__ import annotations

import types

import pytest

from mutualfuse.benchmark.plugins import defined_interactively
from mutualfuse.benchmark.runner import check_extra_metrics
from mutualfuse.errors import ParameterError
from registry_state import registries_restored


def _interactive(monkeypatch):
    def amean(a, b, f):
        return float(f.mean())

    amean.__module__ = "__main__"
    monkeypatch.setitem(__import__("sys").modules, "__main__", types.ModuleType("__main__"))  # no __file__
    return amean


def test_a_metric_defined_interactively_is_refused_with_workers(monkeypatch):
    from mutualfuse.metrics import register_metric

    fn = _interactive(monkeypatch)
    assert defined_interactively(fn) and not defined_interactively(check_extra_metrics)
    with registries_restored("s23review"):
        register_metric("Amean@own", direction="higher", uses_sources=False, reference="a test",
                        convention="mean of F")(fn)
        check_extra_metrics({"Amean": "Amean@own"}, jobs=1)  # one process: nothing to import
        with pytest.raises(ParameterError) as e:
            check_extra_metrics({"Amean": "Amean@own"}, jobs=2)
    msg = str(e.value)
    assert msg.startswith("--extra-metrics: metric 'Amean@own' is defined in an interactive session, which the "
                          "-j 2 worker processes cannot import"), msg
    assert "\n" not in msg
