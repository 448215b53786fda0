"""The package's own classical methods as the registry lists them, for tests that keep a list of
their own (pinned values, per-method settings): a method added to the package without being added
to such a list fails that test instead of going untested."""
from __future__ import annotations

import inspect


def builtin_classical(pixel: bool = False) -> set[str]:
    """Names of the registered classical (non-network) methods defined in the ``mutualfuse``
    package (methods of one's own that tests register are left out); ``pixel``: with the pixel
    rules ``average`` and ``max``."""
    from mutualfuse.methods import METHODS, is_network_method

    out = set()
    for n in METHODS.names():
        fn = inspect.unwrap(METHODS.entry(n).obj)
        if is_network_method(n) or not getattr(fn, "__module__", "").startswith("mutualfuse."):
            continue
        if pixel or METHODS.meta(n).get("family") != "pixel":
            out.add(n)
    return out
