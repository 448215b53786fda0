"""Audit (session 15): the classical methods give the same result with 1 and 2 threads, to the
float64 tolerance of ``tests/tolerance.py`` (``csr``: float32, its solver's precision).

``gtf``'s PCG took its inner products from BLAS ``ddot`` (``np.dot``, ``np.linalg.norm``), which
OpenBLAS splits across threads for long vectors; conjugate gradients amplify the different
rounding: a 100x200 crop of the bundled TNO pair differed by 4e-4 (0.1 grey levels) between
``OMP_NUM_THREADS=1`` and ``2``.
"""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from tolerance import assert_close

_SCRIPT = r"""
import sys
import numpy as np
from PIL import Image
from mutualfuse.methods import fuse_gray

samples, out, methods = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
def load(name):
    x = np.asarray(Image.open(f"{samples}/tno-01/{name}.png").convert("L"), dtype=np.float64) / 255.0
    return x[10:110, 30:230]  # 100x200: gtf differed by 4e-4 between 1 and 2 threads here
a, b = load("a"), load("b")
res = {}
for m in methods:
    x, y = (a, b) if m not in ("asr", "csr") else (a[32:96, 32:96], b[32:96, 32:96])
    res[m] = fuse_gray(m, x, y)
res["gtf_admm"] = fuse_gray("gtf", a, b, solver="admm")
np.savez(out, **res)
"""

METHODS = ["lp", "rp", "dwt", "dtcwt", "cvt", "msvd", "gtf", "cbf", "mgff", "asr", "csr"]


def _run(samples, tmp_path, threads: int) -> dict:
    out = tmp_path / f"t{threads}.npz"
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads), NUMBA_NUM_THREADS=str(threads))
    subprocess.run([sys.executable, "-c", _SCRIPT, str(samples), str(out), ",".join(METHODS)],
                   check=True, env=env, timeout=600)
    with np.load(out) as z:
        return {k: z[k] for k in z.files}


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs 2 CPU cores")
def test_one_and_two_threads_agree(samples, tmp_path):
    r1 = _run(samples, tmp_path, 1)
    r2 = _run(samples, tmp_path, 2)
    for m in r1:
        assert_close(r2[m], r1[m], dtype="float32" if m == "csr" else "float64", msg=m)


def test_the_list_covers_every_built_in_method():
    """METHODS is the registry's list of the package's classical methods."""
    from builtin_methods import builtin_classical

    assert set(METHODS) == builtin_classical(pixel=False)
