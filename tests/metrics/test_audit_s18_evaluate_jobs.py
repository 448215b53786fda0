"""``mutualfuse evaluate -j N`` at scale (audit s18).

- With one metric of one method, ``-j 2`` ran one metric at a time: the pairs were scored one
  after another and each pair had a single task. The next pair is now read while the last
  metrics of a pair run.
- Ctrl+C reaches every process of the foreground group: idle workers printed a
  ``KeyboardInterrupt`` traceback each, and workers stopped with SIGTERM ran the command's
  inherited SIGTERM-as-Ctrl+C handler (another traceback). Workers now leave SIGINT to the main
  process and die quietly on SIGTERM; the main process stops them. (A first fix showed one more
  case: a Ctrl+C while the pool forked its workers left one out of the pool's list, alive,
  holding the output pipes open; signals are now deferred while tasks are submitted.)
- A worker killed by the system (out of memory) gave ``internal error: BrokenProcessPool``;
  now a one-line error naming the file, the metric and ``-j``.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import mutualfuse.evaluation as EV
from mutualfuse.errors import FuseError

SLEEP = 0.6
# the stand-ins below replace ``_score_or_skip`` in this process; forked workers see them
forked = pytest.mark.skipif((mp.get_start_method(allow_none=True) or mp.get_all_start_methods()[0]) != "fork",
                            reason="workers must be forked to see the monkeypatched scorer")


def _set(root: Path, n: int, side: int = 24) -> list[str]:
    rng = np.random.default_rng(3)
    for d in ("a", "b", "f"):
        (root / d).mkdir(parents=True, exist_ok=True)
    for i in range(n):
        a = rng.integers(0, 256, (side, side)).astype(np.uint8)
        b = rng.integers(0, 256, (side, side)).astype(np.uint8)
        for d, x in (("a", a), ("b", b), ("f", np.maximum(a, b))):
            Image.fromarray(x).save(root / d / f"{i:03d}.png")
    return ["--a", str(root / "a"), "--b", str(root / "b"), "--fused", str(root / "f")]


def _compute(root: Path, keys: list[str], jobs: int) -> dict:
    fused = [root / "f"]
    names, la, lb, lf = EV.pair_folders(root / "a", root / "b", fused)
    labels = EV.select_metrics(keys, None)
    return EV._compute(names, la, lb, lf, ["f"], fused, labels, jobs, True)


# module-level stand-ins for the scorer (pickled by reference into the forked workers)
def _start_time_after_sleep(key, a, b, f):
    t = time.time()
    time.sleep(SLEEP)
    return t, None


def _signal_dispositions(key, a, b, f):
    ign = signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    dfl = signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    return float(ign) + 2.0 * float(dfl), None


def _die(key, a, b, f):
    os._exit(3)


@forked
def test_one_metric_of_one_method_runs_in_parallel_across_pairs(tmp_path, monkeypatch):
    _set(tmp_path, 4)
    monkeypatch.setattr(EV, "_score_or_skip", _start_time_after_sleep)
    table = _compute(tmp_path, ["SF@vifb"], jobs=2)
    starts = sorted(table["f"][n]["SF@vifb"] for n in table["f"])
    # one pair after another, each start is at least SLEEP after the one before
    assert min(np.diff(starts)) < SLEEP / 2, np.diff(starts)


@forked
def test_workers_leave_ctrl_c_to_the_main_process_and_end_quietly_on_sigterm(tmp_path, monkeypatch):
    _set(tmp_path, 2)
    monkeypatch.setattr(EV, "_score_or_skip", _signal_dispositions)
    table = _compute(tmp_path, ["SF@vifb"], jobs=2)
    assert {table["f"][n]["SF@vifb"] for n in table["f"]} == {3.0}


@forked
def test_a_killed_worker_is_a_one_line_error_naming_the_file(tmp_path, monkeypatch):
    _set(tmp_path, 2)
    monkeypatch.setattr(EV, "_score_or_skip", _die)
    with pytest.raises(FuseError) as e:
        _compute(tmp_path, ["SF@vifb"], jobs=2)
    msg = str(e.value)
    assert "\n" not in msg and "000.png" in msg and "SF@vifb" in msg and "-j 2" in msg, msg


@pytest.mark.parametrize("when", [rb"metric/s", rb"\| *[1-9][0-9]*/[0-9]+ \["])
def test_ctrl_c_with_workers_exits_130_without_tracebacks_or_output(tmp_path, when):
    """Ctrl+C as a terminal sends it: SIGINT to the whole process group, as the workers start
    (the progress bar appears) or while metrics run (the bar counts)."""
    import re

    base = _set(tmp_path, 60, side=64)
    out = tmp_path / "r.csv"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    p = subprocess.Popen([sys.executable, "-m", "mutualfuse", "evaluate", *base, "--metrics", "SF@vifb",
                          "Qabf@vifb", "Qcb@vifb", "-j", "2", "-o", str(out)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    err = b""
    deadline = time.time() + 60
    while not re.search(when, err) and time.time() < deadline:
        chunk = os.read(p.stderr.fileno(), 4096)
        if not chunk:
            break
        err += chunk
    assert re.search(when, err), err
    os.killpg(p.pid, signal.SIGINT)
    try:
        rest_out, rest_err = p.communicate(timeout=60)
    except subprocess.TimeoutExpired:  # a worker left running holds the pipes open
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        pytest.fail("evaluate (or one of its workers) still ran 60 s after Ctrl+C")
    err = (err + rest_err).decode()
    assert p.returncode == 130, err
    assert "Traceback" not in err and "Error" not in err, err
    assert err.rstrip().endswith("mutualfuse: interrupted"), err
    assert not out.exists() and not [q for q in tmp_path.iterdir() if ".part" in q.name]
