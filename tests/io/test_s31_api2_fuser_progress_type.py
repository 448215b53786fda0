"""``Fuser(progress=...)`` is True or False, checked as the other options are: ``"yes"``, ``1``
or ``None`` were taken as they were (``progress="no"`` showed the bar)."""
from __future__ import annotations

import numpy as np
import pytest

from mutualfuse import Fuser
from mutualfuse.errors import ParameterError


@pytest.mark.parametrize("value", ["yes", "no", 1, None])
def test_progress_not_a_bool_is_refused(value):
    with pytest.raises(ParameterError, match="progress must be True or False"):
        Fuser("average", progress=value)


def test_progress_bools_taken():
    assert Fuser("average", progress=True).progress is True
    assert Fuser("average", progress=np.bool_(False)).progress is False
