"""Import a file of ``scripts/`` or ``benchmarks/`` (not packages) as a module, for their tests."""
from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def load(relpath: str) -> ModuleType:
    """The module at ``ROOT / relpath`` (e.g. ``"benchmarks/bench_metrics.py"``), freshly executed."""
    path = ROOT / relpath
    spec = importlib.util.spec_from_file_location(path.stem, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod
