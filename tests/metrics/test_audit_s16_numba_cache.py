"""The numba kernels without a writable on-disk cache (audit s16)."""
from __future__ import annotations

from no_numba_cache import run_without_numba_cache


def test_numba_kernels_work_without_a_writable_cache_location(tmp_path):
    """A read-only install (no writable __pycache__) with no writable NUMBA_CACHE_DIR or home
    cache: numba's cache=True raised "RuntimeError: cannot cache function '_sep_row1_py': no
    locator available" at the first Liu metric. Simulated by giving numba no cache locator."""
    code = (
        "import numpy as np\n"
        "import mutualfuse.metrics as M\n"
        "rng = np.random.default_rng(0)\n"
        "a, b = rng.integers(0, 256, (2, 24, 24)).astype(np.uint8)\n"
        "f = np.maximum(a, b)\n"
        "for k in ('Qcb@liu', 'Qp@liu', 'Qg@liu'):\n"
        "    print(k, M.METRICS.get(k)(a, b, f))\n"
    )
    r = run_without_numba_cache(code, tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stderr == ""
    assert [ln.split()[0] for ln in r.stdout.splitlines()] == ["Qcb@liu", "Qp@liu", "Qg@liu"]
