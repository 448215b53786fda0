"""Information-theoretic metrics: EN, MI (three variants), CE and FMI (pixel, DCT, wavelet).

Reference code (pinned commits, see ``docs/metrics.md``):

* rfn-nest = ``hli1221/imagefusion-rfn-nest@76e4e05:analysis_matlab/``
* nestfuse = ``hli1221/imagefusion-nestfuse@a8ac170:analysis_metrics_in_paper/``
* vifb     = ``xingchenzhang/VIFB@22b2ea9:metrics/``
"""
from __future__ import annotations

import numpy as np
from scipy import fft as sfft

from ..errors import ImageTooSmallError
from ._common import as255, entropy_bits, im2uint8_values, prep3, round_half_away, unknown_convention


def _hist256(x255: np.ndarray) -> np.ndarray:
    return np.bincount(im2uint8_values(x255).astype(np.int64).ravel(), minlength=256)[:256]


def en(f, convention: str = "rfn-nest") -> float:
    """Entropy EN = -Σ_k p_k log2 p_k of the fused image's 256-bin gray histogram (bits).

    Reference: Roberts et al., J. Appl. Remote Sens. 2(1) 023522 (2008).

    * ``rfn-nest``: ``entropy(im2double(F))`` in ``analysis_Reference.m``. MATLAB IPT ``entropy``
      converts to uint8 (``im2uint8``: x·255 rounded half away, saturated) and uses a 256-bin
      ``imhist``; empty bins are dropped, log base 2.
    * ``vifb``: ``metricsEntropy.m``, a 256-bin histogram of the (integer) gray values, log2.

    On 8-bit gray input both are identical bit for bit (checked on all 77 conformance triples).
    Input: F on the 0–255 scale; non-integer values are rounded as ``im2uint8`` does.
    Higher is better.

    Example:

    >>> import numpy as np
    >>> from mutualfuse.metrics import en
    >>> round(en(np.arange(256).reshape(16, 16)), 3)  # every gray level once: log2(256) bits
    8.0
    >>> round(en(np.repeat([0, 255], 128).reshape(16, 16)), 3)  # half black, half white: 1 bit
    1.0
    """
    if convention not in ("rfn-nest", "vifb", "nestfuse"):
        raise unknown_convention("EN", convention, ('rfn-nest', 'vifb', 'nestfuse'))
    return entropy_bits(_hist256(as255(f, "f")))


def mi(a, b, f, convention: str = "vifb") -> float:
    """Mutual information between each source and the fused image, MI(A,F) + MI(B,F).

    Reference: Qu, Zhang & Yan, "Information measure for performance of image fusion",
    Electronics Letters 38(7):313–315 (2002).

    * ``vifb`` (``metricsMutinf.m``): each image is min-max normalised to [0, 1] (an all-constant
      image becomes 0), quantised with ``int16(x·255)`` (round half away) and counted in a
      256×256 joint histogram; MI = H(X) + H(F) − H(X,F) in **natural log (nats)**.
    * ``rfn-nest`` (``analysis_MI.m``, also nestfuse's byte-identical copy): W. Dwinnell's
      ``MutualInformation``/``JointEntropy`` called on image *matrices*. ``JointEntropy`` takes
      IPT ``entropy()`` of a double vector of row labels ≥ 1, which ``im2uint8`` saturates to a
      single bin, so every joint entropy is 0 and MI(X,F) = H(F). **Quirk reproduced: the
      result is exactly 2·EN(F), independent of the sources** (bit-identical in every
      conformance row). This is what the paper's "MI" column reports.
    * ``bits`` (extra, not in any reference code): a correctly computed MI in bits on the raw
      8-bit values (256×256 joint histogram, no requantisation, log2). Not checked by the
      conformance set; see :func:`mi_bits`.

    Higher is better.

    Example (random 8-bit images):

    >>> import numpy as np
    >>> from mutualfuse.metrics import en, mi
    >>> a, b, f = np.random.default_rng(0).integers(0, 256, (3, 64, 64), dtype=np.uint8)
    >>> mi(a, b, f, convention="rfn-nest") == 2 * en(f)  # rfn-nest's quirk: A and B play no part
    True
    >>> round(mi(a, a, a), 3), round(mi(a, a, a) / (2 * en(a)), 3)  # vifb: 2·H(A) in nats (ln 2 per bit)
    (11.023, 0.693)
    """
    if convention == "rfn-nest" or convention == "nestfuse":
        return 2.0 * en(f, "rfn-nest")
    if convention == "vifb":
        A, B, F = prep3(a, b, f)
        qf = _vifb_quantise(F)
        return _mi_nats(_vifb_quantise(B), qf) + _mi_nats(_vifb_quantise(A), qf)
    if convention == "bits":
        return mi_bits(a, b, f)
    raise unknown_convention("MI", convention, ('vifb', 'rfn-nest', 'nestfuse', 'bits'))


def _vifb_quantise(x: np.ndarray) -> np.ndarray:
    lo, hi = x.min(), x.max()
    y = (x - lo) / (hi - lo) if hi != lo else np.zeros_like(x)
    return round_half_away(y * 255).astype(np.int64)


def _joint_entropies(p: np.ndarray, q: np.ndarray, log) -> tuple[float, float, float]:
    joint = np.bincount((p * 256 + q).ravel(), minlength=65536).astype(np.float64)
    hp = np.bincount(p.ravel(), minlength=256).astype(np.float64)
    hq = np.bincount(q.ravel(), minlength=256).astype(np.float64)

    def h(c):
        pr = c[c > 0] / c.sum()
        return float(-np.sum(pr * log(pr)))

    return h(hp), h(hq), h(joint)


def _mi_nats(p: np.ndarray, q: np.ndarray) -> float:
    ha, hb, hab = _joint_entropies(p, q, np.log)
    return ha + hb - hab


def mi_bits(a, b, f) -> float:
    """Extra: MI(A,F) + MI(B,F) in **bits** on the 8-bit gray values (256×256 joint histogram).

    MI(X,F) = H(X) + H(F) − H(X,F), log2, empty bins dropped, no normalisation or
    requantisation (values are rounded to integers as ``im2uint8`` would). This is the
    textbook definition of Qu et al. (2002); none of the three reference codes computes it
    (rfn-nest's is degenerate, VIFB's is in nats after min-max requantisation), so it is not
    comparable with published tables. Higher is better.
    Reference: Qu, Zhang & Yan, "Information measure for performance of image fusion",
    Electronics Letters 38(7):313–315 (2002) (no reference code).

    Example (the bundled TNO infrared/visible pair, scaled to 0–255):

    >>> from importlib.resources import files
    >>> import numpy as np
    >>> from mutualfuse.image_io import read_image
    >>> from mutualfuse.metrics import en, mi_bits
    >>> a, b = (255 * read_image(files("mutualfuse") / f"data/samples/tno-01/{n}.png")[0] for n in "ab")
    >>> mi_bits(a, a, a) == 2 * en(a)  # MI(A,A) = H(A), twice
    True
    >>> round(mi_bits(a, b, (a + b) / 2), 3), round(mi_bits(a, b, np.maximum(a, b)), 3)
    (1.612, 6.486)
    """
    A, B, F = prep3(a, b, f)
    qa, qb, qf = (im2uint8_values(x).astype(np.int64) for x in (A, B, F))
    total = 0.0
    for q in (qa, qb):
        ha, hf, haf = _joint_entropies(q, qf, np.log2)
        total += ha + hf - haf
    return total


def ce(a, b, f, convention: str = "vifb") -> float:
    """Cross entropy CE = [CE(A,F) + CE(B,F)] / 2 with CE(X,F) = Σ_k p_X(k)·log2(p_X(k)/p_F(k)).

    Reference: Bulanon, Burks & Alchanatis, Biosystems Engineering 103(1):12–22 (2009);
    code ``VIFB metricsCross_entropy.m``.

    Conventions (VIFB): 256-bin histograms of the integer gray values (0–255), sums only over
    levels where both p_X and p_F are non-zero (so it is a KL divergence restricted to the
    common support), log2. Lower is better.

    Example (the bundled TNO infrared/visible pair, scaled to 0–255):

    >>> from importlib.resources import files
    >>> from mutualfuse.image_io import read_image
    >>> from mutualfuse.metrics import ce
    >>> a, b = (255 * read_image(files("mutualfuse") / f"data/samples/tno-01/{n}.png")[0] for n in "ab")
    >>> round(ce(a, a, a), 3), round(ce(a, b, a), 3)  # F = A: CE(A,F) = 0, the mean keeps CE(B,A)/2
    (0.0, 0.361)
    """
    if convention != "vifb":
        raise unknown_convention("CE", convention, ('vifb',))
    A, B, F = prep3(a, b, f)
    pf = _hist256(F) / F.size
    out = 0.0
    for x in (B, A):
        px = _hist256(x) / x.size
        m = (px != 0) & (pf != 0)
        out += float(np.sum(px[m] * np.log2(px[m] / pf[m])))
    return out / 2.0


# --------------------------------------------------------------------------------------------
# FMI (Haghighat's fast-FMI, nestfuse analysis_fmi.m)
# --------------------------------------------------------------------------------------------


def _windows_colmajor(x: np.ndarray, w: int) -> np.ndarray:
    """All w×w 'valid' windows as rows of length w², in MATLAB column-major order ``sub(:)``."""
    v = np.lib.stride_tricks.sliding_window_view(x, (w, w))  # (m-w+1, n-w+1, w(row), w(col))
    v = np.swapaxes(v, 2, 3)  # column-major flattening: index = col*w + row
    return v.reshape(-1, w * w)


def _minmax_norm(s: np.ndarray) -> np.ndarray:
    mx = s.max(axis=1, keepdims=True)
    mn = s.min(axis=1, keepdims=True)
    flat = mx == mn
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (s - mn) / (mx - mn)
    return np.where(flat, 1.0, out)


def _seqsum(x: np.ndarray) -> np.ndarray:
    """Row sums accumulated left to right, like MATLAB/Octave ``sum`` of a short vector."""
    s = x[:, 0].copy()
    for k in range(1, x.shape[1]):
        s += x[:, k]
    return s


def _sum2_33(x: np.ndarray) -> np.ndarray:
    """``sum(sum(W))`` of 3×3 windows given column-major rows: column sums, then their sum."""
    c = [(x[:, 3 * j] + x[:, 3 * j + 1]) + x[:, 3 * j + 2] for j in range(3)]
    return (c[0] + c[1]) + c[2]


def _prod_pdf(fp: np.ndarray, xp: np.ndarray) -> np.ndarray:
    return fp[:, :, None] * xp[:, None, :]


def _fmi_pair(xs: np.ndarray, fs: np.ndarray) -> np.ndarray:
    """Normalised MI 2I/(H_x+H_f) of each window pair (rows), both already min-max normalised.

    Sums that decide branches are accumulated in MATLAB's order. This matters: for a constant
    window the PDF is 1/9 everywhere, and ``pdf - mean(pdf)`` is not exactly 0 because nine
    copies of fl(1/9) summed left to right give 1 + 2^-52. Two constant windows therefore
    get Pearson c = 1 (not 0), the comonotone joint PDF and a score of 1 — the reference
    behaviour, which moves FMI_pixel by ~0.3 % on the medical images.
    """
    n, l = xs.shape
    sx = _sum2_33(xs) if l == 9 else _seqsum(xs)
    sf_ = _sum2_33(fs) if l == 9 else _seqsum(fs)
    xp = xs / sx[:, None]
    fp = fs / sf_[:, None]
    xc = np.cumsum(xp, axis=1)
    fc = np.cumsum(fp, axis=1)
    xt = xp - (_seqsum(xp) / l)[:, None]
    ft = fp - (_seqsum(fp) / l)[:, None]
    sxy = _seqsum(xt * ft)
    with np.errstate(invalid="ignore", divide="ignore"):
        c = np.where(sxy == 0, 0.0, sxy / np.sqrt(_seqsum(xt * xt) * _seqsum(ft * ft)))
    idx = np.arange(1, l + 1, dtype=np.float64)
    ex = xp @ idx
    ef = fp @ idx
    xsd = np.sqrt(np.maximum(xp @ (idx * idx) - ex * ex, 0.0))
    fsd = np.sqrt(np.maximum(fp @ (idx * idx) - ef * ef, 0.0))

    # Fréchet bound of each window: upper min(F, X) where c >= 0, lower max(F+X-1, 0) where
    # c < 0 (written as the code writes them); only the bound a window uses is computed.
    pos = c >= 0
    F_ = fc[:, :, None]  # i index (f)
    X_ = xc[:, None, :]  # j index (x)
    prod = F_ * X_
    bound = np.empty((n, l, l))
    ip, ineg = np.nonzero(pos)[0], np.nonzero(~pos)[0]
    if ip.size:
        Fp, Xp = F_[ip], X_[ip]
        bound[ip] = 0.5 * (Fp + Xp - np.abs(Fp - Xp))
    if ineg.size:
        Fn, Xn = F_[ineg], X_[ineg]
        bound[ineg] = 0.5 * (Fn + Xn - 1 + np.abs(Fn + Xn - 1))
    cov = np.sum(bound - prod, axis=(1, 2))
    sdz = (xsd == 0) | (fsd == 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        coef = np.where(sdz | (pos & (c == 0)), 0.0, c / (cov / (fsd * xsd)))
    # 2-D differences of the bound, zero-padded at index 0 (the code's corner/edge/wall cases)
    bp = np.zeros((n, l + 1, l + 1))
    bp[:, 1:, 1:] = bound
    jb = bp[:, 1:, 1:] - bp[:, :-1, 1:] - bp[:, 1:, :-1] + bp[:, :-1, :-1]
    jpdf = coef[:, None, None] * jb + (1 - coef)[:, None, None] * _prod_pdf(fp, xp)
    with np.errstate(invalid="ignore", divide="ignore"):
        # real(-p*log2(p)) for p < 0 is -p*log2(|p|)
        terms = np.where(jpdf != 0, -jpdf * np.log2(np.abs(jpdf)), 0.0)
        hx = np.sum(np.where(xp != 0, -xp * np.log2(xp), 0.0), axis=1)
        hf = np.sum(np.where(fp != 0, -fp * np.log2(fp), 0.0), axis=1)
    joint = terms.sum(axis=(1, 2))
    mi_ = hx + hf - joint
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(mi_ == 0, 0.0, 2.0 * mi_ / (hx + hf))


def _fmi_features(A: np.ndarray, B: np.ndarray, F: np.ndarray, feature: str):
    a, b, f = A / 255.0, B / 255.0, F / 255.0  # the wrapper passes im2double images
    if feature in ("none", "pixel"):
        return a, b, f
    if feature == "dct":
        return tuple(sfft.dctn(x, type=2, norm="ortho") for x in (a, b, f))
    if feature == "wavelet":
        out = []
        for x in (a, b, f):
            import pywt  # only this metric needs it (a training process scores SF/EI/Q^AB/F without it)

            cA, (cH, cV, cD) = pywt.dwt2(x, "dmey", mode="symmetric")
            m = np.block([[cA, cH], [cV, cD]])
            lo, hi = m.min(), m.max()
            out.append(np.ones_like(m) if hi == lo else (m - lo) / (hi - lo))
        return tuple(out)
    raise ValueError(f"FMI: unknown feature {feature!r} (use 'pixel', 'dct' or 'wavelet')")


def fmi(a, b, f, feature: str = "pixel", w: int = 3, chunk: int = 2048) -> float:
    """Feature mutual information (Haghighat's fast-FMI), averaged over A and B and over windows.

    Reference: Haghighat, Aghagolzadeh & Seyedarabi, Computers & Electrical Engineering
    37(5):744–756 (2011); Haghighat & Razian, "Fast-FMI", AICT 2014. Code: nestfuse
    ``analysis_metrics_in_paper/analysis_fmi.m`` as called by ``analysis_metrics_7.m``.

    Conventions (nestfuse): images as ``im2double`` (0–1); feature map: ``'pixel'`` (the code's
    ``'none'``: raw pixels), ``'dct'`` (``dct2`` of the whole image, orthonormal DCT-II) or
    ``'wavelet'`` (one-level ``dwt2(...,'dmey')`` with the four subbands tiled and rescaled to
    [0, 1]). For every 3×3 window at 'valid' positions, each window is min-max normalised
    (constant → ones) and divided by its sum to form a 9-bin PDF (MATLAB column-major order);
    the joint PDF is Nelsen's mixture of the Fréchet upper (c ≥ 0) or lower (c < 0) bound
    with the product of the marginals, weighted by Pearson's c divided by the bound's
    correlation; score = 2·I/(H_x + H_f) (log2). A window identical to F's scores 1.
    Quirk reproduced: after the A–F term, F's window is kept min-max normalised, so the
    B–F "identical window" test compares raw B with normalised F.
    FMI = mean over windows of (FMI_AF + FMI_BF)/2. Higher is better.

    ``'wavelet'`` uses PyWavelets' 62-tap ``dmey``, whereas MATLAB's Wavelet Toolbox ``dmey``
    has 102 taps, so FMI_w is an unchecked extra and will not match MATLAB numbers.

    Cost: O(81·N) per source, vectorised in chunks of ``chunk`` windows; about 1 s per 256²
    pair and 3–4 s at 640×480 (the reference takes ~11 minutes per 256² pair under Octave).

    ``w``: the window side (an integer ≥ 1; 3 = the reference wrapper's and the registered
    metrics'); ``chunk``: windows per vectorised batch (an integer ≥ 1; only memory and speed
    depend on it).

    Example (a 64×64 crop of the bundled TNO pair, scaled to 0–255):

    >>> from importlib.resources import files
    >>> from mutualfuse.image_io import read_image
    >>> from mutualfuse.metrics import fmi
    >>> a, b = (255 * read_image(files("mutualfuse") / f"data/samples/tno-01/{n}.png")[0][:64, :64] for n in "ab")
    >>> round(fmi(a, b, a), 3), round(fmi(a, b, (a + b) / 2), 3)  # F = A: the A term is 1, the B term is not
    (0.609, 0.423)
    >>> round(fmi(a, b, (a + b) / 2, feature="dct"), 3)
    0.378
    """
    for pname, v in (("w", w), ("chunk", chunk)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            from ..errors import ParameterError

            raise ParameterError(f"FMI: {pname} must be an integer >= 1, got {v!r}")
    A, B, F = prep3(a, b, f)
    if min(F.shape) < w:
        raise ImageTooSmallError(f"FMI needs images of at least {w}×{w} pixels ({w}×{w} windows), "
                                 f"got {F.shape[1]}×{F.shape[0]}", w)
    fa, fb, ff = _fmi_features(A, B, F, feature)
    wa, wb, wf = (_windows_colmajor(x, w) for x in (fa, fb, ff))
    total = 0.0
    n = wa.shape[0]
    for s in range(0, n, chunk):
        sa, sb, sf = wa[s : s + chunk], wb[s : s + chunk], wf[s : s + chunk]
        eq_af = np.all(sa == sf, axis=1)
        fn = _minmax_norm(sf)
        r_af = _fmi_pair(_minmax_norm(sa), fn)
        fmi_af = np.where(eq_af, 1.0, r_af)
        f_for_b = np.where(eq_af[:, None], sf, fn)
        eq_bf = np.all(sb == f_for_b, axis=1)
        r_bf = _fmi_pair(_minmax_norm(sb), fn)
        fmi_bf = np.where(eq_bf, 1.0, r_bf)
        total += float(np.sum((fmi_af + fmi_bf) / 2.0))
    return total / n
