"""Compiled (numba) per-row loops for the window-statistics metrics of Liu et al.'s
``imageFusionMetrics`` (Q_S, Q_W, Q_C, Q_Y, Q_G) and Han et al.'s VIFF.

Why compiled loops: the NumPy ports compute every local statistic (E[x], E[x²], E[x·y] over a
Gaussian window) with its own pair of ``scipy.ndimage.correlate1d`` passes over the full image
(including the zero-padded border that 'valid' throws away), and then combine them with a few
dozen whole-image array expressions. Here one loop per output row filters all the images and
products a metric needs, only where the 'valid' output needs them, and the per-pixel formula
follows on the same row, without full-size temporaries.

**Same arithmetic as the NumPy path.** :func:`_sep_row1_py`, :func:`_sep_rows3_py` and :func:`_sep_rows3r_py` (the
latter with each image row's products formed once and up to four taps per pass, :func:`_sym_taps_py`) sum in exactly the order of
``ndimage.correlate1d`` with a symmetric kernel (scipy's ``NI_Correlate1D``: the centre tap
times its weight, then the pairs from the outermost inwards, ``acc += (x[c-k] + x[c+k])·w[c-k]``;
axis 0 first, then axis 1), and the Sobel sums of :func:`_xydeas_grad_py` in the order of
``ndimage.correlate`` (nonzero taps in raster order from 0.0). The kernels are compiled without
``fastmath`` (no FMA contraction, no reassociation), so the filtered statistics equal
:func:`._common.sep_correlate_valid`'s bit for bit, and the per-pixel formulas use the same
operations in the same order as the NumPy expressions they replace (``error_model="numpy"``:
0/0 gives NaN as in NumPy). Only library functions (``exp``, ``atan``, ``log10``: libm instead of
NumPy's SIMD versions) can differ, by an ulp. **Two deliberate exceptions:** VIFF's Σ log10 of its VID/VIND
arguments is taken as log10 of their product (:func:`_log10_prod_py`; ~1e-16 per window in log10
units, measured ≤ 6.1e-16 relative in VIFF), instead of one ``log10`` per window. Means and sums over the maps stay in NumPy
(pairwise summation), on maps that the kernels write. **Q_G's one-pass kernel** (:func:`_xydeas_fused_py`, session 29) is
another: its orientation term comes from the gradient vectors instead of three angles, its
``exp`` and ``atan`` (:func:`_exp_sig_py`, :func:`_atan_pq_py`) are compiled with
``fastmath={'contract'}`` (FMA where the CPU has it, nothing else), and it sums each row itself
(eight partial sums): Q_G within a few ulp per pixel of ``liu_gradient._qg_numpy``. Q_M's
pass (:func:`_pww_py`) takes its exponentials from the same branch-free ``exp``
(:func:`_exp_floor_py`) and sums each block row in eight partial sums, so that its loop vectorises.

The kernels at the end serve Chen–Blum's Q_CB and Chen–Varshney's Q_CV (``structural.qcb`` /
``qcv``, VIFB's code, = ``Qcb@liu`` / ``Qcv@liu``): ``normalize1``, the spectrum products, the
border correction that turns a circular Gaussian filter into MATLAB's zero-padded ``filter2
'same'``, and the per-pixel and per-block formulas around their FFTs (see those functions).

Each kernel is written as a plain Python function (``*_py``) and compiled lazily by
:func:`kernels`, as in :mod:`.liu_phase`; the tests compare the compiled metrics with the NumPy
implementations kept in the metric modules (``_qs_numpy`` etc.).
"""
from __future__ import annotations

import functools
import math

import numpy as np

from .._jit import njit as _njit


def _sep_row1_py(x, g, step, i, t, orow):
    """Output row ``i`` of the separable 'valid' correlation of the image ``x`` with ``g ⊗ g``,
    taking every ``step``-th output in both directions (``[::step, ::step]`` of the full 'valid'
    output) into ``orow``; ``t`` (W,) is scratch for the vertical pass. Summation order of
    ``ndimage.correlate1d`` (see the module docstring)."""
    n = g.shape[0]
    h = n // 2
    W = x.shape[1]
    Wo = orow.shape[0]
    c = i * step + h
    wc = g[h]
    # (rows as 1-D views: the inner loops then run several times faster than with 2-D indexing)
    r0 = x[c]
    for j in range(W):
        t[j] = r0[j] * wc
    for k in range(h, 0, -1):
        wk = g[h - k]
        r1 = x[c - k]
        r2 = x[c + k]
        for j in range(W):
            t[j] += (r1[j] + r2[j]) * wk
    if step == 1:
        for j in range(Wo):
            orow[j] = t[j + h] * wc
        for k in range(h, 0, -1):
            wk = g[h - k]
            t1 = t[h - k:h - k + Wo]
            t2 = t[h + k:h + k + Wo]
            for j in range(Wo):
                orow[j] += (t1[j] + t2[j]) * wk
    else:
        # the same sums at every step-th column, from strided views of ``t`` (output j sits at
        # column j·step + h): the inner loop runs over the outputs, so it vectorises
        end = step * (Wo - 1) + 1
        tc = t[h:h + end:step]
        for j in range(Wo):
            orow[j] = tc[j] * wc
        for k in range(h, 0, -1):
            wk = g[h - k]
            t1 = t[h - k:h - k + end:step]
            t2 = t[h + k:h + k + end:step]
            for j in range(Wo):
                orow[j] += (t1[j] + t2[j]) * wk


def _sep_valid1_py(x, g, step, out):
    """All rows of :func:`_sep_row1_py`: ``out`` (Ho, Wo) (VIFF's decimation, ``step`` = 2)."""
    t = np.empty(x.shape[1])
    for i in range(out.shape[0]):
        _sep_row1(x, g, step, i, t, out[i])


#: the local sums of a source pair and the fused image, in the order of :func:`_sep_rows3_py`:
#: E[A], E[B], E[F], E[A²], E[B²], E[F²], E[AF], E[BF], E[AB] (image index, and the second factor
#: of a product or −1), for :func:`_filter2_point_py` and the tests
TRIPLE_PI = np.array([0, 1, 2, 0, 1, 2, 0, 1, 0])
TRIPLE_PJ = np.array([-1, -1, -1, 0, 1, 2, 2, 2, 1])


def _sep_rows3_py(A, B, F, g, nq, i, t, out):
    """Output row ``i`` of the separable 'valid' correlation with ``g ⊗ g`` (step 1) of the first
    ``nq`` (8 or 9) quantities of :data:`TRIPLE_PI` / :data:`TRIPLE_PJ`, into ``out`` (nq, Wo),
    with the vertical pass of all of them in one loop (each pixel loaded once per tap); ``t``
    (9, W) is scratch. Per quantity the operations and order of :func:`_sep_row1_py`, products
    formed per tap as ``x * y`` (NumPy's product image)."""
    n = g.shape[0]
    h = n // 2
    W = A.shape[1]
    Wo = out.shape[1]
    c = i + h
    wc = g[h]
    t0 = t[0]
    t1 = t[1]
    t2 = t[2]
    t3 = t[3]
    t4 = t[4]
    t5 = t[5]
    t6 = t[6]
    t7 = t[7]
    t8 = t[8]
    ra = A[c]
    rb = B[c]
    rf = F[c]
    for j in range(W):
        a = ra[j]
        b = rb[j]
        f = rf[j]
        t0[j] = a * wc
        t1[j] = b * wc
        t2[j] = f * wc
        t3[j] = (a * a) * wc
        t4[j] = (b * b) * wc
        t5[j] = (f * f) * wc
        t6[j] = (a * f) * wc
        t7[j] = (b * f) * wc
    if nq > 8:
        for j in range(W):
            t8[j] = (ra[j] * rb[j]) * wc
    for k in range(h, 0, -1):
        wk = g[h - k]
        ra1 = A[c - k]
        ra2 = A[c + k]
        rb1 = B[c - k]
        rb2 = B[c + k]
        rf1 = F[c - k]
        rf2 = F[c + k]
        for j in range(W):
            a1 = ra1[j]
            a2 = ra2[j]
            b1 = rb1[j]
            b2 = rb2[j]
            f1 = rf1[j]
            f2 = rf2[j]
            t0[j] += (a1 + a2) * wk
            t1[j] += (b1 + b2) * wk
            t2[j] += (f1 + f2) * wk
            t3[j] += (a1 * a1 + a2 * a2) * wk
            t4[j] += (b1 * b1 + b2 * b2) * wk
            t5[j] += (f1 * f1 + f2 * f2) * wk
            t6[j] += (a1 * f1 + a2 * f2) * wk
            t7[j] += (b1 * f1 + b2 * f2) * wk
        if nq > 8:
            for j in range(W):
                t8[j] += (ra1[j] * rb1[j] + ra2[j] * rb2[j]) * wk
    for q in range(nq):
        tq = t[q]
        oq = out[q]
        for j in range(Wo):
            oq[j] = tq[j + h] * wc
        for k in range(h, 0, -1):
            wk = g[h - k]
            u1 = tq[h - k:h - k + Wo]
            u2 = tq[h + k:h + k + Wo]
            for j in range(Wo):
                oq[j] += (u1[j] + u2[j]) * wk


def _sep_rows_xy_py(X, Y, g, i, t, out):
    """Output row ``i`` of the separable 'valid' correlation with ``g ⊗ g`` of E[X], E[X²] and
    E[X·Y] only, into ``out`` (3, Wo) (``t`` (3, W) scratch): the quantities 0, 3 and 6 of
    :func:`_sep_rows3_py` for (A, B, F) = (X, ·, Y), with the same operations in the same order
    (so the same values), when the other six are not needed."""
    n = g.shape[0]
    h = n // 2
    W = X.shape[1]
    Wo = out.shape[1]
    c = i + h
    wc = g[h]
    t0 = t[0]
    t1 = t[1]
    t2 = t[2]
    rx = X[c]
    ry = Y[c]
    for j in range(W):
        x = rx[j]
        t0[j] = x * wc
        t1[j] = (x * x) * wc
        t2[j] = (x * ry[j]) * wc
    for k in range(h, 0, -1):
        wk = g[h - k]
        rx1 = X[c - k]
        rx2 = X[c + k]
        ry1 = Y[c - k]
        ry2 = Y[c + k]
        for j in range(W):
            x1 = rx1[j]
            x2 = rx2[j]
            t0[j] += (x1 + x2) * wk
            t1[j] += (x1 * x1 + x2 * x2) * wk
            t2[j] += (x1 * ry1[j] + x2 * ry2[j]) * wk
    for q in range(3):
        tq = t[q]
        oq = out[q]
        for j in range(Wo):
            oq[j] = tq[j + h] * wc
        for k in range(h, 0, -1):
            wk = g[h - k]
            u1 = tq[h - k:h - k + Wo]
            u2 = tq[h + k:h + k + Wo]
            for j in range(Wo):
                oq[j] += (u1[j] + u2[j]) * wk


def _sym_taps_py(X, ri, ci, g, n, out):
    """``out[j]`` (j < n) = the symmetric correlation sum of scipy's ``NI_Correlate1D`` for the
    taps ``g`` (2h+1), tap ``d`` (−h … h) reading ``X[ri[h + d], ci[h + d] + j]``:
    ``X_0·g[h]``, then ``+= (X_−k + X_+k)·g[h − k]`` for k = h, h − 1, …, 1, each element's terms
    added one at a time in that order (the same values bit for bit as one pass per tap, as
    :func:`_sep_row1_py` adds them). The vertical pass (``ri``: the rows, ``ci`` = 0) and the
    horizontal one (``ri`` constant, ``ci`` = 0 … 2h: shifted views of one row) both use it.
    Up to four taps per pass over ``out``, the running sum kept in a register in between: a
    quarter of the loads and stores of one pass per tap (the loop over ``j`` still vectorises)."""
    h = g.shape[0] // 2
    c = X[ri[h], ci[h]:ci[h] + n]
    wc = g[h]
    k = h
    if k >= 3:
        w1 = g[h - k]
        w2 = g[h - k + 1]
        w3 = g[h - k + 2]
        a1 = X[ri[h - k], ci[h - k]:ci[h - k] + n]
        b1 = X[ri[h + k], ci[h + k]:ci[h + k] + n]
        a2 = X[ri[h - k + 1], ci[h - k + 1]:ci[h - k + 1] + n]
        b2 = X[ri[h + k - 1], ci[h + k - 1]:ci[h + k - 1] + n]
        a3 = X[ri[h - k + 2], ci[h - k + 2]:ci[h - k + 2] + n]
        b3 = X[ri[h + k - 2], ci[h + k - 2]:ci[h + k - 2] + n]
        for j in range(n):
            v = c[j] * wc
            v += (a1[j] + b1[j]) * w1
            v += (a2[j] + b2[j]) * w2
            v += (a3[j] + b3[j]) * w3
            out[j] = v
        k -= 3
    elif k == 2:
        w1 = g[0]
        w2 = g[1]
        a1 = X[ri[0], ci[0]:ci[0] + n]
        b1 = X[ri[4], ci[4]:ci[4] + n]
        a2 = X[ri[1], ci[1]:ci[1] + n]
        b2 = X[ri[3], ci[3]:ci[3] + n]
        for j in range(n):
            v = c[j] * wc
            v += (a1[j] + b1[j]) * w1
            v += (a2[j] + b2[j]) * w2
            out[j] = v
        k = 0
    elif k == 1:
        w1 = g[0]
        a1 = X[ri[0], ci[0]:ci[0] + n]
        b1 = X[ri[2], ci[2]:ci[2] + n]
        for j in range(n):
            v = c[j] * wc
            v += (a1[j] + b1[j]) * w1
            out[j] = v
        k = 0
    else:
        for j in range(n):
            out[j] = c[j] * wc
    while k >= 4:
        w1 = g[h - k]
        w2 = g[h - k + 1]
        w3 = g[h - k + 2]
        w4 = g[h - k + 3]
        a1 = X[ri[h - k], ci[h - k]:ci[h - k] + n]
        b1 = X[ri[h + k], ci[h + k]:ci[h + k] + n]
        a2 = X[ri[h - k + 1], ci[h - k + 1]:ci[h - k + 1] + n]
        b2 = X[ri[h + k - 1], ci[h + k - 1]:ci[h + k - 1] + n]
        a3 = X[ri[h - k + 2], ci[h - k + 2]:ci[h - k + 2] + n]
        b3 = X[ri[h + k - 2], ci[h + k - 2]:ci[h + k - 2] + n]
        a4 = X[ri[h - k + 3], ci[h - k + 3]:ci[h - k + 3] + n]
        b4 = X[ri[h + k - 3], ci[h + k - 3]:ci[h + k - 3] + n]
        for j in range(n):
            v = out[j]
            v += (a1[j] + b1[j]) * w1
            v += (a2[j] + b2[j]) * w2
            v += (a3[j] + b3[j]) * w3
            v += (a4[j] + b4[j]) * w4
            out[j] = v
        k -= 4
    if k >= 2:
        w1 = g[h - k]
        w2 = g[h - k + 1]
        a1 = X[ri[h - k], ci[h - k]:ci[h - k] + n]
        b1 = X[ri[h + k], ci[h + k]:ci[h + k] + n]
        a2 = X[ri[h - k + 1], ci[h - k + 1]:ci[h - k + 1] + n]
        b2 = X[ri[h + k - 1], ci[h + k - 1]:ci[h + k - 1] + n]
        for j in range(n):
            v = out[j]
            v += (a1[j] + b1[j]) * w1
            v += (a2[j] + b2[j]) * w2
            out[j] = v
        k -= 2
    if k == 1:
        w1 = g[h - 1]
        a1 = X[ri[h - 1], ci[h - 1]:ci[h - 1] + n]
        b1 = X[ri[h + 1], ci[h + 1]:ci[h + 1] + n]
        for j in range(n):
            out[j] += (a1[j] + b1[j]) * w1


def _ring_fill_py(A, B, F, nq, r, R):
    """Image row ``r``'s nq quantities into its ring slot ``r mod n`` of ``R`` (9, n, W)."""
    s = r % R.shape[1]
    ra = A[r]
    rb = B[r]
    rf = F[r]
    q0 = R[0, s]
    q1 = R[1, s]
    q2 = R[2, s]
    q3 = R[3, s]
    q4 = R[4, s]
    q5 = R[5, s]
    q6 = R[6, s]
    q7 = R[7, s]
    for j in range(ra.shape[0]):
        a = ra[j]
        b = rb[j]
        f = rf[j]
        q0[j] = a
        q1[j] = b
        q2[j] = f
        q3[j] = a * a
        q4[j] = b * b
        q5[j] = f * f
        q6[j] = a * f
        q7[j] = b * f
    if nq > 8:
        q8 = R[8, s]
        for j in range(ra.shape[0]):
            q8[j] = ra[j] * rb[j]


def _sep_rows3r_py(A, B, F, g, nq, i, t, R, ri, ci, hi, out):
    """:func:`_sep_rows3_py` (the same values bit for bit) for output rows taken in order
    i = 0, 1, 2, … (each call after the previous row's): the products of each image row are
    formed once (in the ring ``R``, :func:`_ring_fill_py`) instead of once per window row, and
    both passes add up to four taps per pass (:func:`_sym_taps_py`). ``R`` (9, n, W) holds the
    quantities of :data:`TRIPLE_PI` / :data:`TRIPLE_PJ` of the last n image rows (image row r in
    slot r mod n); ``t`` (9, W) the vertical sums; ``ri``, ``ci``, ``hi`` (2h+1) int64 scratch
    (the slots of the window's rows, zeros, 0 … 2h); ``out`` (nq, Wo). :func:`_ring3_py` makes
    the scratch."""
    n = g.shape[0]
    W = A.shape[1]
    Wo = out.shape[1]
    if i == 0:
        for r in range(n - 1):
            _ring_fill(A, B, F, nq, r, R)
        for d in range(n):
            ci[d] = 0
            hi[d] = d
    _ring_fill(A, B, F, nq, i + n - 1, R)
    for d in range(n):
        ri[d] = (i + d) % n
    for q in range(nq):
        _sym_taps(R[q], ri, ci, g, W, t[q])
    for d in range(n):
        ci[d] = 0
    for q in range(nq):
        for d in range(n):
            ci[d] = q
        _sym_taps(t, ci, hi, g, Wo, out[q])
    for d in range(n):
        ci[d] = 0


def _ring3_py(A, g):
    """The scratch of :func:`_sep_rows3r_py` for images like ``A`` and the taps ``g``:
    (t, R, ri, ci, hi)."""
    n = g.shape[0]
    W = A.shape[1]
    return (np.empty((9, W)), np.empty((9, n, W)), np.zeros(n, dtype=np.int64),
            np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64))


def _sep_valid3_py(A, B, F, g, out):
    """All rows of :func:`_sep_rows3r_py`: ``out`` (nq, Ho, Wo) (for the tests)."""
    nq, Ho, Wo = out.shape
    t, R, ri, ci, hi = _ring3(A, g)
    row = np.empty((9, Wo))
    for i in range(Ho):
        _sep_rows3r(A, B, F, g, nq, i, t, R, ri, ci, hi, row)
        for q in range(nq):
            oq = out[q, i]
            rq = row[q]
            for j in range(Wo):
                oq[j] = rq[j]




def _piella_py(A, B, F, g, C1, C2, val, cw):
    """``metricPeilla.m`` per window: ``val`` = λ·SSIM(F,A) + (1−λ)·SSIM(F,B) and ``cw`` =
    max(σ_A², σ_B²) (after the 0.5 added where σ_A² + σ_B² = 0), the operations of
    ``liu_structural._piella_terms`` / ``_local_stats`` / ``_ssim_map``."""
    Ho, Wo = val.shape
    t, R, ri, ci, hi = _ring3(A, g)
    s = np.empty((9, Wo))
    s0, s1_, s2_, s3, s4, s5, s6, s7 = s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]  # row views (1-D indexing, cheaper than 2-D)
    for i in range(Ho):
        _sep_rows3r(A, B, F, g, 8, i, t, R, ri, ci, hi, s)
        vrow = val[i]
        crow = cw[i]
        for j in range(Wo):  # (1-D row views: cheaper than 2-D indexing)
            ma = s0[j]
            mb = s1_[j]
            mf = s2_[j]
            saa = s3[j] - ma * ma
            sbb = s4[j] - mb * mb
            sff = s5[j] - mf * mf
            sfa = s6[j] - mf * ma
            sfb = s7[j] - mf * mb
            m1 = ((2 * mf * ma + C1) * (2 * sfa + C2)) / ((mf * mf + ma * ma + C1) * (sff + saa + C2))
            m2 = ((2 * mf * mb + C1) * (2 * sfb + C2)) / ((mf * mf + mb * mb + C1) * (sff + sbb + C2))
            test = 0.5 if saa + sbb == 0 else 0.0
            s1 = saa + test
            s2 = sbb + test
            lam = s1 / (s1 + s2)
            vrow[j] = lam * m1 + (1 - lam) * m2
            crow[j] = s1 if s1 >= s2 else s2


def _yang_sensitive_py(s, with_ab, mu_den, rel, flag):
    """The noise-sensitivity test of ``liu_structural._yang_filtered`` on one row of sums ``s``
    (9, Wo) in the :data:`TRIPLE_PI` order, into ``flag``: for every tested pair (x, y) (A–F and
    B–F, and A–B when ``with_ab``) |σ_x²|, |σ_y²| or |σ_xy| ≤ rel·(E[xx] + E[yy]); with
    ``mu_den`` also |(σ_AF) + (σ_BF)| ≤ rel·((E[AA] + E[BB]) + E[FF]) (Q_C's μ denominator).
    The same operations as the NumPy test."""
    s0, s1, s2, s3, s4, s5, s6, s7, s8 = s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8]  # row views (1-D indexing, cheaper than 2-D)
    for j in range(flag.shape[0]):
        a = s0[j]
        b = s1[j]
        f = s2[j]
        aa = s3[j]
        bb = s4[j]
        ff = s5[j]
        af = s6[j]
        bf = s7[j]
        va = abs(aa - a * a)
        vb = abs(bb - b * b)
        vf = abs(ff - f * f)
        lim = rel * (aa + ff)
        hit = (va <= lim) | (vf <= lim) | (abs(af - a * f) <= lim)
        lim = rel * (bb + ff)
        hit = hit | (vb <= lim) | (vf <= lim) | (abs(bf - b * f) <= lim)
        if with_ab:
            lim = rel * (aa + bb)
            hit = hit | (va <= lim) | (vb <= lim) | (abs(s8[j] - a * b) <= lim)
        if mu_den:
            sm = (af - a * f) + (bf - b * f)
            hit = hit | (abs(sm) <= rel * (aa + bb + ff))
        flag[j] = hit


def _ssim_yang_at_py(mu1, mu2, e11, e22, e12):
    """``ssim_yang`` at one window: (map value, σ1², σ2², σ12), the operations of
    ``liu_structural._ssim_yang``."""
    mu1_sq = mu1 * mu1
    mu2_sq = mu2 * mu2
    mu1_mu2 = mu1 * mu2
    sigma1_sq = e11 - mu1_sq
    sigma2_sq = e22 - mu2_sq
    sigma12 = e12 - mu1_mu2
    C = 2e-16
    m = ((2 * mu1_mu2 + C) * (2 * sigma12 + C)) / ((mu1_sq + mu2_sq + C) * (sigma1_sq + sigma2_sq + C))
    return m, sigma1_sq, sigma2_sq, sigma12


def _qc_row_py(s, orow):
    """Q_C's score of one row of windows from their (refined) sums ``s``, the operations of
    ``liu_structural._qc_numpy``."""
    s0, s1, s2, s3, s4, s5, s6, s7 = s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]  # row views (1-D indexing, cheaper than 2-D)
    for j in range(orow.shape[0]):
        m2, _, _, s_af = _ssim_yang_at(s0[j], s2[j], s3[j], s5[j], s6[j])
        m3, _, _, s_bf = _ssim_yang_at(s1[j], s2[j], s4[j], s5[j], s7[j])
        mu = s_af / (s_af + s_bf)
        v = mu * m2 + (1 - mu) * m3
        v = 0.0 if mu < 0 else v
        v = 1.0 if mu > 1 else v
        orow[j] = v


def _qy_row_py(s, orow):
    """Q_Y's score of one row of windows from their (refined) sums ``s``, the operations of
    ``liu_structural._qy_numpy`` (including its NaN propagation through ``q1 · binmap``)."""
    s0, s1, s2, s3, s4, s5, s6, s7, s8 = s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8]  # row views (1-D indexing, cheaper than 2-D)
    for j in range(orow.shape[0]):
        m1, v1, v2, _ = _ssim_yang_at(s0[j], s1[j], s3[j], s4[j], s8[j])
        m2, _, _, _ = _ssim_yang_at(s0[j], s2[j], s3[j], s5[j], s6[j])
        m3, _, _, _ = _ssim_yang_at(s1[j], s2[j], s4[j], s5[j], s7[j])
        binmap = 1.0 if m1 >= 0.75 else 0.0
        lam = v1 / (v1 + v2)
        q1 = (lam * m2 + (1 - lam) * m3) * binmap
        mx = m2 if m2 >= m3 else m3  # np.fmax: the other one where one is NaN
        mx = m3 if m2 != m2 else mx
        mx = m2 if m3 != m3 else mx
        q2 = mx * (1.0 - binmap)
        orow[j] = q1 + q2


def _split_py(a):
    """Veltkamp/Dekker split of a double into two 26-bit halves (``liu_structural._split``)."""
    c = 134217729.0 * a
    hi = c - (c - a)
    return hi, a - hi


def _fma_py(x, w, acc, bits):
    """Correctly rounded ``acc + x*w`` for one element: ``liu_structural._fma`` (Boldo &
    Melquiond's emulation: Dekker's exact product, 2Sum, the error terms added with rounding to
    odd) with the same operations in the same order. ``bits``: a 1-element float64 scratch array
    whose int64 view gives the last mantissa bit (rounding to odd steps one ulp towards ``r``:
    ±1 on the bit pattern, +1 when that increases the magnitude)."""
    xh, xl = _split(x)
    wh, wl = _split(w)
    p = x * w
    e = ((xh * wh - p) + xh * wl + xl * wh) + xl * wl
    s = acc + p
    bb = s - acc
    t = (acc - (s - bb)) + (p - bb)
    v = t + e
    bb = v - t
    r = (t - (v - bb)) + (e - bb)
    if r != 0:
        bits[0] = v
        ib = bits.view(np.int64)
        if (ib[0] & 1) == 0:
            if (r > 0) == (v > 0):
                ib[0] += 1
            else:
                ib[0] -= 1
            v = bits[0]
    return s + v


def _triple_img_py(A, B, F, k):
    """Image ``k`` of (A, B, F)."""
    if k == 0:
        return A
    if k == 1:
        return B
    return F


def _filter2_point_py(A, B, F, nq, w, i, j, fused, bits, e):
    """``liu_structural.filter2_valid_at`` at output position (i, j) for the first ``nq``
    quantities of :data:`TRIPLE_PI` / :data:`TRIPLE_PJ` of (A, B, F), into ``e``:
    Octave/OpenBLAS's ``filter2(w, x, 'valid')`` (kernel columns last to first, rows last to
    first, from 0; fused multiply-adds (emulated, :func:`_fma_py`) when ``fused``, i.e. on
    output rows below ``H & -16``, else a plain multiply and add)."""
    m, n = w.shape
    for q in range(nq):
        a = _triple_img(A, B, F, TRIPLE_PI[q])
        pb = TRIPLE_PJ[q]
        b = _triple_img(A, B, F, pb)
        acc = 0.0
        for c in range(n - 1, -1, -1):
            for r in range(m - 1, -1, -1):
                x = a[i + r, j + c]
                if pb >= 0:
                    x = x * b[i + r, j + c]
                if fused:
                    acc = _fma(x, w[r, c], acc, bits)
                else:
                    acc = acc + x * w[r, c]
        e[q] = acc


def _filter2_at_py(A, B, F, w, ii, jj, E):
    """:func:`_filter2_point_py` at the positions (ii, jj): ``E[:, ii[k], jj[k]]`` (for the tests)."""
    nq = E.shape[0]
    lim = E.shape[1] & -16
    bits = np.empty(1)
    e = np.empty(9)
    for k in range(ii.shape[0]):
        _filter2_point(A, B, F, nq, w, ii[k], jj[k], ii[k] < lim, bits, e)
        for q in range(nq):
            E[q, ii[k], jj[k]] = e[q]


def _yang_py(A, B, F, g, w, nq, mu_den, rel, qy, out):
    """Q_C (``qy`` false, ``nq`` = 8) or Q_Y (``qy`` true, ``nq`` = 9) per window, one output
    row at a time: the local sums by the separable filter (:func:`_sep_rows3_py`); where the
    noise-sensitivity test (:func:`_yang_sensitive_py`, threshold ``rel``) marks a window, all
    its sums recomputed in Octave's order with FMA (:func:`_filter2_point_py`); then the scores
    (:func:`_qc_row_py` / :func:`_qy_row_py`). The same values as
    ``liu_structural._yang_filtered`` followed by the NumPy formulas, without storing the sums."""
    Ho, Wo = out.shape
    t, R, ri, ci, hi = _ring3(A, g)
    s = np.zeros((9, Wo))
    flag = np.empty(Wo, dtype=np.bool_)
    e = np.empty(9)
    bits = np.empty(1)
    lim = Ho & -16
    for i in range(Ho):
        _sep_rows3r(A, B, F, g, nq, i, t, R, ri, ci, hi, s)
        _yang_sensitive(s, nq > 8, mu_den, rel, flag)
        for j in range(Wo):
            if flag[j]:
                _filter2_point(A, B, F, nq, w, i, j, i < lim, bits, e)
                for q in range(nq):
                    s[q, j] = e[q]
        if qy:
            _qy_row(s, out[i])
        else:
            _qc_row(s, out[i])


def _atan_reduced_py(num, den, y0, extra):
    """The part of Cephes' ``atan`` that :func:`_atan_py` and :func:`_atan_pq_py` share: with the
    reduced argument x = num/den (|x| ≤ 0.66) and the reduction's offset y0 (0, π/4 or π/2, with
    its low part ``extra``), y0 + (x + x·z·P(z)/Q(z)) + extra, z = x². Inlined by numba
    (``inline='always'``) into both, so each keeps its own compile flags (:func:`_atan_pq_py`: FMA
    contraction; :func:`_atan_py`: none) and the values they had with their own copies."""
    xr = num / den
    z = xr * xr
    pz = (((-8.750608600031904122785e-1 * z - 1.615753718733365076637e1) * z
           - 7.500855792314704667340e1) * z - 1.228866684490136173410e2) * z - 6.485021904942025371773e1
    qz = ((((z + 2.485846490142306297962e1) * z + 1.650270098316988542046e2) * z
           + 4.328810604912902668951e2) * z + 4.853903996359136964868e2) * z + 1.945506571482613964425e2
    z = z * pz / qz
    z = xr * z + xr
    z = z + extra
    return y0 + z


def _atan_py(x):
    """arctan(x) by Cephes' ``atan.c`` (S. L. Moshier: reduction to |x| ≤ 0.66 by
    x → (x − 1)/(x + 1) + π/4 or −1/x + π/2, then a degree-4/5 rational function; rated
    ≤ 1.2e-16 relative over the whole line), written without branches (the three reductions
    by selects) so that a loop of it vectorises, which libm's ``atan`` (a call per value) does
    not: Q_G's angles. Differs from NumPy's ``arctan`` by at most a few ulp (the tests measure
    it); NaN gives NaN, ±inf ±π/2, the sign of ±0 kept."""
    ax = abs(x)
    big = ax > 2.41421356237309504880
    mid = ax > 0.66
    num = -1.0 if big else (ax - 1.0 if mid else ax)
    den = ax if big else (ax + 1.0 if mid else 1.0)
    y0 = 1.57079632679489661923 if big else (0.78539816339744830962 if mid else 0.0)
    extra = 6.123233995736765886130e-17 if big else (3.061616997868382943065e-17 if mid else 0.0)
    return math.copysign(_atan_reduced(num, den, y0, extra), x)


def _atan_rows_py(x, out):
    """:func:`_atan_py` of every element of the 2-D ``x`` into ``out`` (for the tests)."""
    for i in range(x.shape[0]):
        xr = x[i]
        o = out[i]
        for j in range(x.shape[1]):
            o[j] = _atan(xr[j])


def _exp_sig_rows_py(x, out):
    """:func:`_exp_sig_py` of every element of the 2-D ``x`` into ``out`` (for the tests)."""
    for i in range(x.shape[0]):
        xr = x[i]
        o = out[i]
        for j in range(x.shape[1]):
            o[j] = _exp_sig(xr[j])


def _exp_floor_rows_py(x, lo, out):
    """:func:`_exp_floor_py` of every element of the 2-D ``x`` with the floor ``lo`` into ``out``
    (for the tests)."""
    for i in range(x.shape[0]):
        xr = x[i]
        o = out[i]
        for j in range(x.shape[1]):
            o[j] = _exp_floor(xr[j], lo)

def _atan_pq_rows_py(p, q, out):
    """:func:`_atan_pq_py` of every pair of elements of the 2-D ``p``, ``q`` into ``out`` (for
    the tests)."""
    for i in range(p.shape[0]):
        pr = p[i]
        qr = q[i]
        o = out[i]
        for j in range(p.shape[1]):
            o[j] = _atan_pq(pr[j], qr[j])


def _sobel_sums_py(r0, r1, r2, j):
    """The Sobel sums (gx, gy) at column ``j`` + 1 of three zero-padded rows ``r0``, ``r1``,
    ``r2`` (rows i − 1, i, i + 1): Sobel x = [-1 0 1; -2 0 2; -1 0 1], y = its transpose, in
    ``ndimage.correlate``'s order (nonzero taps in raster order, from 0.0), so the same values bit
    for bit as ``liu_gradient._sobel``. Inlined by numba into its callers' loops, which vectorise."""
    sx = 0.0
    sx += r0[j] * -1.0
    sx += r0[j + 2] * 1.0
    sx += r1[j] * -2.0
    sx += r1[j + 2] * 2.0
    sx += r2[j] * -1.0
    sx += r2[j + 2] * 1.0
    sy = 0.0
    sy += r0[j] * -1.0
    sy += r0[j + 1] * -2.0
    sy += r0[j + 2] * -1.0
    sy += r2[j] * 1.0
    sy += r2[j + 1] * 2.0
    sy += r2[j + 2] * 1.0
    return sx, sy


def _xydeas_grad_py(A, B, F, r0, g, r):
    """For the image rows r0 .. r0 + nb − 1 (nb = ``g.shape[1]``) and each image k (A, B, F):
    Sobel strength ``g[k]`` = sqrt(gx² + gy²) and the angle ``r[k]`` = arctan(gy/gx) with gx = 0
    replaced by 1e-5, as ``liu_gradient._sobel`` (arctan by :func:`_atan_py`, vectorised: within
    a few ulp of NumPy's).

    The sums of ``filter2(sobel, x, 'same')`` with zero padding (Sobel x = [-1 0 1; -2 0 2; -1 0 1],
    y = its transpose) in ``ndimage.correlate``'s order (nonzero taps in raster order, from 0.0),
    so the same values bit for bit, read from three zero-padded copies of the rows i − 1, i, i + 1
    (a pixel outside the image is 0.0 there): no bounds tests in the loop over the columns, which
    vectorises (the per-pixel ``_sobel_at`` with bounds tests it replaced was removed in session 28)."""
    nb, W = g.shape[1], g.shape[2]
    H = A.shape[0]
    p = np.zeros((3, W + 2))
    p0 = p[0]
    p1 = p[1]
    p2 = p[2]
    for k in range(3):
        x = _triple_img(A, B, F, k)
        gk = g[k]
        rk = r[k]
        for ib in range(nb):
            i = r0 + ib
            for d in range(3):
                pd = p[d]
                ii = i - 1 + d
                if 0 <= ii < H:
                    xr = x[ii]
                    for j in range(W):
                        pd[j + 1] = xr[j]
                else:
                    for j in range(W + 2):
                        pd[j] = 0.0
            grow = gk[ib]
            rrow = rk[ib]
            for j in range(W):
                sx, sy = _sobel_sums(p0, p1, p2, j)
                grow[j] = math.sqrt(sx * sx + sy * sy)
                dx = sx + 0.00001 if sx == 0 else sx
                rrow[j] = _atan(sy / dx)


def _xydeas_side_py(gx, ax, gf, af):
    """One side of ``metricXydeas.m`` at one pixel: (the two sigmoid exponents, the strength
    with 0 replaced by 1e-5, F's strength with 0 replaced by 1e-5), the operations of
    ``liu_gradient._qg_numpy``'s ``side``."""
    bimap = gx > gf
    if gx == 0:
        gx = gx + 0.00001
    buf1 = gf / gx
    if gf == 0:
        gf = gf + 0.00001
    buf2 = gx / gf
    G = buf1 if bimap else buf2
    Ao = abs(abs(ax - af) - np.pi / 2) * 2 / np.pi
    return -10 * (G - 0.5), -20 * (Ao - 0.75), gx, gf


def _xydeas_exponents_py(g, ang, e):
    """The four sigmoid exponents per pixel (A side: e[0], e[1]; B side: e[2], e[3]); the caller
    takes ``np.exp`` of them. F's zero strength is replaced after the A-side ratio, as the
    reference does."""
    H, W = g.shape[1], g.shape[2]
    for i in range(H):
        for j in range(W):
            gf = g[2, i, j]
            af = ang[2, i, j]
            e[0, i, j], e[1, i, j], _, gf = _xydeas_side(g[0, i, j], ang[0, i, j], gf, af)
            e[2, i, j], e[3, i, j], _, _ = _xydeas_side(g[1, i, j], ang[1, i, j], gf, af)


def _xydeas_map_py(g, e, out):
    """(Q_AF·w_A + Q_BF·w_B)/(w_A + w_B) per pixel from the exponentials ``e`` = exp(exponents),
    Q = (1/(1 + e_G))·(1/(1 + e_A)) and w = the strength with 0 replaced by 1e-5."""
    H, W = out.shape
    for i in range(H):
        for j in range(W):
            wa = g[0, i, j]
            if wa == 0:
                wa = wa + 0.00001
            wb = g[1, i, j]
            if wb == 0:
                wb = wb + 0.00001
            qaf = (1.0 / (1 + e[0, i, j])) * (1.0 / (1 + e[1, i, j]))
            qbf = (1.0 / (1 + e[2, i, j])) * (1.0 / (1 + e[3, i, j]))
            out[i, j] = (qaf * wa + qbf * wb) / (wa + wb)


# Q_G in one pass (session 29): constants of the branch-free exp below.
_LOG2E = 1.4426950408889634
_LN2_HI = 6.93145751953125e-1            # Cephes' C1: n·C1 is exact for |n| < 2¹⁰
_LN2_LO = 1.42860682030941723212e-6      # ln 2 − C1
_RND = 6755399441055744.0                # 1.5·2⁵²: (x + _RND) − _RND rounds x to an integer
_EXP_FLOOR = -40.0                       # 1 + e^x == 1.0 exactly for x < −37.5
_PWW_EXP_FLOOR = -708.0                  # e^−708 ≈ 3.3e-308, above the smallest normal


def _exp_sig_py(x):
    """e^max(x, −40) (:func:`_exp_floor_py`) for x ≤ 700: Q_G's sigmoid denominators 1 + e^x,
    which equal 1.0 exactly for every x < −37.5, so the floor changes no sigmoid."""
    return _exp_floor(x, _EXP_FLOOR)


def _exp_floor_py(x, lo):
    """e^max(x, lo) for −708 ≤ lo and x ≤ 700 (NaN gives NaN), written without branches or calls
    so that a loop of it vectorises. Cephes' ``exp.c`` (S. L. Moshier): x = n·ln 2 + r with
    |r| ≤ ln 2 / 2 (n by the 1.5·2⁵² rounding trick, ln 2 in two parts), e^r = 1 + 2r·P(r²)/(Q(r²) − r·P(r²)),
    times 2ⁿ built from n's bits (the low bits of x·log₂e + 1.5·2⁵²). Within 2 ulp of NumPy's
    ``exp`` on 3·10⁶ values in [−40, 15] (28 % of them differ; compiled with FMA contraction)."""
    x = lo if x < lo else x
    t = x * _LOG2E + _RND
    n = t - _RND
    r = x - n * _LN2_HI
    r = r - n * _LN2_LO
    rr = r * r
    px = r * ((1.26177193074810590878e-4 * rr + 3.02994407707441961300e-2) * rr
              + 9.99999999999999999910e-1)
    qx = (((3.00198505138664455042e-6 * rr + 2.52448340349684104192e-3) * rr
           + 2.27265548208155028766e-1) * rr + 2.00000000000000000009e0)
    e = px / (qx - px)
    e = 1.0 + 2.0 * e
    # 2ⁿ: the mantissa of t holds 2⁵¹ + n, so its low 11 bits + 1023 are n's biased exponent
    bits = (np.float64(t).view(np.int64) + 1023) & 2047
    return e * np.int64(bits << 52).view(np.float64)


def _atan_pq_py(p, q):
    """arctan(p/q) for p, q ≥ 0 (q = 0 gives π/2), without forming p/q: :func:`_atan_py`'s
    Cephes reductions with the reduced argument taken as one quotient of p and q (−q/p, (p − q)/(p + q)
    or p/q), so one division fewer; branch-free, so a loop of it vectorises. Within 3 ulp of
    NumPy's ``arctan2(p, q)`` on 2·10⁶ pairs (24 % of them differ; compiled with FMA contraction)."""
    big = p > 2.41421356237309504880 * q
    mid = p > 0.66 * q
    num = -q if big else (p - q if mid else p)
    den = p if big else (p + q if mid else q)
    y0 = 1.57079632679489661923 if big else (0.78539816339744830962 if mid else 0.0)
    extra = 6.123233995736765886130e-17 if big else (3.061616997868382943065e-17 if mid else 0.0)
    return _atan_reduced(num, den, y0, extra)


def _pad_row_py(x, ii, pd):
    """Row ``ii`` of the 2-D ``x`` (any real dtype) as float64 into ``pd[1:-1]`` with
    ``pd[0]`` = ``pd[-1]`` = 0, or ``pd`` all 0.0 where ``ii`` is outside the image."""
    H, W = x.shape
    if 0 <= ii < H:
        xr = x[ii]
        pd[0] = 0.0
        pd[W + 1] = 0.0
        for j in range(W):
            pd[j + 1] = xr[j]
    else:
        for j in range(W + 2):
            pd[j] = 0.0


def _xydeas_fused_py(A, B, F, P, v, rowsum):
    """Q_G's per-pixel map in one pass, row by row: ``rowsum[i]`` = Σ_j of row i of
    ``liu_gradient._qg_numpy``'s map (Q_AF·w_A + Q_BF·w_B)/(w_A + w_B); returns the number of
    pixels where this pass's shortcuts could lose accuracy (the caller then uses
    :func:`_xydeas_grad_py` & co. instead). ``A``, ``B``, ``F``: 2-D, one dtype (uint8 or
    float64; read as float64); ``P``: (3, 3, W + 2) float64 scratch (each image's three
    zero-padded rows, a ring); ``v``: (W,) float64 scratch.

    Per pixel: the Sobel sums of :func:`_xydeas_grad_py` (the same sums in the same order,
    so the strengths g bit for bit); the strength ratio G and the weights with the reference's 1e-5
    substitutions and their order (F's zero strength replaced after the A side), one
    division per side (the reference computes both quotients and selects one); the orientation term
    A_XF = | |α_X − α_F| − π/2 |·2/π without the three angles: with the gradient vectors
    u = (g_x, g_y) (g_x = 0 → 1e-5), α_X − α_F is the angle between u_X and u_F modulo π, and
    | |Δ| − π/2 | = arctan(|u_X·u_F| / |u_X × u_F|) for any Δ in (−π, π), so two arctangents per pixel
    (:func:`_atan_pq_py`) instead of three; the sigmoids' e^x by :func:`_exp_sig_py`; and the
    map as (w_A·D_B + w_B·D_A)/((w_A + w_B)·D_A·D_B) with D_X = (1 + e^{G term})(1 + e^{A term}),
    one division instead of five. Rounding differs from the reference's by a few ulp per pixel.
    A pixel counts as unsafe where |u_X·u_F| + |u_X × u_F| is outside [1e-280, 1e280]
    (underflow or overflow of the products) or the map value is not in [0, 2)."""
    H, W = A.shape
    bad = 0
    _pad_row(A, -1, P[0, 2])
    _pad_row(B, -1, P[1, 2])
    _pad_row(F, -1, P[2, 2])
    _pad_row(A, 0, P[0, 0])
    _pad_row(B, 0, P[1, 0])
    _pad_row(F, 0, P[2, 0])
    for i in range(H):
        s2 = (i + 1) % 3                  # ring slot of row r is r % 3
        _pad_row(A, i + 1, P[0, s2])
        _pad_row(B, i + 1, P[1, s2])
        _pad_row(F, i + 1, P[2, s2])
        s0 = (i + 2) % 3
        s1 = i % 3
        a0 = P[0, s0]
        a1 = P[0, s1]
        a2 = P[0, s2]
        b0 = P[1, s0]
        b1 = P[1, s1]
        b2 = P[1, s2]
        f0 = P[2, s0]
        f1 = P[2, s1]
        f2 = P[2, s2]
        for j in range(W):
            # Sobel sums in ndimage.correlate's order (as _xydeas_grad_py)
            sx, sy = _sobel_sums(a0, a1, a2, j)
            ga = math.sqrt(sx * sx + sy * sy)
            xa = sx + 0.00001 if sx == 0 else sx
            ya = sy
            sx, sy = _sobel_sums(b0, b1, b2, j)
            gb = math.sqrt(sx * sx + sy * sy)
            xb = sx + 0.00001 if sx == 0 else sx
            yb = sy
            sx, sy = _sobel_sums(f0, f1, f2, j)
            gf = math.sqrt(sx * sx + sy * sy)
            xf = sx + 0.00001 if sx == 0 else sx
            yf = sy
            # A side: bimap = g_A > g_F; G = g_F/g_A there, else g_A'/g_F' (' = 0 → 1e-5)
            bim = ga > gf
            wa = ga + 0.00001 if ga == 0 else ga
            gf1 = gf + 0.00001 if gf == 0 else gf
            Ga = (gf if bim else wa) / (ga if bim else gf1)
            cr = ya * xf - yf * xa
            dt = xa * xf + ya * yf
            pa = abs(dt)
            qa = abs(cr)
            Aa = _atan_pq(pa, qa) * 2 / np.pi
            # B side, with F's strength already replaced (the reference's order)
            bim = gb > gf1
            wb = gb + 0.00001 if gb == 0 else gb
            Gb = (gf1 if bim else wb) / (gb if bim else gf1)
            cr = yb * xf - yf * xb
            dt = xb * xf + yb * yf
            pb = abs(dt)
            qb = abs(cr)
            Ab = _atan_pq(pb, qb) * 2 / np.pi
            da = (1 + _exp_sig(-10 * (Ga - 0.5))) * (1 + _exp_sig(-20 * (Aa - 0.75)))
            db = (1 + _exp_sig(-10 * (Gb - 0.5))) * (1 + _exp_sig(-20 * (Ab - 0.75)))
            val = (wa * db + wb * da) / ((wa + wb) * (da * db))
            v[j] = val
            sa = pa + qa
            sb = pb + qb
            bad += (not (1e-280 <= sa <= 1e280)) + (not (1e-280 <= sb <= 1e280)) + (not (0.0 <= val < 2.0))
        rowsum[i] = _sum8(v, W)  # the row's sum in eight interleaved partial sums
    return bad



def _pww_bands_py(x, i, j, h):
    """One 2×2 block of a matlabPyrTools ``buildWpyr(.., 'haar')`` level at block (i, j) of ``x``:
    (lolo, lohi, hilo, hihi) with ``h`` = 1/√2, the operations of ``liu_gradient._haar_step``
    (rows first: lo = h·x0 + h·x1, hi = (−h)·x0 + h·x1; then the columns of lo and of hi)."""
    x00 = x[2 * i, 2 * j]
    x01 = x[2 * i, 2 * j + 1]
    x10 = x[2 * i + 1, 2 * j]
    x11 = x[2 * i + 1, 2 * j + 1]
    lo0 = h * x00 + h * x10
    lo1 = h * x01 + h * x11
    hi0 = -h * x00 + h * x10
    hi1 = -h * x01 + h * x11
    return h * lo0 + h * lo1, h * hi0 + h * hi1, -h * lo0 + h * lo1, -h * hi0 + h * hi1


def _pww_bands_rows_py(x0, x1, j, h):
    """:func:`_pww_bands_py` of block j from the two image rows ``x0``, ``x1`` (1-D views)."""
    x00 = x0[2 * j]
    x01 = x0[2 * j + 1]
    x10 = x1[2 * j]
    x11 = x1[2 * j + 1]
    lo0 = h * x00 + h * x10
    lo1 = h * x01 + h * x11
    hi0 = -h * x00 + h * x10
    hi1 = -h * x01 + h * x11
    return h * lo0 + h * lo1, h * hi0 + h * hi1, -h * lo0 + h * lo1, -h * hi0 + h * hi1


def _pww_term_py(a1, a2, a3, f1, f2, f3):
    """(EP_X·W_X, W_X, unsafe) of one coefficient triple of a source X against F (``metricPWW.m``:
    W = Σ band², EP = Σ e^(−|X − F|), sums in band order lohi, hilo, hihi; e^ by
    :func:`_exp_floor_py` with the floor −708, so ``unsafe`` counts the differences beyond 708,
    where that floor would change a term)."""
    w = (a1 * a1 + a2 * a2) + a3 * a3
    d1 = abs(a1 - f1)
    d2 = abs(a2 - f2)
    d3 = abs(a3 - f3)
    ep = (_exp_floor(-d1, _PWW_EXP_FLOOR) + _exp_floor(-d2, _PWW_EXP_FLOOR)) + _exp_floor(-d3, _PWW_EXP_FLOOR)
    unsafe = (d1 > 708.0) + (d2 > 708.0) + (d3 > 708.0)
    return ep * w, w, unsafe


def _sum8_py(v, n):
    """Σ v[:n] in eight interleaved partial sums (a loop that vectorises without reassociation)."""
    c0 = 0.0
    c1 = 0.0
    c2 = 0.0
    c3 = 0.0
    c4 = 0.0
    c5 = 0.0
    c6 = 0.0
    c7 = 0.0
    j = 0
    while j + 8 <= n:
        c0 += v[j]
        c1 += v[j + 1]
        c2 += v[j + 2]
        c3 += v[j + 3]
        c4 += v[j + 4]
        c5 += v[j + 5]
        c6 += v[j + 6]
        c7 += v[j + 7]
        j += 8
    while j < n:
        c0 += v[j]
        j += 1
    return ((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7))


def _pww_py(A, B, F, h, sums):
    """``metricPWW.m``'s two levels in one pass over the image, no band images: level 1 per 2×2
    block (:func:`_pww_bands_py`), whose lolo values are kept for two block rows, from which
    level 2 follows per 2×2 block of those (odd block counts drop the last, as ``corrDn``).
    ``sums`` (2, 2): per level Σ(EP_A·W_A + EP_B·W_B) and Σ(W_A + W_B). Each block row's terms go
    to row buffers (so the loop over a row, with its exponentials, vectorises) and are summed by
    :func:`_sum8_py`, the rows sequentially. Returns the number of band differences beyond 708
    (see :func:`_pww_term_py`; the caller then uses :func:`_pww_scalar_py`). ``A``, ``B``, ``F``:
    one dtype, uint8 or float64 (read as float64)."""
    M2 = A.shape[0] // 2
    N2 = A.shape[1] // 2
    ll = np.empty((3, 2, N2))
    tv = np.empty(N2)
    tw = np.empty(N2)
    n1 = 0.0
    d1 = 0.0
    n2 = 0.0
    d2 = 0.0
    unsafe = 0
    for i in range(M2):
        r = i % 2
        lla = ll[0, r]
        llb = ll[1, r]
        llf = ll[2, r]
        a0 = A[2 * i]
        a1r = A[2 * i + 1]
        b0 = B[2 * i]
        b1r = B[2 * i + 1]
        f0 = F[2 * i]
        f1r = F[2 * i + 1]
        for j in range(N2):
            la, a1, a2, a3 = _pww_bands_rows(a0, a1r, j, h)
            lb, b1, b2, b3 = _pww_bands_rows(b0, b1r, j, h)
            lf, f1, f2, f3 = _pww_bands_rows(f0, f1r, j, h)
            lla[j] = la
            llb[j] = lb
            llf[j] = lf
            va, wa, ua = _pww_term(a1, a2, a3, f1, f2, f3)
            vb, wb, ub = _pww_term(b1, b2, b3, f1, f2, f3)
            tv[j] = va + vb
            tw[j] = wa + wb
            unsafe += ua + ub
        n1 += _sum8(tv, N2)
        d1 += _sum8(tw, N2)
        if r == 1:
            a0 = ll[0, 0]
            a1r = ll[0, 1]
            b0 = ll[1, 0]
            b1r = ll[1, 1]
            f0 = ll[2, 0]
            f1r = ll[2, 1]
            for j in range(N2 // 2):
                _, a1, a2, a3 = _pww_bands_rows(a0, a1r, j, h)
                _, b1, b2, b3 = _pww_bands_rows(b0, b1r, j, h)
                _, f1, f2, f3 = _pww_bands_rows(f0, f1r, j, h)
                va, wa, ua = _pww_term(a1, a2, a3, f1, f2, f3)
                vb, wb, ub = _pww_term(b1, b2, b3, f1, f2, f3)
                tv[j] = va + vb
                tw[j] = wa + wb
                unsafe += ua + ub
            n2 += _sum8(tv, N2 // 2)
            d2 += _sum8(tw, N2 // 2)
    sums[0, 0] = n1
    sums[0, 1] = d1
    sums[1, 0] = n2
    sums[1, 1] = d2
    return unsafe


def _pww_term_libm_py(a1, a2, a3, f1, f2, f3):
    """:func:`_pww_term_py` with libm's ``exp`` (any difference), the fallback's term."""
    w = (a1 * a1 + a2 * a2) + a3 * a3
    ep = (math.exp(-abs(a1 - f1)) + math.exp(-abs(a2 - f2))) + math.exp(-abs(a3 - f3))
    return ep * w, w


def _pww_scalar_py(A, B, F, h, sums):
    """:func:`_pww_py` as before session 29 (libm ``exp`` per term, every sum sequential): the
    fallback where a band difference exceeds 708 (float64 images)."""
    M2 = A.shape[0] // 2
    N2 = A.shape[1] // 2
    ll = np.empty((3, 2, N2))
    n1 = 0.0
    d1 = 0.0
    n2 = 0.0
    d2 = 0.0
    for i in range(M2):
        r = i % 2
        for j in range(N2):
            la, a1, a2, a3 = _pww_bands(A, i, j, h)
            lb, b1, b2, b3 = _pww_bands(B, i, j, h)
            lf, f1, f2, f3 = _pww_bands(F, i, j, h)
            ll[0, r, j] = la
            ll[1, r, j] = lb
            ll[2, r, j] = lf
            va, wa = _pww_term_libm(a1, a2, a3, f1, f2, f3)
            vb, wb = _pww_term_libm(b1, b2, b3, f1, f2, f3)
            n1 += va + vb
            d1 += wa + wb
        if r == 1:
            for j in range(N2 // 2):
                _, a1, a2, a3 = _pww_bands(ll[0], 0, j, h)
                _, b1, b2, b3 = _pww_bands(ll[1], 0, j, h)
                _, f1, f2, f3 = _pww_bands(ll[2], 0, j, h)
                va, wa = _pww_term_libm(a1, a2, a3, f1, f2, f3)
                vb, wb = _pww_term_libm(b1, b2, b3, f1, f2, f3)
                n2 += va + vb
                d2 += wa + wb
    sums[0, 0] = n1
    sums[0, 1] = d1
    sums[1, 0] = n2
    sums[1, 1] = d2


def _max_nan_py(a, b):
    """``np.maximum`` of two floats: NaN if either is NaN."""
    if a != a:
        return a
    if b != b:
        return b
    return a if a >= b else b


def _zhao_r_py(mu, exx, exf, muf, sf2, c):
    """``metricZhao.m``'s local correlation at one pixel, the operations of
    ``liu_phase._corr_coefficient``: (σ_xf + C)/(sqrt|σ_x²·σ_f²| + C)."""
    sx2 = exx - mu * mu
    sxf = exf - mu * muf
    return (sxf + c) / (math.sqrt(abs(sx2 * sf2)) + c)


def _zhao_corr_py(P1, P2, PM, PF, m1, m2, m3, g, c, best):
    """``correlation_coeffcient`` of ``metricZhao.m`` per pixel into ``best`` (H, W): from the
    zero-padded (by h = len(g)//2 on every side, so 'valid' = ``filter2 'same'``) masked feature
    maps P1, P2, PM and the fused map PF, the local sums of :func:`_sep_rows3_py` (of P1, P2,
    PF) and :func:`_sep_rows_xy_py` (of PM with PF: the three of the eight that it needs; scipy's
    summation order), r_X where mask X holds (else 0) and max(r_1, r_2, r_max)
    (NaN-propagating as ``np.maximum``); the caller sums ``best``."""
    H, W = best.shape
    t = np.empty((9, P1.shape[1]))
    s = np.empty((9, W))
    u = np.empty((3, W))
    for i in range(H):
        _sep_rows3(P1, P2, PF, g, 8, i, t, s)
        _sep_rows_xy(PM, PF, g, i, t, u)  # E[PM], E[PM²], E[PM·PF]: E[PF], E[PF²] are in s
        brow = best[i]
        for j in range(W):
            muf = s[2, j]
            sf2 = s[5, j] - muf * muf
            r1 = _zhao_r(s[0, j], s[3, j], s[6, j], muf, sf2, c) if m1[i, j] else 0.0
            r2 = _zhao_r(s[1, j], s[4, j], s[7, j], muf, sf2, c) if m2[i, j] else 0.0
            r3 = _zhao_r(u[0, j], u[1, j], u[2, j], muf, sf2, c) if m3[i, j] else 0.0
            brow[j] = _max_nan(_max_nan(r1, r2), r3)


def _vif_terms_py(mu1, mu2, e11, e22, e12, sigma_nsq):
    """``ComVidVindG`` at one window (reference ``ref`` = source, ``dist`` = F): (g, VID, VIND),
    the operations and guards of ``viff._vid_vind``. VID and VIND are returned as the arguments
    of ``log10`` (the caller takes the logarithm of the selected source only)."""
    s1 = e11 - mu1 * mu1
    s2 = e22 - mu2 * mu2
    s12 = e12 - mu1 * mu2
    if s1 < 0:
        s1 = 0.0
    if s2 < 0:
        s2 = 0.0
    g = s12 / (s1 + 1e-10)
    sv = s2 - g * s12
    if s1 < 1e-10:
        g = 0.0
        sv = s2
        s1 = 0.0
    if s2 < 1e-10:
        g = 0.0
        sv = 0.0
    if g < 0:
        sv = s2
        g = 0.0
    if sv <= 1e-10:
        sv = 1e-10
    return g, 1 + g * g * s1 / (sv + sigma_nsq), 1 + s1 / sigma_nsq


def _log10_prod_py(x, acc):
    """Add Σ log10(x[j]) of the row ``x`` to ``acc`` = (p, e, bad) as a product instead of a sum
    of logarithms: Σ log10 x = log10(p) + e·log10(2) with p the running product of the values,
    renormalised by ``frexp`` (exact) whenever it passes 2⁹⁰⁰, e the exponents taken out. One
    multiplication per value instead of one ``log10`` (VIFF's maps have ~3·10⁵ values per scale);
    each multiplication rounds once (relative 2⁻⁵³), so the sum differs from the sum of the
    rounded logarithms by ~1e-16 per value (absolute, in log10 units). Only for 1 ≤ x < 2¹⁰⁰
    (VID's and VIND's arguments, 1 + a non-negative term, are); any other value (NaN included)
    sets ``bad`` = 1 and the caller takes NumPy's ``log10`` of the maps instead."""
    p = acc[0]
    e = acc[1]
    bad = acc[2]
    for j in range(x.shape[0]):
        v = x[j]
        if not (v >= 1.0 and v < 1.2676506002282294e30):
            bad = 1.0
            v = 1.0
        p *= v
        if p > 8.452712498170644e270:  # 2**900
            mp, ep = math.frexp(p)
            p = mp
            e += ep
    acc[0] = p
    acc[1] = e
    acc[2] = bad


def _viff_scale_py(A, B, F, g, sigma_nsq, z, m, logs):
    """One VIFF scale on the (already decimated) A, B, F: per window the arguments of ``log10``
    of VID and VIND of the source with the smaller gain (``g_A < g_B`` picks A, as
    ``VIFF_Public``), into ``z``, ``m``; ``logs`` (2, 3): Σ log10 of ``z`` and of ``m`` as
    :func:`_log10_prod_py` state (p, e, bad), from which the caller takes the sums (or, where a
    ``bad`` is set, ``np.log10`` of the maps)."""
    Ho, Wo = z.shape
    t, R, ri, ci, hi = _ring3(A, g)
    s = np.empty((9, Wo))
    s0, s1, s2, s3, s4, s5, s6, s7 = s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]  # row views (1-D indexing, cheaper than 2-D)
    for i in range(Ho):
        _sep_rows3r(A, B, F, g, 8, i, t, R, ri, ci, hi, s)
        zrow = z[i]
        mrow = m[i]
        for j in range(Wo):  # (1-D row views: cheaper than 2-D indexing)
            g1, vid1, vind1 = _vif_terms(s0[j], s2[j], s3[j], s5[j], s6[j], sigma_nsq)
            g2, vid2, vind2 = _vif_terms(s1[j], s2[j], s4[j], s5[j], s7[j], sigma_nsq)
            low = g1 < g2
            zrow[j] = vid1 if low else vid2
            mrow[j] = vind1 if low else vind2
        _log10_prod(zrow, logs[0])
        _log10_prod(mrow, logs[1])



# --------------------------------------------------------------------------------------------
# Q_CB and Q_CV (structural.qcb / structural.qcv): the per-pixel work around their FFTs
# --------------------------------------------------------------------------------------------


def _normalize1_py(x, lo, hi, out):
    """VIFB's ``normalize1`` after its min/max: ``round((x − lo)/(hi − lo)·255)``, halves away
    from zero, with the operations of ``structural._normalize1`` (``round_half_away``:
    sign·floor(|v| + 0.5); NaN stays NaN, 0 and −0 give +0) in one pass; ``x`` 2-D. ``out`` may be
    float32 (the values are integers in [0, 255] or NaN: exact)."""
    d = hi - lo
    M, N = x.shape
    for i in range(M):
        xr = x[i]
        orow = out[i]
        for j in range(N):
            v = (xr[j] - lo) / d * 255
            r = np.floor(abs(v) + 0.5)  # (a float: NaN stays NaN; math.floor gives an int)
            orow[j] = r if v >= 0 else -r


def _normalize1_u8_py(x, lo, hi, out):
    """:func:`_normalize1_py` for a uint8 ``x``: its operations applied once to each of the 256
    possible values (a table), then one table look-up per pixel (the same values bit for bit)."""
    d = hi - lo
    lut = np.empty(256)
    for k in range(256):
        v = (np.float64(k) - lo) / d * 255
        r = np.floor(abs(v) + 0.5)
        lut[k] = r if v >= 0 else -r
    M, N = x.shape
    for i in range(M):
        xr = x[i]
        orow = out[i]
        for j in range(N):
            orow[j] = lut[xr[j]]


def _scale_spectrum3_py(X, h, Y):
    """``Y[q] = X · h[q]`` for q = 0, 1, 2: a half spectrum (complex) times three real filters,
    reading ``X`` once."""
    M, K = X.shape
    for i in range(M):
        xr = X[i]
        h0 = h[0, i]
        h1 = h[1, i]
        h2 = h[2, i]
        y0 = Y[0, i]
        y1 = Y[1, i]
        y2 = Y[2, i]
        for j in range(K):
            v = xr[j]
            y0[j] = v * h0[j]
            y1[j] = v * h1[j]
            y2[j] = v * h2[j]


def _unwrap_same_py(x, g, s, b):
    """Turn ``b``, the *circular* correlation of the M×N image ``x`` with the kernel ``s·g⊗g``
    (``g``: 2h+1 taps; M, N ≥ 2h+1), into the zero-padded 'same' one (MATLAB ``filter2(K, x,
    'same')``), in place. Per axis, circular = linear + the taps that wrap around (C = L + W), and
    C_r C_c − L_r L_c = W_r (C_c x) + L_r (W_c x): the wrapped taps only reach the h rows and
    the h columns next to each border, so the correction is two thin strips of work (loops run
    along the strips, over contiguous memory): :func:`_unwrap_terms_py`, then
    :func:`_unwrap_apply_py`."""
    h = g.shape[0] // 2
    M, N = x.shape
    rows = np.empty((2 * h, N))
    cols = np.empty((2 * h, M))
    _unwrap_terms(x, g, rows, cols)
    _unwrap_apply(rows, cols, s, b)


def _unwrap_same2_py(x, g2, s2, g4, s4, d, b4):
    """The three corrections of Q_CB's float32 path in one call, with the values of
    ``_unwrap_same(x, g2, s2, d)``, ``_unwrap_same(x, g4, -s4, d)``, ``_unwrap_same(x, g4, s4,
    b4)`` in that order (the same subtractions in the same order: bit for bit), the border terms
    of each Gaussian computed once: d = b_σ2 − b_σ4 (filtered with s2·g2⊗g2 − s4·g4⊗g4) and b4."""
    h = g2.shape[0] // 2
    M, N = x.shape
    rows2 = np.empty((2 * h, N))
    cols2 = np.empty((2 * h, M))
    rows4 = np.empty((2 * h, N))
    cols4 = np.empty((2 * h, M))
    _unwrap_terms(x, g2, rows2, cols2)
    _unwrap_terms(x, g4, rows4, cols4)
    _unwrap_apply(rows2, cols2, s2, d)
    _unwrap_apply(rows4, cols4, -s4, d)
    _unwrap_apply(rows4, cols4, s4, b4)


def _unwrap_apply_py(rows, cols, s, b):
    """``b`` −= s·(the border terms of :func:`_unwrap_terms_py`): the h top and h bottom rows
    first, then the h left and h right columns (the order of :func:`_unwrap_same_py`)."""
    M, N = b.shape
    h = rows.shape[0] // 2
    for r in range(2 * h):
        i = r if r < h else M - 2 * h + r
        br = b[i]
        acc = rows[r]
        for j in range(N):
            br[j] -= s * acc[j]
    for c in range(2 * h):
        j = c if c < h else N - 2 * h + c
        accm = cols[c]
        for i in range(M):
            b[i, j] -= s * accm[i]


def _shift_taps_py(acc, src, g, n):
    """``acc[j] += g[t] · src[t + j]`` for t = 0, 1, ..., len(g) − 1 in turn and j < n: for every
    ``j`` the products added one at a time in tap order, as the plain double loop (taps outer)
    adds them, so the same values bit for bit; four taps per pass over ``acc`` (a quarter of its
    loads and stores; the loop over ``j`` still vectorises)."""
    nt = g.shape[0]
    t = 0
    while t + 4 <= nt:
        w0 = g[t]
        w1 = g[t + 1]
        w2 = g[t + 2]
        w3 = g[t + 3]
        s0 = src[t:t + n]
        s1 = src[t + 1:t + 1 + n]
        s2 = src[t + 2:t + 2 + n]
        s3 = src[t + 3:t + 3 + n]
        for j in range(n):
            v = acc[j]
            v += w0 * s0[j]
            v += w1 * s1[j]
            v += w2 * s2[j]
            v += w3 * s3[j]
            acc[j] = v
        t += 4
    while t < nt:
        w = g[t]
        s0 = src[t:t + n]
        for j in range(n):
            acc[j] += w * s0[j]
        t += 1


def _row_taps_py(acc, U, r0, g, t0, nt, n):
    """``acc[j] += g[t0 + t] · U[r0 + t, j]`` for t = 0, 1, ..., nt − 1 in turn and j < n: the
    taps of a filter along the rows of ``U``, added in tap order as the plain double loop adds
    them (the same values bit for bit), four taps per pass over ``acc``."""
    t = 0
    while t + 4 <= nt:
        w0 = g[t0 + t]
        w1 = g[t0 + t + 1]
        w2 = g[t0 + t + 2]
        w3 = g[t0 + t + 3]
        s0 = U[r0 + t]
        s1 = U[r0 + t + 1]
        s2 = U[r0 + t + 2]
        s3 = U[r0 + t + 3]
        for j in range(n):
            v = acc[j]
            v += w0 * s0[j]
            v += w1 * s1[j]
            v += w2 * s2[j]
            v += w3 * s3[j]
            acc[j] = v
        t += 4
    while t < nt:
        w = g[t0 + t]
        s0 = U[r0 + t]
        for j in range(n):
            acc[j] += w * s0[j]
        t += 1


def _unwrap_terms_py(x, g, rows, cols):
    """The unscaled border terms of :func:`_unwrap_same_py` for the image ``x`` and the taps
    ``g`` (2h+1): ``rows`` (2h, N), W_r (C_c x) on the h top rows (rows[0:h]) and the h bottom
    ones (rows[h:2h]); ``cols`` (2h, M), L_r (W_c x) on the h left columns and the h right ones."""
    n = g.shape[0]
    h = n // 2
    M, N = x.shape
    # u = C_c x (circular along each row) on the h top rows (u[0:h]) and the h bottom rows
    # (u[h:2h]), the rows that W_r reads; xe is the row with h wrapped pixels on either side
    u = np.zeros((2 * h, N))
    xe = np.empty(N + 2 * h)
    for r in range(2 * h):
        xr = x[r] if r < h else x[M - 2 * h + r]
        for j in range(h):
            xe[j] = xr[N - h + j]
            xe[N + h + j] = xr[j]
        for j in range(N):
            xe[h + j] = xr[j]
        _shift_taps(u[r], xe, g, N)
    # W_r u: output row i < h takes the taps d < −i from row M + i + d (u[2h + i + d]); output
    # row i ≥ M − h the taps d ≥ M − i from row i + d − M (u[i + d − M])
    for r in range(2 * h):
        i = r if r < h else M - 2 * h + r
        acc = rows[r]
        acc[:] = 0.0
        if i < h:  # d = −h … −i − 1: rows h + i … 2h − 1 of u
            _row_taps(acc, u, h + i, g, 0, h - i, N)
        else:      # d = M − i … h: rows 0 … h − (M − i) of u
            _row_taps(acc, u, 0, g, M - i + h, 2 * h + 1 - (M - i + h), N)
    # v = W_c x on the h left columns (v[c], c < h) and the h right ones (v[h + c]), stored
    # transposed with h zero rows on either side, then L_r v along the columns
    xt = np.empty((2 * h, M))       # xt[c]: column c (c < h) or column N − 2h + c of x
    for i in range(M):
        for c in range(h):
            xt[c, i] = x[i, c]
            xt[h + c, i] = x[i, N - h + c]
    v = np.zeros((2 * h, M + 2 * h))
    for c in range(h):
        # column c: the taps d = −h … −c − 1 wrap to column N + c + d (xt rows h + c … 2h − 1)
        _row_taps(v[c, h:h + M], xt, h + c, g, 0, h - c, M)
        # column N − h + c: the taps d = h − c … h wrap to c + d − h (xt rows 0 … c)
        _row_taps(v[h + c, h:h + M], xt, 0, g, 2 * h - c, c + 1, M)
    for c in range(2 * h):
        accm = cols[c]
        accm[:] = 0.0
        _shift_taps(accm, v[c], g, M)


def _qcb_contrast_py(b2, b4, e, first, cp, t):
    """Chen–Blum's masked contrast of one image from its σ = 2 and σ = 4 Gaussian-filtered CSF
    images ``b2``, ``b4``: C = |b2/b4 − 1|, ``cp`` = C' = C³/(C² + 1e-4) (C³ as C·C·C).

    Also adds (sets, if ``first``) to ``t`` an upper estimate of the relative change of C' that
    an absolute round-off ``e`` in b2 and b4 can cause: C moves by up to e·(1 + |b2/b4|)/|b4|,
    relative to C that is e(1 + |r|)/(|b4|·C), and C' ≈ C³/1e-4 for small C (so three times
    that). :func:`_qcb_pool_py` sums it over the pixels: the caller's test for images whose Q_CB
    is decided by round-off."""
    M, N = cp.shape
    for i in range(M):
        r2 = b2[i]
        r4 = b4[i]
        o = cp[i]
        ti = t[i]
        for j in range(N):
            r = r2[j] / r4[j]
            c = abs(r - 1)
            o[j] = c * c * c / (c * c + 0.0001)
            u = 3.0 * e * (1 + abs(r)) / (abs(r4[j]) * c)
            if first:
                ti[j] = u
            else:
                ti[j] += u


def _qcb_contrast32_py(d, b4, e, first, cp, t):
    """:func:`_qcb_contrast_py` from float32 FFT outputs: ``b4`` (the σ = 4 filtered CSF image)
    and ``d`` = b2 − b4 (filtered directly with the difference of the two Gaussians, so that
    b2 − b4 is not the difference of two rounded float32 values: an exact float32 tie b2 = b4
    would give C = 0 and the reference's 0/0 = NaN). Each value is widened to float64 and b2 is
    taken as b4 + d (exact in float64), then the operations of :func:`_qcb_contrast_py`."""
    M, N = cp.shape
    for i in range(M):
        rd = d[i]
        r4 = b4[i]
        o = cp[i]
        ti = t[i]
        for j in range(N):
            v4 = np.float64(r4[j])
            r = (v4 + np.float64(rd[j])) / v4
            c = abs(r - 1)
            o[j] = c * c * c / (c * c + 0.0001)
            u = 3.0 * e * (1 + abs(r)) / (abs(v4) * c)
            if first:
                ti[j] = u
            else:
                ti[j] += u


def _qcb_pool_py(c1, c2, cf, t, out):
    """Chen–Blum per pixel from the masked contrasts ``c1``, ``c2``, ``cf`` (VIFB's img1, img2,
    fused; :func:`_qcb_contrast_py`), with the values of ``structural._qcb_numpy`` (its 0/0 → NaN
    and ∞·0 → NaN cases included). Returns the sum over pixels of ``t`` (the round-off
    estimate), at most 1 per pixel (also where it is NaN). ``out`` may be ``t`` (each row is read
    before it is written).

    Q_XF = (C'_X/C'_F)·m + (C'_F/C'_X)·(1 − m), m = [C'_X < C'_F], is min/max of the two: one
    division instead of two wherever 0 < min ≤ max < min·1e300 (then the other quotient is
    finite, times 0 it adds +0, and min/max is the same quotient). A row with any other pixel
    (a 0, NaN or ∞, or a ratio near overflow) is recomputed with the reference's expression, so
    the values are NumPy's bit for bit. The risk sum adds per column, then the columns (a
    different order than one running sum: the same value to ~1e-16 relative)."""
    M, N = out.shape
    rk = np.empty(N)
    qr = np.empty(N)
    colrisk = np.zeros(N)
    for i in range(M):
        a1 = c1[i]
        a2 = c2[i]
        af = cf[i]
        ti = t[i]
        nbad = 0
        for j in range(N):
            u = ti[j]
            rk[j] = u if u < 1.0 else 1.0
            p1 = a1[j]
            p2 = a2[j]
            pf = af[j]
            lo1 = p1 if p1 < pf else pf
            hi1 = pf if p1 < pf else p1
            lo2 = p2 if p2 < pf else pf
            hi2 = pf if p2 < pf else p2
            ok = (hi1 < lo1 * 1e300) & (hi2 < lo2 * 1e300)
            nbad += 0 if ok else 1
            den = p1 * p1 + p2 * p2
            qr[j] = (p1 * p1) / den * (lo1 / hi1) + (p2 * p2) / den * (lo2 / hi2)
        if nbad > 0:  # the reference's expression (rare: zeros, NaN, ∞)
            for j in range(N):
                p1 = a1[j]
                p2 = a2[j]
                pf = af[j]
                m = 1.0 if p1 < pf else 0.0
                q1 = (p1 / pf) * m + (pf / p1) * (1 - m)
                m = 1.0 if p2 < pf else 0.0
                q2 = (p2 / pf) * m + (pf / p2) * (1 - m)
                den = p1 * p1 + p2 * p2
                qr[j] = (p1 * p1) / den * q1 + (p2 * p2) / den * q2
        o = out[i]
        for j in range(N):
            o[j] = qr[j]
            colrisk[j] += rk[j]
    risk = 0.0
    for j in range(N):
        risk += colrisk[j]
    return risk


def _block_sums_add_py(acc, ws, i, M, out):
    """After row ``i``: when it closes a block row (or is the last row), add the ``ws``-wide
    chunks of the column sums ``acc`` to that block row of ``out`` and reset ``acc``."""
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


def _qcv_sobel_row_py(p0, p1, p2, acc):
    """One row of Chen–Varshney's saliency: ``acc[j] += g⁵`` for the Sobel gradient of the three
    zero-padded rows ``p0``, ``p1``, ``p2`` (length N + 2; the output row is ``p1``), g⁵ = s²·√s
    with s = g_x² + g_y² (``filter2 'same'``'s nonzero taps; exact integers for VIFB's rounded
    images, so only √ and the two products round). Inlined into :func:`_qcv_saliency_py` and
    :func:`_qcv_front_py` (the same operations in both)."""
    N = acc.shape[0]
    for j in range(N):
        gx = -p0[j] + p0[j + 2] - 2.0 * p1[j] + 2.0 * p1[j + 2] - p2[j] + p2[j + 2]
        gy = -p0[j] - 2.0 * p0[j + 1] - p0[j + 2] + p2[j] + 2.0 * p2[j + 1] + p2[j + 2]
        s = gx * gx + gy * gy
        acc[j] += s * s * math.sqrt(s)


def _qcv_saliency_py(x, ws, lam):
    """Chen–Varshney's λ into ``lam`` (⌈M/ws⌉, ⌈N/ws⌉): per ws×ws block (partial blocks
    zero-padded) the sum of g⁵, g the Sobel gradient magnitude of ``x`` with zero padding
    (``filter2 'same'``), g⁵ = s²·√s with s = g_x² + g_y² (exact integers for VIFB's rounded
    images, so only √ and the two products round). ``x`` may be float32 (widened to float64);
    three zero-padded row buffers in turn (row r in ``buf[(r + 1) % 3]``), one row copied per row."""
    M, N = x.shape
    acc = np.zeros(N)
    buf = np.zeros((3, N + 2))
    lam[:, :] = 0.0
    r0 = buf[1]
    for j in range(N):
        r0[j + 1] = x[0, j]
    for i in range(M):
        p0 = buf[i % 3]
        p1 = buf[(i + 1) % 3]
        p2 = buf[(i + 2) % 3]
        if i + 1 < M:
            xr = x[i + 1]
            for j in range(N):
                p2[j + 1] = xr[j]
        else:
            p2[:] = 0.0
        _qcv_sobel_row(p0, p1, p2, acc)
        _block_sums_add(acc, ws, i, M, lam)


def _block_mean_sq_py(df, ws, D):
    """``D`` (⌈M/ws⌉, ⌈N/ws⌉) = per ws×ws block of ``df`` (partial blocks zero-padded) the sum
    of df² divided by ws² (float64 sums; a float32 ``df`` is widened before squaring)."""
    M, N = df.shape
    acc = np.zeros(N)
    D[:, :] = 0.0
    for i in range(M):
        r = df[i]
        for j in range(N):
            v = np.float64(r[j])  # (float32 from Q_CV's float32 FFT: squared in float64)
            acc[j] += v * v
        _block_sums_add(acc, ws, i, M, D)
    D /= ws * ws


def _qcv_front_py(ims, ws, lam, z):
    """Q_CV's work before its FFT in one pass over the rows (``structural._qcv_compiled``).
    ``ims`` (3, M, N): the ``normalize1``-ed im1, im2, fu (float32 or float64). Writes λ of
    ims[0] and ims[1] into ``lam`` (2, ⌈M/ws⌉, ⌈N/ws⌉) with the operations of
    :func:`_qcv_saliency_py` (the same values bit for bit), and the differences ims[0] − ims[2] and
    ims[1] − ims[2] into ``z`` (M, 2N) interleaved: the real and imaginary parts of the complex
    image (a complex64 array viewed as float32) that ``_qcv_compiled`` transforms as one.
    Returns the two differences' sums of squares (float64; exact integers for VIFB's rounded
    images, NaN where an image is NaN)."""
    M, N = ims.shape[1], ims.shape[2]
    buf = np.zeros((2, 3, N + 2))  # per image, three zero-padded rows: row r in buf[q, (r + 1) % 3]
    acc = np.zeros((2, N))
    ss = np.zeros((2, N))  # per column (the loop vectorises; integer sums are exact in any order)
    lam[:, :, :] = 0.0
    for q in range(2):
        r0 = buf[q, 1]
        x0 = ims[q, 0]
        for j in range(N):
            r0[j + 1] = x0[j]
    for i in range(M):
        for q in range(2):
            p0 = buf[q, i % 3]
            p1 = buf[q, (i + 1) % 3]
            p2 = buf[q, (i + 2) % 3]
            if i + 1 < M:
                xr = ims[q, i + 1]
                for j in range(N):
                    p2[j + 1] = xr[j]
            else:
                p2[:] = 0.0
            _qcv_sobel_row(p0, p1, p2, acc[q])
            _block_sums_add(acc[q], ws, i, M, lam[q])
        x1 = ims[0, i]
        x2 = ims[1, i]
        xf = ims[2, i]
        zr = z[i]
        s1 = ss[0]
        s2 = ss[1]
        for j in range(N):
            d1 = x1[j] - xf[j]
            d2 = x2[j] - xf[j]
            zr[2 * j] = d1
            zr[2 * j + 1] = d2
            e1 = np.float64(d1)
            e2 = np.float64(d2)
            s1[j] += e1 * e1
            s2[j] += e2 * e2
    return ss[0].sum(), ss[1].sum()


def _qcv_block_mean_sq2_py(z, ws, D):
    """:func:`_block_mean_sq_py` of both parts of an interleaved complex image ``z`` (M, 2N)
    (a complex64 array viewed as float32): ``D[0]`` from the real parts z[:, 0::2], ``D[1]``
    from the imaginary parts z[:, 1::2] (float64 squares and sums, the same operations in
    the same order as :func:`_block_mean_sq_py` on each part), in one pass."""
    M = z.shape[0]
    N = z.shape[1] // 2
    acc = np.zeros((2, N))
    D[:, :, :] = 0.0
    for i in range(M):
        r = z[i]
        a0 = acc[0]
        a1 = acc[1]
        for j in range(N):
            v = np.float64(r[2 * j])
            w = np.float64(r[2 * j + 1])
            a0[j] += v * v
            a1[j] += w * w
        _block_sums_add(a0, ws, i, M, D[0])
        _block_sums_add(a1, ws, i, M, D[1])
    D /= ws * ws

# The helpers the kernels call, looked up as module globals when a kernel is compiled:
# :func:`kernels` rebinds them to their compiled versions before compiling any kernel.
_sep_row1 = _sep_row1_py
_sep_rows3 = _sep_rows3_py
_sep_rows_xy = _sep_rows_xy_py
_sym_taps = _sym_taps_py
_atan_reduced = _atan_reduced_py
_atan = _atan_py
_atan_pq = _atan_pq_py
_exp_sig = _exp_sig_py
_exp_floor = _exp_floor_py
_sum8 = _sum8_py
_pww_term_libm = _pww_term_libm_py
_pad_row = _pad_row_py
_log10_prod = _log10_prod_py
_ring_fill = _ring_fill_py
_sep_rows3r = _sep_rows3r_py
_ring3 = _ring3_py
_ssim_yang_at = _ssim_yang_at_py
_yang_sensitive = _yang_sensitive_py
_qc_row = _qc_row_py
_qy_row = _qy_row_py
_filter2_point = _filter2_point_py
_triple_img = _triple_img_py
_vif_terms = _vif_terms_py
_xydeas_side = _xydeas_side_py
_split = _split_py
_fma = _fma_py
_block_sums_add = _block_sums_add_py
_qcv_sobel_row = _qcv_sobel_row_py
_unwrap_terms = _unwrap_terms_py
_unwrap_apply = _unwrap_apply_py
_shift_taps = _shift_taps_py
_row_taps = _row_taps_py
_pww_bands = _pww_bands_py
_pww_bands_rows = _pww_bands_rows_py
_pww_term = _pww_term_py
_sobel_sums = _sobel_sums_py
_max_nan = _max_nan_py
_zhao_r = _zhao_r_py


def _normalize1_by_dtype(general, u8):
    """The ``normalize1`` entry of :func:`kernels`: :func:`_normalize1_u8_py` (a table of the 256
    values) for a uint8 image, :func:`_normalize1_py` for any other; the same values."""
    def normalize1(x, lo, hi, out):
        (u8 if x.dtype == np.uint8 else general)(x, lo, hi, out)
    return normalize1


@functools.lru_cache(maxsize=1)
def kernels():
    """The compiled kernels by name (``None`` without numba). No ``fastmath`` (every float64
    operation as written: no FMA contraction, no reassociation); ``error_model="numpy"`` (0/0 =
    NaN, x/0 = ±inf, as NumPy); compiled on first use, cached on disk (``cache=True``) where
    numba finds a writable cache folder, else compiled in memory in each process (:func:`mutualfuse._jit.njit`)."""
    try:
        import numba  # noqa: F401  (compiled through _jit.njit)
    except ImportError:          # pragma: no cover - numba is a dependency; keep a working fallback
        return None
    global _sep_row1, _sep_rows3, _sep_rows_xy, _triple_img, _ssim_yang_at, _vif_terms, _split, _fma, _xydeas_side
    global _yang_sensitive, _qc_row, _qy_row, _filter2_point, _block_sums_add, _pww_bands, _pww_term
    global _max_nan, _zhao_r, _unwrap_terms, _unwrap_apply, _shift_taps, _row_taps
    global _sym_taps, _ring_fill, _sep_rows3r, _ring3, _log10_prod, _atan
    global _atan_pq, _exp_sig, _pad_row, _exp_floor, _sum8, _pww_term_libm, _pww_bands_rows, _sobel_sums
    global _qcv_sobel_row, _atan_reduced
    jit = functools.partial(_njit, nogil=True, error_model="numpy")  # cache=True where writable
    _sep_row1 = jit(_sep_row1_py)
    _triple_img = jit(_triple_img_py)
    _sep_rows3 = jit(_sep_rows3_py)
    _sep_rows_xy = jit(_sep_rows_xy_py)
    _sym_taps = jit(_sym_taps_py)
    _atan_reduced = jit(_atan_reduced_py, inline='always')  # (numba IR: lowered with its caller's flags)
    _atan = jit(_atan_py)
    _atan_pq = jit(_atan_pq_py, fastmath={'contract'})
    _exp_floor = jit(_exp_floor_py, fastmath={'contract'})
    _exp_sig = jit(_exp_sig_py)
    _sum8 = jit(_sum8_py)
    _pww_term_libm = jit(_pww_term_libm_py)
    _pad_row = jit(_pad_row_py)
    _log10_prod = jit(_log10_prod_py)
    _ring_fill = jit(_ring_fill_py)
    _sep_rows3r = jit(_sep_rows3r_py)
    _ring3 = jit(_ring3_py)
    _ssim_yang_at = jit(_ssim_yang_at_py)
    _vif_terms = jit(_vif_terms_py)
    _split = jit(_split_py)
    _fma = jit(_fma_py)
    _xydeas_side = jit(_xydeas_side_py)
    _yang_sensitive = jit(_yang_sensitive_py)
    _qc_row = jit(_qc_row_py)
    _qy_row = jit(_qy_row_py)
    _filter2_point = jit(_filter2_point_py)
    _block_sums_add = jit(_block_sums_add_py)
    _shift_taps = jit(_shift_taps_py)
    _row_taps = jit(_row_taps_py)
    _unwrap_terms = jit(_unwrap_terms_py)
    _unwrap_apply = jit(_unwrap_apply_py)
    _pww_bands = jit(_pww_bands_py)
    _pww_bands_rows = jit(_pww_bands_rows_py)
    _pww_term = jit(_pww_term_py, inline='always')  # numba-level inlining: the loop around it vectorises
    _sobel_sums = jit(_sobel_sums_py, inline='always')  # the same for Q_G's two Sobel loops
    _qcv_sobel_row = jit(_qcv_sobel_row_py, inline='always')  # Q_CV's saliency row (vectorised in place)
    _max_nan = jit(_max_nan_py)
    _zhao_r = jit(_zhao_r_py)
    return {
        "sep_valid1": jit(_sep_valid1_py),
        "sep_valid3": jit(_sep_valid3_py),
        "piella": jit(_piella_py),
        "yang": jit(_yang_py),
        "filter2_at": jit(_filter2_at_py),
        "xydeas_grad": jit(_xydeas_grad_py),
        "atan_rows": jit(_atan_rows_py),
        "xydeas_exponents": jit(_xydeas_exponents_py),
        "xydeas_map": jit(_xydeas_map_py),
        "xydeas_fused": jit(_xydeas_fused_py),
        "exp_sig_rows": jit(_exp_sig_rows_py),
        "atan_pq_rows": jit(_atan_pq_rows_py),
        "pww": jit(_pww_py),
        "pww_scalar": jit(_pww_scalar_py),
        "exp_floor_rows": jit(_exp_floor_rows_py),
        "zhao_corr": jit(_zhao_corr_py),
        "viff_scale": jit(_viff_scale_py),
        "normalize1": _normalize1_by_dtype(jit(_normalize1_py), jit(_normalize1_u8_py)),
        "scale_spectrum3": jit(_scale_spectrum3_py),
        "unwrap_same": jit(_unwrap_same_py),
        "unwrap_same2": jit(_unwrap_same2_py),
        "qcb_contrast": jit(_qcb_contrast_py),
        "qcb_contrast32": jit(_qcb_contrast32_py),
        "qcb_pool": jit(_qcb_pool_py),
        "qcv_saliency": jit(_qcv_saliency_py),
        "block_mean_sq": jit(_block_mean_sq_py),
        "qcv_front": jit(_qcv_front_py),
        "qcv_block_mean_sq2": jit(_qcv_block_mean_sq2_py),
    }
