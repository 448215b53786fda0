"""A researcher's own fusion method in the benchmark: ``--import`` (a module name or a ``.py``
file) and the checks of the registered methods that the run makes before any work.

* :func:`import_user_module` (:mod:`mutualfuse.plugins`, shared with ``fuse``, ``fuse-dir``,
  ``fuse-stack``, ``fuse-video``, ``fuse-volume``, ``serve``, ``methods`` and ``evaluate``): ``--import mymethod`` (a module on the Python path, or in the
  working folder, as ``python -m`` finds it), ``--import path/to/mymethod.py`` (a file) or
  ``--import path/to/mypackage`` (a package folder); one-line errors naming the file and line of
  the failure. The ``-j N`` workers import the same way (:func:`mutualfuse.benchmark.jobs.init_worker`).
* :func:`check_method_rows`: what would make a method row wrong or fail on every pair, refused
  before any work with one line (exit status 2): a name or family that
  :class:`mutualfuse.Fuser` takes for the network, a ``--param`` that is an option of the Fuser
  (it would never reach the method), a call the function's signature cannot take, and a result
  that breaks the method contract on a small test pair (wrong shape, no array, NaN or inf,
  values on the 0–255 scale), which would otherwise be clipped into an all-white, black or
  garbage image and scored without a word.
"""
from __future__ import annotations

import inspect
import sys
import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..errors import ParameterError
# the --import helpers live in mutualfuse.plugins (every command's --import); kept importable from here
from ..plugins import (  # noqa: F401
    _PACKAGE, _describe, _is_path, _load_file, _load_name, _one_line, _where, import_user_module,
    import_user_modules)

#: the size of the test pair a user's method fuses once before the run (not square, so that a
#: transposed result is found; above every method's minimum side)
PROBE_SHAPE = (72, 88)


def is_builtin(fn: Callable) -> bool:
    """Whether ``fn`` is one of the project's own methods (its code is in ``mutualfuse/methods``)."""
    from .sources import _METHODS_DIR

    fn = inspect.unwrap(fn)
    try:
        src = inspect.getsourcefile(fn)
    except TypeError:
        return False
    return bool(src) and Path(src).resolve().is_relative_to(_METHODS_DIR)


def fuser_options() -> set[str]:
    """Keyword arguments that :class:`mutualfuse.Fuser` takes itself (so a method parameter of
    one of these names never reaches the method)."""
    from ..api import Fuser

    ps = inspect.signature(Fuser.__init__).parameters.values()
    return {p.name for p in ps if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name != "self"} | {
        "method", "weights"}


def probe_pair() -> tuple[np.ndarray, np.ndarray]:
    """A deterministic gray test pair, float64 in [0, 1], :data:`PROBE_SHAPE`: a ramp with a bright
    square and texture, and its mirror with a dark disc (both sources have structure)."""
    h, w = PROBE_SHAPE
    y, x = np.mgrid[0:h, 0:w] / np.array([h, w])[:, None, None]
    rng = np.random.default_rng(0)
    a = 0.2 + 0.5 * x + 0.05 * rng.standard_normal((h, w))
    a[h // 4:h // 2, w // 4:w // 2] = 0.9
    b = 0.7 - 0.4 * y + 0.05 * rng.standard_normal((h, w))
    b[(y - 0.6) ** 2 + (x - 0.6) ** 2 < 0.04] = 0.05
    return np.clip(a, 0, 1), np.clip(b, 0, 1)


def contract_problem(out: Any, shape: tuple[int, int]) -> str | None:
    """What is wrong with a method's result for gray inputs of ``shape`` (None: nothing):
    :func:`mutualfuse.methods.result_problem`, which :func:`mutualfuse.methods.fuse_gray` applies
    to every result."""
    from ..methods import result_problem

    return result_problem(out, shape)


def defined_interactively(fn: Callable) -> bool:
    """Whether ``fn`` was defined in an interactive session (``__main__`` without a file), which
    the benchmark's spawned ``-j N`` workers cannot import."""
    if getattr(fn, "__module__", None) != "__main__":
        return False
    main = sys.modules.get("__main__")
    return not getattr(main, "__file__", None) or not Path(main.__file__).is_file()


def interactive_refusal(jobs: int) -> str:
    """The end of the one-line refusal of a method or metric :func:`defined_interactively`."""
    return (f"is defined in an interactive session, which the -j {jobs} worker processes cannot import: put "
            "it in a module and give it to --import (BenchmarkConfig(imports=...)), or run with one worker")


def check_method_rows(rows: list[tuple[str, dict[str, Any]]], jobs: int = 1) -> None:
    """Refuse, before any work, the method rows ``(name, params)`` that could only give wrong or
    failed results; see the module docstring. The project's own methods are only checked for
    their parameter values (:func:`mutualfuse.methods.check_method_params`); a user's method is
    also called once on :func:`probe_pair` (an exception there is left to the real pairs, which
    report it with the pair's name)."""
    from ..api import _network_weights
    from ..methods import METHODS, check_method_params

    options = fuser_options()
    for name, params in rows:
        for key, value in params.items():
            try:
                check_method_params(name, {key: value})
            except ParameterError as e:
                raise ParameterError(f"--param {name}.{key}: {e}") from None
        entry = METHODS.entry(name)
        fn = entry.obj
        if is_builtin(fn):
            continue
        where = f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', type(fn).__name__)}"
        try:
            net = _network_weights(name)
        except ParameterError:  # a shipped weights name hiding this method (api._refuse_a_shadowing_method)
            net = name
        except Exception:  # noqa: BLE001 - whatever it is, it is not the network
            net = None
        if net is not None:
            raise ParameterError(
                f"method {name!r} ({where}) has the name of shipped weights (or of a weights file): "
                f"mutualfuse.Fuser({name!r}), and so the benchmark, would fuse with the network, not with your "
                "function; register it under another name")
        clash = sorted(set(params) & options)
        if clash:
            raise ParameterError(
                f"--param {name}.{clash[0]}: {clash[0]!r} is an option of mutualfuse.Fuser, which runs the "
                f"benchmark's methods, so it would set that option and never reach method {name!r}; rename the "
                "parameter")
        a, b = probe_pair()
        try:
            inspect.signature(fn).bind(a, b, **params)
        except TypeError as e:
            import re

            hint = ""
            need = re.search(r"missing a required argument: '(\w+)'", str(e))
            if need:
                hint = f" (give it with --param {name}.{need.group(1)}=VALUE, or a default in the function)"
            raise ParameterError(f"method {name!r} ({where}) cannot be called as {name}(a, b"
                                 + "".join(f", {k}={v!r}" for k, v in params.items())
                                 + f"): {_one_line(e)}{hint}") from None
        except ValueError:  # no signature (a builtin): the call says
            pass
        if jobs > 1 and defined_interactively(fn):
            raise ParameterError(f"method {name!r} {interactive_refusal(jobs)}")
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                out = fn(a.copy(), b.copy(), **params)
        except Exception:  # noqa: BLE001 - left to the real pairs, which name the pair
            continue
        what = contract_problem(out, a.shape)
        if what:
            raise ParameterError(
                f"method {name!r} ({where}) breaks the method contract on a {a.shape[1]}x{a.shape[0]} test pair "
                f"(gray float64 arrays in [0, 1]): {what}; docs/benchmark.md, 'Your own method'")
