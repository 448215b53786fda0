"""Sparse-representation fusion: ASR (Liu & Wang 2015) and CSR (Liu et al. 2016).

Both need a learned dictionary. Ours were trained once by ``scripts/train_sr_dictionary.py``
on RoadScene training images (never on a test set) and ship as ``data/asr_dict.npz`` and
``data/csr_dict.npy``; the script records its seed, images and settings in
``data/dictionaries.json``. The authors' own dictionaries (K-SVD, Matlab ``.mat``) are not
redistributable here, so numbers will differ slightly from runs with them.
"""
from __future__ import annotations

import contextlib
import functools
import json
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from ._lazy import fft as sfft  # scipy.fft and scipy.ndimage, imported on first use
from ._lazy import ndimage

from ...errors import InputError, ParameterError
from .. import register_method
from ..params import Bool, Float, Int, with_params

DATA_DIR = Path(__file__).with_name("data")
ASR_DICT_FILE = DATA_DIR / "asr_dict.npz"
CSR_DICT_FILE = DATA_DIR / "csr_dict.npy"
PATCH = 8

#: the parameters of asr (and asr_reference), csr (and csr_reference). csr's lam: from about 1 on
#: every detail code is 0 (the result no longer changes); far above 1e6 the ADMM penalty overflows
ASR_PARAMS = {"epsilon": Float(0.0, lo_open=True), "stride": Int(1, PATCH), "max_atoms": Int(1, PATCH * PATCH)}
# csr lam >= 1e-6: the float32 soft threshold lam/rho must not vanish against the coefficients; at
# lam <= 1e-13 (TNO crop; 1e-20 on noise) it did, the primal residual became exactly 0, SPORCO's
# adaptive rho then divided rho by 100 every iteration until the ADMM overflowed, and the output
# was clipped garbage (mean 0.5 from the sources) with only RuntimeWarnings; from 1e-6 down the
# result no longer changes (the lam -> 0 limit: 1e-6 and 1e-13 agree to 1e-4 on that crop)
CSR_PARAMS = {"lam": Float(1e-6, 1e6), "multifocus": Bool(), "max_iter": Int(1, 100000),
              "low_lambda": Float(0.0, lo_open=True)}


# --------------------------------------------------------------------------------------
# dictionaries
# --------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def load_asr_dictionaries() -> tuple[np.ndarray, np.ndarray]:
    """Return ``(D0, Dn)``: the general dictionary ``(64, K)`` and the orientation
    sub-dictionaries ``(n_orient, 64, K)``, columns normalised to unit L2 norm."""
    if not ASR_DICT_FILE.is_file():
        raise ParameterError(f"ASR dictionary {ASR_DICT_FILE} is missing; run scripts/train_sr_dictionary.py")
    with np.load(ASR_DICT_FILE) as z:
        d0 = np.asarray(z["D0"], dtype=np.float64)
        dn = np.asarray(z["Dn"], dtype=np.float64)
    d0 = d0 / np.linalg.norm(d0, axis=0, keepdims=True)
    dn = dn / np.linalg.norm(dn, axis=1, keepdims=True)
    return d0, dn


@functools.lru_cache(maxsize=1)
def load_csr_dictionary() -> np.ndarray:
    """Return the convolutional dictionary, shape ``(8, 8, M)`` (Liu's ``dict.mat`` layout)."""
    if not CSR_DICT_FILE.is_file():
        raise ParameterError(f"CSR dictionary {CSR_DICT_FILE} is missing; run scripts/train_sr_dictionary.py")
    return np.asarray(np.load(CSR_DICT_FILE), dtype=np.float64)


def dictionary_info() -> dict:
    p = DATA_DIR / "dictionaries.json"
    return json.loads(p.read_text()) if p.is_file() else {}


# --------------------------------------------------------------------------------------
# batch OMP (error-constrained), vectorised over signals
# --------------------------------------------------------------------------------------
def batch_omp(D: np.ndarray, X: np.ndarray, tol: float, max_atoms: int | None = None,
              chunk: int = 1024) -> np.ndarray:
    """Error-constrained orthogonal matching pursuit for many signals at once.

    Solves ``min ||g||_0  s.t. ||x - D g||_2 <= tol`` greedily for every column of ``X``
    (the problem of ompbox's ``omp2``, which Liu's code calls; its degenerate-step guards differ,
    see :func:`asr`). ``D`` has unit-norm columns. All signals of
    a chunk advance one atom per step in lock-step. As in Rubinstein et al.'s Batch-OMP the
    support's Gram matrix is factorised progressively, here as the inverse ``L^-1`` of its
    Cholesky factor (one new row per step), so that ``z = L^-1 b`` grows by one entry,
    ``||r||^2 = ||x||^2 - ||z||^2`` and ``g = L^-T z``. A signal stops when its residual is
    within ``tol``, after ``max_atoms`` atoms, or when the next atom is numerically in the
    span of its support (``1 - ||L^-1 g_j||^2 < 1e-10``, where scikit-learn's OMP stops too).
    The result equals scikit-learn's ``orthogonal_mp(D, x, tol=tol**2)`` per signal (tested);
    it is only vectorised.
    """
    n, k = D.shape
    if max_atoms is None:
        max_atoms = n
    T = min(max_atoms, n, k)
    G = D.T @ D
    DT = np.ascontiguousarray(D.T)
    out = np.zeros((k, X.shape[1]))
    tol2 = tol * tol
    for s0 in range(0, X.shape[1], chunk):
        x_all = X[:, s0:s0 + chunk]
        ids = np.flatnonzero(np.einsum("ij,ij->j", x_all, x_all) > tol2)
        x = np.ascontiguousarray(x_all[:, ids].T)   # (a, n) signals still being coded
        alpha0 = x @ D                               # (a, k)
        xx = np.einsum("an,an->a", x, x)
        a = len(ids)
        sup = np.zeros((a, T), dtype=np.intp)
        linv = np.zeros((a, T, T))                   # inverse Cholesky factor of G_S
        z = np.zeros((a, T))                         # L^-1 b
        ds = np.zeros((a, T, n))                     # selected atoms
        resid = x.copy()
        live = np.ones(a, dtype=bool)   # still being coded (finished ones are dropped in batches)
        t = 0
        while a and t < T:
            j = np.argmax(np.abs(resid @ D), axis=1)
            if t == 0:
                d = np.sqrt(G[j, j])
                ok = np.ones(a, dtype=bool)
                linv[:, 0, 0] = 1.0 / d
            else:
                g = G[sup[:, :t], j[:, None]]                               # (a, t)
                w = np.matmul(linv[:, :t, :t], g[:, :, None])[:, :, 0]      # L^-1 g
                d2 = G[j, j] - np.einsum("at,at->a", w, w)
                ok = d2 > 1e-10
                d = np.sqrt(np.where(ok, d2, 1.0))
                row = -np.matmul(w[:, None, :], linv[:, :t, :t])[:, 0, :] / d[:, None]
                linv[:, t, :t] = np.where(ok[:, None], row, 0.0)
                linv[:, t, t] = np.where(ok, 1.0 / d, 0.0)
            sup[:, t] = j
            ds[:, t] = DT[j]
            z[:, t] = np.einsum("at,at->a", linv[:, t, : t + 1], np.take_along_axis(alpha0, sup[:, : t + 1], 1))
            t += 1
            c = np.matmul(z[:, None, :t], linv[:, :t, :t])[:, 0, :]         # L^-T z, row form
            resid = x - np.einsum("at,atn->an", c, ds[:, :t])
            err = xx - np.einsum("at,at->a", z[:, :t], z[:, :t])
            # a rejected atom (ok False) has a zero row in L^-1, so it gets weight 0 in c
            done = live & ((~ok) | (err <= tol2) | (t == T))
            for f in np.flatnonzero(done):
                m = t if ok[f] else t - 1
                out[sup[f, :m], s0 + ids[f]] = c[f, :m]
            live &= ~done
            if (~live).sum() * 4 >= a or not live.any():
                keep = live
                ids, x, alpha0, xx = ids[keep], x[keep], alpha0[keep], xx[keep]
                sup, linv, z, ds, resid = sup[keep], linv[keep], z[keep], ds[keep], resid[keep]
                live = live[keep]
                a = len(ids)
    return out


def _argmax_abs(c: np.ndarray) -> np.ndarray:
    """``np.argmax(np.abs(c), axis=1)`` from the row maximum and minimum (two read-only passes
    instead of writing ``|c|``): the largest magnitude is ``max(cmax, -cmin)``; on a tie between
    a positive and a negative entry the first index wins, as in ``argmax``."""
    ar = np.arange(c.shape[0])
    jmax = np.argmax(c, axis=1)
    jmin = np.argmin(c, axis=1)
    vmax = c[ar, jmax]
    vmin = -c[ar, jmin]
    return np.where(vmin > vmax, jmin, np.where(vmin == vmax, np.minimum(jmin, jmax), jmax))


def _omp_sizes(D: np.ndarray, max_atoms: int | None, G: np.ndarray | None):
    """(signal length n, atoms k, the most atoms T a code may use, Gram matrix G = DᵀD) of the
    fast OMPs; ``max_atoms`` None = n, as :func:`batch_omp`."""
    n, k = D.shape
    T = min(n if max_atoms is None else max_atoms, n, k)
    return n, k, T, (D.T @ D if G is None else G)


def omp_l1_recon(D: np.ndarray, X: np.ndarray, tol: float, max_atoms: int | None = None,
                 chunk: int = 256, G: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The same error-constrained OMP as :func:`batch_omp`, returning only what ASR uses:
    ``(l1, recon)`` with ``l1[i] = ||g_i||_1`` and ``recon[:, i] = D g_i`` for every column
    ``X[:, i]`` (``g_i`` the code :func:`batch_omp` returns).

    Why our own code: no maintained Python library has a vectorised error-constrained OMP
    (scikit-learn's ``orthogonal_mp`` loops over signals in Python; ompbox is Matlab/C).

    Same greedy selection, stopping rules and least-squares codes as :func:`batch_omp`; it differs
    only in how each step is computed. The support is orthonormalised by classical Gram-Schmidt
    (``q_t = (d_j - Q w) / ||.||`` with ``w = Q^T d_j``), and the correlations of the residual
    with the whole dictionary are updated, not recomputed: ``c_t = c_{t-1} - z_t D^T q_t`` with
    ``z_t = q_t^T x``. ``D^T q_t`` is one matrix product for all signals of a chunk, and it also
    holds ``q_t^T d_j`` for every atom, so ``w`` of a later step is a look-up instead of a
    product. ``||r||^2 = ||x||^2 - sum z^2`` and the rejection of an atom in the span of the
    support (``1 - ||w||^2 < 1e-10``) are the rules of :func:`batch_omp`. The codes are solved
    once per signal at the end from the triangular ``R = Q^T D_S`` (``R[:t, t] = w``,
    ``R[t, t] = ||.||``), and ``D g`` is one matrix product with the dense codes.

    Bookkeeping (issue 14): the factors of a signal are written straight into per-chunk output
    arrays, so a finished signal needs no copy; finished signals keep being stepped until half
    of the chunk has finished (what they write then lies beyond their support size ``m`` and is
    discarded by the back-substitution), and only then are the live rows compacted; the ``(T, chunk, K)`` table of ``D^T q`` is never copied (read through the
    chunk-row index of each live signal). None of this changes the arithmetic of a signal.
    Results agree with :func:`batch_omp` to float64 rounding (tested).
    """
    n, k, T, G = _omp_sizes(D, max_atoms, G)
    gdiag = np.ascontiguousarray(np.diag(G))
    DT = np.ascontiguousarray(D.T)
    N = X.shape[1]
    l1 = np.zeros(N)
    recon = np.zeros((n, N))
    tol2 = tol * tol
    XT = np.ascontiguousarray(X.T)
    for s0 in range(0, N, chunk):
        x_all = XT[s0:s0 + chunk]
        ids = np.flatnonzero(np.einsum("an,an->a", x_all, x_all) > tol2)
        if ids.size == 0:
            continue
        x = x_all[ids]
        a0 = a = len(ids)
        xx = np.einsum("an,an->a", x, x)
        corr = x @ D
        Fh = np.empty((T, a0, k))        # Fh[i, row] = D^T q_i of chunk row `row`
        Q = np.empty((a0, T, n))         # orthonormal basis of the live rows' supports
        # per chunk row: W = R^T (row t: w of step t, ||.|| on the diagonal), z, support, size
        W_out = np.zeros((a0, T, T))
        z_out = np.zeros((a0, T))
        sup_out = np.zeros((a0, T), dtype=np.intp)
        m_out = np.zeros(a0, dtype=np.intp)
        orig = np.arange(a0)             # chunk row of each live row
        ident = True                     # orig is arange(a): plain slices instead of indexing
        fin = np.zeros(a0, dtype=bool)   # finished (size m fixed), not yet compacted away
        ez = np.zeros(a0)
        tmp = np.empty((a0, k))
        buf = np.empty((a0, k))
        t = 0
        while True:
            rows = slice(0, a) if ident else orig
            j = _argmax_abs(corr)
            if t == 0:
                nrm2 = gdiag[j]
                ok = np.ones(a, dtype=bool)
                q = DT[j]
                nrm = np.sqrt(nrm2)
            else:
                w = Fh[:t, orig, j].T                                           # (a, t) = Q^T d_j
                nrm2 = gdiag[j] - np.einsum("at,at->a", w, w)
                ok = nrm2 > 1e-10
                nrm = np.sqrt(np.where(ok, nrm2, 1.0))
                q = DT[j] - np.matmul(w[:, None, :], Q[:a, :t])[:, 0, :]
                W_out[rows, t, :t] = w
            q /= nrm[:, None]
            Q[:a, t] = q
            zt = np.where(ok, np.einsum("an,an->a", q, x), 0.0)
            # a finished row still writes its step-t entries: they lie beyond its size m and are
            # discarded below (identity rows, zero codes), so its result is unchanged
            W_out[rows, t, t] = nrm
            sup_out[rows, t] = j
            z_out[rows, t] = zt
            ez[:a] += zt * zt
            t += 1
            done = ~fin[:a] & ((~ok) | (xx - ez[:a] <= tol2) | (t == T))
            if done.any():
                f = np.flatnonzero(done)
                m_out[orig[f]] = np.where(ok[f], t, t - 1)
                fin[:a] |= done
            if t == T or fin[:a].all():
                break
            if ident:
                fh = Fh[t - 1, :a]
                np.matmul(q, D, out=fh)
            else:
                fh = np.matmul(q, D, out=buf[:a])
                Fh[t - 1, orig] = fh
            np.multiply(fh, zt[:, None], out=tmp[:a])
            corr -= tmp[:a]
            if 2 * fin[:a].sum() >= a:       # compact: drop the finished rows
                keep = np.flatnonzero(~fin[:a])
                x, xx, corr, orig = x[keep], xx[keep], corr[keep], orig[keep]
                Q[:keep.size, :t] = Q[keep, :t]
                ez[:keep.size] = ez[keep]
                a = keep.size
                fin[:a] = False
                ident = False
        # back-substitution R g = z for all signals of the chunk, rows >= m set to identity
        idx = np.arange(T)
        beyond = idx[None, :] >= m_out[:, None]
        z_out[beyond] = 0.0
        W_out[:, idx, idx] = np.where(beyond, 1.0, W_out[:, idx, idx])
        g = np.zeros((a0, T))
        for i in range(T - 1, -1, -1):
            s = z_out[:, i] - np.einsum("ac,ac->a", W_out[:, i + 1:, i], g[:, i + 1:]) if i < T - 1 else z_out[:, i]
            g[:, i] = s / W_out[:, i, i]
        g[beyond] = 0.0
        l1[s0 + ids] = np.abs(g).sum(axis=1)
        # dense codes (an atom occurs once among the first m; the zero codes beyond m add 0)
        gd = np.bincount((np.arange(a0)[:, None] * k + sup_out).ravel(), weights=g.ravel(),
                         minlength=a0 * k).reshape(a0, k)
        recon[:, s0 + ids] = (gd @ DT).T
    return l1, recon


def _omp_kernel_py(G, DT, XT, alpha0, tol2, T, l1, recon):  # pragma: no cover - run compiled
    """Per-signal error-constrained OMP (the arithmetic of :func:`omp_l1_recon_compiled`), written
    for numba. ``G = D^T D``, ``DT = D^T`` (rows = atoms), ``XT`` signals as rows,
    ``alpha0 = XT @ D``; writes ``l1`` and ``recon`` (rows)."""
    N, n = XT.shape
    K = G.shape[0]
    c = np.empty(K)                 # correlations D^T r of the current residual
    F = np.empty((T, K))            # F[i] = D^T q_i, q_i the orthonormalised support
    R = np.zeros((T, T))            # R = Q^T D_S (upper triangular)
    z = np.empty(T)                 # z_i = q_i^T x
    g = np.empty(T)
    w = np.empty(T)
    f = np.empty(K)
    sup = np.empty(T, np.intp)
    mm = np.empty(8)                # eight partial maxima of |c| (independent chains)
    for s in range(N):
        xs = XT[s]
        xx = 0.0
        for i in range(n):
            xx += xs[i] * xs[i]
        rec = recon[s]
        for i in range(n):
            rec[i] = 0.0
        l1[s] = 0.0
        if not xx > tol2:
            continue
        a0 = alpha0[s]
        M = 0.0                     # max |c|, kept by the pass that updates c
        for k in range(K):
            c[k] = a0[k]
            a = abs(a0[k])
            M = a if a > M else M
        err = xx
        t = 0
        m = 0
        while True:
            j = 0                   # first index of the largest |c| (np.argmax's tie rule)
            while abs(c[j]) != M:
                j += 1
            nrm2 = G[j, j]
            for i in range(t):      # w = Q^T d_j, read from the stored D^T q_i
                wi = F[i, j]
                w[i] = wi
                nrm2 -= wi * wi
            if t > 0 and not nrm2 > 1e-10:
                m = t               # d_j numerically in the span of the support: stop
                break
            nrm = np.sqrt(nrm2)
            zt = a0[j]              # q_t^T x = (d_j^T x - w^T z) / nrm
            for i in range(t):
                R[i, t] = w[i]
                zt -= w[i] * z[i]
            zt /= nrm
            R[t, t] = nrm
            z[t] = zt
            sup[t] = j
            err -= zt * zt          # ||r||^2 = ||x||^2 - sum z^2
            t += 1
            if err <= tol2 or t == T:
                m = t
                break
            # D^T q_t = (G[:, j] - sum_i w_i D^T q_i) / nrm  (256 t multiply-adds, no 64x256 product)
            Gj = G[j]
            if t - 1 >= 4:          # first four rows fused with the copy of G[j]
                w0, w1, w2, w3 = w[0], w[1], w[2], w[3]
                F0, F1, F2, F3 = F[0], F[1], F[2], F[3]
                for k in range(K):
                    f[k] = Gj[k] - (w0 * F0[k] + w1 * F1[k] + w2 * F2[k] + w3 * F3[k])
                i = 4
            else:
                for k in range(K):
                    f[k] = Gj[k]
                i = 0
            while i + 4 <= t - 1:   # four rows of F per pass over f (F is read from L2)
                w0, w1, w2, w3 = w[i], w[i + 1], w[i + 2], w[i + 3]
                F0, F1, F2, F3 = F[i], F[i + 1], F[i + 2], F[i + 3]
                for k in range(K):
                    f[k] -= w0 * F0[k] + w1 * F1[k] + w2 * F2[k] + w3 * F3[k]
                i += 4
            while i < t - 1:
                w0 = w[i]
                F0 = F[i]
                for k in range(K):
                    f[k] -= w0 * F0[k]
                i += 1
            inv = 1.0 / nrm
            Ft = F[t - 1]
            for k in range(K):      # store D^T q_t
                Ft[k] = f[k] * inv
            for k in range(K):      # update c (same rounding as the former fused pass)
                c[k] -= zt * Ft[k]
            # max |c| as eight interleaved partial maxima: LLVM does not vectorise this
            # reduction, and one running maximum is a chain of 256 dependent scalar `max`
            # (4 cycles each); eight chains run in parallel. A maximum is exact in any order,
            # so M is the same value.
            for u in range(8):
                mm[u] = 0.0
            K8 = K - K % 8
            for k0 in range(0, K8, 8):
                for u in range(8):
                    a = abs(c[k0 + u])
                    mm[u] = a if a > mm[u] else mm[u]
            for k in range(K8, K):
                a = abs(c[k])
                mm[0] = a if a > mm[0] else mm[0]
            M = 0.0
            for u in range(8):
                M = mm[u] if mm[u] > M else M
        # codes: back-substitution R g = z; D g as the sum of the m selected atoms
        a = 0.0
        for i in range(m - 1, -1, -1):
            v = z[i]
            for q in range(i + 1, m):
                v -= R[i, q] * g[q]
            g[i] = v / R[i, i]
            a += abs(g[i])
        l1[s] = a
        for i in range(m):
            gi = g[i]
            d = DT[sup[i]]
            for p in range(n):
                rec[p] += gi * d[p]


def _products_py(A, B, out):  # pragma: no cover - run compiled
    """``out = A @ B`` with every entry summed over ``k`` in order (``k`` outer, columns inner:
    the inner loop vectorises across columns without reassociating any sum)."""
    N, n = A.shape
    K = B.shape[1]
    for i in range(N):
        for j in range(K):
            out[i, j] = 0.0
        for k in range(n):
            a = A[i, k]
            for j in range(K):
                out[i, j] += a * B[k, j]


@functools.lru_cache(maxsize=1)
def _products_kernel():
    """The numba-compiled :func:`_products_py`, or ``None`` without numba (same flags as the OMP
    kernel: FMA contraction, no reassociation)."""
    try:
        import numba  # noqa: F401  (compiled through _jit.njit)
    except ImportError:          # pragma: no cover
        return None
    from ..._jit import njit

    return njit(_products_py, nogil=True, fastmath={"nnan", "ninf", "nsz", "contract"})


def products(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """``A @ B`` (float64, C-contiguous ``A``) whose every entry is summed in one fixed order,
    whatever the number of BLAS threads.

    Why not BLAS: OpenBLAS's ``A @ B`` depends on its thread count for some shapes (measured on an
    AMD EPYC: ``(100, 64) @ (64, 256)`` differs by 2e-15 between 1 and 2 threads; 10, 1000 and 5000
    rows do not), and OMP's greedy selection then takes another atom on a near tie, so ``asr``
    gave other bytes at ``OMP_NUM_THREADS=2`` than at 1 (session 26). The compiled loop is
    thread-invariant by construction; it costs about what single-threaded BLAS does for these
    shapes and is a few per cent of the OMP kernel's time."""
    A = np.ascontiguousarray(A, dtype=np.float64)
    B = np.ascontiguousarray(B, dtype=np.float64)
    kernel = _products_kernel()
    if kernel is None:           # pragma: no cover
        return np.einsum("nk,kj->nj", A, B)  # numpy's own loops, no BLAS threads
    out = np.empty((A.shape[0], B.shape[1]))
    kernel(A, B, out)
    return out


@functools.lru_cache(maxsize=1)
def _omp_kernel():
    """The numba-compiled :func:`_omp_kernel_py`, or ``None`` when numba is not installed.

    ``fastmath`` flags: ``contract`` (fused multiply-adds) and ``nnan/ninf/nsz`` (so that the
    running maximum vectorises; the data are finite). No reassociation: every sum is evaluated in
    the order written, so only the FMA contraction separates it from a plain float64 evaluation.
    Compiled once per machine (``cache=True`` keeps it under ``__pycache__``; in each process
    where numba finds no writable cache folder, :func:`mutualfuse._jit.njit`)."""
    try:
        import numba  # noqa: F401  (compiled through _jit.njit)
    except ImportError:          # pragma: no cover - numba is a dependency; keep a working fallback
        return None
    from ..._jit import njit

    return njit(_omp_kernel_py, nogil=True, fastmath={"nnan", "ninf", "nsz", "contract"})


def omp_l1_recon_compiled(D: np.ndarray, X: np.ndarray, tol: float, max_atoms: int | None = None,
                          G: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`omp_l1_recon` (same greedy selection, stopping rules, codes, outputs) run signal by
    signal in compiled code (numba); falls back to :func:`omp_l1_recon` without numba.

    Why compiled: with the authors' tolerance each 8x8 patch takes about 60 atoms of 64, and
    every step of every signal needs the correlations of its residual with all 256 atoms. In
    numpy the per-signal small products (Gram-Schmidt on the support, the look-ups, the
    bookkeeping of a lock-step batch) cost more than the arithmetic; here each signal is coded
    with all its state in cache and no Python per step.

    Arithmetic (Gram-Schmidt form of Rubinstein et al.'s Batch-OMP, with the Gram matrix
    ``G = D^T D`` precomputed and ``alpha0 = D^T x`` computed for all signals by one BLAS product):
    with ``q_1..q_t`` the orthonormalised support and ``F[i] = D^T q_i`` stored,

    * selection: ``j = argmax |c|`` (first index on ties, as ``np.argmax``), ``c = D^T r``;
    * ``w = Q^T d_j = F[:t, j]`` (a look-up); the atom is rejected, and the signal finished, when
      ``G_jj - ||w||^2 <= 1e-10`` (numerically in the span of the support, as :func:`batch_omp`);
    * ``nrm = sqrt(G_jj - ||w||^2)``, ``z_t = q_t^T x = (alpha0_j - w^T z) / nrm``,
      ``||r||^2 = ||x||^2 - sum z^2`` (stop at ``<= tol^2`` or ``max_atoms``);
    * ``D^T q_t = (G[:, j] - F[:t]^T w) / nrm`` (``256 t`` multiply-adds instead of the
      ``64 x 256`` product ``D^T q_t``), ``c <- c - z_t D^T q_t``;
    * at the end ``R g = z`` with ``R = Q^T D_S`` (``R[:t, t] = w``, ``R[t, t] = nrm``),
      ``l1 = ||g||_1`` and ``recon = D_S g``.

    Same quantities as :func:`omp_l1_recon` in exact arithmetic; in floating point they agree to
    float64 rounding (tested against :func:`batch_omp`, which equals scikit-learn's OMP).

    The pass after ``D^T q_t`` is three loops: store ``D^T q_t``, update ``c``, and ``max |c|``
    as eight interleaved partial maxima. The former single fused pass compiled to scalar code
    whose running maximum was one chain of 256 dependent ``max`` instructions (LLVM does not
    vectorise that reduction); about a fifth of the kernel's time under ``perf``. Split, the
    store and the update vectorise and the eight maxima run in parallel (about 10 % less kernel
    time on the 128x96 benchmark crop). Every value is rounded exactly as before (the same
    products and differences; a maximum is exact in any order), so the selected atoms and the
    outputs are bit-identical to the fused pass (checked on the 21,537 signals of that crop).

    ``X`` must be finite (the kernel is compiled with fastmath, which assumes it): a NaN or inf
    is a one-line :class:`~mutualfuse.errors.InputError` (it gave inf/NaN codes before session 16).
    """
    if not np.isfinite(X).all():  # the compiled kernel assumes finite data (fastmath)
        raise InputError("omp_l1_recon_compiled: X contains NaN or infinite values")
    kernel = _omp_kernel()
    if kernel is None:           # pragma: no cover
        return omp_l1_recon(D, X, tol, max_atoms, G=G)
    if G is None:
        G = products(np.ascontiguousarray(D.T, dtype=np.float64), D)
    n, k, T, G = _omp_sizes(D, max_atoms, G)
    XT = np.ascontiguousarray(X.T, dtype=np.float64)
    alpha0 = products(XT, D)
    l1 = np.empty(XT.shape[0])
    recon = np.empty_like(XT)
    kernel(np.ascontiguousarray(G), np.ascontiguousarray(D.T), XT, alpha0, float(tol) * float(tol),
           T, l1, recon)
    return l1, recon.T


# --------------------------------------------------------------------------------------
# ASR
# --------------------------------------------------------------------------------------
_SOBEL_X = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])


def _grid(length: int, step: int) -> np.ndarray:
    g = np.arange(0, length - PATCH + 1, step)
    if g[-1] != length - PATCH:  # our addition: always cover the last row/column (see docstring)
        g = np.append(g, length - PATCH)
    return g


def _dominant_orientation(dx: np.ndarray, dy: np.ndarray, n_orient: int) -> np.ndarray:
    """The histogram step of :func:`orientation_class` from the Sobel gradients ``(N, 8, 8)``:
    orientation folded to [0, 180) degrees, magnitude-weighted bins, dominant bin or -1."""
    n = dx.shape[0]
    mag = np.sqrt(dx * dx + dy * dy)
    with np.errstate(divide="ignore", invalid="ignore"):
        ori = np.degrees(np.arctan(dy / dx))
    ori = np.where(ori < 0, ori + 180.0, ori)
    idx = np.ceil(ori / (180.0 / n_orient))
    valid = np.isfinite(idx) & (idx >= 1) & (idx <= n_orient)
    b = np.where(valid, idx, 1).astype(np.intp) - 1
    v = valid.ravel()
    cell = (np.repeat(np.arange(n) * n_orient, PATCH * PATCH) + b.ravel())[v]
    # bincount adds in element order, as np.add.at does, so the sums are the same to the bit
    hist = np.bincount(cell, weights=mag.ravel()[v], minlength=n * n_orient).reshape(n, n_orient)
    tot = hist.sum(axis=1)
    best = np.argmax(hist, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        dominant = hist[np.arange(n), best] / tot > 1.5 / n_orient
    return np.where(dominant, best, -1)


def orientation_class(patches: np.ndarray, n_orient: int) -> np.ndarray:
    """Liu's ASR patch classifier, vectorised. ``patches``: ``(N, 8, 8)``.

    Sobel gradients inside the patch (``imfilter`` default: correlation, zero padding),
    orientation ``atan(Dy/Dx)`` folded to ``[0, 180)`` degrees, magnitude-weighted histogram
    over ``n_orient`` bins (bin ``ceil(theta / (180/n_orient))``; theta = 0 and NaN fall in no
    bin, as in the Matlab code). Returns the bin index ``0..n_orient-1`` of a dominant
    orientation, or ``-1`` when ``max/sum <= 1.5 / n_orient`` (use the general dictionary).
    """
    p = np.pad(patches, ((0, 0), (1, 1), (1, 1)))
    dx = np.zeros(patches.shape)
    dy = np.zeros(patches.shape)
    for u in range(3):
        for v in range(3):
            win = p[:, u:u + PATCH, v:v + PATCH]
            dx += _SOBEL_X[u, v] * win
            dy += _SOBEL_X.T[u, v] * win
    return _dominant_orientation(dx, dy, n_orient)


def orientation_class_fast(patches: np.ndarray, n_orient: int, chunk: int = 1024) -> np.ndarray:
    """:func:`orientation_class` with the same result to the bit, faster: computed on chunks of
    ``chunk`` patches (the dozen temporaries of a chunk stay in cache instead of streaming
    through memory) and without the Sobel taps that are 0 (adding ``0 * win`` changes no sum:
    at most the sign of a zero ``dx``, which only flips ``dy/dx = +-inf`` and both fold to 90
    degrees). The remaining operations, their order and the histogram's ``bincount`` order are
    those of :func:`orientation_class` (tested equal)."""
    n = patches.shape[0]
    out = np.empty(n, dtype=np.intp)
    taps = [(u, v, _SOBEL_X[u, v], _SOBEL_X.T[u, v]) for u in range(3) for v in range(3)]
    for c0 in range(0, n, chunk):
        pc = patches[c0:c0 + chunk]
        m = pc.shape[0]
        p = np.pad(pc, ((0, 0), (1, 1), (1, 1)))
        dx = np.zeros(pc.shape)
        dy = np.zeros(pc.shape)
        for u, v, cx, cy in taps:
            win = p[:, u:u + PATCH, v:v + PATCH]
            if cx != 0.0:
                dx += cx * win
            if cy != 0.0:
                dy += cy * win
        out[c0:c0 + m] = _dominant_orientation(dx, dy, n_orient)
    return out


@register_method(
    "asr",
    family="sparse",
    cite="Y. Liu, Z. Wang, Simultaneous image fusion and denoising with adaptive sparse "
    "representation, IET Image Processing 9(5):347-357, 2015",
    matlab="Yu Liu's ASR code (asr_fuse.m, Script.m; copy in Jilei-Hou/code-for-image-fusion "
    "Traditional-fusion-methods/Medical/ASR)",
    slow=True,
    params=ASR_PARAMS,
)
def asr(a: np.ndarray, b: np.ndarray, *, epsilon: float = 0.1, stride: int = 1,
        max_atoms: int = 64) -> np.ndarray:
    """ASR: adaptive sparse representation fusion (Liu & Wang 2015).

    Algorithm (a port of ``asr_fuse.m``): slide an 8x8 window with step ``stride``; remove
    each source patch's mean; classify the patch of larger variance by its dominant gradient
    orientation (:func:`orientation_class`, 6 bins of 30 degrees); code both patches with
    error-constrained OMP (``||r||_2 <= epsilon``) over the sub-dictionary of that orientation,
    or over the general dictionary when there is none; keep the code with larger L1 norm; add
    back the mean of the two patch means; average overlapping patches.

    Parameters (defaults of the authors' ``Script.m``): ``epsilon=0.1`` in 8-bit grey levels
    (the code works on 0..255; we divide by 255), ``stride=1`` (``overlap = 7``), dictionaries
    of 256 atoms per sub-dictionary, 6 orientations, 8x8 patches; ``max_atoms=64`` bounds OMP
    (ompbox's default bound is the signal length, 64).

    Departures: dictionaries learned by scikit-learn's ``MiniBatchDictionaryLearning`` on
    RoadScene patches instead of the authors' K-SVD dictionaries; OMP compiled per patch
    (:func:`omp_l1_recon_compiled`, equal to :func:`batch_omp` and per-patch OMP); with ``stride > 1`` the last patch
    row/column is always included so that every pixel is covered (the Matlab grid would leave
    a border that it fills with the source average). The noise-adaptive tolerance of the
    paper (``epsilon + 8*C*sigma``) is reached by passing a larger ``epsilon``. OMP's guards
    against a degenerate step are scikit-learn's, not ompbox's (``ompcore.c``): a signal stops when
    the next atom is nearly in the span of its support, ``1 - ||L^-1 g||^2 < 1e-10`` (ompbox:
    ``<= 1e-14``; an atom between the two would get a huge coefficient there), and ompbox also stops
    when the largest correlation is below 1e-7 grey levels (``alpha^2 < 1e-14`` on 0..255 data),
    which ours does not test. Measured on a 64x64 crop of TNO pair 05 (session 21): no atom falls
    between the two thresholds, and the output with ompbox's 1e-14 is identical.
    """
    return _asr_fast(a, b, epsilon / 255.0, stride, max_atoms)


@with_params("asr", ASR_PARAMS)
def asr_reference(a: np.ndarray, b: np.ndarray, *, epsilon: float = 0.1, stride: int = 1,
                  max_atoms: int = 64) -> np.ndarray:
    """The straightforward ASR path (all patches at once, dense codes from :func:`batch_omp`),
    kept as the reference that :func:`asr` is tested against; same parameters as :func:`asr`.
    Several times slower (``benchmarks/bench_baselines.py --compare``; docs/baselines.md)."""
    eps = epsilon / 255.0
    d0, dn = load_asr_dictionaries()
    n_orient = dn.shape[0]
    h, w = a.shape
    gy, gx = _grid(h, stride), _grid(w, stride)
    pa = sliding_window_view(a, (PATCH, PATCH))[gy][:, gx].reshape(-1, PATCH, PATCH)
    pb = sliding_window_view(b, (PATCH, PATCH))[gy][:, gx].reshape(-1, PATCH, PATCH)
    ma, mb, cls = _patch_means_and_classes(pa, pb, n_orient)
    xa = (pa - ma[:, None, None]).reshape(-1, PATCH * PATCH).T
    xb = (pb - mb[:, None, None]).reshape(-1, PATCH * PATCH).T
    fused = np.empty_like(xa)
    for c in range(-1, n_orient):
        sel = np.flatnonzero(cls == c)
        if sel.size == 0:
            continue
        D = d0 if c < 0 else dn[c]
        ga = batch_omp(D, xa[:, sel], eps, max_atoms)
        gb = batch_omp(D, xb[:, sel], eps, max_atoms)
        take_b = np.abs(ga).sum(axis=0) < np.abs(gb).sum(axis=0)
        fused[:, sel] = D @ np.where(take_b[None, :], gb, ga)
    fused += 0.5 * (ma + mb)[None, :]
    return _overlap_add(fused.T.reshape(len(gy), len(gx), PATCH, PATCH), gy, gx, a.shape)


@functools.lru_cache(maxsize=8)
def _gram(which: int) -> np.ndarray:
    d0, dn = load_asr_dictionaries()
    D = d0 if which < 0 else dn[which]
    return products(np.ascontiguousarray(D.T), D)  # thread-invariant, as alpha0 (see products)


def _asr_fast(a: np.ndarray, b: np.ndarray, eps: float, stride: int, max_atoms: int,
              block: int = 16384) -> np.ndarray:
    """:func:`asr_reference` computed block by block of patch positions (bounded memory), with
    both sources of a class coded in one :func:`omp_l1_recon_compiled` call and the overlapping
    patches accumulated per block. Same operations per patch, so the same result to float64
    rounding."""
    d0, dn = load_asr_dictionaries()
    n_orient = dn.shape[0]
    h, w = a.shape
    gy, gx = _grid(h, stride), _grid(w, stride)
    wa = sliding_window_view(a, (PATCH, PATCH))
    wb = sliding_window_view(b, (PATCH, PATCH))
    iy, ix = np.meshgrid(gy, gx, indexing="ij")
    iy, ix = iy.ravel(), ix.ravel()
    off = (np.arange(PATCH)[:, None] * w + np.arange(PATCH)[None, :]).ravel()  # patch pixels, row-major
    acc = np.zeros(h * w)
    cnt = np.zeros(h * w)
    for p0 in range(0, iy.size, block):
        py, px = iy[p0:p0 + block], ix[p0:p0 + block]
        pa, pb = wa[py, px], wb[py, px]                   # (B, 8, 8) copies
        ma, mb, cls = _patch_means_and_classes(pa, pb, n_orient, orientation_class_fast)
        xa = (pa - ma[:, None, None]).reshape(-1, PATCH * PATCH)
        xb = (pb - mb[:, None, None]).reshape(-1, PATCH * PATCH)
        fused = np.empty_like(xa)
        for c in range(-1, n_orient):
            sel = np.flatnonzero(cls == c)
            if sel.size == 0:
                continue
            D = d0 if c < 0 else dn[c]
            l1, rec = omp_l1_recon_compiled(D, np.concatenate([xa[sel], xb[sel]]).T, eps, max_atoms,
                                            G=_gram(c))
            ns = sel.size
            take_b = l1[:ns] < l1[ns:]
            fused[sel] = np.where(take_b[:, None], rec[:, ns:].T, rec[:, :ns].T)
        fused += 0.5 * (ma + mb)[:, None]
        flat = ((py * w + px)[:, None] + off[None, :]).ravel()
        acc += np.bincount(flat, weights=fused.ravel(), minlength=h * w)
        cnt += np.bincount(flat, minlength=h * w)
    return (acc / cnt).reshape(h, w)


def _overlap_add(patches: np.ndarray, gy: np.ndarray, gx: np.ndarray, shape) -> np.ndarray:
    acc = np.zeros(shape)
    cnt = np.zeros(shape)
    for u in range(PATCH):
        for v in range(PATCH):
            ix = np.ix_(gy + u, gx + v)  # positions are distinct, so += is exact
            acc[ix] += patches[:, :, u, v]
            cnt[ix] += 1.0
    return acc / cnt


# --------------------------------------------------------------------------------------
# CSR
# --------------------------------------------------------------------------------------
def tikhonov_lowpass(s: np.ndarray, lam: float = 5.0, npad: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """SPORCO's ``lowpass.m``: Tikhonov low-pass ``argmin ||x-s||^2 + lam ||grad x||^2``
    solved by FFT on the image padded symmetrically by ``npad``; returns ``(low, high)``."""
    sp = np.pad(s, npad, mode="symmetric")
    H, W = sp.shape
    wy = 2.0 - 2.0 * np.cos(2 * np.pi * np.fft.fftfreq(H))
    wx = 2.0 - 2.0 * np.cos(2 * np.pi * np.fft.rfftfreq(W))
    A = 1.0 + lam * wy[:, None] + lam * wx[None, :]
    slp = sfft.irfft2(sfft.rfft2(sp) / A, s=(H, W))
    low = slp[npad:npad + s.shape[0], npad:npad + s.shape[1]]
    return low, s - low


def _patch_means_and_classes(pa: np.ndarray, pb: np.ndarray, n_orient: int, classify=None):
    """Per patch pair (``(N, 8, 8)`` each): the two patch means and the orientation class of
    the patch with the larger variance (Liu's ``asr_fuse.m``), as used by both ASR paths
    (``classify``: :func:`orientation_class` by default, :func:`orientation_class_fast` in
    :func:`_asr_fast`)."""
    va = pa.var(axis=(1, 2))
    vb = pb.var(axis=(1, 2))
    cls = (classify or orientation_class)(np.where((va > vb)[:, None, None], pa, pb), n_orient)
    return pa.mean(axis=(1, 2)), pb.mean(axis=(1, 2)), cls


def _rho_factor(r: float, s: float, target: float) -> float:
    """SPORCO's adaptive-rho scaling (``AutoRho``: scaling 100, residual ratio 1.2, adaptive
    scaling with the normalised residuals ``r`` (primal) and ``s`` (dual)): the factor that
    multiplies rho this iteration (1 = unchanged)."""
    rhomlt = np.sqrt(r / (s * target)) if s > 0 else 100.0
    if rhomlt < 1:
        rhomlt = 1 / rhomlt
    rhomlt = min(rhomlt, 100.0)
    rsf = 1.0
    if r > target * 1.2 * s:
        rsf = rhomlt
    if s > (1.2 / target) * r:
        rsf = 1 / rhomlt
    return rsf


def cbpdn(D: np.ndarray, S: np.ndarray, lam: float, max_iter: int = 500, rho: float | None = None,
          rel_tol: float = 1e-3, relax: float = 1.8, auto_rho: bool = True,
          dtype=np.float32) -> np.ndarray:
    """Convolutional basis pursuit denoising by ADMM in the DFT domain, a port of SPORCO's
    ``cbpdn.m`` (Wohlberg, IEEE TIP 2016) with the options Liu's ``CSR_Fusion.m`` sets.

    ``argmin_x 1/2 ||sum_m d_m * x_m - s||^2 + lam sum_m ||x_m||_1``; the linear step is solved
    per frequency by Sherman-Morrison; adaptive rho (``AutoRho=1``, period 1, scaling 100,
    residual ratio 1.2, adaptive scaling, normalised residuals) and over-relaxation 1.8 are
    SPORCO's defaults. Returns the sparse split variable ``Y``, shape ``(M, H, W)``, as the
    Matlab function does. Computation in ``float32`` by default (twice as fast; the fused image
    changes by less than 1e-4).
    """
    H, W = S.shape
    M = D.shape[2]
    cdtype = np.complex64 if dtype == np.float32 else np.complex128
    Dp = np.zeros((M, H, W), dtype=dtype)
    Dp[:, : D.shape[0], : D.shape[1]] = np.moveaxis(D, 2, 0)
    Df = sfft.rfft2(Dp).astype(cdtype)
    Sf = sfft.rfft2(S.astype(dtype))
    DSf = np.conj(Df) * Sf[None]
    if rho is None:
        rho = 50 * lam + 1
    target = 1 + 18.3 ** (np.log10(lam) + 1)
    dd = np.sum((Df * np.conj(Df)).real, axis=0)

    def cmat(r):
        return (Df / (dd + r)[None]).astype(cdtype)

    C = cmat(rho)
    Y = np.zeros((M, H, W), dtype=dtype)
    U = np.zeros_like(Y)
    Yprv = Y
    r = s = np.inf
    k = 1
    while k <= max_iter and (r > rel_tol or s > rel_tol):
        b = DSf + rho * sfft.rfft2(Y - U)
        Xf = (b - np.conj(Df) * np.sum(C * b, axis=0)[None]) / rho
        X = sfft.irfft2(Xf, s=(H, W)).astype(dtype, copy=False)
        Xr = X if relax == 1 else relax * X + (1 - relax) * Y
        V = Xr + U
        thr = dtype(lam / rho)
        U = np.clip(V, -thr, thr)   # = U + Xr - Y, since Y = shrink(V) = V - clip(V)
        Y = V - U
        nX, nY, nU = np.linalg.norm(X), np.linalg.norm(Y), np.linalg.norm(U)
        r = float(np.linalg.norm(X - Y) / max(nX, nY, 1e-30))
        s = float(np.linalg.norm(Yprv - Y) / max(nU, 1e-30))
        if auto_rho and k != 1:
            rsf = _rho_factor(r, s, target)
            if rsf != 1.0:
                rho *= rsf
                U = U / rsf
                C = cmat(rho)
        Yprv = Y
        k += 1
    return Y


def cbpdn_torch(D: np.ndarray, S: np.ndarray, lam: float, max_iter: int = 500, rho: float | None = None,
                rel_tol: float = 1e-3, relax: float = 1.8, auto_rho: bool = True) -> np.ndarray:
    """:func:`cbpdn` (float32) with the same iterates in exact arithmetic, computed with torch on
    the CPU with fewer passes over the ``(M, H, W)`` coefficient maps (the fast path before
    :func:`cbpdn_fast`; kept as its fallback where numba is missing).

    The ADMM X-step of :func:`cbpdn` is ``Xf = (b - conj(Df) sum_k C_k b_k) / rho`` with
    ``b = conj(Df) Sf + rho Zf``, ``Z = Y - U``, ``C = Df / (dd + rho)``, ``dd = sum_k |Df_k|^2``.
    Substituting ``b`` gives ``sum_k C_k b_k = (dd Sf + rho e) / (dd + rho)`` with
    ``e = sum_k Df_k Zf_k`` and hence, exactly,

        ``Xf_m = Zf_m + conj(Df_m) q``,   ``q = (Sf - e) / (dd + rho)``   (one map, not M).

    So ``X_m = Z_m + d_m (x) p`` with ``p = irfft2(q)``: multiplying by ``conj(Df_m)`` in the DFT
    domain is the circular cross-correlation with the ``kh x kw`` filter ``d_m``, which is
    computed directly as one matrix product (filters ``(M, kh*kw)`` times the ``kh*kw`` circular
    shifts of ``p``; about 2x cheaper here than ``M`` inverse FFTs) and accumulated onto ``Z`` in
    the same BLAS call. Per iteration this leaves one forward FFT of ``M`` maps and a handful
    of element-wise passes. The relaxation, soft threshold (``U = clip(V)``, ``Y = V - U``),
    residuals, stopping rule and adaptive rho (:func:`_rho_factor`) are those of :func:`cbpdn`;
    a rho change only recomputes the single map ``1 / (dd + rho)``. Results differ from
    :func:`cbpdn` by float32 rounding only (closer to the float64 solution than :func:`cbpdn`'s
    float32 run; tested). Why torch: it is already a dependency of the package (the network);
    its FFT and GEMM are faster than scipy's/numpy's here.
    """
    import torch

    H, W = S.shape
    kh, kw, M = D.shape
    filt = torch.from_numpy(np.ascontiguousarray(np.moveaxis(D, 2, 0))).float()   # (M, kh, kw)
    Dp = torch.zeros((M, H, W), dtype=torch.float32)
    Dp[:, :kh, :kw] = filt
    Df = torch.fft.rfft2(Dp)
    Sf = torch.fft.rfft2(torch.from_numpy(np.ascontiguousarray(S)).float())
    dd = (Df.real ** 2 + Df.imag ** 2).sum(dim=0)
    if rho is None:
        rho = 50 * lam + 1
    target = 1 + 18.3 ** (np.log10(lam) + 1)
    inv = 1.0 / (dd + rho)
    # the circular shifts of p: A[(u, v), (y, x)] = p[(y + u) % H, (x + v) % W], u < kh, v < kw,
    # read from p wrap-padded by kh-1 rows and kw-1 columns
    rows, cols = torch.arange(H + kh - 1) % H, torch.arange(W + kw - 1) % W
    Wp = W + kw - 1
    Dm = filt.reshape(M, kh * kw)
    # every (M, H, W) array lives in a buffer allocated once and reused by every iteration
    Y = torch.zeros((M, H, W), dtype=torch.float32)
    U = torch.zeros_like(Y)
    Z = torch.empty_like(Y)          # Z = Y - U, then X = Z + d (x) p, then X - Y
    V = torch.empty_like(Y)          # relaxed X + U, then the new Y
    A = torch.empty((kh, kw, H, W), dtype=torch.float32)
    Zf = torch.empty(Df.shape, dtype=Df.dtype)
    r = s = np.inf
    k = 1
    while k <= max_iter and (r > rel_tol or s > rel_tol):
        torch.sub(Y, U, out=Z)
        e = torch.fft.rfft2(Z, out=Zf).mul_(Df).sum(dim=0)
        p = torch.fft.irfft2((Sf - e).mul_(inv), s=(H, W))
        A.copy_(p[rows][:, cols].as_strided((kh, kw, H, W), (Wp, 1, Wp, 1)))
        X = Z.view(M, H * W).addmm_(Dm, A.view(kh * kw, H * W)).view(M, H, W)   # X = Z + d (x) p
        torch.add(U, X, alpha=relax, out=V)                                     # relax X + (1-relax) Y + U
        if relax != 1:
            V.add_(Y, alpha=1 - relax)
        thr = float(np.float32(lam / rho))
        torch.clamp(V, -thr, thr, out=U)   # = U + Xr - Y, since Y = shrink(V) = V - clip(V)
        Y, V = V.sub_(U), Y                # V now holds the previous Y
        nX = float(torch.linalg.vector_norm(X))
        nY = float(torch.linalg.vector_norm(Y))
        nU = float(torch.linalg.vector_norm(U))
        r = float(torch.linalg.vector_norm(X.sub_(Y))) / max(nX, nY, 1e-30)
        s = float(torch.linalg.vector_norm(V.sub_(Y))) / max(nU, 1e-30)
        if auto_rho and k != 1:
            rsf = _rho_factor(r, s, target)
            if rsf != 1.0:
                rho *= rsf
                U.div_(float(rsf))
                inv = 1.0 / (dd + rho)
        k += 1
    return Y.numpy()


def _csr_update_py(Y, U, C, relax, thr, filt, sacc, norms):  # pragma: no cover - run compiled
    """One pass of :func:`cbpdn_fast` over the coefficient maps, row by row (see there):
    ``X = Y - U + C`` (``C`` stored in blocks of rows: row ``y`` of map ``m`` is
    ``C[y // R, m, y % R]``), ``V = relax X + (1 - relax) Y + U``, ``U <- clip(V, -thr, thr)``,
    ``Y <- V - U`` in place; the five squared norms of the stopping rule into ``norms``; and the
    non-zeros of the new ``Y`` scattered through their filters into ``sacc`` (the synthesis
    ``sum_m d_m * Y_m``, wrap-padded: ``sacc`` is ``(H + kh - 1, W + kw - 1)``, float64)."""
    M, H, W = Y.shape
    kh, kw = filt.shape[1], filt.shape[2]
    Wp = sacc.shape[1]
    R = C.shape[2]
    sf = sacc.ravel()
    sf[:] = 0.0
    r1 = np.float32(relax)
    r0 = np.float32(1.0 - relax)
    nthr = -thr
    idx = np.empty(W, np.int64)
    Yi = Y.reshape(M * H * W).view(np.uint32)       # Y is C-contiguous (updated in place)
    sX = 0.0
    sY = 0.0
    sU = 0.0
    sXY = 0.0
    sdY = 0.0
    for m in range(M):
        fm = filt[m]
        for y in range(H):
            Ym = Y[m, y]
            Um = U[m, y]
            Cm = C[y // R, m, y % R]
            # float32 partial sums per row (vectorised), summed in float64
            aX = np.float32(0.0)
            aY = np.float32(0.0)
            aU = np.float32(0.0)
            aXY = np.float32(0.0)
            adY = np.float32(0.0)
            aN = np.float32(0.0)                       # non-zeros of the new row (exact count)
            for x in range(W):
                yv = Ym[x]
                uv = Um[x]
                xv = (yv - uv) + Cm[x]
                v = (r1 * xv + r0 * yv) + uv
                un = min(max(v, nthr), thr)
                yn = v - un
                aX += xv * xv
                aY += yn * yn
                aU += un * un
                aXY += (xv - yn) * (xv - yn)
                adY += (yv - yn) * (yv - yn)
                aN += np.float32(1.0) if yn != 0.0 else np.float32(0.0)
                Ym[x] = yn
                Um[x] = un
            sX += aX
            sY += aY
            sU += aU
            sXY += aXY
            sdY += adY
            # list of the non-zeros: four bit patterns tested at once, then each value (so a
            # -0.0 is not counted); stops at the last one, and at the end of the row in any case
            # (a NaN, which fastmath assumes away, could make the count and the tests disagree:
            # before session 16 this loop then ran past the row and wrote out of bounds)
            cnt = int(aN)
            base = (m * H + y) * W
            n = 0
            x = 0
            while n < cnt and x + 4 <= W:
                if (Yi[base + x] | Yi[base + x + 1] | Yi[base + x + 2] | Yi[base + x + 3]) != 0:
                    for j in range(x, x + 4):
                        if Ym[j] != 0.0:
                            idx[n] = j
                            n += 1
                x += 4
            while n < cnt and x < W:
                if Ym[x] != 0.0:
                    idx[n] = x
                    n += 1
                x += 1
            if kw == 8:                                # the authors' 8x8 filters: unrolled
                for t in range(n):
                    x = idx[t]
                    cd = np.float64(Ym[x])
                    for u in range(kh):
                        b = (y + u) * Wp + x
                        fr = fm[u]
                        a0 = sf[b] + cd * fr[0]
                        a1 = sf[b + 1] + cd * fr[1]
                        a2 = sf[b + 2] + cd * fr[2]
                        a3 = sf[b + 3] + cd * fr[3]
                        a4 = sf[b + 4] + cd * fr[4]
                        a5 = sf[b + 5] + cd * fr[5]
                        a6 = sf[b + 6] + cd * fr[6]
                        a7 = sf[b + 7] + cd * fr[7]
                        sf[b] = a0
                        sf[b + 1] = a1
                        sf[b + 2] = a2
                        sf[b + 3] = a3
                        sf[b + 4] = a4
                        sf[b + 5] = a5
                        sf[b + 6] = a6
                        sf[b + 7] = a7
            else:
                for t in range(n):
                    x = idx[t]
                    cd = np.float64(Ym[x])
                    for u in range(kh):
                        b = (y + u) * Wp + x
                        fr = fm[u]
                        for v in range(kw):
                            sf[b + v] += cd * fr[v]
    norms[0] = sX
    norms[1] = sY
    norms[2] = sU
    norms[3] = sXY
    norms[4] = sdY


def _csr_fold_py(sacc, out):  # pragma: no cover - run compiled
    """``out = sacc`` folded circularly onto ``out.shape`` (the wrap-around of the padding)."""
    H, W = out.shape
    out[:, :] = 0.0
    for i in range(sacc.shape[0]):
        ii = i % H
        for j in range(sacc.shape[1]):
            out[ii, j % W] += sacc[i, j]


def _csr_wrap_py(p, pp):  # pragma: no cover - run compiled
    """``pp[i, j] = p[i % H, j % W]`` (float64 -> float32) for the circular correlation."""
    H, W = p.shape
    for i in range(pp.shape[0]):
        ii = i % H
        for j in range(pp.shape[1]):
            pp[i, j] = np.float32(p[ii, j % W])


def _csr_spectra_py(eY, eU, eYn, Sf, dd, inv, q, relax):  # pragma: no cover - run compiled
    """The single-map spectral updates of :func:`cbpdn_fast`: with ``eYn = E(Y_new)`` given,
    ``E(U) <- relax (E(Z) + dd q) + (1 - relax) E(Y) + E(U) - E(Y_new)``, ``E(Y) <- E(Y_new)``
    (when ``eYn`` is not ``None``), then the next ``q = (Sf - E(Z)) / (dd + rho)``."""
    H, Wf = q.shape
    r0 = 1.0 - relax
    for i in range(H):
        for j in range(Wf):
            ey = eY[i, j]
            eu = eU[i, j]
            if eYn is not None:
                eu = relax * ((ey - eu) + dd[i, j] * q[i, j]) + r0 * ey + eu - eYn[i, j]
                ey = eYn[i, j]
                eY[i, j] = ey
                eU[i, j] = eu
            q[i, j] = (Sf[i, j] - (ey - eu)) * inv[i, j]


@functools.lru_cache(maxsize=1)
def _csr_kernels():
    """The numba-compiled kernels of :func:`cbpdn_fast` (``None`` without numba). ``fastmath``
    (reassociation included) only affects the order of the float32 partial sums of the norms
    and the FMA contraction; compiled once per machine (``cache=True``, where writable:
    :func:`mutualfuse._jit.njit`)."""
    try:
        import numba  # noqa: F401  (compiled through _jit.njit)
    except ImportError:          # pragma: no cover - numba is a dependency
        return None
    from ..._jit import njit

    jit = functools.partial(njit, nogil=True)
    return (jit(_csr_update_py, fastmath=True),
            jit(_csr_fold_py, fastmath={"nnan", "ninf", "nsz", "contract"}),
            jit(_csr_wrap_py, fastmath={"nnan", "ninf", "nsz", "contract"}),
            jit(_csr_spectra_py, fastmath={"nnan", "ninf", "nsz", "contract"}))


@contextlib.contextmanager
def _one_torch_thread(torch):
    """Run the block with PyTorch's intra-op pool at one thread, then restore the count.

    Why: every iteration of :func:`cbpdn_fast` makes a handful of tiny PyTorch calls (a strided
    copy of 0.25 M floats, a ``32 x 64 x 4096`` GEMM, two single-map FFTs; well under a
    millisecond each) between compiled passes. With more than one thread each call is an OpenMP
    parallel region of PyTorch's libgomp (MKL's GEMM and FFT run on the same pool), whose
    workers busy-wait for the next region and which waits for every worker at its end. Measured
    on a 2-core machine under load (session 27, ``csr`` on a 128x96 crop of tno-01): 1.2 CPU-s
    and 4 s wall at ``OMP_NUM_THREADS=1``, 15 CPU-s and 51 s wall at 2 threads (the calls one
    by one: the copy 0.05 -> 4.5 ms CPU, the GEMM 0.8 -> 6 ms). ``OMP_WAIT_POLICY=PASSIVE``
    removes much of it, which points at the spin-wait. One thread gives the same bytes (MKL's
    GEMM and FFT results do not depend on the thread count here: the thread-invariance tests).

    ``torch.set_num_threads`` sets the calling thread's OpenMP and MKL counts (thread-local), and
    also the count that a thread which first uses PyTorch while the block runs starts with;
    restored in any case, also on an exception. A count of 1 is left alone."""
    n = torch.get_num_threads()
    if n == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)


def cbpdn_fast(D: np.ndarray, S: np.ndarray, lam: float, max_iter: int = 500, rho: float | None = None,
               rel_tol: float = 1e-3, relax: float = 1.8, auto_rho: bool = True) -> np.ndarray:
    """:func:`cbpdn` with the same iterates in exact arithmetic (same relaxation, soft threshold,
    residuals, stopping rule and adaptive rho), without any FFT of the ``M`` coefficient maps.

    Notation as in :func:`cbpdn`: ``Z = Y - U``, ``Df`` the DFT of the zero-padded filters,
    ``dd = sum_m |Df_m|^2``, and ``E(A) = sum_m Df_m * DFT(A_m)`` (the DFT of the synthesis
    ``sum_m d_m * A_m``, one map). The Sherman-Morrison X-step of :func:`cbpdn` is exactly

        ``X_m = Z_m + d_m (x) p``,   ``p = irfft2(q)``,   ``q = (Sf - E(Z)) / (dd + rho)``

    (``(x)``: circular cross-correlation, ``conj(Df_m)`` in the DFT domain), so a step needs the
    maps only through ``E(Z) = E(Y) - E(U)``. Both are carried from step to step as single
    float64 spectra instead of being recomputed by ``M`` FFTs:

    * ``E(X) = E(Z) + dd q`` (exact: ``sum_m Df_m conj(Df_m) q = dd q``);
    * ``V = relax X + (1 - relax) Y + U`` is linear, so ``E(V)`` follows; ``U_new = clip(V)``,
      ``Y_new = V - U_new``, so ``E(U_new) = E(V) - E(Y_new)``;
    * ``Y_new`` (the soft-thresholded code) is sparse: 1-3 % non-zeros at the authors' settings
      after the first steps. ``E(Y_new)`` is computed from its non-zeros, each scattered through
      its ``kh x kw`` filter in float64, then one FFT of one map;
    * a rho change divides ``U`` and ``E(U)`` by the same factor.

    Per iteration this leaves two single-map float64 FFTs (torch: faster than scipy's here), the correlation ``d (x) p`` (float32 GEMMs:
    the ``M`` filters times the ``kh kw`` circular shifts of ``p``, torch, in blocks of ``R``
    rows so that the shifted copies of ``p`` stay in cache) and one
    compiled pass (numba, :func:`_csr_update_py`) over ``Y``, ``U`` and the correlation that
    does the relaxation, threshold, the five norms of the stopping rule and the scatter.
    ``Y`` and ``U`` are float32 as in :func:`cbpdn`; the spectra and ``p`` are float64, so the
    result is closer to the float64 solution than :func:`cbpdn`'s float32 run (tested). The
    carried spectra differ from a recomputation only by the float32 rounding of the stored
    maps. The iterations run with PyTorch at one thread (:func:`_one_torch_thread`: at 2 threads
    its tiny calls cost about 13 times the CPU). Falls back to :func:`cbpdn_torch` without numba.
    ``S`` must be finite (else a one-line :class:`~mutualfuse.errors.InputError`; a NaN or inf
    crashed the compiled pass before session 16).
    """
    if not np.isfinite(S).all():  # the compiled pass assumes finite data (fastmath); a NaN crashed it
        raise InputError("cbpdn_fast: S contains NaN or infinite values")
    kernels = _csr_kernels()
    if kernels is None:          # pragma: no cover
        return cbpdn_torch(D, S, lam, max_iter=max_iter, rho=rho, rel_tol=rel_tol, relax=relax,
                           auto_rho=auto_rho)
    update, fold, wrap, spectra = kernels
    import torch

    H, W = S.shape
    kh, kw, M = D.shape
    filt = np.ascontiguousarray(np.moveaxis(D, 2, 0), dtype=np.float64)          # (M, kh, kw)
    Dp = np.zeros((M, H, W))
    Dp[:, :kh, :kw] = filt
    Df = sfft.rfft2(Dp, workers=1)
    dd = np.sum(Df.real ** 2 + Df.imag ** 2, axis=0)
    Sf = sfft.rfft2(np.asarray(S, dtype=np.float64), workers=1)
    if rho is None:
        rho = 50 * lam + 1
    target = 1 + 18.3 ** (np.log10(lam) + 1)
    inv = 1.0 / (dd + rho)
    Dm = torch.from_numpy(filt.reshape(M, kh * kw).astype(np.float32))
    Hp, Wp = H + kh - 1, W + kw - 1
    R = max(1, min(H, 4096 // W))                 # rows per GEMM block (about 4096 pixels)
    nb = -(-H // R)
    pp = np.empty((nb * R + kh - 1, Wp), np.float32)   # p wrap-padded
    ppt = torch.from_numpy(pp)
    A = torch.empty((kh, kw, R, W), dtype=torch.float32)   # A[u, v, y, x] = p[(y0+y+u)%H, (x+v)%W]
    Y = np.zeros((M, H, W), np.float32)
    U = np.zeros((M, H, W), np.float32)
    C = np.empty((nb, M, R, W), np.float32)      # d (x) p, row y of map m at [y // R, m, y % R]
    Ct = torch.from_numpy(C).view(nb, M, R * W)
    A2 = A.view(kh * kw, R * W)
    shifts = [ppt[i * R:].as_strided((kh, kw, R, W), (Wp, 1, Wp, 1)) for i in range(nb)]
    sacc = np.empty((Hp, Wp))
    synth = np.empty((H, W))
    norms = np.zeros(5)
    eY = np.zeros_like(Sf)
    eU = np.zeros_like(Sf)
    q = np.empty_like(Sf)
    qt, synth_t = torch.from_numpy(q), torch.from_numpy(synth)   # views (float64 FFTs by torch)
    spectra(eY, eU, None, Sf, dd, inv, q, relax)             # q of the first step
    r = s = np.inf
    k = 1
    with _one_torch_thread(torch):   # tiny calls: one thread (see _one_torch_thread)
        while k <= max_iter and (r > rel_tol or s > rel_tol):
            wrap(torch.fft.irfft2(qt, s=(H, W)).numpy(), pp)
            for i in range(nb):
                A.copy_(shifts[i])
                torch.mm(Dm, A2, out=Ct[i])
            update(Y, U, C, relax, np.float32(lam / rho), filt, sacc, norms)
            fold(sacc, synth)
            nX, nY, nU, nXY, ndY = np.sqrt(norms)
            r = float(nXY / max(nX, nY, 1e-30))
            s = float(ndY / max(nU, 1e-30))
            if auto_rho and k != 1:
                rsf = _rho_factor(r, s, target)
                if rsf != 1.0:
                    rho *= rsf
                    U /= np.float32(rsf)
                    inv = 1.0 / (dd + rho)
            else:
                rsf = 1.0
            # E(X) = E(Z) + dd q; E(U_new) = E(V) - E(Y_new), then the next q
            spectra(eY, eU, torch.fft.rfft2(synth_t).numpy(), Sf, dd, inv, q, relax)
            if rsf != 1.0:
                eU /= rsf
                spectra(eY, eU, None, Sf, dd, inv, q, relax)
            k += 1
    return Y


def csr_synthesis(D: np.ndarray, X: np.ndarray) -> np.ndarray:
    """``ifft2(sum(fft2(D, H, W) .* fft2(X), 3), 'symmetric')``."""
    M, H, W = X.shape
    Dp = np.zeros((M, H, W))
    Dp[:, : D.shape[0], : D.shape[1]] = np.moveaxis(D, 2, 0)
    return sfft.irfft2(np.sum(sfft.rfft2(Dp) * sfft.rfft2(X.astype(np.float64)), axis=0), s=(H, W))


@register_method(
    "csr",
    family="sparse",
    cite="Y. Liu, X. Chen, R. K. Ward, Z. J. Wang, Image fusion with convolutional sparse "
    "representation, IEEE Signal Processing Letters 23(12):1882-1886, 2016",
    matlab="Yu Liu's CSR_Fusion.m + SPORCO cbpdn.m/lowpass.m (copy in thfylsty/Classic-and-"
    "state-of-the-art-image-fusion-methods ConvSR_Image_Fusion_Codes/CSR_Fusion_Author)",
    slow=True,
    params=CSR_PARAMS,
)
def csr(a: np.ndarray, b: np.ndarray, *, lam: float = 0.01, multifocus: bool = True,
        max_iter: int = 500, low_lambda: float = 5.0) -> np.ndarray:
    """CSR: convolutional sparse representation fusion (Liu et al. 2016).

    Algorithm (port of ``CSR_Fusion.m``): split each source into base + detail with SPORCO's
    Tikhonov ``lowpass(s, 5, 16)``; code the detail layers with CBPDN (:func:`cbpdn`,
    ``lambda = 0.01``, ``rho = 100*lambda + 0.5``, 500 iterations at most, relative tolerance
    1e-3); activity = L1 norm of the coefficient maps across filters, averaged over a
    ``(2r+1)^2`` window (``r = 9`` for multi-focus, ``3`` otherwise, zero padded as
    ``imfilter``); decision map ``A1 > A2`` picks the coefficient maps; base layers follow the
    same decision map for multi-focus and are averaged otherwise (``flag`` of the Matlab code,
    here ``multifocus``; the authors' ``Script.m`` sets ``flag = 1``).

    Departures: the convolutional dictionary (8x8x32, as Liu's ``dict.mat``) was learned by our
    own numpy port of SPORCO's ``cbpdndl`` on RoadScene detail layers, not the authors' file;
    the coefficient maps are float32 (see :func:`cbpdn`); the solver is :func:`cbpdn_fast`
    (no FFT of the coefficient maps, compiled update pass).

    Kept from the authors' code: the decision map lives on the coefficient maps, whose entry
    ``(y, x)`` synthesises pixels ``y..y+7, x..x+7`` (filters anchored top-left), and is applied
    unshifted to the base layers (pixel coordinates) with ``multifocus``: their choice is offset
    by about half a filter towards the top left (3-4 px on a synthetic half-blurred TNO crop,
    docs/baselines.md).
    """
    return _csr(a, b, lam, multifocus, max_iter, low_lambda, cbpdn_fast)


@with_params("csr", CSR_PARAMS)
def csr_reference(a: np.ndarray, b: np.ndarray, *, lam: float = 0.01, multifocus: bool = True,
                  max_iter: int = 500, low_lambda: float = 5.0) -> np.ndarray:
    """:func:`csr` with the numpy/scipy solver :func:`cbpdn` (the path before issue 14), kept as
    the reference the fast solver is tested against; same parameters as :func:`csr`."""
    return _csr(a, b, lam, multifocus, max_iter, low_lambda, cbpdn)


def _csr(a, b, lam, multifocus, max_iter, low_lambda, solver) -> np.ndarray:
    D = load_csr_dictionary()
    a_l, a_h = tikhonov_lowpass(a, low_lambda, 16)
    b_l, b_h = tikhonov_lowpass(b, low_lambda, 16)
    rho = 100 * lam + 0.5
    X1 = solver(D, a_h, lam, max_iter=max_iter, rho=rho)
    X2 = solver(D, b_h, lam, max_iter=max_iter, rho=rho)
    A1 = np.abs(X1).sum(axis=0, dtype=np.float64)
    A2 = np.abs(X2).sum(axis=0, dtype=np.float64)
    r = 9 if multifocus else 3
    AA1 = ndimage.uniform_filter(A1, 2 * r + 1, mode="constant")
    AA2 = ndimage.uniform_filter(A2, 2 * r + 1, mode="constant")
    dm = AA1 > AA2
    base = np.where(dm, a_l, b_l) if multifocus else 0.5 * (a_l + b_l)
    X = np.where(dm[None], X1, X2)
    return base + csr_synthesis(D, X)
