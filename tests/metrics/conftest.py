"""Metric tests: locate the shared data (``$MUTUALFUSE_SHARED`` else ``<repo>/../shared``).

The helpers live in ``metrics_shared.py`` (a uniquely named module, so that test files can
import them without clashing with other ``conftest`` modules).
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from metrics_shared import TSV  # noqa: E402
from shared_data import require  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def conformance_tsv() -> Path:
    """The conformance table; missing: the suite's one policy (``tests/shared_data.py``)."""
    require("conformance/metrics_reference.tsv")
    return TSV
