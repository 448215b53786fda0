"""Bad input does not stop the benchmark: a method failing on one image and an unreadable image
each give a line in the report and exit status 1, and the rest completes (a missing set is a
one-line error before any work since s20: tests/benchmark/test_s20_audit_sets.py).
Also: user rows (--fused NAME=DIR, a registered callable) and -j 2 giving the same tables."""
from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from PIL import Image

from mutualfuse.benchmark.table import read_csv

PLUGIN = textwrap.dedent('''
    import numpy as np
    from mutualfuse.methods import register_method

    @register_method("fragile", family="pixel")
    def fragile(a, b):
        """The maximum, except that it fails on one image shape (a stand-in for a buggy method)."""
        if a.shape == (64, 72):
            raise RuntimeError("fragile cannot do 72x64")
        return np.maximum(a, b)
''')


@pytest.fixture()
def root(tmp_path):
    rng = np.random.default_rng(1)
    data = tmp_path / "data"
    sizes = {"01": (80, 96), "02": (64, 72), "03": (88, 80)}
    for role in ("ir", "vis"):
        (data / "ir-vis" / "tno" / role).mkdir(parents=True)
    for n, (h, w) in sizes.items():
        for role in ("ir", "vis"):
            Image.fromarray(rng.integers(0, 256, (h, w)).astype(np.uint8)).save(data / "ir-vis" / "tno" / role / f"{n}.png")
    (tmp_path / "nofig.yaml").write_text("figures: []\n")
    (tmp_path / "plug").mkdir()
    (tmp_path / "plug" / "fragileplug.py").write_text(PLUGIN)
    return tmp_path


def _run(root, *args, out="out", cache="cache"):
    env = dict(os.environ, OMP_NUM_THREADS="1",
               PYTHONPATH=str(root / "plug") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [sys.executable, "-m", "mutualfuse", "benchmark", "--data-root", str(root / "data"), "--out", str(root / out),
           "--cache", str(root / cache), "--tables", "1", "--weights", "none", "--fast-metrics",
           "--figures", str(root / "nofig.yaml"), "-q", *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_problems_are_reported_and_the_rest_completes(root):
    user = root / "mine"
    user.mkdir()
    for n in ("01", "02", "03"):
        a = np.asarray(Image.open(root / "data" / "ir-vis" / "tno" / "ir" / f"{n}.png")).astype(float)
        b = np.asarray(Image.open(root / "data" / "ir-vis" / "tno" / "vis" / f"{n}.png")).astype(float)
        Image.fromarray(np.maximum(a, b).astype(np.uint8)).save(user / f"{n}.png")
    (root / "data" / "ir-vis" / "tno" / "vis" / "03.png").write_bytes(b"not a png")  # unreadable
    p = _run(root, "--methods", "max,fragile", "--import", "fragileplug", "--fused", f"mine={user}")
    assert p.returncode == 1
    err = p.stderr
    assert "method:fragile on ir-vis/tno/02: RuntimeError: fragile cannot do 72x64" in err
    assert "03.png: cannot read image" in err
    assert err.strip().splitlines()[-1].startswith("mutualfuse: error: the benchmark finished with")
    assert "Traceback" not in err
    html = (root / "out" / "report.html").read_text()
    assert "fragile cannot do 72x64" in html
    t = read_csv((root / "out" / "tables" / "table1.csv").read_text())
    # max and the user's folder of max images: the same values, over the one good pair and a half
    assert t.values["MAX"] == t.values["mine"]
    rows = {r["method"]: r for r in csv.DictReader(io.StringIO((root / "out" / "tables" / "table1.csv").read_text()))}
    assert rows["MAX"]["n_ok"] == "2" and rows["MAX"]["n_pairs"] == "3"  # 03 is unreadable
    assert rows["FRAGILE"]["n_ok"] == "1" and "failed on 2 of 3 pairs" in rows["FRAGILE"]["note"]
    md = (root / "out" / "tables" / "table1.md").read_text()
    assert "†" in md


@pytest.mark.slow
def test_two_workers_give_the_same_tables(root):
    one = _run(root, "--methods", "average,dwt", out="o1", cache="c1")
    two = _run(root, "--methods", "average,dwt", "-j", "2", out="o2", cache="c2")
    assert one.returncode == 0 and two.returncode == 0, two.stderr
    assert (root / "o1" / "tables" / "table1.csv").read_text() == (root / "o2" / "tables" / "table1.csv").read_text()


def test_missing_data_root_is_one_line_and_writes_nothing(tmp_path):
    env = dict(os.environ)
    env.pop("MUTUALFUSE_DATA", None)
    p = subprocess.run([sys.executable, "-m", "mutualfuse", "benchmark", "--data-root", str(tmp_path / "nope"),
                        "--out", str(tmp_path / "out")], env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 2
    assert p.stderr.strip() == f"mutualfuse: error: {tmp_path / 'nope'}: data root not found (give --data-root or set MUTUALFUSE_DATA)"
    assert not (tmp_path / "out").exists()
    p = subprocess.run([sys.executable, "-m", "mutualfuse", "benchmark"], env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 2 and "MUTUALFUSE_DATA" in p.stderr


def test_bad_figures_config_stops_before_any_work(root):
    (root / "bad.yaml").write_text("figures:\n  - {id: f, set: ir-vis/tno, pair: '01', boxes: [{box: [0.5, 0.5, 0.2, 0.9]}]}\n")
    p = _run(root, "--methods", "average", "--figures", str(root / "bad.yaml"))
    assert p.returncode == 2
    assert p.stderr.startswith(f"mutualfuse: error: {root / 'bad.yaml'}: figure 1: box [0.5, 0.5, 0.2, 0.9] must be")
    assert len(p.stderr.strip().splitlines()) == 1
    assert not (root / "out").exists() and not (root / "cache").exists()


def test_unknown_weights_stop_before_any_work(root):
    """`--weights nosuch` used to drop every network row and report success; now one line that names
    it and says how to add one's own weights (since s24 a row ``--weights NAME=FILE``; a path to a
    file that does not exist is the weights reader's one line)."""
    for bad in ("nosuch", "default,Default"):
        p = _run(root, "--methods", "average", "--weights", bad)
        assert p.returncode == 2, p.stderr
        lines = p.stderr.strip().splitlines()
        assert len(lines) == 1 and "no shipped weights named" in lines[0] and "--weights NAME=FILE" in lines[0], lines
        assert not (root / "out").exists()
    p = _run(root, "--methods", "average", "--weights", str(root / "mine.safetensors"))
    lines = p.stderr.strip().splitlines()
    assert p.returncode == 2 and len(lines) == 1 and "mine.safetensors: weights file not found" in lines[0], lines
    assert not (root / "out").exists()
