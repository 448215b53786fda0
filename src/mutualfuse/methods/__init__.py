"""The fusion-method registry: the network and every classical baseline, under one interface.

A method is a plain function ``fn(a, b, **params) -> fused`` on **gray** images:

* ``a``, ``b``: 2-D ``float64`` numpy arrays of the same shape, values in ``[0, 1]``
  (the caller converts 8/16-bit or colour input; colour goes through the YCbCr path of
  :mod:`mutualfuse.color`, so a method only ever sees luminance).
* returns a 2-D float array of the same shape; :func:`fuse_gray` clips it to ``[0, 1]``.

Register with ``@register_method("name", family=..., cite=..., matlab=...)``. The CLI
(``mutualfuse fuse --method``), the benchmarks and the tests all enumerate :data:`METHODS`.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..errors import InputError, ParameterError
from ..registry import Registry

MethodFn = Callable[..., np.ndarray]
METHODS: Registry[MethodFn] = Registry("fusion method")

from ..validation import MIN_SIDE, check_pair  # noqa: E402,F401  (re-exported: the checks live in a leaf module)


def register_method(name: str, **meta: Any) -> Callable[[MethodFn], MethodFn]:
    """Register a gray fusion method. Metadata keys used elsewhere:

    ``family`` ("network", "pixel", "multiscale", "sparse", "optimisation", "filter"),
    ``cite`` (paper), ``matlab`` (the reference code the port follows), ``slow`` (bool).
    """
    return METHODS.register(name, **meta)


def check_method_params(method: str, params: dict[str, Any]) -> None:
    """A one-line :class:`ParameterError` for a parameter name that ``method``'s function does not
    take (before any image is read: ``fuse-dir`` would otherwise fail on every pair). Values are
    checked by the method itself when it runs."""
    import inspect

    try:
        fn = METHODS.get(method)
    except KeyError as e:
        raise ParameterError(str(e.args[0])) from None
    sig = inspect.signature(fn)
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.parameters.values()):
        return
    names = [n for n, p in list(sig.parameters.items())[2:]
             if p.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    unknown = sorted(set(params) - set(names))
    if unknown:
        takes = f"its parameters: {', '.join(names)}" if names else "it takes no parameters"
        raise ParameterError(f"method {method!r}: unknown parameter{'s' if len(unknown) > 1 else ''} "
                             f"{', '.join(unknown)} ({takes})")


def fuse_gray(method: str, a: np.ndarray, b: np.ndarray, **params: Any) -> np.ndarray:
    """Fuse two gray ``[0, 1]`` images with a registered method; result clipped to ``[0, 1]``.

    ``a`` and ``b`` must be float arrays in [0, 1] (values within
    :data:`mutualfuse.io.samples.FLOAT_TOLERANCE` of it are clipped); anything else is an
    :class:`~mutualfuse.errors.InputError` (``mutualfuse.Fuser(method).fuse`` takes other kinds)."""
    try:
        fn = METHODS.get(method)
    except KeyError as e:
        raise ParameterError(str(e.args[0])) from None
    from ..convert import check_unit_float

    # float in [0, 1] (clipped within the tolerance): uint8 or 0…255 data would come back all white
    a, b = check_unit_float(np.asarray(a), "a"), check_unit_float(np.asarray(b), "b")
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    check_pair(a, b)
    check_method_params(method, params)
    try:
        out = fn(a, b, **params)
    except TypeError as e:  # unknown keyword for this method
        if "unexpected keyword" in str(e) or "got an unexpected" in str(e):
            raise ParameterError(f"method {method!r}: {e}") from None
        raise
    out = np.asarray(out, dtype=np.float64)
    if out.shape != a.shape:
        raise RuntimeError(f"method {method!r} returned shape {out.shape} for input {a.shape}")
    return np.clip(out, 0.0, 1.0)


# registration side effects: order here is the order users see
from . import basic  # noqa: E402,F401
from . import network  # noqa: E402,F401
from . import classical  # noqa: E402,F401
