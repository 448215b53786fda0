"""Every registered metric gives the same value with OMP_NUM_THREADS=1 and =2 (audit s21), within
the float64 policy of ``tests/tolerance.py`` (measured: VIF differs by ~1e-15 relative, through
BLAS; every other metric is bit-identical).

Each thread count runs in a fresh interpreter (the BLAS / OpenMP thread pools read the variable
when they start). About 5 s per run on one core: every metric on the bundled TNO pair.
"""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys

from tolerance import assert_close

SCRIPT = r"""
import json, sys
from importlib.resources import files
import numpy as np
from mutualfuse.image_io import read_image
from mutualfuse.metrics import METRICS

a, b = (255 * read_image(files("mutualfuse") / f"data/samples/tno-01/{n}.png")[0] for n in "ab")
f = np.maximum(a, b)
print(json.dumps({e.name: float(METRICS.get(e.name)(a, b, f)) for e in METRICS}))
"""


def _run(threads: int) -> dict[str, float]:
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    p = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout.strip().splitlines()[-1])


def test_every_metric_agrees_across_thread_counts():
    one, two = _run(1), _run(2)
    assert one.keys() == two.keys() and len(one) >= 40
    for key, v in one.items():
        assert math.isfinite(v), (key, v)  # the max rule on this pair is defined for every metric
        assert_close(two[key], v, dtype="float64", msg=key)
