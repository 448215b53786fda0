"""asr and csr without a writable numba cache folder: a read-only install with no writable
NUMBA_CACHE_DIR or home cache raised "RuntimeError: cannot cache function '_omp_kernel_py': no
locator available" at the first sparse fusion (as the metrics did: tests/metrics/
test_audit_s16_numba_cache.py)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import mutualfuse

SRC = Path(mutualfuse.__file__).resolve().parents[1]


def test_sparse_methods_work_without_a_writable_cache_location(tmp_path):
    code = (
        "import warnings, numpy as np\n"
        "warnings.simplefilter('error')\n"
        "import numba.core.caching as c\n"
        "(getattr(c, 'CacheImpl', None) or c._CacheImpl)._locator_classes = []\n"
        "from mutualfuse.methods import fuse_gray\n"
        "rng = np.random.default_rng(0)\n"
        "a, b = rng.random((2, 24, 20))\n"
        "for m in ('asr', 'csr'):\n"
        "    f = fuse_gray(m, a, b)\n"
        "    print(m, f.shape, bool(np.isfinite(f).all()))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(SRC) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600,
                       cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stderr == ""
    assert r.stdout.splitlines() == ["asr (24, 20) True", "csr (24, 20) True"]
