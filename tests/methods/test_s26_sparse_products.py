"""``sparse.products``: the thread-invariant ``A @ B`` that asr's OMP takes its correlations and Gram
matrix from (session 26: OpenBLAS's product of (100, 64) by (64, 256) differs between 1 and 2 threads
on an AMD EPYC, and asr's bytes with it; tests/test_s25_methods_edges.py checks asr's bytes)."""
import os
import subprocess
import sys

import numpy as np
from tolerance import assert_close

from mutualfuse.methods.classical import sparse as sp

_SCRIPT = r"""
import hashlib, numpy as np
from mutualfuse.methods.classical.sparse import load_asr_dictionaries, products
d0, _ = load_asr_dictionaries()
rng = np.random.default_rng(3)
for n in (1, 7, 100, 333, 1000):
    print(n, hashlib.sha256(products(rng.standard_normal((n, 64)), d0).tobytes()).hexdigest())
"""


def test_products_is_the_matrix_product():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((37, 64)), rng.standard_normal((64, 256))
    out = sp.products(a, b)
    assert out.shape == (37, 256) and out.dtype == np.float64
    assert_close(out, a @ b)
    assert_close(sp.products(np.asfortranarray(a), b), a @ b)  # any layout in


def test_products_same_bytes_at_one_and_two_threads():
    outs = []
    for t in ("1", "2"):
        env = {**os.environ, "OMP_NUM_THREADS": t, "OPENBLAS_NUM_THREADS": t, "MKL_NUM_THREADS": t}
        r = subprocess.run([sys.executable, "-c", _SCRIPT], env=env, capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr[-2000:]
        outs.append(r.stdout)
    assert outs[0].count("\n") == 5 and outs[0] == outs[1]
