"""Audit s16: read-only float inputs of the low-level entry points through the network.

``Fuser("default").fuse_gray(a, b)`` with ``a.setflags(write=False)`` emitted PyTorch's
"The given NumPy array is not writable ..." UserWarning from the runner (torch.as_tensor on
the caller's read-only array). PyTorch warns once per process, so the check runs in a fresh
interpreter; results must equal the writable call's and the inputs stay as they were.
"""
from __future__ import annotations

import subprocess
import sys

SCRIPT = r"""
import warnings
import numpy as np
from mutualfuse import Fuser

warnings.simplefilter("error")
f = Fuser("default", device="cpu")
rng = np.random.default_rng(3)
a, b = rng.random((48, 40)), rng.random((48, 40))
ra, rb = a.copy(), b.copy()
ra.setflags(write=False)
rb.setflags(write=False)
for call, batched in (("fuse_gray", False), ("fuse_gray_batch", True), ("fuse_arrays", True), ("fuse", False)):
    args = (ra[None], rb[None]) if batched else (ra, rb)
    got = getattr(f, call)(*args)
    want = getattr(f, call)(*((a[None], b[None]) if batched else (a, b)))
    assert np.array_equal(got, want), call
    assert np.array_equal(ra, a) and np.array_equal(rb, b) and not ra.flags.writeable, call
print("ok")
"""


def test_read_only_float_input_no_warning():
    r = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr[-2000:]
    assert "not writable" not in r.stderr
