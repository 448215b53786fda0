"""The benchmark cache: keys, invalidation of one method only, resume after ``kill -9``."""
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
from mutualfuse.benchmark.cache import Cache, metrics_key, recipe_key

N_PAIRS = 4


def test_recipe_key_depends_on_every_ingredient():
    base = recipe_key("method:dwt", {"levels": 4}, "c0de", "aa", "bb")
    assert base == recipe_key("method:dwt", {"levels": 4}, "c0de", "aa", "bb")
    others = [recipe_key("method:lp", {"levels": 4}, "c0de", "aa", "bb"),
              recipe_key("method:dwt", {"levels": 3}, "c0de", "aa", "bb"),
              recipe_key("method:dwt", {"levels": 4}, "c0df", "aa", "bb"),
              recipe_key("method:dwt", {"levels": 4}, "c0de", "ab", "bb"),
              recipe_key("method:dwt", {"levels": 4}, "c0de", "aa", "bc"),
              recipe_key("method:dwt", {"levels": 4}, "c0de", "bb", "aa")]
    assert len({base, *others}) == 7
    assert metrics_key("f", "a", "b") != metrics_key("f", "b", "a")


def test_cache_stores_images_and_merges_metrics(tmp_path):
    c = Cache(tmp_path)
    img = (np.arange(64 * 48) % 251).astype(np.uint8).reshape(48, 64)
    assert c.get_fused("k" * 64) is None
    p = c.put_fused("k" * 64, img)
    assert np.array_equal(np.asarray(Image.open(p)), img) and c.get_fused("k" * 64) == p
    c.put_metrics("m" * 64, {"EN@vifb": 1.5})
    c.put_metrics("m" * 64, {"SF@vifb": 2.0})
    assert c.get_metrics("m" * 64) == {"EN@vifb": 1.5, "SF@vifb": 2.0}
    assert not [q for q in tmp_path.rglob("*") if q.name.startswith(".")]  # no temporary files left
    old = os.umask(0o027)
    try:
        q = c.put_fused("u" * 64, img)
    finally:
        os.umask(old)
    assert q.stat().st_mode & 0o777 == 0o640


@pytest.fixture()
def data_root(tmp_path):
    """A tiny ir-vis/tno set: N_PAIRS random 96x80 pairs."""
    rng = np.random.default_rng(0)
    for role in ("ir", "vis"):
        (tmp_path / "data" / "ir-vis" / "tno" / role).mkdir(parents=True)
    for i in range(N_PAIRS):
        base = rng.integers(0, 256, (80, 96)).astype(np.uint8)
        for role in ("ir", "vis"):
            noise = rng.integers(0, 40, base.shape)
            Image.fromarray(np.clip(base.astype(int) + noise, 0, 255).astype(np.uint8)).save(
                tmp_path / "data" / "ir-vis" / "tno" / role / f"{i:02d}.png")
    (tmp_path / "nofig.yaml").write_text("figures: []\n")
    return tmp_path / "data"


def _cfg(tmp_path, data_root, **kw) -> BenchmarkConfig:
    base = dict(data_root=data_root, out=tmp_path / "out", cache=tmp_path / "cache", tables=("table1",),
                methods=["average", "dwt"], weights=[], fast_metrics=True, progress=False,
                figures_config=tmp_path / "nofig.yaml")
    base.update(kw)
    return BenchmarkConfig(**base)


def test_second_run_recomputes_nothing_and_params_invalidate_one_method(tmp_path, data_root):
    first = run_benchmark(_cfg(tmp_path, data_root))
    assert first.problems == []
    assert first.stats["fused_computed"] == 2 * N_PAIRS
    n_metrics = len(first.tables["table1"].columns)
    assert first.stats["metrics_computed"] == 2 * N_PAIRS * n_metrics
    second = run_benchmark(_cfg(tmp_path, data_root))
    assert second.stats["fused_computed"] == 0 and second.stats["metrics_computed"] == 0
    for r1, r2 in zip(first.tables["table1"].rows, second.tables["table1"].rows):
        assert r1.values == r2.values
    third = run_benchmark(_cfg(tmp_path, data_root, params={"dwt": {"levels": 2}}))
    assert third.stats["fused_computed"] == N_PAIRS  # only dwt
    assert third.tables["table1"].value("method:average", "EI") == first.tables["table1"].value("method:average", "EI")
    assert third.tables["table1"].value("method:dwt", "EI") != first.tables["table1"].value("method:dwt", "EI")


SLOW_METHOD = textwrap.dedent('''
    import time
    from mutualfuse.methods import register_method

    @register_method("slowavg", family="pixel")
    def slowavg(a, b):
        """The average, slowly (a stand-in for an expensive method)."""
        time.sleep(1.0)
        return (a + b) / 2
''')


def test_resume_after_kill_9_loses_at_most_the_image_in_flight(tmp_path, data_root):
    (tmp_path / "plug").mkdir()
    (tmp_path / "plug" / "slowplug.py").write_text(SLOW_METHOD)
    env = dict(os.environ, PYTHONPATH=str(tmp_path / "plug") + os.pathsep + os.environ.get("PYTHONPATH", ""),
               OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "mutualfuse", "benchmark", "--data-root", str(data_root), "--out", str(tmp_path / "out"),
           "--cache", str(tmp_path / "cache"), "--tables", "1", "--methods", "slowavg", "--weights", "none",
           "--import", "slowplug", "--fast-metrics", "--figures", str(tmp_path / "nofig.yaml"), "-q"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    fused = tmp_path / "cache" / "fused"
    deadline = time.time() + 120
    while time.time() < deadline and len(list(fused.rglob("*.png"))) < 1 and proc.poll() is None:
        time.sleep(0.05)
    ended = proc.poll()  # None: still running, as it must be (each image takes a second)
    proc.send_signal(signal.SIGKILL)
    _, err = proc.communicate()
    assert ended is None, f"the run ended before the kill (status {ended}): {err.decode()[-2000:]}"
    done = len(list(fused.rglob("*.png")))
    assert 1 <= done < N_PAIRS, f"the run was not interrupted mid-way ({done} of {N_PAIRS} images)"
    for p in fused.rglob("*.png"):  # whatever is in the cache is complete
        Image.open(p).load()
    again = subprocess.run([c for c in cmd if c != "-q"], env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert f"{N_PAIRS - done} fused images" in again.stdout  # the summary line (not printed with -q)
    clean = subprocess.run(cmd[:7] + [str(tmp_path / "out2"), "--cache", str(tmp_path / "cache2")] + cmd[10:],
                           env=env, capture_output=True, text=True, timeout=300)
    assert clean.returncode == 0, clean.stderr
    assert (tmp_path / "out" / "tables" / "table1.csv").read_text() == (tmp_path / "out2" / "tables" / "table1.csv").read_text()


def test_builtin_method_key_covers_its_helpers_and_data(tmp_path, monkeypatch):
    """A change in a shared helper or data file of the methods package recomputes a built-in
    method (the key once hashed only the method's own function, so a fix in a helper left
    stale cached images)."""
    import importlib.util

    from mutualfuse.benchmark import sources

    pkg = tmp_path / "methods"
    pkg.mkdir()
    (pkg / "mine.py").write_text("def fuse(a, b):\n    return a\n")
    (pkg / "_helpers.py").write_text("X = 1\n")
    spec = importlib.util.spec_from_file_location("mine_for_test", pkg / "mine.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    monkeypatch.setattr(sources, "_METHODS_DIR", pkg.resolve())
    monkeypatch.setattr(sources, "_tree_digests", {})
    first = sources._code_sha(mod.fuse)
    assert first == sources._code_sha(mod.fuse)  # stable
    (pkg / "_helpers.py").write_text("X = 2\n")
    monkeypatch.setattr(sources, "_tree_digests", {})
    second = sources._code_sha(mod.fuse)
    (pkg / "data.npz").write_bytes(b"dictionary")
    monkeypatch.setattr(sources, "_tree_digests", {})
    third = sources._code_sha(mod.fuse)
    assert len({first, second, third}) == 3


def test_registered_methods_have_distinct_code_keys():
    from mutualfuse.benchmark.sources import _code_sha
    from mutualfuse.methods import METHODS

    keys = {e.name: _code_sha(e.obj) for e in METHODS if e.meta.get("family") != "network"}
    assert None not in keys.values() and len(set(keys.values())) == len(keys)


def test_task_modes_key_the_cache_by_their_settings():
    """``Ours[NAME]`` of weights that record per-task settings fuses in task mode auto and
    ``Ours[NAME, stored]`` (fuse --task stored) at the stored settings: each has its own cache key
    (the detection rule and every task's settings are part of auto's recipe, a task's settings of a
    --task row's), so no row reuses another's images, and a changed rule or setting would not either."""
    import dataclasses

    from mutualfuse.benchmark.cache import recipe_key
    from mutualfuse.benchmark.sources import stored_sources, weights_sources
    from mutualfuse.tasks import DEFAULT_RULE, TASKS
    from mutualfuse.weights import task_settings

    wsrc = weights_sources(["default"])
    (t,) = stored_sources(wsrc)
    assert (t.id, t.label, t.task) == ("weights:default[stored]", "Ours[default, stored]", "stored")
    assert stored_sources(weights_sources(["pyramid"])) == []  # records no per-task settings
    m, auto, sha = wsrc[0].recipe()
    assert auto == {"task": "auto", "rule": dataclasses.asdict(DEFAULT_RULE),
                    **{k: task_settings("default", k) for k in TASKS}} and sha == wsrc[0].weights_sha256
    assert t.recipe() == (m, {"task": "stored"}, sha)
    ir = dataclasses.replace(wsrc[0], task="ir-vis").recipe()
    assert ir == (m, {"task": "ir-vis", **task_settings("default", "ir-vis")}, sha)
    assert weights_sources(["pyramid"])[0].recipe()[1] == {}  # no tasks: the stored settings, as before
    keys = {recipe_key(*r, "a", "b") for r in (wsrc[0].recipe(), t.recipe(), ir)}
    assert len(keys) == 3
    changed = {**auto, "rule": {**auto["rule"], "mf_min_corr": 0.9}}
    assert recipe_key(m, changed, sha, "a", "b") != recipe_key(m, auto, sha, "a", "b")
    assert recipe_key(m, {**ir[1], "blend_temperature": 0.2}, sha, "a", "b") != recipe_key(*ir, "a", "b")


def test_a_damaged_cached_image_is_recomputed_not_a_failure_forever(tmp_path):
    """A truncated cached PNG (a crash, a full disk) failed its pair on every later run."""
    rng = np.random.default_rng(5)
    for role in ("ir", "vis"):
        (tmp_path / "data" / "ir-vis" / "tno" / role).mkdir(parents=True)
        Image.fromarray(rng.integers(0, 256, (48, 56)).astype(np.uint8)).save(
            tmp_path / "data" / "ir-vis" / "tno" / role / "01.png")
    (tmp_path / "nofig.yaml").write_text("figures: []\n")

    def run(out):
        return run_benchmark(BenchmarkConfig(data_root=tmp_path / "data", out=tmp_path / out, tables=("table1",),
                                             methods=["average"], weights=[], fast_metrics=True,
                                             cache=tmp_path / "cache", figures_config=tmp_path / "nofig.yaml",
                                             progress=False))

    first = run("out1")
    (png,) = (tmp_path / "cache" / "fused").rglob("*.png")
    png.write_bytes(png.read_bytes()[:60])
    again = run("out2")
    assert again.problems == [] and again.stats["fused_computed"] == 1
    assert (tmp_path / "out1" / "tables" / "table1.csv").read_text() == (tmp_path / "out2" / "tables" / "table1.csv").read_text()
    assert first.problems == []
