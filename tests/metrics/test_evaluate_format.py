"""``mutualfuse evaluate``'s printed values: a negative zero prints as 0.0000."""
from __future__ import annotations

import pytest

from mutualfuse.cli.evaluate import _fmt


@pytest.mark.parametrize("v,want", [(-0.0, "0.0000"), (0.0, "0.0000"), (-1.5, "-1.5000"), (2e-4, "2.0000e-04"),
                                    (-2e-4, "-2.0000e-04"), (float("nan"), "nan")])
def test_values_print_with_four_decimals_and_no_negative_zero(v, want):
    assert _fmt(v) == want
