"""Session 26 (audit of benchmarks/ as a user checking the speed claims): what the scripts print
and write on their quick settings.

* every timing script names the machine (``# machine: CPU model, usable CPUs, threads, torch
  version …``): before, most printed no CPU model and several no torch version, so numbers from
  different machines could be compared unknowingly;
* ``bench_layout`` prints the channels-last time relative to NCHW of the same run (it printed
  only the two absolute rows);
* ``--json`` files are written whole and with the permissions the umask gives;
* ``bench_gtf`` calls every solver once, untimed, before timing it: the old default's first call
  (one-off costs) was charged to the baseline that every speed-up divides by;
* ``bench_quality``'s global-mean-maps images are written under a temporary name: an interrupted
  write left a truncated PNG that the next run took as done;
* docs/benchmark.md's ``--extra-metrics`` example names a metric that docs/metrics.md's
  ``mymetric.py`` registers (it named ``Qmine@own``, which no module of the docs registers).
"""
from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from script_module import load

ROOT = Path(__file__).resolve().parents[2]


def _run(script: str, *argv: str, umask: int | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("MUTUALFUSE_DATA", "MUTUALFUSE_SHARED")}
    env["OMP_NUM_THREADS"] = "1"
    pre = (lambda: os.umask(umask)) if umask is not None else None
    return subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *argv], capture_output=True, text=True,
                          env=env, timeout=300, preexec_fn=pre)


def _machine(stdout: str) -> str:
    lines = [ln for ln in stdout.splitlines() if ln.startswith("# machine: ")]
    assert len(lines) == 1, stdout
    line = lines[0]
    assert re.search(r"\d+ of \d+ CPUs usable", line) and "torch " in line and "numpy " in line, line
    assert "OMP_NUM_THREADS=1" in line and "load average" in line, line
    return line


@pytest.mark.parametrize("script, argv, threads", [
    ("bench_layout.py", ["--size", "32x24", "--reps", "1"], True),
    ("bench_gtf.py", ["--size", "16x16", "--repeat", "1"], False),
    ("bench_baselines.py", ["--methods", "average", "--sizes", "256", "--repeat", "1"], False),
    ("bench_metrics.py", ["--sizes", "32x32", "--repeat", "1", "--metrics", "EN@rfn-nest", "--octave", ""], False),
], ids=lambda a: a if isinstance(a, str) else None)
def test_quick_runs_name_the_machine(script, argv, threads):
    r = _run(script, *argv)
    assert r.returncode == 0, r.stderr
    line = _machine(r.stdout)
    if threads:  # the script sets torch's thread count (--threads, default 1): the line says so
        assert "threads 1 (OMP_NUM_THREADS=1)" in line, line


def test_bench_layout_prints_channels_last_relative_to_nchw():
    r = _run("bench_layout.py", "--size", "32x24", "--reps", "1")
    assert r.returncode == 0, r.stderr
    rows = {ln.split()[0]: [float(v) for v in ln.split()[1:7]] for ln in r.stdout.splitlines()
            if ln.strip().startswith(("NCHW", "channels-last"))}
    ratio = [ln for ln in r.stdout.splitlines() if ln.startswith("# channels-last / NCHW, same run")]
    assert set(rows) == {"NCHW", "channels-last"} and len(ratio) == 1, r.stdout
    printed = [float(v) for v in re.findall(r" (\d+\.\d+)x", ratio[0])]
    assert len(printed) == 6, ratio
    for got, cl, nc in zip(printed, rows["channels-last"], rows["NCHW"]):
        if nc >= 1.0:  # the ratio of the printed (1-decimal, so ±0.05) milliseconds: the true ratio lies
            # within (cl ± 0.05) / (nc ∓ 0.05), and the printed ratio is rounded to 2 decimals
            lo, hi = (cl - 0.05) / (nc + 0.05), (cl + 0.05) / (nc - 0.05)
            assert lo - 0.006 <= got <= hi + 0.006, (got, cl, nc)


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_json_is_whole_and_respects_the_umask(tmp_path, umask):
    js = tmp_path / "t.json"
    r = _run("bench_metrics.py", "--sizes", "32x32", "--repeat", "1", "--metrics", "EN@rfn-nest", "SF@vifb",
             "--octave", "", "--json", str(js), umask=umask)
    assert r.returncode == 0, r.stderr
    assert set(json.loads(js.read_text())) == {"EN@rfn-nest", "SF@vifb"}
    assert stat.S_IMODE(js.stat().st_mode) == 0o666 & ~umask
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.json"]  # no temporary left


def test_bench_gtf_warms_every_solver_up_before_timing(monkeypatch, capsys):
    """Each solver's first call is an untimed one on a small crop; the timed calls come after."""
    from mutualfuse.methods.classical import gtf

    calls: list[tuple[str, tuple[int, int]]] = []
    for name in ("tv_l1_reference", "tv_l1", "irn_l1tv_reference", "irn_l1tv"):
        real = getattr(gtf, name)

        def spy(s, lam, *a, _real=real, _name=name, **k):
            calls.append((_name, s.shape))
            return _real(s, lam, *a, **k)

        monkeypatch.setattr(gtf, name, spy)
    monkeypatch.delenv("MUTUALFUSE_DATA", raising=False)
    monkeypatch.delenv("MUTUALFUSE_SHARED", raising=False)
    monkeypatch.setattr(sys, "argv", ["bench_gtf.py", "--size", "64x48", "--repeat", "2"])
    load("benchmarks/bench_gtf.py").main()
    capsys.readouterr()
    for name in ("tv_l1_reference", "tv_l1", "irn_l1tv_reference", "irn_l1tv"):
        shapes = [shape for n, shape in calls if n == name]
        assert shapes == [(32, 32), (48, 64), (48, 64)], (name, shapes)
    first_timed = min(i for i, (_, shape) in enumerate(calls) if shape == (48, 64))
    assert all(shape == (32, 32) for _, shape in calls[:first_timed]) and first_timed == 4, calls


def test_mean_maps_images_are_never_left_truncated(tmp_path, monkeypatch):
    bench = load("benchmarks/bench_quality.py")
    rng = np.random.default_rng(3)
    for role in ("a", "b"):
        (tmp_path / role).mkdir()
        Image.fromarray(rng.integers(0, 256, (40, 48), dtype=np.uint8)).save(tmp_path / role / "p1.png")
    dst = tmp_path / "out"
    real_save = Image.Image.save

    def interrupted_save(self, fp, *a, **k):  # half the file, then the interrupt
        real_save(self, fp, *a, **k)
        data = Path(fp).read_bytes()
        Path(fp).write_bytes(data[: len(data) // 2])
        raise KeyboardInterrupt

    monkeypatch.setattr(Image.Image, "save", interrupted_save)
    with pytest.raises(KeyboardInterrupt):
        bench.mean_maps_fuse("default", tmp_path / "a", tmp_path / "b", dst, task="ir-vis")
    assert sorted(p.name for p in dst.iterdir()) == []  # no p1.png for a rerun to skip
    monkeypatch.setattr(Image.Image, "save", real_save)
    old = os.umask(0o027)
    try:
        bench.mean_maps_fuse("default", tmp_path / "a", tmp_path / "b", dst, task="ir-vis")
    finally:
        os.umask(old)
    assert sorted(p.name for p in dst.iterdir()) == ["p1.png"]
    with Image.open(dst / "p1.png") as im:
        assert im.size == (48, 40) and im.mode == "L"
        im.load()
    assert stat.S_IMODE((dst / "p1.png").stat().st_mode) == 0o640


def test_extra_metrics_example_names_the_documented_metric(tmp_path):
    """docs/benchmark.md's --extra-metrics example, with docs/metrics.md's mymetric.py: its key is
    one that module registers (``evaluate --list`` shows it)."""
    bench_md = (ROOT / "docs" / "benchmark.md").read_text()
    m = re.search(r"--import\s+mymetric\.py\s+--extra-metrics\s+(\S+)", bench_md)
    assert m, "no --extra-metrics example"
    key = m.group(1)
    metrics_md = (ROOT / "docs" / "metrics.md").read_text()
    code = re.search(r"```py\n(# mymetric\.py\n.*?)```", metrics_md, re.S).group(1)
    (tmp_path / "mymetric.py").write_text(code)
    r = subprocess.run([sys.executable, "-m", "mutualfuse", "evaluate", "--import", "mymetric.py", "--list"],
                       capture_output=True, text=True, cwd=tmp_path, timeout=120,
                       env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert r.returncode == 0, r.stderr
    listed = {ln.split()[0] for ln in r.stdout.splitlines() if ln.startswith("  ")}
    assert key in listed, (key, sorted(listed)[-5:])
    assert f"headed by its key (`{key} " in bench_md
