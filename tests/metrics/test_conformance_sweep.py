"""The rest of the conformance table: the rows of VIF, MS_SSIM, Qcb and FMI_pixel that the
default run of ``test_conformance.py`` leaves out (about 60 s of CPU). Marked ``slow``; with
``test_conformance.py`` it checks every row of ``metrics_reference.tsv`` at 1e-4 relative."""
from __future__ import annotations

import pytest

from metrics_shared import check_row, needs_shared, split_rows

pytestmark = [needs_shared, pytest.mark.slow]

_, SLOW = split_rows()


@pytest.mark.parametrize("key,row", SLOW)
def test_reference_row_full_sweep(key, row):
    check_row(key, row)
