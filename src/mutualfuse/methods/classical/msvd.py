"""Multi-resolution singular value decomposition fusion (``msvd``), Naidu 2011."""
from __future__ import annotations

import numpy as np

from .. import register_method


def _blocks(x: np.ndarray) -> np.ndarray:
    """The 4 x (mn) matrix ``A`` of ``MSVD.m``, column for column.

    ``A(:, i + (j-1)*m) = reshape(x(2i-1:2i, 2j-1:2j), 4, 1)``: the block grid is walked in
    Matlab's column-major order (block row ``i`` fastest) and each 2x2 block is read
    column-major: (0,0), (1,0), (0,1), (1,1).
    """
    m, n = x.shape[0] // 2, x.shape[1] // 2
    b = x.reshape(m, 2, n, 2)
    rows = (b[:, 0, :, 0], b[:, 1, :, 0], b[:, 0, :, 1], b[:, 1, :, 1])  # each (m, n)
    return np.stack([r.reshape(-1, order="F") for r in rows])


def _unblocks(A: np.ndarray, shape) -> np.ndarray:
    """Inverse of :func:`_blocks` (``IMSVD.m``'s reassembly)."""
    m, n = shape[0] // 2, shape[1] // 2
    x = np.empty((m, 2, n, 2))
    x[:, 0, :, 0], x[:, 1, :, 0], x[:, 0, :, 1], x[:, 1, :, 1] = (r.reshape(m, n, order="F") for r in A)
    return x.reshape(shape)


def _msvd(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    A = _blocks(x)
    U, _, _ = np.linalg.svd(A, full_matrices=False)
    return U.T @ A, U


@register_method(
    "msvd",
    family="multiscale",
    cite="V. P. S. Naidu, Image fusion technique using multi-resolution singular value "
    "decomposition, Defence Science Journal 61(5):479-484, 2011",
    matlab="Naidu's msvdimfusedemo/MSVD.m/IMSVD.m (copy read: xingchenzhang/VIFB methods/MSVD/"
    "run_MSVD.m, MSVD.m, IMSVD.m)",
)
def msvd(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """MSVD fusion (one level, as the authors' code).

    Each image is cut into 2x2 blocks, forming a 4 x (MN/4) matrix ``X``; ``U`` from the SVD of
    ``X`` (eigenvectors of ``X X^T``) gives ``T = U^T X``: row 1 is the approximation (LL),
    rows 2-4 the details (LH, HL, HH). Fusion: LL averaged, details by larger magnitude
    (``>=`` favours the first image, as ``D = (abs(Y1)-abs(Y2)) >= 0``), ``U = (U1 + U2)/2``,
    inverse ``X = U T``. No parameters.

    Departures: (1) singular vectors have an arbitrary sign (Matlab's and numpy's LAPACK calls
    can differ), and averaging ``U1`` and ``U2`` with opposite signs would cancel a basis
    vector, so we fix the sign of each column of ``U1`` (largest component positive) and flip
    the matching column of ``U2`` (and row of its ``T``) to agree with it; (2) odd sizes: the
    Matlab wrapper ``imresize``s to even size and returns the resized image; we repeat the last
    row/column and crop, so the output has the input's size; (3) VIFB's ``mat2gray`` rescaling
    of the result (not in Naidu's algorithm) is not applied. Self-fusion is exact.
    """
    h, w = a.shape
    pad = ((0, h % 2), (0, w % 2))
    a2, b2 = np.pad(a, pad, mode="edge"), np.pad(b, pad, mode="edge")
    T1, U1 = _msvd(a2)
    T2, U2 = _msvd(b2)
    s1 = np.sign(U1[np.argmax(np.abs(U1), axis=0), np.arange(4)])
    s1[s1 == 0] = 1
    U1, T1 = U1 * s1, T1 * s1[:, None]
    s2 = np.sign(np.sum(U1 * U2, axis=0))
    s2[s2 == 0] = 1
    U2, T2 = U2 * s2, T2 * s2[:, None]
    T = np.empty_like(T1)
    T[0] = 0.5 * (T1[0] + T2[0])
    keep1 = np.abs(T1[1:]) >= np.abs(T2[1:])
    T[1:] = np.where(keep1, T1[1:], T2[1:])
    U = 0.5 * (U1 + U2)
    return _unblocks(U @ T, a2.shape)[:h, :w]
