"""numba compilation with the on-disk cache where it can be written (the metrics' and the sparse
methods' kernels)."""
from __future__ import annotations


def njit(fn, **kw):
    """``numba.njit(fn, cache=True, **kw)``, or without the on-disk cache when numba finds no
    writable place for it (a read-only install with no writable ``NUMBA_CACHE_DIR`` or home
    cache: numba raises "cannot cache function ...: no locator available"). The kernel is then
    compiled in memory on first use in each process, silently; its results are the same."""
    import numba

    try:
        return numba.njit(fn, cache=True, **kw)
    except RuntimeError as e:
        if "no locator available" not in str(e):
            raise
        return numba.njit(fn, cache=False, **kw)
