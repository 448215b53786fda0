"""A checkpoint whose stored training config is JSON nested too deep for the reader (a crafted
file) is refused by ``--resume`` checks in one line, not an internal RecursionError."""
from __future__ import annotations

from pathlib import Path

import pytest

from mutualfuse.errors import ParameterError
from mutualfuse.train.config import TrainConfig
from mutualfuse.train.loop import check_resumable


def test_deeply_nested_checkpoint_config_is_one_line():
    with pytest.raises(ParameterError, match="holds no readable training config"):
        check_resumable(Path("run/last.ckpt"), {"config": "[" * 200_000}, TrainConfig())
