"""The ``>>>`` examples of :mod:`mutualfuse.api` (what ``help(mutualfuse.api)`` shows) run and
print what they say (audit s14: they used undefined ``ir`` / ``vis`` and showed no output)."""
from __future__ import annotations

import doctest


def test_api_docstring_examples_run():
    import mutualfuse.api as api

    result = doctest.testmod(api, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, report=True)
    assert result.attempted >= 8
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples of mutualfuse.api failed (stdout)"
