"""The benchmark's typed options (one dataclass; the CLI fills it from its arguments)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: the shipped defaults, inside the package (an installed wheel has no configs/ folder);
#: configs/benchmark/ in the source checkout links to them
PACKAGE_CONFIGS = Path(__file__).resolve().parent / "configs"


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "mutualfuse" / "benchmark"


def find_config(name: str) -> Path | None:
    """``configs/benchmark/<name>`` in the working folder (a user's own), else the shipped one
    in the package (``mutualfuse/benchmark/configs/<name>``)."""
    for base in (Path.cwd() / "configs" / "benchmark", PACKAGE_CONFIGS):
        p = base / name
        if p.is_file():
            return p
    return None


@dataclass
class BenchmarkConfig:
    """Everything one benchmark run depends on.

    Attributes:
        data_root: the shared data folder (``ir-vis/tno``, ``reference/ifcnn`` … below it).
        out: output folder (tables/, figures/, report.html, summary.md).
        tables: which of the paper's tables to build: ids ``table1`` … ``table7``.
        sets: further sets (``ir-vis/tno40`` …), each a table with its task's columns.
        methods: restrict the registered methods to these names (None: all; [] : none).
        weights: restrict the shipped-weights rows to these names (None: all; []: none); an entry
            ``NAME=FILE`` (or a path to a file) adds a row ``Ours[NAME]`` for weights of one's own.
        params: per-method parameters ``{"dwt": {"levels": 3}}`` (part of the cache key).
        fused: user rows ``NAME=DIR`` (a set's images in ``DIR/<task>/<set>/`` when it exists, else ``DIR``).
        imports: Python modules imported first (their registered methods become rows): module
            names (on the path or in the working folder), ``.py`` files or package folders
            (:func:`mutualfuse.benchmark.plugins.import_user_module`).
        extra_metrics: registered metric keys added as extra columns after the paper's columns of
            every table (``("Qcb@liu", "Qmine@own")``; a metric of one's own is registered by an
            ``imports`` module; a bare name such as ``Qcb@liu``'s short name works when unambiguous).
        quick: two pairs per set, no slow metrics, no slow methods (unless named).
        fast_metrics: leave out the slow metric columns (VIF); implied by ``quick``.
        pairs: use only the N smallest pairs of every set (ties by name; None: all; quick sets 2).
        jobs: worker processes.
        cache: cache folder (default ``$XDG_CACHE_HOME/mutualfuse/benchmark``).
        device: device of the network rows (``cpu``, ``cuda``, ``auto``).
        figures_config / ablations_config: YAML files (None: ``configs/benchmark/*.yaml``).
        retime: time one fresh fusion per method even when every image is cached.
        progress: show a progress bar with ETA on stderr.
        command: the command line, printed in the report.
        data_root_from: where ``data_root`` came from (``--data-root`` or ``MUTUALFUSE_DATA``), printed
            in the report beside it.
    """

    data_root: Path
    out: Path
    tables: tuple[str, ...] = ("table1", "table2", "table3", "table4", "table5", "table6", "table7")
    sets: tuple[str, ...] = ()
    methods: list[str] | None = None
    weights: list[str] | None = None
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    fused: list[str] = field(default_factory=list)
    imports: tuple[str, ...] = ()
    extra_metrics: tuple[str, ...] = ()
    quick: bool = False
    fast_metrics: bool = False
    pairs: int | None = None
    jobs: int = 1
    cache: Path | None = None
    device: str = "cpu"
    figures_config: Path | None = None
    ablations_config: Path | None = None
    retime: bool = False
    progress: bool = True
    command: str = ""
    #: where ``data_root`` came from (``--data-root`` or ``MUTUALFUSE_DATA``; "" from Python), named in the report
    data_root_from: str = ""

    def __post_init__(self) -> None:
        self.data_root = Path(self.data_root)
        self.out = Path(self.out)
        if self.cache is None:
            self.cache = default_cache_dir()
        self.cache = Path(self.cache)
        if self.quick:
            self.fast_metrics = True
            if self.pairs is None:
                self.pairs = 2
