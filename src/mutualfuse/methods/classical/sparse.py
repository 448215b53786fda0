"""Sparse-representation fusion: ASR (Liu & Wang 2015) and CSR (Liu et al. 2016).

Both need a learned dictionary. Ours were trained once by ``scripts/train_sr_dictionary.py``
on RoadScene training images (never on a test set) and ship as ``data/asr_dict.npz`` and
``data/csr_dict.npy``; the script records its seed, images and settings in
``data/dictionaries.json``. The authors' own dictionaries (K-SVD, Matlab ``.mat``) are not
redistributable here, so numbers will differ slightly from runs with them.
"""
from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy import fft as sfft
from scipy import ndimage

from ...errors import ParameterError
from .. import register_method
from ._common import check_float, check_int

DATA_DIR = Path(__file__).with_name("data")
ASR_DICT_FILE = DATA_DIR / "asr_dict.npz"
CSR_DICT_FILE = DATA_DIR / "csr_dict.npy"
PATCH = 8


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
    (ompbox's ``omp2``, which Liu's code calls). ``D`` has unit-norm columns. All signals of
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


# --------------------------------------------------------------------------------------
# ASR
# --------------------------------------------------------------------------------------
_SOBEL_X = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])


def _grid(length: int, step: int) -> np.ndarray:
    g = np.arange(0, length - PATCH + 1, step)
    if g[-1] != length - PATCH:  # our addition: always cover the last row/column (see docstring)
        g = np.append(g, length - PATCH)
    return g


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
    mag = np.sqrt(dx * dx + dy * dy)
    with np.errstate(divide="ignore", invalid="ignore"):
        ori = np.degrees(np.arctan(dy / dx))
    ori = np.where(ori < 0, ori + 180.0, ori)
    idx = np.ceil(ori / (180.0 / n_orient))
    valid = np.isfinite(idx) & (idx >= 1) & (idx <= n_orient)
    b = np.where(valid, idx, 1).astype(np.intp) - 1
    hist = np.zeros((patches.shape[0], n_orient))
    np.add.at(hist, (np.repeat(np.arange(patches.shape[0]), PATCH * PATCH)[valid.ravel()], b.ravel()[valid.ravel()]),
              mag.ravel()[valid.ravel()])
    tot = hist.sum(axis=1)
    best = np.argmax(hist, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        dominant = hist[np.arange(len(best)), best] / tot > 1.5 / n_orient
    return np.where(dominant, best, -1)


@register_method(
    "asr",
    family="sparse",
    cite="Y. Liu, Z. Wang, Simultaneous image fusion and denoising with adaptive sparse "
    "representation, IET Image Processing 9(5):347-357, 2015",
    matlab="Yu Liu's ASR code (asr_fuse.m, Script.m; copy in Jilei-Hou/code-for-image-fusion "
    "Traditional-fusion-methods/Medical/ASR)",
    slow=True,
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
    RoadScene patches instead of the authors' K-SVD dictionaries; OMP vectorised over all
    patches (:func:`batch_omp`, equal to per-patch OMP); with ``stride > 1`` the last patch
    row/column is always included so that every pixel is covered (the Matlab grid would leave
    a border that it fills with the source average). The noise-adaptive tolerance of the
    paper (``epsilon + 8*C*sigma``) is reached by passing a larger ``epsilon``.
    """
    eps = check_float("asr", "epsilon", epsilon, lo=0.0, lo_open=True) / 255.0
    stride = check_int("asr", "stride", stride, 1, PATCH)
    max_atoms = check_int("asr", "max_atoms", max_atoms, 1, PATCH * PATCH)
    d0, dn = load_asr_dictionaries()
    n_orient = dn.shape[0]
    h, w = a.shape
    gy, gx = _grid(h, stride), _grid(w, stride)
    pa = sliding_window_view(a, (PATCH, PATCH))[gy][:, gx].reshape(-1, PATCH, PATCH)
    pb = sliding_window_view(b, (PATCH, PATCH))[gy][:, gx].reshape(-1, PATCH, PATCH)
    ma = pa.mean(axis=(1, 2))
    mb = pb.mean(axis=(1, 2))
    va = pa.var(axis=(1, 2))
    vb = pb.var(axis=(1, 2))
    cls = orientation_class(np.where((va > vb)[:, None, None], pa, pb), n_orient)
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
            rhomlt = np.sqrt(r / (s * target)) if s > 0 else 100.0
            if rhomlt < 1:
                rhomlt = 1 / rhomlt
            rhomlt = min(rhomlt, 100.0)
            rsf = 1.0
            if r > target * 1.2 * s:
                rsf = rhomlt
            if s > (1.2 / target) * r:
                rsf = 1 / rhomlt
            if rsf != 1.0:
                rho *= rsf
                U = U / rsf
                C = cmat(rho)
        Yprv = Y
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
    the solver runs in float32 (see :func:`cbpdn`).
    """
    lam = check_float("csr", "lam", lam, lo=0.0, lo_open=True)
    low_lambda = check_float("csr", "low_lambda", low_lambda, lo=0.0, lo_open=True)
    max_iter = check_int("csr", "max_iter", max_iter, 1)
    if not isinstance(multifocus, (bool, np.bool_)):
        raise ParameterError(f"method 'csr': multifocus must be true or false, got {multifocus!r}")
    D = load_csr_dictionary()
    a_l, a_h = tikhonov_lowpass(a, low_lambda, 16)
    b_l, b_h = tikhonov_lowpass(b, low_lambda, 16)
    rho = 100 * lam + 0.5
    X1 = cbpdn(D, a_h, lam, max_iter=max_iter, rho=rho)
    X2 = cbpdn(D, b_h, lam, max_iter=max_iter, rho=rho)
    A1 = np.abs(X1).sum(axis=0, dtype=np.float64)
    A2 = np.abs(X2).sum(axis=0, dtype=np.float64)
    r = 9 if multifocus else 3
    AA1 = ndimage.uniform_filter(A1, 2 * r + 1, mode="constant")
    AA2 = ndimage.uniform_filter(A2, 2 * r + 1, mode="constant")
    dm = AA1 > AA2
    base = np.where(dm, a_l, b_l) if multifocus else 0.5 * (a_l + b_l)
    X = np.where(dm[None], X1, X2)
    return base + csr_synthesis(D, X)
