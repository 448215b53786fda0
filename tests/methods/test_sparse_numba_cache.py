"""asr and csr without a writable numba cache folder: a read-only install with no writable
NUMBA_CACHE_DIR or home cache raised "RuntimeError: cannot cache function '_omp_kernel_py': no
locator available" at the first sparse fusion (as the metrics did: tests/metrics/
test_audit_s16_numba_cache.py)."""
from __future__ import annotations

from no_numba_cache import run_without_numba_cache


def test_sparse_methods_work_without_a_writable_cache_location(tmp_path):
    code = (
        "import numpy as np\n"
        "from mutualfuse.methods import fuse_gray\n"
        "rng = np.random.default_rng(0)\n"
        "a, b = rng.random((2, 24, 20))\n"
        "for m in ('asr', 'csr'):\n"
        "    f = fuse_gray(m, a, b)\n"
        "    print(m, f.shape, bool(np.isfinite(f).all()))\n"
    )
    r = run_without_numba_cache(code, tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stderr == ""
    assert r.stdout.splitlines() == ["asr (24, 20) True", "csr (24, 20) True"]
