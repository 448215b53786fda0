"""One tolerance policy for numeric comparisons in the test-suite (per dtype, as kornia's test base).

Two computations that are the same in exact arithmetic but take different kernels (batch of 2 vs
batch of 1, streamed vs one-shot, SDPA vs the explicit N×N product, ONNX Runtime vs PyTorch,
1 vs 2 threads, AVX2 vs AVX-512 vs the scalar path, FMA or not) agree only up to rounding, and
how much rounding depends on the machine. A tolerance at the edge of the dtype's rounding (an
absolute 1e-6 on float32) passes on one CPU and fails on another. Every such comparison uses
:func:`assert_close` with the dtype *the computation ran in*:

==========  ======  ======  ==============================================
dtype       rtol    atol    (machine epsilon)
==========  ======  ======  ==============================================
float16     1e-2    1e-3    9.8e-4: about 10 ulp
bfloat16    5e-2    1e-2    7.8e-3: about 6 ulp
float32     1e-4    1e-5    1.2e-7: about 840 ulp
float64     1e-10   1e-12   2.2e-16: about 4.5e5 ulp
==========  ======  ======  ==============================================

``|actual - expected| <= atol + rtol * |expected|`` elementwise (``torch.testing.assert_close``).

The dtype is the precision of the arithmetic, not of the container: the network runs in float32
even when ``Fuser.fuse`` hands back a float64 numpy array, so such a comparison passes
``dtype=torch.float32``. Without ``dtype`` the less precise of the two inputs' floating dtypes is
used (float64 for Python floats).

Not for: exact equalities that hold bitwise by construction (the same computation run twice,
integer outputs, identities such as SSIM(x, x) computed by identical operations), and bounds on
an approximation error (float16 vs float32 networks, tiled blending vs one-shot), which state
their own measured bound.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

TOLERANCES: dict[torch.dtype, tuple[float, float]] = {
    torch.float16: (1e-2, 1e-3),
    torch.bfloat16: (5e-2, 1e-2),
    torch.float32: (1e-4, 1e-5),
    torch.float64: (1e-10, 1e-12),
}

_BY_NAME = {str(k).removeprefix("torch."): k for k in TOLERANCES}
_ORDER = [torch.float64, torch.float32, torch.float16, torch.bfloat16]  # most precise first


def _as_dtype(dtype: Any) -> torch.dtype:
    if isinstance(dtype, torch.dtype):
        d = dtype
    elif isinstance(dtype, str):
        d = _BY_NAME.get(dtype.removeprefix("torch."))
    else:
        d = _BY_NAME.get(np.dtype(dtype).name)
    if d not in TOLERANCES:
        raise ValueError(f"no tolerance for dtype {dtype!r}; known: {sorted(_BY_NAME)}")
    return d


def tolerance(dtype: Any) -> tuple[float, float]:
    """``(rtol, atol)`` for computations in ``dtype`` (a torch dtype, numpy dtype or name)."""
    return TOLERANCES[_as_dtype(dtype)]


def _tensor(x: Any) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu()
    if isinstance(x, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(x))
    return torch.as_tensor(x, dtype=torch.float64)


def _floating(t: torch.Tensor) -> torch.dtype:
    return t.dtype if t.dtype in TOLERANCES else torch.float64


def assert_close(actual: Any, expected: Any, dtype: Any = None, msg: str | None = None) -> None:
    """Assert ``actual`` ≈ ``expected`` within the tolerance of ``dtype`` (see the module docstring).

    ``actual`` / ``expected``: torch tensors, numpy arrays or Python numbers of the same shape
    (compared in float64 after conversion, so mixed kinds are fine). ``dtype``: the precision the
    computation ran in; default: the less precise floating dtype of the two inputs.
    """
    a, e = _tensor(actual), _tensor(expected)
    if dtype is None:
        da, de = _floating(a), _floating(e)
        d = max(da, de, key=_ORDER.index)
    else:
        d = _as_dtype(dtype)
    rtol, atol = TOLERANCES[d]
    if a.shape != e.shape:
        raise AssertionError(f"shape mismatch: {tuple(a.shape)} vs {tuple(e.shape)}" + (f" ({msg})" if msg else ""))
    a64, e64 = a.to(torch.float64), e.to(torch.float64)
    try:
        torch.testing.assert_close(a64, e64, rtol=rtol, atol=atol, equal_nan=False)
    except AssertionError as err:
        d_max = float((a64 - e64).abs().max())
        raise AssertionError(f"{msg + ': ' if msg else ''}not close at the {str(d).removeprefix('torch.')} "
                             f"tolerance (rtol {rtol:g}, atol {atol:g}); max |diff| {d_max:.3g}\n{err}") from None
