"""The fusion-method registry: the network and every classical baseline, under one interface.

A method is a plain function ``fn(a, b, **params) -> fused`` on **gray** images:

* ``a``, ``b``: 2-D ``float64`` numpy arrays of the same shape, values in ``[0, 1]``
  (the caller converts 8/16-bit or colour input; colour goes through the YCbCr path of
  :mod:`mutualfuse.color`, so a method only ever sees luminance).
* returns a 2-D float array of the same shape; :func:`fuse_gray` clips it to ``[0, 1]``.

A method registered with ``params=`` (all the built-in ones) checks its images itself when
called directly (``METHODS.get("rp")(a, b)``, ``classical.pyramid.rp(a, b)``), as
:func:`fuse_gray` does (:func:`mutualfuse.methods.params.check_images`: a one-line
:class:`~mutualfuse.errors.InputError` naming the method for anything else), and its body gets
them as C-contiguous float64 arrays: float32 input is computed in float64, and the memory
layout (Fortran order, transposed or strided views) does not change the result. A direct call
does not clip the result.

Register with ``@register_method("name", family=..., cite=..., matlab=..., params={...})``;
``params`` declares the type and valid range of each keyword parameter
(:mod:`mutualfuse.methods.params`), so that bad values are refused before any image is read. The
CLI (``mutualfuse fuse --method``), the benchmarks and the tests all enumerate :data:`METHODS`.
"""
from __future__ import annotations

import inspect
import sys
from typing import Any, Callable

import numpy as np

from ..errors import FuseError, InputError, ParameterError
from ..registry import Registry

MethodFn = Callable[..., np.ndarray]
METHODS: Registry[MethodFn] = Registry("fusion method")

from ..validation import MIN_SIDE, check_pair  # noqa: E402,F401  (re-exported: the checks live in a leaf module)

#: a method's result above this (or below ``1 - RESULT_RANGE``) is on the wrong scale, not an
#: overshoot that the clipping to [0, 1] is meant for (multi-scale methods overshoot by a few tenths)
RESULT_RANGE = 2.0


class MethodResultError(ParameterError):
    """A fusion method returned something that is not a fused gray image of its inputs' shape
    (None, a complex or object array, another shape, NaN or infinite values, values on the 0-255
    scale): a method of one's own breaking the contract above. Clipping used to turn these into
    white or black pixels that were written and scored."""


class OwnMethodFailure(MethodResultError):
    """A method of one's own raised while fusing; ``described``: what it raised and where, as
    ``"ValueError: ... (file, line N)"`` (the benchmark's problem lines use it as they are)."""

    def __init__(self, message: str, described: str):
        super().__init__(message)
        self.described = str(described)

    def __reduce__(self):  # picklable with both arguments (-j workers send it back)
        return (type(self), (str(self), self.described))


def result_problem(out: Any, shape: tuple[int, ...]) -> str | None:
    """What is wrong with a method's result for gray inputs of ``shape`` (None: nothing): the
    contract of the module docstring, with values in ``[1 - RESULT_RANGE, RESULT_RANGE]`` (a
    small overshoot is clipped to [0, 1] by :func:`fuse_gray`). Checked by :func:`fuse_gray` for
    methods of one's own only: the project's methods follow their reference code, which may
    overshoot far and clip (``rp``)."""
    if out is None:
        return "it returned None (a missing return statement?)"
    torch = sys.modules.get("torch")  # a tensor comes from a torch already imported: importing it here
    if torch is not None and isinstance(out, torch.Tensor):  # cost a numpy method 6-8 s a run
        out = out.detach().cpu().numpy()
    try:
        arr = np.asarray(out)
    except Exception as e:  # noqa: BLE001 - any object
        return f"it returned a {type(out).__name__}, not an array ({type(e).__name__})"
    if arr.dtype.kind not in "biuf":
        return f"it returned a {type(out).__name__} of dtype {arr.dtype}, not a real-valued array"
    if arr.shape != tuple(shape):
        t = " (transposed?)" if arr.shape == tuple(shape)[::-1] else ""
        return f"it returned shape {arr.shape} for inputs of shape {tuple(shape)}{t}: a 2-D array of the inputs' shape"
    arr = arr.astype(np.float64)
    bad = int(np.count_nonzero(~np.isfinite(arr)))
    if bad:
        return (f"{bad} of its {arr.size} values are NaN or infinite (they would be written as black or white "
                "pixels and scored)")
    if arr.size:
        lo, hi = float(arr.min()), float(arr.max())
        if hi > RESULT_RANGE or lo < 1 - RESULT_RANGE:
            scale = " (the 0-255 scale? divide by 255)" if hi > 2 * RESULT_RANGE else ""
            return (f"its values range over [{lo:.4g}, {hi:.4g}]{scale}: a method returns gray values in [0, 1] "
                    "(a small overshoot is clipped)")
    return None


def is_network_method(name: str) -> bool:
    """Whether the registered method ``name`` is this project's network, which :class:`mutualfuse.Fuser`
    and the CLI run with weights: family ``"network"`` *and* registered with ``weights=`` (the
    built-in ``mutualfuse``). A method of one's own registered with ``family="network"`` (one's own
    CNN) is a method like any other; it used to be taken for the project's network, so that
    ``Fuser("mynet")`` fused with the shipped weights instead of calling it."""
    meta = METHODS.meta(name)
    return meta.get("family") == "network" and "weights" in meta


def register_method(name: str, *, params: dict[str, Any] | None = None, **meta: Any) -> Callable[[MethodFn], MethodFn]:
    """Register a gray fusion method. Metadata keys used elsewhere:

    ``family`` ("network", "pixel", "multiscale", "sparse", "optimisation", "filter"),
    ``cite`` (paper), ``matlab`` (the reference code the port follows), ``slow`` (bool).

    ``params``: ``{name: Int(...) | Float(...) | Choice(...) | Bool() | Text()}``
    (:mod:`mutualfuse.methods.params`), the type and valid range or choices of every keyword
    parameter of the function. Then :func:`check_method_params` checks values as well as names
    before any image is read, and the registered function checks them on every call (its body
    gets them normalised). Without it (a method of one's own) only the names are checked up front.
    """
    import os

    if not isinstance(name, str):  # was AttributeError: 'int' object has no attribute 'lower'
        raise ParameterError(f"method name must be a str, got {type(name).__name__} {name!r}"[:200])
    if not name.strip() or any(c.isspace() or not c.isprintable() or c in ",=" for c in name):
        # registered, '' or 'my method' could not be named on every command line: `benchmark --methods
        # lp,c,d` splits at the comma, `--param NAME.KEY=VALUE` at the '=', a line break split the listing
        raise ParameterError(f"method name {name!r}: a name is one word of printable characters without ',' or "
                             "'=' (e.g. 'mine', 'my-method', 'my_method.v2'); register the method under such a name")
    if name.lower().endswith(".safetensors") or "/" in name or os.sep in name:
        # Fuser(name) takes such a name for a weights file, never for the method
        raise ParameterError(f"method name {name!r}: a name ending in .safetensors or holding a path separator is "
                             "a weights file to mutualfuse.Fuser; register the method under another name")

    def deco(fn: MethodFn) -> MethodFn:
        if params is not None:
            from .params import with_params

            fn = with_params(name, params)(fn)
            meta["params"] = fn.params  # type: ignore[attr-defined]  (normalised to a dict)
        METHODS.add(name, fn, **meta)
        return fn

    return deco


def check_method_params(method: str, params: dict[str, Any]) -> dict[str, Any]:
    """Check the parameters of ``method`` before any image is read (``fuse-dir`` would otherwise
    fail on every pair): a one-line :class:`ParameterError` for a name its function does not take
    or, for a method that declares its parameters (``register_method(..., params=...)``), a value
    outside the declared type and range. Returns ``params`` normalised (``int``, ``float``,
    ``bool``, ``str``). Checks that need the image (a decomposition too deep for its size) are
    left to the method."""
    from .params import check_values, keyword_names, unknown_params_message

    try:
        entry = METHODS.entry(method)
    except KeyError as e:
        raise ParameterError(str(e.args[0])) from None
    fn = entry.obj
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in inspect.signature(fn).parameters.values()):
        return dict(params)
    names = keyword_names(fn)
    unknown = sorted(set(params) - set(names))
    if unknown:
        raise ParameterError(unknown_params_message(method, unknown, names))
    return check_values(method, entry.meta.get("params") or {}, params)


def fuse_gray(method: str, a: np.ndarray, b: np.ndarray, **params: Any) -> np.ndarray:
    """Fuse two gray ``[0, 1]`` images with a registered method; result clipped to ``[0, 1]``.

    ``a`` and ``b`` must be float arrays in [0, 1] (values within
    :data:`mutualfuse.io.samples.FLOAT_TOLERANCE` of it are clipped); anything else is an
    :class:`~mutualfuse.errors.InputError` (``mutualfuse.Fuser(method).fuse`` takes other kinds).
    float32 (or float16, longdouble) input is converted to float64 first, so the result is the
    float64 result of the float32 values (not of the values they were rounded from: 8-bit levels
    ``k/255`` differ by up to 3e-8 in float32, which can flip exact ties of a selection rule;
    docs/baselines.md); the memory layout of the arrays does not change the result. The inputs
    are never modified."""
    try:
        fn = METHODS.get(method)
    except KeyError as e:
        raise ParameterError(str(e.args[0])) from None
    from ..validation import unit_float

    # float in [0, 1] (clipped within the tolerance): uint8 or 0…255 data would come back all white
    a, b = unit_float(np.asarray(a), "a"), unit_float(np.asarray(b), "b")
    return _fuse_checked(method, fn, a, b, params)


def fuse_gray_checked(method: str, a: np.ndarray, b: np.ndarray, params: dict[str, Any]) -> np.ndarray:
    """:func:`fuse_gray` of inputs whose values the caller has checked as :func:`fuse_gray` does
    (float, finite, in [0, 1]: :meth:`mutualfuse.Fuser.fuse_gray_batch`), so that a colour pair's
    luminances are not read three more times each; shapes, parameters and the result are
    checked as there."""
    try:
        fn = METHODS.get(method)
    except KeyError as e:
        raise ParameterError(str(e.args[0])) from None
    return _fuse_checked(method, fn, a, b, params)


def _method_input(x: np.ndarray, own: bool) -> np.ndarray:
    """What a method body gets for the checked input ``x``: C-ordered float64, never the caller's
    array to write into. A method of one's own gets a copy, always (it may write into its inputs);
    the package's methods, which do not (tests/test_s27_perf2_fuse_overhead.py runs each on
    read-only arrays), get a read-only view where ``x`` is C-ordered float64 already (two
    whole-image copies a call, 0.1 s on a 12-megapixel pair) and a converted copy otherwise."""
    if own or x.dtype != np.float64 or not x.flags.c_contiguous:
        return np.array(x, dtype=np.float64, order="C", copy=True)
    view = x.view()
    view.flags.writeable = False
    return view


def _fuse_checked(method: str, fn: Any, a: np.ndarray, b: np.ndarray, params: dict[str, Any]) -> np.ndarray:
    own = _is_own(fn)
    check_pair(a, b, finite=False)  # the values are checked (finite, in [0, 1]): the shapes
    a, b = _method_input(a, own), _method_input(b, own)
    params = check_method_params(method, params)
    try:  # the images and parameters are checked: a registered body's own checks (params.with_params) not again
        out = getattr(fn, "unchecked", fn)(a, b, **params)
    except TypeError as e:  # unknown keyword for this method
        if "unexpected keyword" in str(e) or "got an unexpected" in str(e):
            raise ParameterError(f"method {method!r}: {e}") from None
        _own_failure(method, fn, e)
        raise
    except (FuseError, MemoryError):  # said as they are (fuse-dir's out-of-memory advice)
        raise
    except Exception as e:  # noqa: BLE001 - a method of one's own failing: named with its line
        _own_failure(method, fn, e)
        raise
    if own:
        problem = result_problem(out, a.shape)
        if problem:  # clipping made NaN black, inf and 0-255 values white, and they were written and scored
            raise MethodResultError(f"method {method!r} ({_where(fn)}): {problem}")
    # the project's methods follow their reference code, which clips: `rp` (a ratio pyramid) reaches
    # 27 on a CT/MR pair before the clipping, as the Matlab code does
    out = np.asarray(out, dtype=np.float64)
    if out.shape != a.shape:
        raise RuntimeError(f"method {method!r} returned shape {out.shape} for input {a.shape}")
    if not own and out.base is None and out.flags.writeable and out is not a and out is not b:
        # a new array of the package's method (it owns its memory: not a view of an input): clipped
        # where it is, not into a third whole-image array
        return np.clip(out, 0.0, 1.0, out=out)
    return np.clip(out, 0.0, 1.0)


def _own_failure(method: str, fn: Any, e: Exception) -> None:
    """For a method of one's own whose call raised ``e``: a one-line :class:`OwnMethodFailure`
    naming the method, its function and the line of the user's code that raised (``fuse`` said
    ``internal error: ValueError: ...``, exit 1, and ``fuse-dir`` the same for every pair).
    Returns for the package's own methods (a failure there is a bug: its traceback is kept)."""
    if _is_own(fn):
        from ..plugins import _describe

        described = _describe(e)
        raise OwnMethodFailure(f"method {method!r} ({_where(fn)}) failed: {described}", described) from None


def _is_own(fn: Any) -> bool:
    """Whether ``fn`` is a method of one's own (not defined in the ``mutualfuse`` package)."""
    return not getattr(inspect.unwrap(fn), "__module__", "").startswith("mutualfuse.")


def _where(fn: Any) -> str:
    fn = inspect.unwrap(fn)
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', type(fn).__name__)}"


# registration side effects: order here is the order users see
from . import basic  # noqa: E402,F401
from . import network  # noqa: E402,F401
from . import classical  # noqa: E402,F401


def method_card(method: str) -> str:
    """A registered method's card (``mutualfuse methods --card NAME``): family, reference, the
    code it follows, and every keyword parameter with its default and what is allowed (from the
    declaration, :mod:`mutualfuse.methods.params`), as ``--param KEY=VALUE`` takes them."""
    import inspect

    e = METHODS.entry(method)
    lines = [f"method {e.name}", f"  family     {e.meta.get('family', '')}"]
    if e.meta.get("cite"):
        lines.append(f"  reference  {e.meta['cite']}")
    if e.meta.get("matlab"):
        lines.append(f"  follows    {e.meta['matlab']}")
    if e.meta.get("slow"):
        lines.append("  slow       yes (minutes per megapixel on a CPU)")
    sig = inspect.signature(e.obj)
    names = [n for n, p in list(sig.parameters.items())[2:]
             if p.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    declared = e.meta.get("params") or {}
    if not names:
        lines.append("  parameters none")
    elif is_network_method(e.name):  # fuse's own options, not --param (which is refused)
        lines.append("  settings   (fuse options --weights, --device, --token-budget; "
                     "Fuser(WEIGHTS, device=..., token_budget=...); not --param; "
                     "methods --card WEIGHTS: a weights file's card)")
    else:
        lines.append("  parameters (--param KEY=VALUE, or Fuser(NAME, KEY=VALUE))")
    if names:
        width = max(len(n) for n in names)
        for n in names:
            d = sig.parameters[n].default
            default = "" if d is inspect.Parameter.empty else f"default {d!r}; "
            allowed = declared[n].allowed() if n in declared else "not declared (checked when the method runs)"
            lines.append(f"    {n:{width}s}  {default}{allowed}")
    return "\n".join(lines) + "\n"
