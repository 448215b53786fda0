"""A small name → object registry with metadata and "did you mean" suggestions.

One instance holds the fusion methods (:data:`mutualfuse.methods.METHODS`), one the metrics
(:data:`mutualfuse.metrics.METRICS`), one the network architectures
(:data:`mutualfuse.model.MODELS`), one the shipped weights
(:data:`mutualfuse.weights.WEIGHTS`), one the training losses
(:data:`mutualfuse.losses.LOSS_REGISTRY`), one the fusion rules
(:data:`mutualfuse.model.mutual_mapping.FUSION_RULES`), one the metric profiles
(:data:`mutualfuse.metrics.profiles.PROFILE_REGISTRY`) and one the training recipes
(:data:`mutualfuse.train.recipes.RECIPES`). The CLI, the benchmarks and the tests enumerate these
instances instead of repeating names. :meth:`Registry.view` gives a live read-only
``{name: object}`` mapping for code that wants a dict (``mutualfuse.weights.SHIPPED``).
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from collections.abc import Mapping
from typing import Any, Callable, Generic, Iterator, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Entry(Generic[T]):
    name: str
    obj: T
    meta: dict[str, Any] = field(default_factory=dict)


class Registry(Generic[T]):
    """Ordered registry. ``@REG.register("name", **meta)`` registers a function or class."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, Entry[T]] = {}

    def register(self, name: str, **meta: Any) -> Callable[[T], T]:
        def deco(obj: T) -> T:
            self.add(name, obj, **meta)
            return obj

        return deco

    def add(self, name: str, obj: T, **meta: Any) -> None:
        """Add ``name`` (looked up case-insensitively). A name that is taken is a ``ValueError``
        naming the entry that holds it, except when ``obj`` is the same definition again (the
        same module and qualified name: a notebook cell run twice, ``importlib.reload``), which
        replaces the old entry in its place."""
        key = name.lower()
        old = self._entries.get(key)
        if old is not None and not _same_definition(old.obj, obj):
            same = "" if old.name == name else f" as {old.name!r} (names are case-insensitive)"
            raise ValueError(f"{self.kind} {name!r} is already registered{same} by {_where(old.obj)}: "
                             "choose another name")
        self._entries[key] = Entry(name, obj, dict(meta))

    def entry(self, name: str) -> Entry[T]:
        key = str(name).lower()
        if key not in self._entries:
            hint = did_you_mean(name, self.names())
            raise KeyError(
                f"unknown {self.kind} {name!r}{hint} (available: {', '.join(self.names())})"
            )
        return self._entries[key]

    def get(self, name: str) -> T:
        return self.entry(name).obj

    def meta(self, name: str) -> dict[str, Any]:
        return self.entry(name).meta

    def names(self, **where: Any) -> list[str]:
        """Names in registration order, optionally filtered by metadata equality."""
        return [
            e.name
            for e in self._entries.values()
            if all(e.meta.get(k) == v for k, v in where.items())
        ]

    def __contains__(self, name: object) -> bool:
        return str(name).lower() in self._entries

    def __iter__(self) -> Iterator[Entry[T]]:
        return iter(list(self._entries.values()))

    def __len__(self) -> int:
        return len(self._entries)

    def view(self) -> "RegistryView[T]":
        """A live read-only mapping ``name → object`` (iterates names, in registration order)."""
        return RegistryView(self)


def close_names(name: str, names: list[str], n: int = 3) -> list[str]:
    """The names of ``names`` close to ``name``, as they are spelled in ``names``: compared
    case-insensitively (``Qabf@vifb`` for ``qabf@vfb``), and where none is close, for a name without
    ``@``, by the part of each name before its ``@`` (``SSIM@nestfuse``, ``SSIM@vifb``, ... for
    ``ssimm``); a name without ``@`` that is exactly the part before the ``@`` of some names
    gets those first (``VIF@nestfuse``, ``VIF@0-255`` for ``VIF``, not the short ``SF@vifb``,
    ``SD@vifb``, ``MI@vifb`` that the spelling comparison finds). The one
    "did you mean" of every registry lookup and of the CLI's own name checks."""
    key = str(name).strip().lower()
    if "@" not in key:
        exact = [nm for nm in names if "@" in nm and nm.split("@")[0].lower() == key]
        if exact:
            return exact[:max(n, 4)]
    spelled: dict[str, str] = {}
    for nm in names:
        spelled.setdefault(nm.lower(), nm)
    out = [spelled[c] for c in difflib.get_close_matches(key, list(spelled), n=n)]
    if not out and "@" not in key:
        bare: dict[str, list[str]] = {}
        for nm in names:
            if "@" in nm:
                bare.setdefault(nm.split("@")[0].lower(), []).append(nm)
        for b in difflib.get_close_matches(key, list(bare), n=n):
            out += [nm for nm in bare[b] if nm not in out]
    return out[:max(n, 4)]


def did_you_mean(name: str, names: list[str], n: int = 3) -> str:
    """``"; did you mean A, B?"`` for the :func:`close_names` of ``name``, or ``""``."""
    return did_you_mean_of(close_names(name, names, n))


def did_you_mean_of(close: list[str]) -> str:
    """``"; did you mean A, B?"`` for names already found close, or ``""`` for none."""
    return f"; did you mean {', '.join(close)}?" if close else ""


def _qualified(obj: Any) -> tuple[str, str] | None:
    """(module, qualified name) of a function or class; None for other objects."""
    module, qual = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    return (module, qual) if isinstance(module, str) and isinstance(qual, str) else None


def _same_definition(old: Any, new: Any) -> bool:
    """Whether ``new`` is ``old`` defined again (not two lambdas, which share a qualified name)."""
    q = _qualified(old)
    return q is not None and "<lambda>" not in q[1] and q == _qualified(new)


def _where(obj: Any) -> str:
    q = _qualified(obj)
    return ".".join(q) if q else f"a {type(obj).__name__} object"


class RegistryView(Mapping, Generic[T]):
    """Read-only ``{name: object}`` view of a :class:`Registry` (case-insensitive lookup)."""

    def __init__(self, reg: Registry[T]):
        self._reg = reg

    def __getitem__(self, name: str) -> T:
        if name not in self._reg:
            raise KeyError(name)
        return self._reg.get(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._reg.names())

    def __len__(self) -> int:
        return len(self._reg)

    def __contains__(self, name: object) -> bool:
        return name in self._reg

    def __repr__(self) -> str:
        return f"RegistryView({self._reg.kind}: {', '.join(self._reg.names())})"
