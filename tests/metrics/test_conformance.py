"""Conformance with the reference MATLAB code (run under Octave): every row of
``shared/conformance/metrics_reference.tsv`` within 1e-4 relative.

Default run: every row of every metric, except the costlier VIF, MS_SSIM, Qcb and FMI keys,
which are checked on a fixed subset (the first image of every set/method, and c01 for FMI).
``test_conformance_sweep.py`` (marked ``slow``) checks the remaining rows of those keys;
together they cover every row of the table (``test_every_row_is_covered`` checks that
bookkeeping). The split and the tolerance live in ``metrics_shared.py``.
"""
from __future__ import annotations

import math

import pytest

from metrics_shared import check_row, load_triple, needs_shared, reference_rows, split_rows

import mutualfuse.metrics as M

pytestmark = needs_shared

FAST, SLOW = split_rows()


@pytest.mark.parametrize("key,row", FAST)
def test_reference_row(key, row):
    check_row(key, row)


def test_every_row_is_covered():
    assert len(FAST) + len(SLOW) == len(reference_rows()) == 1697
    keys = {r["metric"] for r in reference_rows()}
    assert keys <= set(M.METRICS.names()), keys - set(M.METRICS.names())


def test_registry_flags_checked_keys():
    keys = {r["metric"] for r in reference_rows()}
    for e in M.METRICS:
        if e.meta["source"] in ("liu", "han"):  # metrics_reference_liu.tsv: test_conformance_liu.py
            continue
        assert e.meta["checked"] == (e.name in keys), e.name


def test_reference_quirks_hold_in_ours():
    """The self-consistency facts of the conformance README hold for our functions too."""
    a, b, f = load_triple("multi-focus/lytro", "ifcnn-max", "lytro-01")
    assert M.mi(a, b, f, convention="rfn-nest") == 2 * M.en(f)
    assert M.en(f, "rfn-nest") == M.en(f, "vifb")
    g = M.to_gray(f)
    assert M.sd(f, "rfn-nest") == pytest.approx(math.sqrt(g.size) / 255 * M.sd(f, "vifb"), rel=1e-12)
