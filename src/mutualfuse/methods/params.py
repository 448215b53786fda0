"""Declared parameters of the fusion methods: the type and the valid range or choices of each.

A method declares every keyword parameter once, where it is registered::

    @register_method("dwt", ..., params={"levels": Int(1, 10), "highpass": Choice(HIGHPASS_RULES), ...})
    def dwt(a, b, *, levels=4, highpass="maxabs", ...): ...

From that declaration

* :func:`mutualfuse.methods.check_method_params` checks the names *and values* of a method's
  parameters before any image is read (``Fuser(method, **params)``, ``fuse``, ``fuse-dir``,
  ``benchmark --param``), with a one-line :class:`~mutualfuse.errors.ParameterError` naming the
  method, the parameter, the bad value and what is allowed;
* the registered function checks them again whenever it is called (directly too), and its body
  receives them normalised (``int``, ``float``, ``bool`` or ``str``).

A parameter the method uses only with a given value of another (``gtf``'s ``tol`` only with
``solver="admm"``) is declared with :meth:`Param.only_with`: given with a value other than its
default while the other parameter says otherwise, it is refused too (:func:`check_combination`)
rather than ignored. What depends on the image (a decomposition too deep for its size) is still
checked by the method when it runs. Values arrive typed: the command line's ``--param KEY=VALUE``
strings are converted by the command first (``mutualfuse.cli.fuse.parse_params``: int, float,
true/false, else text).
"""
from __future__ import annotations

import abc
import dataclasses
import functools
import inspect
import os
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any, Callable, Mapping

import numpy as np

from ..errors import ParameterError
from ..registry import close_names, did_you_mean, did_you_mean_of


def _fmt(x: float) -> str:
    """``1e6``, ``1e-6``, ``0.5`` (not ``1e+06``)."""
    s = f"{x:g}"
    if "e" in s:
        m, e = s.split("e")
        s = f"{m}e{int(e)}"
    return s


class Param(abc.ABC):
    """One declared parameter. :meth:`check` returns the value normalised or raises."""

    def _range(self) -> str:
        """The type and range or choices accepted (each declaration kind below; a subclass may
        override :meth:`allowed` instead)."""
        raise NotImplementedError

    def allowed(self) -> str:
        """What is accepted, as the end of "parameter X must be ..." and on the method's card:
        :meth:`_range` and, for a declaration made with :meth:`only_with`, its condition."""
        return self._range() + self.condition()

    @abc.abstractmethod
    def accepts(self, value: Any) -> Any:
        """The normalised value, or raise TypeError/ValueError (:meth:`check` words the message)."""

    def check(self, method: str, name: str, value: Any) -> Any:
        try:
            return self.accepts(value)
        except (TypeError, ValueError, OverflowError):
            raise ParameterError(f"method {method!r}: parameter {name} must be {self.allowed()}, "
                                 f"got {value!r}{self.hint(value)}") from None

    def hint(self, value: Any) -> str:
        """Appended to the message (a "did you mean")."""
        return ""

    #: set by :meth:`only_with`: (the other parameter, its values that use this one, this
    #: parameter's default, the other's default; the defaults filled in by :func:`with_params`)
    _only: tuple | None = None

    def only_with(self, on: str, *values: Any) -> Param:
        """This declaration for a parameter that the method uses only while the parameter ``on`` is
        one of ``values`` (``gtf``'s ``tol`` only with ``solver="admm"``). With ``on`` set otherwise a
        value other than the parameter's default is refused (:func:`check_combination`) instead of
        being ignored without a word; the default itself passes (a form that fills in every default,
        as the web page's, sends it). Returns a copy; :meth:`allowed` then ends with the condition."""
        return self._with_only((on, tuple(values), None, None))

    def _with_only(self, cond: tuple) -> Param:
        new = dataclasses.replace(self)  # type: ignore[type-var]  (every declaration is a dataclass)
        object.__setattr__(new, "_only", cond)
        return new

    def condition(self) -> str:
        """``"; used only with solver=admm"`` for a declaration made with :meth:`only_with`, else ``""``."""
        if self._only is None:
            return ""
        return f"; used only with {self._only[0]}={' or '.join(map(str, self._only[1]))}"


@dataclass(frozen=True)
class Int(Param):
    """An integer (not a bool, not a float such as 3.0) in ``lo..hi`` (``hi`` None: no upper
    bound); ``odd``: odd only; ``multiple_of``: a multiple of it; ``optional``: None allowed;
    ``meaning``: what special values mean (appended to :meth:`allowed`, for the card)."""

    lo: int
    hi: int | None = None
    odd: bool = False
    multiple_of: int = 1
    optional: bool = False
    meaning: str = ""

    def _range(self) -> str:
        kind = "an odd integer" if self.odd else "an integer"
        rng = f" >= {self.lo}" if self.hi is None else f" in {self.lo}..{self.hi}"
        mult = f", a multiple of {self.multiple_of}" if self.multiple_of > 1 else ""
        return kind + rng + mult + (" (or None)" if self.optional else "") + (f"; {self.meaning}" if self.meaning else "")

    def accepts(self, value: Any) -> Any:
        if value is None and self.optional:
            return None
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, Integral):
            raise TypeError
        v = int(value)
        if v < self.lo or (self.hi is not None and v > self.hi) or (self.odd and v % 2 == 0) or v % self.multiple_of:
            raise ValueError
        return v


@dataclass(frozen=True)
class Float(Param):
    """A finite real number (ints too; not a bool) with ``lo`` (``lo_open``: exclusive) and
    ``hi`` bounds (None: unbounded on that side)."""

    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False

    def _range(self) -> str:
        lo = None if self.lo is None else f"{'>' if self.lo_open else '>='} {_fmt(self.lo)}"
        if self.hi is not None and lo is not None:
            return f"a finite number {lo} and <= {_fmt(self.hi)}"
        if self.hi is not None:
            return f"a finite number <= {_fmt(self.hi)}"
        return f"a finite number {lo}" if lo else "a finite number"

    def accepts(self, value: Any) -> Any:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real):
            raise TypeError
        v = float(value)
        if not np.isfinite(v):
            raise ValueError
        if self.lo is not None and (v < self.lo or (self.lo_open and v == self.lo)):
            raise ValueError
        if self.hi is not None and v > self.hi:
            raise ValueError
        return v


@dataclass(frozen=True)
class Choice(Param):
    """One of ``choices`` (strings). ``listing``: the words used instead of listing them all
    (for long lists); a near miss gets a "did you mean"."""

    choices: tuple[str, ...]
    listing: str | None = None

    def _range(self) -> str:
        return self.listing or f"one of {', '.join(self.choices)}"

    def accepts(self, value: Any) -> Any:
        if not isinstance(value, str) or value not in self.choices:
            raise ValueError
        return value

    def hint(self, value: Any) -> str:
        if not isinstance(value, str):
            return ""
        # the choice spelled in another case first ('LAPACK', 'Haar', 'DB2'): difflib's ratio is
        # case-sensitive and found nothing for 'LAPACK' or 'DB2' (session 25)
        folded = [c for c in self.choices if c.casefold() == value.strip().casefold()]
        return did_you_mean_of(folded) if folded else did_you_mean(value, list(self.choices))


@dataclass(frozen=True)
class Bool(Param):
    """True or False (``--param KEY=true|false`` on the command line); not 0/1 or text."""

    def _range(self) -> str:
        return "true or false"

    def accepts(self, value: Any) -> Any:
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError
        return bool(value)


@dataclass(frozen=True)
class Text(Param):
    """A non-empty string or path (what it names is checked by whoever uses it)."""

    what: str = "a non-empty text"

    def _range(self) -> str:
        return self.what

    def accepts(self, value: Any) -> Any:
        if isinstance(value, os.PathLike):
            value = os.fspath(value)
        if not isinstance(value, str) or not value.strip():
            raise TypeError
        return value


def check_combination(method: str, spec: Mapping[str, Param], values: Mapping[str, Any]) -> None:
    """Refuse a parameter given with a value other than its default where the method ignores it:
    one declared with :meth:`Param.only_with` while its ``on`` parameter (given in ``values``, else
    at its default) is not one of its values. ``values``: the parameters as given, normalised."""
    for name, value in values.items():
        cond = getattr(spec.get(name), "_only", None)
        if cond is None:
            continue
        on, allowed_values, default, on_default = cond
        if value == default:
            continue
        other = values.get(on, on_default)
        if other not in allowed_values:
            want = " or ".join(f"{on}={v}" for v in allowed_values)
            raise ParameterError(f"method {method!r}: parameter {name}={value!r} has no effect with "
                                 f"{on}={other} (it is used only with {want}); drop it or pass {want}")


class ParameterCallError(ParameterError, TypeError):
    """A direct call of a registered method function with arguments its signature does not take
    (an unknown keyword, a parameter passed by position, an image missing). A
    :class:`~mutualfuse.errors.ParameterError` worded as the other parameter errors, with a "did
    you mean" for a near-miss name, and still a :class:`TypeError`, which the call raised before
    session 25 (Python's bare "got an unexpected keyword argument 'levls'", no method named)."""


def unknown_params_message(method: str, unknown: list[str], names: list[str]) -> str:
    """``method 'dwt': unknown parameter levls (its parameters: levels, wavelet, highpass); did
    you mean levels?``: the refusal of parameter names a method does not take, with the close
    matches of each unknown name (``difflib``, and the name in another case)."""
    unknown = sorted(unknown)
    takes = f"its parameters: {', '.join(names)}" if names else "it takes no parameters"
    msg = (f"method {method!r}: unknown parameter{'s' if len(unknown) > 1 else ''} "
           f"{', '.join(unknown)} ({takes})")
    close: list[str] = []
    for u in unknown:
        folded = [n for n in names if n.casefold() == u.casefold()]
        for n in folded or close_names(u, names, n=2):
            if n not in close:
                close.append(n)
    return msg + did_you_mean_of(close)


def keyword_names(fn: Callable) -> list[str]:
    """The parameters of a method function after its two images ``a, b``."""
    ps = list(inspect.signature(fn).parameters.values())[2:]
    return [p.name for p in ps if p.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)]


def check_values(method: str, spec: Mapping[str, Param], values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` normalised by their declarations (names not declared are passed through); a
    parameter the method would ignore with the other values is refused (:func:`check_combination`)."""
    out = {k: spec[k].check(method, k, v) if k in spec else v for k, v in values.items()}
    check_combination(method, spec, out)
    return out


def check_images(method: str, a: Any, b: Any) -> tuple[np.ndarray, np.ndarray]:
    """The images of a direct call of a registered method function, checked and normalised as
    :func:`mutualfuse.methods.fuse_gray` does: numpy float samples in [0, 1] (within
    :data:`~mutualfuse.io.samples.FLOAT_TOLERANCE`, clipped in a copy), finite, 2-D, the same
    shape, at least :data:`~mutualfuse.validation.MIN_SIDE` per side, else a one-line
    :class:`~mutualfuse.errors.InputError` that starts with ``method NAME:``. Returned as
    C-contiguous float64 arrays: the same objects when they already are (never written to), else
    copies, so that a method's result does not depend on the memory layout or the float type of
    its input (before session 16 ``asr`` on a Fortran-ordered array differed from the same values
    C-ordered, and ``rp`` called with float32 images computed in float32, 25 grey levels off)."""
    from ..convert import check_unit_float
    from ..errors import InputError
    from ..validation import check_pair

    try:
        a, b = check_unit_float(a, "a"), check_unit_float(b, "b")
        check_pair(a, b)
    except InputError as e:
        raise InputError(f"method {method!r}: {e}") from None
    return (np.ascontiguousarray(a, dtype=np.float64), np.ascontiguousarray(b, dtype=np.float64))


def with_params(method: str, spec: Mapping[str, Param]) -> Callable[[Callable], Callable]:
    """Wrap a method function so that every call checks and normalises its parameters by
    ``spec`` first, then its two images (:func:`check_images`: float in [0, 1], 2-D, same shape,
    at least 8x8; C-contiguous float64). ``spec`` must declare exactly the function's keyword
    parameters, and each default must be valid (checked here, at import: a programming error,
    not a user's)."""
    if not isinstance(spec, Mapping):
        raise ValueError(f"method {method!r}: params must be a dict of parameter name to declaration "
                         f"(Int, Float, Choice, Bool or Text of mutualfuse.methods.params), got {type(spec).__name__}")
    spec = dict(spec)
    for n, p in spec.items():  # params={"w": 3} failed as "AttributeError: 'int' object has no attribute 'check'"
        if not isinstance(p, Param):
            raise ValueError(f"method {method!r}: parameter {n} is declared as {p!r}"[:200]
                             + "; declare it with Int, Float, Choice, Bool or Text of mutualfuse.methods.params "
                               "(e.g. Float(0, 1))")

    def deco(fn: Callable) -> Callable:
        sig = inspect.signature(fn)
        names = keyword_names(fn)
        if set(names) != set(spec):
            raise ValueError(f"method {method!r}: declared parameters {sorted(spec)} differ from the "
                             f"function's {sorted(names)}")
        for n in names:
            default = sig.parameters[n].default
            if default is inspect.Parameter.empty:
                raise ValueError(f"method {method!r}: parameter {n} has no default")
            try:
                spec[n].check(method, n, default)
            except ParameterError as e:
                raise ValueError(f"the default of {e}") from None
            cond = spec[n]._only
            if cond is not None:
                if cond[0] not in names or cond[0] == n:
                    raise ValueError(f"method {method!r}: parameter {n} is declared used only with {cond[0]!r}, "
                                     f"which is not another of its parameters")
                spec[n] = spec[n]._with_only((cond[0], cond[1], default, sig.parameters[cond[0]].default))

        image_names = list(sig.parameters)[:2]

        @functools.wraps(fn)
        def checked(*args: Any, **kwargs: Any):
            try:
                bound = sig.bind(*args, **kwargs)
            except TypeError:  # worded as the other parameter errors (it was Python's bare message)
                unknown = [k for k in kwargs if k not in sig.parameters]
                if unknown:
                    raise ParameterCallError(unknown_params_message(method, unknown, names)) from None
                raise ParameterCallError(
                    f"method {method!r} takes its two images ({', '.join(image_names)}) and then its "
                    f"parameters by name ({', '.join(f'{n}=...' for n in names) or 'it has none'}): got "
                    f"{len(args)} positional argument{'s' if len(args) != 1 else ''}"
                    f"{' and ' + ', '.join(kwargs) if kwargs else ''}") from None
            given = list(bound.arguments)[2:]
            for k in given:
                bound.arguments[k] = spec[k].check(method, k, bound.arguments[k])
            check_combination(method, spec, {k: bound.arguments[k] for k in given})
            ka, kb = list(sig.parameters)[:2]
            if ka in bound.arguments and kb in bound.arguments:
                bound.arguments[ka], bound.arguments[kb] = check_images(
                    method, bound.arguments[ka], bound.arguments[kb])
            return fn(*bound.args, **bound.kwargs)

        checked.params = spec  # type: ignore[attr-defined]
        #: the body without these checks, for :func:`mutualfuse.methods.fuse_gray`, which makes them itself
        checked.unchecked = fn  # type: ignore[attr-defined]
        return checked

    return deco

