"""``mutualfuse benchmark``: the paper's Tables 1–7, its figures, a runtime table and an HTML
report from one command, with every value cached (see ``docs/benchmark.md``).

>>> from mutualfuse.benchmark import BenchmarkConfig, run_benchmark
>>> out = run_benchmark(BenchmarkConfig(data_root="/data", out="results", quick=True))
>>> out.tables["table2"].value("reference:ifcnn/multi-focus/max", "EI")

Modules: :mod:`.specs` (which set, columns and marking each table has), :mod:`.sources`
(where each row's fused images come from), :mod:`.cache` (fused images and metric values on
disk), :mod:`.jobs` (one row × pair), :mod:`.runner` (the run), :mod:`.table` (Markdown / CSV /
LaTeX writers and readers), :mod:`.paper` (the transcribed paper tables and the comparison),
:mod:`.figures` (grids with zoom boxes), :mod:`.report` (HTML report, environment),
:mod:`.plugins` (``--import`` and the checks of a user's method).

A user's own method becomes a row in two ways: a folder of fused images (``--fused NAME=DIR``,
``BenchmarkConfig(fused=["NAME=DIR"])``), or a function registered with
:func:`mutualfuse.methods.register_method` in a module named by ``--import MODULE`` (a module
name or a ``.py`` file; :mod:`.plugins`, which also checks such a method before any work).
docs/benchmark.md, "Your own method".
"""
from __future__ import annotations

from .config import BenchmarkConfig
from .runner import Outcome, run_benchmark

__all__ = ["BenchmarkConfig", "Outcome", "run_benchmark"]
