"""``mutualfuse evaluate --import MODULE``: metrics and profiles of one's own on the command line
(``evaluate`` had no ``--import``, and no public way to register a metric existed).

The module is imported before ``--metrics`` / ``--profile`` / ``--list`` are read; ``-j N``
workers import it too, forked or spawned (a spawned worker had only the built-in metrics); every
problem is one line (exit status 2, nothing written): a module that fails to import, a metric
that returns no number or raises, a worker that cannot import the module. The example of
docs/metrics.md, "Your own metric", runs as written."""
from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mutualfuse.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parent))
from one_line_error import assert_one_line_error  # noqa: E402
from registry_state import registries_restored  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

MODULE = textwrap.dedent('''
    import numpy as np
    from mutualfuse.metrics import register_metric, register_profile

    @register_metric("{name}", direction="lower", convention="mean abs difference to the average")
    def meanabs(a, b, f):
        return float(np.abs(f - (a + b) / 2).mean())

    @register_metric("{name}arr")
    def as_array(a, b, f):
        return np.abs(f - a).mean(axis=0)

    @register_metric("{name}nan")
    def nan(a, b, f):
        return float("nan") if f.mean() > 0 else 1.0

    @register_metric("{name}boom")
    def boom(a, b, f):
        return 1 / 0

    register_profile("{name}prof", {{"Q": "Qabf@vifb", "Mine": "{name}"}})
''')


@pytest.fixture()
def own(tmp_path, monkeypatch):
    """A working folder with a module registering the metric ``<name>`` (lower is better) and
    broken ones, the profile ``<name>prof``, and 3 pairs in A/, B/ with fused images in F/;
    the registries, ``sys.path`` and ``sys.modules`` restored afterwards."""
    tag = uuid.uuid4().hex[:8]
    name, modname = f"mine{tag}", f"s23met{tag}"
    work = tmp_path / "work"
    work.mkdir()
    (work / f"{modname}.py").write_text(MODULE.format(name=name))
    rng = np.random.default_rng(4)
    for d in ("A", "B", "F"):
        (work / d).mkdir()
    for i in range(3):
        a = rng.integers(0, 256, (40, 44), dtype=np.uint8)
        b = rng.integers(0, 256, (40, 44), dtype=np.uint8)
        Image.fromarray(a).save(work / "A" / f"p{i}.png")
        Image.fromarray(b).save(work / "B" / f"p{i}.png")
        Image.fromarray(np.maximum(a, b)).save(work / "F" / f"p{i}.png")
    monkeypatch.chdir(work)
    with registries_restored("s23"):
        yield work, name, modname


def _want(work: Path) -> list[float]:
    out = []
    for i in range(3):
        a, b, f = (np.asarray(Image.open(work / d / f"p{i}.png")).astype(np.float64) for d in "ABF")
        out.append(float(np.abs(f - (a + b) / 2).mean()))
    return out


def _env() -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return env


@pytest.mark.parametrize("how", ["file", "module"])
def test_evaluate_scores_a_metric_of_ones_own(own, capsys, how):
    work, name, modname = own
    spec = f"{modname}.py" if how == "file" else modname
    out = work / "r.json"
    assert main(["evaluate", "--a", "A", "--b", "B", "--fused", "F", "--import", spec,
                 "--metrics", f"{name},EN@vifb", "-o", str(out), "-q"]) == 0
    table = capsys.readouterr().out
    assert re.search(rf"^method +image +{name}\S+ +EN@vifb\S+$", table, re.M), table
    doc = json.loads(out.read_text())
    assert doc["metrics"][name]["direction"] == "lower" and doc["metrics"][name]["higher_is_better"] is False
    assert doc["metrics"][name]["convention"] == "mean abs difference to the average"
    got = [doc["methods"]["F"]["images"][f"p{i}"][name] for i in range(3)]
    assert got == pytest.approx(_want(work), rel=1e-12)


def test_evaluate_profile_and_list_of_ones_own(own, capsys):
    work, name, modname = own
    assert main(["evaluate", "--a", "A", "--b", "B", "--fused", "F", "--import", f"{modname}.py",
                 "--profile", f"{name}prof", "-o", "r.csv", "-q"]) == 0
    capsys.readouterr()
    head = (work / "r.csv").read_text().splitlines()[0]
    assert head == "method,folder,image,Q,Mine"
    assert main(["evaluate", "--import", f"{modname}.py", "--list"]) == 0
    listing = capsys.readouterr().out
    line = next(ln for ln in listing.splitlines() if ln.strip().startswith(name + " "))
    assert "lower  unchecked: mean abs difference to the average [your metric: " in line
    assert f"{name}prof" in listing.splitlines()[-1]


def test_without_the_import_an_unknown_metric_says_to_import_it(own, capsys):
    work, name, modname = own
    assert_one_line_error(capsys, ["evaluate", "--a", "A", "--b", "B", "--fused", "F", "--metrics", name],
                          f"unknown metric '{name}'", "a metric of your own: --import its module first")
    assert_one_line_error(capsys, ["evaluate", "--a", "A", "--b", "B", "--fused", "F", "--profile", f"{name}prof"],
                          f"unknown metric profile '{name}prof'", "--import its module first")


def test_a_module_that_fails_to_import_is_one_line(own, capsys):
    work, name, modname = own
    (work / "s23broken.py").write_text("import numpy\n\nraise RuntimeError('no licence')\n")
    assert_one_line_error(capsys, ["evaluate", "--a", "A", "--b", "B", "--fused", "F", "--import", "s23broken.py",
                                   "--metrics", "EN@vifb"],
                          "--import s23broken.py: RuntimeError: no licence", "s23broken.py, line 3)")
    assert_one_line_error(capsys, ["evaluate", "--import", "nosuch.py", "--list"], "--import nosuch.py: no such file")
    (work / "s23badreg.py").write_text("from mutualfuse.metrics import register_metric\n"
                                       "register_metric('x', direction='up')(lambda a, b, f: 0.0)\n")
    assert_one_line_error(capsys, ["evaluate", "--import", "s23badreg.py", "--list"],
                          "register_metric('x'): direction='up'", "s23badreg.py, line 2)")


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize("which,words", [
    ("arr", "returned an array of shape (44,)"),
    ("boom", "failed: ZeroDivisionError: division by zero"),
])
def test_a_metric_that_gives_no_number_stops_with_one_line_and_writes_nothing(own, capsys, which, words, jobs):
    work, name, modname = own
    err = assert_one_line_error(capsys, ["evaluate", "--a", "A", "--b", "B", "--fused", "F", "--import",
                                         f"{modname}.py", "--metrics", f"{name}{which}", "-o", "r.csv", "-q",
                                         "-j", str(jobs)],
                                f"F/p0.png: {name}{which}: metric '{name}{which}' ({modname}.", words)
    if which == "boom":
        assert f"{modname}.py, line 19)" in err
    assert not (work / "r.csv").exists()


def test_nan_values_of_a_metric_of_ones_own_are_noted(own, capsys):
    work, name, modname = own
    assert main(["evaluate", "--a", "A", "--b", "B", "--fused", "F", "--import", f"{modname}.py",
                 "--metrics", f"{name}nan"]) == 0
    cap = capsys.readouterr()
    assert "nan" in cap.out and f"note: 3 value(s) are NaN" in cap.err and f"{name}nan for p0, p1, p2" in cap.err


def _run_with_start_method(method: str, work: Path, argv: list[str]) -> subprocess.CompletedProcess:
    code = ("import multiprocessing as mp, sys; mp.set_start_method(sys.argv[1]); "
            "from mutualfuse.cli import main; sys.exit(main(sys.argv[2:]))")
    return subprocess.run([sys.executable, "-c", code, method, *argv], cwd=work, env=_env(),
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_the_j_workers_import_the_module_forked_or_spawned(own, capsys, method):
    work, name, modname = own
    argv = ["evaluate", "--a", "A", "--b", "B", "--fused", "F", "--import", f"{modname}.py", "--metrics", name,
            "-j", "2", "-q", "-o", "r.json"]
    if method == "fork":  # this process's pool: forked workers on Linux (Python < 3.14)
        import multiprocessing

        if multiprocessing.get_start_method() != "fork":
            pytest.skip(f"the default start method here is {multiprocessing.get_start_method()}")
        assert main(argv) == 0, capsys.readouterr().err
    else:
        p = _run_with_start_method(method, work, argv)
        assert p.returncode == 0, p.stderr
    doc = json.loads((work / "r.json").read_text())
    got = [doc["methods"]["F"]["images"][f"p{i}"][name] for i in range(3)]
    assert got == pytest.approx(_want(work), rel=1e-12)


def test_a_spawned_worker_that_cannot_import_the_module_says_so(own):
    work, name, modname = own
    (work / "s23mainonly.py").write_text(textwrap.dedent('''
        import os
        from mutualfuse.metrics import register_metric

        if os.getpid() != int(os.environ["S23_MAIN_PID"]):
            raise RuntimeError("only in the main process")

        @register_metric("s23mainonly")
        def m(a, b, f):
            return 1.0
    '''))
    code = ("import multiprocessing as mp, os, sys; mp.set_start_method('spawn'); "
            "os.environ['S23_MAIN_PID'] = str(os.getpid()); "
            "from mutualfuse.cli import main; sys.exit(main(sys.argv[1:]))")
    p = subprocess.run([sys.executable, "-c", code, "evaluate", "--a", "A", "--b", "B", "--fused", "F", "--import",
                        "s23mainonly.py", "--metrics", "s23mainonly", "-j", "2", "-q"], cwd=work, env=_env(),
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 2 and p.stdout == "", (p.stdout, p.stderr)
    assert p.stderr.count("\n") == 1 and p.stderr.startswith("mutualfuse: error: "), p.stderr
    assert "metric 's23mainonly' is unknown in a -j worker: a -j worker could not import s23mainonly.py" in p.stderr
    assert "RuntimeError: only in the main process" in p.stderr and "Traceback" not in p.stderr


def test_importing_a_metric_module_does_not_load_the_fusion_methods(own):
    """``evaluate --import`` (and each spawned ``-j`` worker) imported the fusion-method registry
    only to list the methods a module registered: seconds of start-up per worker for nothing."""
    work, name, modname = own
    code = ("import contextlib, io, sys; from mutualfuse.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    rc = main(['evaluate', '--import', sys.argv[1], '--list'])\n"
            "print(rc, 'mutualfuse.methods' in sys.modules)")
    p = subprocess.run([sys.executable, "-c", code, f"{modname}.py"], cwd=work, env=_env(), capture_output=True,
                       text=True, timeout=120)
    assert p.stdout.split() == ["0", "False"], p.stdout + p.stderr
