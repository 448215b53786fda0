"""Compiled kernels of Chen–Blum's Q_CB and Chen–Varshney's Q_CV (``structural.qcb`` /
``structural.qcv``) that work on *packed* complex FFTs: two real images (or two real filter
outputs) carried as the real and imaginary parts of one complex64 array, so that one in-place
complex 2-D FFT (``scipy.fft.fft2(..., overwrite_x=True)``) replaces two real ones (measured here
at 640×480: one in-place complex transform ~2.7 ms against ~3.2–3.4 ms for the two half-spectrum
real ones, which also allocate their outputs).

Every function here is plain Python (``_*_py``) compiled by :func:`kernels` with numba, as in
``liu_kernels`` (no ``fastmath``, ``error_model="numpy"``). The real filters they multiply with are
real and even on the DFT grid (functions of the radius of ``freqspace``), so a packed image's
spectrum times such a filter transforms back to the two filtered images as real and imaginary
parts (the imaginary part of each filtered real image is rounding noise, which the half-spectrum
real transforms drop; here it leaks into the other part at the float32 rounding level).
"""
from __future__ import annotations

import functools

import numpy as np

from .._jit import njit as _njit


def _block_add_py(acc, ws, i, M, out):
    """After row ``i``: when it closes a block row (or is the last row), add the ``ws``-wide
    chunks of the column sums ``acc`` to that block row of ``out`` and reset ``acc`` (the
    additions of ``liu_kernels._block_sums_add_py``, in the same order)."""
    if (i + 1) % ws != 0 and i + 1 != M:
        return
    N = acc.shape[0]
    orow = out[i // ws]
    for jb in range(orow.shape[0]):
        t = 0.0
        for j in range(jb * ws, min(N, jb * ws + ws)):
            t += acc[j]
        orow[jb] += t
    acc[:] = 0.0


def _qcv_pack_py(ims, z):
    """``z = (ims[0] − ims[2]) + i·(ims[1] − ims[2])`` (complex64): Q_CV's two differences
    im1 − fu and im2 − fu as one packed complex image. ``ims`` float32 (3, M, N) holds
    ``normalize1``-ed images (integers 0–255 or NaN), so the differences are exact in float32."""
    M, N = z.shape
    for i in range(M):
        r0 = ims[0, i]
        r1 = ims[1, i]
        r2 = ims[2, i]
        zr = z[i]
        for j in range(N):
            f = r2[j]
            zr[j] = complex(r0[j] - f, r1[j] - f)


def _scale_full_py(z, h):
    """``z *= h`` in place: a full complex spectrum (M, N) times a real filter (M, N)."""
    M, N = z.shape
    for i in range(M):
        zr = z[i]
        hr = h[i]
        for j in range(N):
            zr[j] = zr[j] * hr[j]


def _block_mean_sq2_py(z, ws, D):
    """``D[0]``, ``D[1]`` (⌈M/ws⌉, ⌈N/ws⌉): per ws×ws block (partial blocks zero-padded) the sum
    of the squares of ``z``'s real parts, and of its imaginary parts, divided by ws², each
    float32 value widened to float64 before squaring: for each part the operations of
    ``liu_kernels._block_mean_sq_py`` in the same order."""
    M, N = z.shape
    acc0 = np.zeros(N)
    acc1 = np.zeros(N)
    D[:, :, :] = 0.0
    for i in range(M):
        zr = z[i]
        for j in range(N):
            v = zr[j]
            a = np.float64(v.real)
            b = np.float64(v.imag)
            acc0[j] += a * a
            acc1[j] += b * b
        _block_add(acc0, ws, i, M, D[0])
        _block_add(acc1, ws, i, M, D[1])
    D /= ws * ws


_block_add = _block_add_py


@functools.lru_cache(maxsize=1)
def kernels():
    """The compiled kernels by name (``None`` without numba); compiled on first use, cached on
    disk where numba can write (:func:`mutualfuse._jit.njit`)."""
    try:
        import numba  # noqa: F401
    except ImportError:  # pragma: no cover - numba is a dependency
        return None
    global _block_add
    jit = functools.partial(_njit, nogil=True, error_model="numpy")
    _block_add = jit(_block_add_py)
    return {
        "qcv_pack": jit(_qcv_pack_py),
        "scale_full": jit(_scale_full_py),
        "block_mean_sq2": jit(_block_mean_sq2_py),
    }
