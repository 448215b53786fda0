"""benchmarks/bench_pipeline.py --network (session 28, big): the whole ``fuse`` command with the
network, timed and measured in fresh processes against the classical ``average`` baseline."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "benchmarks" / "bench_pipeline.py"


def _run(*args, timeout=600):
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO / "src"))
    return subprocess.run([sys.executable, str(BENCH), *args], capture_output=True, text=True, env=env,
                          timeout=timeout)


def test_network_rows_measure_each_run(tmp_path):
    out = tmp_path / "net.json"
    r = _run("--network", "--size", "96x64", "--tile", "64", "--json", str(out))
    assert r.returncode == 0, r.stderr
    data = json.loads(out.read_text())
    runs = [(row["run"], tuple(row["size"])) for row in data["rows"]]
    assert runs == [("average (baseline)", (96, 64)), ("network", (64, 64)), ("network", (96, 64)),
                    ("network --tile 64", (96, 64))]
    for row in data["rows"]:
        assert row["rc"] == 0 and row["peak_rss_gb"] > 0 and row["wall_s"] > 0, row
    base, net = data["rows"][0], data["rows"][2]
    # the network's process loads torch and the weights: more memory than the classical baseline's
    assert net["peak_rss_gb"] > base["peak_rss_gb"]
    assert any("pooled grid" in n for n in net["notes"]), net["notes"]  # the command's own note, passed on
    assert any(n.startswith("tiled: ") for n in data["rows"][3]["notes"])
    assert "average (baseline)" in r.stdout and "note: approximate mutual mapping" in r.stdout


def test_a_run_that_does_not_fit_is_a_failed_row(tmp_path):
    # 0.3 GB of address space: too little for torch, not for the classical baseline
    r = _run("--network", "--size", "64x64", "--max-gb", "0.3", "--sample", "tno-01")
    assert r.returncode == 1, (r.stdout, r.stderr)
    lines = r.stdout.splitlines()
    assert any(ln.startswith("average (baseline)") and "FAILED" not in ln for ln in lines), r.stdout
    assert any(ln.startswith("network ") and "FAILED (exit status" in ln for ln in lines), r.stdout


@pytest.mark.parametrize("argv, needle", [
    (["--tile", "64"], "--tile, --max-gb and --sample go with --network"),
    (["--network", "--method", "dwt"], "--method and --reps do not go with --network"),
    (["--network", "--max-gb", "-1"], "--max-gb"),
])
def test_bad_arguments_are_one_line(argv, needle):
    r = _run(*argv, timeout=120)
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and needle in r.stderr, r.stderr
