"""Audit (session 16): the compiled sparse-coding kernels behind ``asr`` and ``csr`` are public
(``sparse.cbpdn_fast``, ``sparse.omp_l1_recon_compiled``, named in docs/baselines.md) and were
not memory-safe on non-finite data.

* ``cbpdn_fast(D, S, 0.01)`` with one NaN or inf in ``S`` killed the interpreter (segmentation
  fault; ``csr(a, b)`` called directly with a NaN pixel aborted with "malloc(): unaligned tcache
  chunk detected"): the compiled update pass counts the non-zeros of a row of ``Y`` (fastmath,
  which assumes no NaN) and then lists them with a loop bounded only by that count; a NaN made
  the count and the listing disagree and the loop ran past the row, writing out of bounds.
* ``omp_l1_recon_compiled`` with an inf in ``X`` returned inf/NaN codes silently.

Now both refuse non-finite data up front with a one-line :class:`InputError`, and the listing
loop also stops at the end of the row (a diverging ADMM can no longer write out of bounds).
The crashing calls run in a subprocess so that a crash fails the test instead of the run.
"""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from mutualfuse.errors import InputError
from mutualfuse.methods.classical import sparse as sp

_SOLVER = r"""
import sys
import numpy as np
from mutualfuse.errors import InputError
from mutualfuse.methods.classical import sparse as sp
S = np.random.default_rng(0).standard_normal((40, 48)) * 0.05
S[5, 7] = float(sys.argv[1])
try:
    sp.cbpdn_fast(sp.load_csr_dictionary(), S, 0.01, max_iter=50, rho=1.5)
    sp.cbpdn_fast(sp.load_csr_dictionary(), S, 0.01, max_iter=50, rho=1.5)
    print("no error")
except InputError as e:
    print("InputError:", e)
"""

_KERNEL = r"""
import numpy as np
from mutualfuse.methods.classical import sparse as sp
update = sp._csr_kernels()[0]
D = sp.load_csr_dictionary()
filt = np.ascontiguousarray(np.moveaxis(D, 2, 0))
M, kh, kw = filt.shape
H, W, R = 24, 41, 24
Y = np.zeros((M, H, W), np.float32)
U = np.zeros((M, H, W), np.float32)
C = np.random.default_rng(1).standard_normal((1, M, R, W)).astype(np.float32)
C[0, 3:9] = np.nan                            # diverged correlation maps (as from a NaN in S)
sacc = np.empty((H + kh - 1, W + kw - 1))
norms = np.zeros(5)
for _ in range(20):
    update(Y, U, C, 1.8, np.float32(0.01), filt, sacc, norms)
print("survived")
"""


def _run(code, *args):
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("bad", ["nan", "inf", "-inf"])
def test_cbpdn_fast_refuses_non_finite_data_instead_of_crashing(bad):
    r = _run(_SOLVER, bad)
    assert r.returncode == 0, (r.returncode, r.stderr[-500:])
    assert r.stdout.strip() == "InputError: cbpdn_fast: S contains NaN or infinite values", r.stdout


def test_csr_update_pass_stays_inside_the_row_on_nan():
    r = _run(_KERNEL)
    assert r.returncode == 0 and r.stdout.strip() == "survived", (r.returncode, r.stderr[-500:])


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_omp_refuses_non_finite_signals(bad):
    d0, _ = sp.load_asr_dictionaries()
    X = np.random.default_rng(0).standard_normal((64, 50)) * 0.05
    X[3, 10] = bad
    with pytest.raises(InputError, match=r"^omp_l1_recon_compiled: X contains NaN or infinite values$"):
        sp.omp_l1_recon_compiled(d0, X, 0.1 / 255, 64)
