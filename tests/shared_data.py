"""The shared test data: where it is, and the one policy for tests that need it when it is missing.

Location: ``$MUTUALFUSE_SHARED``, else the ``shared/`` folder beside the repository (as CI lays
it out). A test that needs it uses the ``shared`` fixture or the ``needs_shared(*paths)`` mark
(paths relative to the shared root; default ``data``), both defined in ``tests/conftest.py``.

Policy when a needed path is missing: the test is **skipped**, with the missing path and the
variable to set in the reason (``-ra`` lists it in the summary), so that a fresh clone without
the data runs everything else green. With ``MUTUALFUSE_REQUIRE_SHARED=1`` (for a CI that lays
the data out) the same tests **fail** instead, so that a misplaced data folder cannot pass as a
row of skips.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ENV = "MUTUALFUSE_SHARED"
REQUIRE_ENV = "MUTUALFUSE_REQUIRE_SHARED"

#: The user's ``$MUTUALFUSE_DATA``, taken out of the environment of every test (and of the
#: processes they start): it is the documented data root of ``train`` and ``benchmark`` and wins
#: over a config's ``data.root``, so with it exported the tests' tiny training runs read the user's
#: data instead of their own (four tests errored). Tests that want a data root set their own.
USER_DATA_ROOT = os.environ.pop("MUTUALFUSE_DATA", None)


def shared_root() -> Path:
    """``$MUTUALFUSE_SHARED`` or ``<repo>/../shared``."""
    env = os.environ.get(ENV)
    return Path(env) if env else REPO.parent / "shared"


def missing(*paths: str) -> str | None:
    """A one-line reason naming the first missing path (relative to the shared root), or None."""
    root = shared_root()
    for rel in paths or ("data",):
        if not (root / rel).exists():
            return f"shared test data not found: {root / rel} (set {ENV}=DIR)"
    return None


def require(*paths: str) -> Path:
    """The shared root if every path exists; else skip the test (fail under ``$MUTUALFUSE_REQUIRE_SHARED``)."""
    reason = missing(*paths)
    if reason:
        if os.environ.get(REQUIRE_ENV, "") not in ("", "0"):
            pytest.fail(f"{reason}; {REQUIRE_ENV} is set", pytrace=False)
        pytest.skip(reason)
    return shared_root()
