"""s23: ``mutualfuse benchmark -j 2 --import MODULE --extra-metrics KEY``: the worker processes score a
metric of one's own too. The benchmark's pool is spawned (every platform), so its workers import the
module (:func:`mutualfuse.benchmark.jobs.init_worker`); with the pool forked instead (the start
method patched), they find it already imported. Both give the single-process values. A metric
registered by a module the caller imported (not named by ``--import``) is imported by the workers
too (:func:`mutualfuse.benchmark.runner.worker_imports`)."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from PIL import Image

from mutualfuse.benchmark.table import read_csv
from bench_roots import tno_pairs  # tests/ is on sys.path

MODULE = textwrap.dedent('''
    from mutualfuse.metrics import register_metric

    @register_metric("Bmean@own", direction="lower", uses_sources=True)
    def bmean(a, b, f):
        return float(b.mean())
''')

#: run the CLI with the benchmark pool's start method replaced by the given one
RUN = textwrap.dedent('''
    import multiprocessing as mp, sys
    method = sys.argv[1]
    if method != "spawn":
        get = mp.get_context
        mp.get_context = lambda m=None: get(method)
    if sys.argv[2] == "preimport":  # a module the caller imported, not named by --import
        sys.path.insert(0, ".")
        import s23bmean  # noqa: F401
    from mutualfuse.cli import main
    sys.exit(main(sys.argv[3:]))
''')


@pytest.fixture()
def root(tmp_path):
    tno_pairs(tmp_path, 5)
    (tmp_path / "s23bmean.py").write_text(MODULE)
    return tmp_path


def _want(root) -> float:
    return float(np.mean([np.asarray(Image.open(p), dtype=np.float64).mean()
                          for p in sorted((root / "data" / "ir-vis" / "tno" / "vis").glob("*.png"))]))


@pytest.mark.parametrize("method, how", [("spawn", "import"), ("fork", "import"), ("spawn", "preimport")])
def test_the_workers_score_a_metric_of_ones_own(root, method, how):
    import multiprocessing

    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"no {method} here")
    argv = ["benchmark", "--data-root", "data", "--out", "out", "--cache", "cache", "--tables", "1", "--weights",
            "none", "--methods", "average", "--fast-metrics", "--figures", "nofig.yaml", "-q", "-j", "2",
            *(["--import", "s23bmean.py"] if how == "import" else []), "--extra-metrics", "Bmean@own"]
    env = dict(os.environ, OMP_NUM_THREADS="1", XDG_CACHE_HOME=str(root / "xdg"))
    p = subprocess.run([sys.executable, "-c", RUN, method, how, *argv], cwd=root, env=env, capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == 0 and p.stderr == "", p.stderr
    v = read_csv((root / "out" / "tables" / "table1.csv").read_text())
    assert v.headings[-1] == "Bmean@own ↓"
    assert v.values["AVERAGE"][-1] == pytest.approx(_want(root), rel=1e-12)
