"""Session 20 audit: the benchmark's cache keys hold the code the cached entries came from.

A fused image's key held its method's own code (for a built-in method, the ``mutualfuse/methods``
package) but not the code every fusion goes through besides it: the ``Fuser``, the colour path
(``color.py``: every colour pair of Lytro), the input conversion, the model of the network rows,
the benchmark's own rounding. A metric value's key held no code at all. So a fix there, or a
package upgrade, reused the stale images and values of the default cache
(``~/.cache/mutualfuse/benchmark``) without a word, and the regenerated tables were the old ones.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mutualfuse.benchmark import BenchmarkConfig, run_benchmark

PACKAGE = Path(__import__("mutualfuse").__file__).resolve().parent


@pytest.fixture()
def data_root(tmp_path):
    rng = np.random.default_rng(3)
    for role in ("ir", "vis"):
        (tmp_path / "data" / "ir-vis" / "tno" / role).mkdir(parents=True)
        for n in ("01", "02"):
            Image.fromarray(rng.integers(0, 256, (80, 96)).astype(np.uint8)).save(
                tmp_path / "data" / "ir-vis" / "tno" / role / f"{n}.png")
    (tmp_path / "nofig.yaml").write_text("figures: []\n")
    return tmp_path / "data"


@pytest.fixture()
def package_copy(tmp_path, monkeypatch):
    """A copy of the package's code (no weights files) that the digests read instead of the
    installed one, so that a test can edit a file of it."""
    from mutualfuse.benchmark import sources

    copy = tmp_path / "pkg"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("*.safetensors", "__pycache__", "*.so"))
    monkeypatch.setattr(sources, "_PACKAGE_DIR", copy)
    monkeypatch.setattr(sources, "_code_digests", {})
    return copy


def _run(tmp_path, data_root):
    from mutualfuse.benchmark import sources

    sources._code_digests.clear()  # a new process would read the files again
    o = run_benchmark(BenchmarkConfig(data_root=data_root, out=tmp_path / "out", cache=tmp_path / "cache",
                                      tables=("table1",), methods=["average"], weights=[], fast_metrics=True,
                                      progress=False, figures_config=tmp_path / "nofig.yaml"))
    assert o.problems == []
    return o.stats["fused_computed"], o.stats["metrics_computed"]


def _touch(path: Path):
    path.write_text(path.read_text() + "\n# changed\n")


@pytest.mark.parametrize("rel", ["color.py", "api.py", "convert.py", "benchmark/jobs.py"])
def test_a_change_of_the_fusion_path_recomputes_the_images(tmp_path, data_root, package_copy, rel):
    n_cols = 7  # Table 1 without VIF
    assert _run(tmp_path, data_root) == (2, 2 * n_cols)
    assert _run(tmp_path, data_root) == (0, 0)
    _touch(package_copy / rel)
    # the same images come out, so their metric values (keyed by the image's sha256) are reused
    assert _run(tmp_path, data_root) == (2, 0)


def test_a_change_of_the_metrics_code_recomputes_the_values_not_the_images(tmp_path, data_root, package_copy):
    assert _run(tmp_path, data_root) == (2, 14)
    _touch(package_copy / "metrics" / "gradient.py")
    assert _run(tmp_path, data_root) == (0, 14)
    _touch(package_copy / "evaluation.py")  # read_gray: how the images are read for the metrics
    assert _run(tmp_path, data_root) == (0, 14)
    assert _run(tmp_path, data_root) == (0, 0)


def test_the_network_rows_are_keyed_by_the_model_code_and_the_method_rows_are_not(package_copy):
    from mutualfuse.benchmark import sources
    from mutualfuse.benchmark.sources import fusion_code_sha, method_sources, weights_sources

    (m,), _ = method_sources(["average"], {}, False)
    (w,) = weights_sources(["default"])
    before = fusion_code_sha(m), fusion_code_sha(w)
    _touch(package_copy / "model" / "network.py")
    sources._code_digests.clear()
    assert fusion_code_sha(m) == before[0] and fusion_code_sha(w) != before[1]


COVERAGE = textwrap.dedent('''
    import sys
    import numpy as np
    import mutualfuse.benchmark.runner  # the benchmark's own machinery: not what a fusion reads
    from mutualfuse.benchmark.jobs import fuse_pair
    from mutualfuse.benchmark.sources import method_sources, stored_sources, weights_sources
    (dwt,), _ = method_sources(["dwt"], {}, False)
    net = weights_sources(["default", "ablation-vifnet-mean-concat-s0"])
    net += stored_sources(net)
    rng = np.random.default_rng(0)
    rgb = [rng.integers(0, 256, (64, 72, 3), dtype=np.uint8) for _ in range(2)]
    gray = [x[..., 0].copy() for x in rgb]
    fuse_pair(dwt, *rgb)  # a colour pair: the YCbCr path
    fuse_pair(dwt, *gray)
    for s in net:
        fuse_pair(s, *gray)
        fuse_pair(s, *rgb)
    for m in sorted(sys.modules):
        f = getattr(sys.modules[m], "__file__", None)
        if m.startswith("mutualfuse") and f:
            print(f)
''')


def test_every_module_a_fusion_loads_is_part_of_the_key():
    """The lists of ``sources.FUSION_CODE`` / ``NETWORK_CODE`` cover every module of the package
    loaded once a classical (colour) and a network fusion have run, except the built-in methods'
    own code (keyed by the ``mutualfuse/methods`` package), the metrics (keyed apart) and modules
    that cannot change a pixel."""
    from mutualfuse.benchmark.sources import FUSION_CODE, NETWORK_CODE

    p = subprocess.run([sys.executable, "-c", COVERAGE], capture_output=True, text=True, timeout=300,
                       env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})
    assert p.returncode == 0, p.stderr[-2000:]
    loaded = {Path(f).resolve().relative_to(PACKAGE).as_posix() for f in p.stdout.split()}
    assert {"color.py", "model/network.py", "model/vifnet.py", "tasks.py"} <= loaded  # it did reach both paths

    def covered(rel: str) -> bool:
        for c in FUSION_CODE + NETWORK_CODE:
            if c.endswith("/*.py"):
                if rel.startswith(c[:-4]) and "/" not in rel[len(c) - 4:]:
                    return True
            elif rel == c or rel.startswith(c + "/"):
                return True
        return False

    # what cannot change a pixel: errors, file helpers, the --import helpers, the package's
    # re-exports, the rest of the benchmark (planning, tables, report) and the metrics (keyed apart)
    pixel_free = {"__init__.py", "errors.py", "plugins.py", "io/__init__.py", "io/atomic.py", "io/digest.py",
                  "io/signals.py", "evaluation.py",
                  "io/safetensors_names.py"}  # (the name safetensors opens a weights file by: s30)
    left = sorted(r for r in loaded if not covered(r) and r not in pixel_free
                  and not r.startswith(("methods/classical/", "methods/basic.py", "metrics/"))
                  and not (r.startswith("benchmark/") and r != "benchmark/jobs.py"))
    assert left == []


METRICS_COVERAGE = textwrap.dedent('''
    import sys, tempfile
    from pathlib import Path
    import numpy as np
    from PIL import Image
    from mutualfuse.benchmark.specs import column_keys
    from mutualfuse.evaluation import read_gray
    from mutualfuse.metrics import METRICS
    d = Path(tempfile.mkdtemp())
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (80, 96, 3), dtype=np.uint8)).save(d / "c.png")
    Image.fromarray(rng.integers(0, 256, (80, 96), dtype=np.uint8)).save(d / "g.png")
    a, b = read_gray(d / "c.png"), read_gray(d / "g.png")
    for k in sorted(set(column_keys().values())):
        METRICS.get(k)(a, b, (a + b) / 2)
    for m in sorted(sys.modules):
        f = getattr(sys.modules[m], "__file__", None)
        if m.startswith("mutualfuse") and f:
            print(f)
''')


def test_every_module_the_metrics_load_is_part_of_their_key():
    """``sources.METRICS_CODE`` covers every module of the package loaded once a colour and a gray
    image are read as the benchmark reads them and every column's metric has run, except the
    benchmark's own machinery and modules that cannot change a value."""
    from mutualfuse.benchmark.sources import METRICS_CODE

    p = subprocess.run([sys.executable, "-c", METRICS_COVERAGE], capture_output=True, text=True, timeout=300,
                       env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})
    assert p.returncode == 0, p.stderr[-2000:]
    loaded = {Path(f).resolve().relative_to(PACKAGE).as_posix() for f in p.stdout.split()}
    assert {"evaluation.py", "metrics/structural.py", "metrics/viff.py"} <= loaded
    value_free = {"__init__.py", "errors.py", "io/__init__.py", "io/atomic.py", "io/digest.py", "io/signals.py"}
    left = sorted(r for r in loaded if r not in value_free and not r.startswith("benchmark/")
                  and not any(r == c or r.startswith(c + "/") for c in METRICS_CODE))
    assert left == []
