"""An interrupted or refused benchmark leaves --out as it was: every output is written into a
staging folder and moved into place only at the end (an interruption used to leave new tables
beside an older report, empty folders, and ``.fig3.pdf.tmp`` files); with ``-j N`` Ctrl+C/SIGTERM
stops at once instead of after every queued job; a bad ``--device`` is refused before any work."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from PIL import Image

from mutualfuse.benchmark import BenchmarkConfig, run_benchmark
from mutualfuse.benchmark import runner
from mutualfuse.cli import main
from mutualfuse.errors import ParameterError


@pytest.fixture()
def root(tmp_path):
    rng = np.random.default_rng(2)
    data = tmp_path / "data"
    for role in ("ir", "vis"):
        (data / "ir-vis" / "tno" / role).mkdir(parents=True)
        for n in ("01", "02"):
            Image.fromarray(rng.integers(0, 256, (64, 80)).astype(np.uint8)).save(data / "ir-vis" / "tno" / role / f"{n}.png")
    (tmp_path / "nofig.yaml").write_text("figures: []\n")
    return tmp_path


def _cfg(root, out, **kw):
    return BenchmarkConfig(data_root=root / "data", out=out, tables=("table1",), methods=["average"], weights=[],
                           fast_metrics=True, cache=root / "cache", figures_config=root / "nofig.yaml",
                           progress=False, **kw)


def _tree(d):
    return sorted((str(p.relative_to(d)), p.read_bytes() if p.is_file() else b"") for p in d.rglob("*"))


def test_an_interrupted_run_leaves_the_output_folder_as_it_was(root, monkeypatch):
    out = root / "out"
    (out / "tables").mkdir(parents=True)
    (out / "tables" / "table1.md").write_text("an earlier run's table\n")
    (out / "report.html").write_text("an earlier run's report\n")
    (out / "README.md").write_text("the user's own file\n")
    before = _tree(out)

    def ctrl_c(*a, **k):  # Ctrl+C after the tables were written, before the report
        raise KeyboardInterrupt

    monkeypatch.setattr("mutualfuse.benchmark.report.write_report", ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        run_benchmark(_cfg(root, out))
    assert _tree(out) == before  # no new table beside the old report, no temporary file
    with pytest.raises(KeyboardInterrupt):
        run_benchmark(_cfg(root, root / "fresh"))
    assert not (root / "fresh").exists()
    monkeypatch.undo()
    o = run_benchmark(_cfg(root, out))  # and a whole run replaces the outputs, keeping the user's file
    assert o.report == out / "report.html" and "an earlier" not in o.report.read_text()
    assert (out / "README.md").read_text() == "the user's own file\n"
    assert "an earlier" not in (out / "tables" / "table1.md").read_text()
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []


def test_outputs_follow_the_umask(root):
    old = os.umask(0o027)
    try:
        run_benchmark(_cfg(root, root / "out"))
    finally:
        os.umask(old)
    for p in [root / "out", *(root / "out").rglob("*")]:
        want = 0o750 if p.is_dir() else 0o640
        assert p.stat().st_mode & 0o777 == want, p


def test_a_bad_device_is_refused_before_any_work(root, capsys):
    with pytest.raises(ParameterError, match="--device"):
        run_benchmark(_cfg(root, root / "out", device="gpu"))
    rc = main(["benchmark", "--data-root", str(root / "data"), "--out", str(root / "out"), "--device", "gpu"])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("mutualfuse: error: ") and "--device" in err
    assert not (root / "out").exists() and not (root / "cache").exists()


SLOW = textwrap.dedent('''
    import time
    from mutualfuse.methods import register_method

    @register_method("sleepy", family="pixel")
    def sleepy(a, b):
        time.sleep(60)
        return (a + b) / 2
''')


@pytest.mark.slow
def test_sigterm_stops_a_run_with_workers_at_once(root):
    (root / "plug").mkdir()
    (root / "plug" / "sleepyplug.py").write_text(SLOW)
    env = dict(os.environ, OMP_NUM_THREADS="1",
               PYTHONPATH=str(root / "plug") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [sys.executable, "-m", "mutualfuse", "benchmark", "--data-root", str(root / "data"), "--out",
           str(root / "out"), "--cache", str(root / "cache"), "--tables", "1", "--methods", "sleepy", "--weights",
           "none", "--import", "sleepyplug", "--fast-metrics", "--figures", str(root / "nofig.yaml"), "-q", "-j", "2"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(8)  # the workers have started and sleep in their first job
    proc.send_signal(signal.SIGTERM)
    t0 = time.monotonic()
    _, err = proc.communicate(timeout=120)
    assert time.monotonic() - t0 < 20, "waited for the queued jobs"
    assert proc.returncode == 143 and "interrupted" in err  # 128 + SIGTERM
    assert not (root / "out").exists()


def test_an_unknown_param_name_or_an_unusable_cache_is_refused_before_any_work(root, capsys):
    """Both used to fail every pair (a problem line each, exit 1) after a full run."""
    base = ["benchmark", "--data-root", str(root / "data"), "--out", str(root / "out"), "--tables", "1",
            "--methods", "dwt", "--weights", "none", "--fast-metrics", "--figures", str(root / "nofig.yaml"), "-q"]
    rc = main([*base, "--cache", str(root / "cache"), "--param", "dwt.levles=3"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "dwt.levles" in err and "levels" in err
    (root / "afile").write_text("")
    for cache in (root / "afile", root / "afile" / "sub"):
        rc = main([*base, "--cache", str(cache)])
        err = capsys.readouterr().err
        assert rc == 2 and err.startswith("mutualfuse: error: ") and str(cache) in err and err.count("\n") == 1
    assert not (root / "out").exists() and not (root / "cache").exists()
