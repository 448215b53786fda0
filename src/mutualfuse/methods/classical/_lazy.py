"""SciPy's modules, imported when a method first uses them, not when the registry is built.

Importing :mod:`mutualfuse.methods` registers every classical method; their SciPy modules
(``ndimage``, ``linalg``, ``fft``) took about 0.15 s of that (measured with ``python -X
importtime``), paid by every ``mutualfuse fuse``, ``fuse-dir`` and ``methods`` run, also with
``--method average`` or the network, which use none of them.
"""
from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule:
    """Stands for the module ``name``: imports it on the first attribute access (``ndimage.zoom``)
    and passes every access on to it."""

    __slots__ = ("_name", "_module")

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        mod = self._module
        if mod is None:
            mod = self._module = importlib.import_module(self._name)
        return getattr(mod, attr)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}{' (imported)' if self._module is not None else ''}>"


ndimage = LazyModule("scipy.ndimage")
linalg = LazyModule("scipy.linalg")
fft = LazyModule("scipy.fft")
