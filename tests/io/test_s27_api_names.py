"""Python API (session 27): method names are case-insensitive, and a fuser made with another
spelling is the registered method in every respect. ``Fuser("Average").fuse_stack`` was not the
mean of the stack (pairwise ½/½ means: 0.15 off for three random planes), since the stack's
weighted mean was chosen by comparing the name as given with ``"average"``."""
from __future__ import annotations

import numpy as np
import pytest

import mutualfuse
from tolerance import assert_close

RNG = np.random.default_rng(27)
PLANES = [RNG.random((40, 48)) for _ in range(3)]


@pytest.mark.parametrize("name", ["Average", "AVERAGE"])
def test_a_stack_under_another_spelling_of_average_is_the_mean(name):
    got = mutualfuse.Fuser(name).fuse_stack(PLANES)
    assert_close(got, np.mean(PLANES, axis=0))
    assert np.array_equal(got, mutualfuse.Fuser("average").fuse_stack(PLANES))


@pytest.mark.parametrize("name, canon", [("CBF", "cbf"), ("Dwt", "dwt"), ("Average", "average")])
def test_the_fuser_and_its_report_name_the_registered_method(name, canon):
    f = mutualfuse.Fuser(name)
    assert f.method == canon and f.report.method == canon and repr(f) == f"Fuser({canon!r})"
    f.fuse(PLANES[0], PLANES[1])
    assert f.report.method == canon
    assert mutualfuse.Fuser(f.report.method).method == canon  # Fuser(report.method) makes it again


@pytest.mark.parametrize("name", ["Default", "DEFAULT"])
def test_shipped_weights_in_another_case_are_named_as_shipped(name):
    # before: report.method and weights_spec were "Default", while FuseReport.method documents
    # "default" for the default network
    f = mutualfuse.Fuser(name, device="cpu")
    assert f.weights_spec == "default" and f.report.method == "default" and f.method == "mutualfuse"
    assert repr(f).startswith("Fuser('default', ")
