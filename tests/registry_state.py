"""Tests that register a method, metric or profile of their own (``--import`` modules, the
``register_*`` functions) put the registries back afterwards: :func:`registries_restored`."""
from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def registries_restored(prefix: str) -> Iterator[None]:
    """The metric, profile and method registries and ``sys.path`` as they were before the
    ``with``; the modules imported meanwhile whose names start with ``prefix`` (the test's own
    modules) removed from ``sys.modules``."""
    from mutualfuse.methods import METHODS
    from mutualfuse.metrics import METRICS
    from mutualfuse.metrics.profiles import PROFILE_REGISTRY

    saved = [(r, dict(r._entries)) for r in (METRICS, PROFILE_REGISTRY, METHODS)]
    path, mods = list(sys.path), set(sys.modules)
    try:
        yield
    finally:
        for r, entries in saved:
            r._entries.clear()
            r._entries.update(entries)
        sys.path[:] = path
        for m in set(sys.modules) - mods:
            if m.startswith(prefix):
                del sys.modules[m]
