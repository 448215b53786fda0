"""s30 reproduction audit: the runtime table says at which ``-j`` each time was taken.

The header said "wall time of the fusion alone, -j N" with the *current* run's -j, also for the
rows whose times were recorded in the cache by an earlier run at another -j (a -j 2 run's contended
times, read back by a -j 1 run, were labelled -j 1). Each timing records its run's -j now, and the
``measured`` column names it (``-j not recorded`` for cache entries from before)."""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

from bench_roots import tno_pairs  # tests/ is on sys.path


def _bench(tmp_path, jobs):
    env = dict(os.environ, OMP_NUM_THREADS="1", XDG_CACHE_HOME=str(tmp_path / "xdg"))
    p = subprocess.run([sys.executable, "-m", "mutualfuse", "benchmark", "-q", "--data-root", str(tmp_path / "data"),
                        "--out", str(tmp_path / "out"), "--cache", str(tmp_path / "cache"), "--tables", "none",
                        "--sets", "ir-vis/tno", "--weights", "none", "--methods", "average,max", "--fast-metrics",
                        "--figures", str(tmp_path / "nofig.yaml"), "-j", str(jobs)],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    rows = list(csv.DictReader((tmp_path / "out" / "tables" / "runtime.csv").open(encoding="utf-8")))
    return rows, (tmp_path / "out" / "tables" / "runtime.md").read_text(encoding="utf-8")


def test_cached_times_keep_the_j_they_were_taken_at(tmp_path):
    tno_pairs(tmp_path, 30)
    rows, _ = _bench(tmp_path, 2)
    assert [r["measured"] for r in rows] == ["this run, -j 2"] * 2, rows
    rows, md = _bench(tmp_path, 1)  # everything cached: the times are the -j 2 run's
    assert all(r["measured"].startswith("recorded when cached (") and r["measured"].endswith(", -j 2)")
               for r in rows), rows
    assert "this run's is -j 1" in md and "wall time of the fusion alone, -j 1;" not in md, md
    for side in (tmp_path / "cache" / "fused").rglob("*.timing.json"):  # a cache from before the record
        doc = json.loads(side.read_text())
        del doc["jobs"]
        side.write_text(json.dumps(doc))
    rows, _ = _bench(tmp_path, 1)
    assert all(r["measured"].endswith(", -j not recorded)") for r in rows), rows
