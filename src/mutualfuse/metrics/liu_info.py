"""Information-theoretic fusion metrics of Z. Liu et al.'s ``imageFusionMetrics``: Q_MI, Q_TE
(Nava), Cvejic's Tsallis MI and Q_NCIE.

Reference: Z. Liu, E. Blasch, Z. Xue, J. Zhao, R. Laganière, W. Wu, "Objective assessment of
multiresolution image fusion algorithms for context enhancement in night vision: a comparative
study", IEEE TPAMI 34(1):94–109 (2012); code ``zhengliu6699/imageFusionMetrics@d6f7f1a``
(``metricMI.m``, ``mutual_info.m``, ``tsallis.m``, ``metricWang.m``, ``NCC.m``, ``normalize1.m``).

All four first apply ``normalize1`` (min-max stretch to 0–255, rounded half away from zero) to
A, B and F and then count 256×256 joint histograms of the integer levels. The reference loops
over pixels and bins in interpreted code; here the histograms are one ``bincount`` each.
"""
from __future__ import annotations

import numpy as np

from ..errors import MetricUndefinedError
from ._common import prep3, round_half_away

LIU = "zhengliu6699/imageFusionMetrics@d6f7f1a0c0a13e7d19bc1e8e4d4f3ad51f439273:"

#: Nava's q (``metricMI`` sw = 3) and Cvejic's q (sw = 2).
Q_NAVA = 0.43137
Q_CVEJIC = 1.85


def normalize1(x: np.ndarray, name: str = "image") -> np.ndarray:
    """Liu's ``normalize1``: ``round((x − min)/(max − min)·255)``, halves away from zero.

    An all-zero image is returned unchanged (as the reference does). A constant non-zero image
    makes the reference divide 0 by 0 and then fail on a NaN histogram index; here it is a
    :class:`~mutualfuse.errors.MetricUndefinedError` (an ``InputError``; ``evaluate`` leaves the
    cell empty with a note).
    """
    hi, lo = float(x.max()), float(x.min())
    if hi == 0 and lo == 0:
        return x
    if hi == lo:
        raise MetricUndefinedError(f"{name} is constant ({hi:g}); Liu et al.'s normalize1 divides by zero")
    return round_half_away((x - lo) / (hi - lo) * 255)


def _div(num: float, den: float) -> float:
    """MATLAB's division of doubles: x/0 = ±Inf, 0/0 = NaN (Python floats raise ZeroDivisionError).
    Only all-zero images (which :func:`normalize1` keeps) make these denominators 0."""
    if den == 0.0:
        return float("nan") if num == 0.0 else float(np.copysign(np.inf, num))
    return num / den


def _norm3(a, b, f) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    A, B, F = prep3(a, b, f)
    return tuple(normalize1(x, n).astype(np.int64) for x, n in ((A, "a"), (B, "b"), (F, "f")))


def joint_hist(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Normalised 256×256 joint histogram h[i, j] = P(x = i, y = j) of two integer images."""
    h = np.bincount((x.ravel() * 256 + y.ravel()), minlength=65536).reshape(256, 256).astype(np.float64)
    return h / h.sum()


def _plogp(p: np.ndarray) -> float:
    """−Σ p·log2 p with 0·log 0 = 0 (the reference's ``p.*log2(p+(p==0))``)."""
    return float(-np.sum(p * np.log2(p + (p == 0))))


def mutual_info(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float, float]:
    """``mutual_info.m``: (MI, H(x, y), H_1, H_2) in bits from the 256×256 joint histogram.

    As in the reference, H_1 is the entropy of ``sum(h)`` (the marginal of ``y``) and H_2 that of
    the marginal of ``x``: the two marginal entropies are returned swapped. Only their sum is
    ever used, so nothing depends on it.
    """
    h = joint_hist(x, y)
    h1 = _plogp(h.sum(axis=0))
    h2 = _plogp(h.sum(axis=1))
    hxy = _plogp(h)
    return h1 + h2 - hxy, hxy, h1, h2


def tsallis(x: np.ndarray, y: np.ndarray, q: float) -> float:
    """``tsallis.m``: I_q(x, y) = (1 − Σ_ij h_ij^q / (m1_i·m2_j)^(q−1)) / (1 − q).

    **Quirk reproduced:** m1 = ``sum(h)`` is the marginal of ``y`` but is indexed by ``x``'s
    level i, and m2 (the marginal of ``x``) by ``y``'s level j. Terms with m1_i·m2_j = 0 are
    skipped.
    """
    h = joint_hist(x, y)
    m1 = h.sum(axis=0)  # marginal of y, indexed by i below
    m2 = h.sum(axis=1)  # marginal of x, indexed by j below
    buff = np.outer(m1, m2)
    nz = buff != 0
    s = float(np.sum(h[nz] ** q / buff[nz] ** (q - 1)))
    return (1.0 - s) / (1.0 - q)


def qmi(a, b, f) -> float:
    """Q_MI, Hossny's normalised mutual information (Liu's ``metricMI(A,B,F,1)``).

    Formula: Q_MI = 2·[ I(A,F)/(H(A)+H(F)) + I(B,F)/(H(B)+H(F)) ], with I and H from the
    256×256 joint histograms of the ``normalize1`` images, log2.
    Reference: M. Hossny, S. Nahavandi, D. Creighton, "Comments on 'Information measure for
    performance of image fusion'", Electronics Letters 44(18):1066–1067 (2008); code
    ``metricMI.m`` + ``mutual_info.m``.
    Conventions: normalize1 on A, B, F (min-max to 0–255, rounded half away). Range 0–2;
    A = B = F gives exactly 2. An all-zero source with an all-zero F makes a term 0/0: NaN, as in
    MATLAB (a constant non-zero image is a MetricUndefinedError, see :func:`normalize1`).
    Shapes: three H×W images. Higher is better.

    Example (random 8-bit images):

    >>> import numpy as np
    >>> from mutualfuse.metrics import qmi
    >>> a, b = np.random.default_rng(0).integers(0, 256, (2, 64, 64), dtype=np.uint8)
    >>> round(qmi(a, a, a), 3), round(qmi(a, b, a), 3)  # A = B = F gives exactly 2
    (2.0, 1.501)
    """
    A, B, F = _norm3(a, b, f)
    i_af, _, h_a, h_f1 = mutual_info(A, F)
    i_bf, _, h_b, h_f2 = mutual_info(B, F)
    return 2.0 * (_div(i_af, h_f1 + h_a) + _div(i_bf, h_f2 + h_b))  # NaN for an all-zero source and F


def qte(a, b, f) -> float:
    """Q_TE, Nava's Tsallis-entropy metric as coded by Liu (``metricMI(A,B,F,3)``, q = 0.43137).

    Formula (as coded): Q_TE = (I_q(A,F) + I_q(B,F)) / (H(A)^q + H(B)^q + I_q(A,B)), with I_q
    from :func:`tsallis` and H the **Shannon** entropy (log2) raised to the power q.
    Reference: R. Nava, G. Cristóbal, B. Escalante-Ramírez, "Mutual information improves image
    fusion quality assessments", SPIE Newsroom (2007); code ``metricMI.m`` + ``tsallis.m``.
    Conventions: normalize1 on A, B, F; the Tsallis marginals are attached to the wrong axes
    (see :func:`tsallis`), and I_q(A,B) is added in the denominator — both reproduced. Not
    normalised to [0, 1] (A = B = F gives 0.31–0.54 on the 98 source images of the conformance
    set). All-zero A and B make it 0/0: NaN, as in MATLAB. Higher is better.

    Example (the bundled TNO infrared image):

    >>> from importlib.resources import files
    >>> from mutualfuse.image_io import read_image
    >>> from mutualfuse.metrics import qte
    >>> a = 255 * read_image(files("mutualfuse") / "data/samples/tno-01/a.png")[0]
    >>> round(qte(a, a, a), 3)  # A = B = F
    0.526
    """
    A, B, F = _norm3(a, b, f)
    q = Q_NAVA
    i_af = tsallis(A, F, q)
    i_bf = tsallis(B, F, q)
    i_ab = tsallis(A, B, q)
    _, _, h_x, h_y = mutual_info(A, B)
    return _div(i_af + i_bf, h_x**q + h_y**q + i_ab)  # NaN for all-zero A and B


def qte_cvejic(a, b, f) -> float:
    """Cvejic's Tsallis mutual information, I_q(A,F) + I_q(B,F) with q = 1.85
    (Liu's ``metricMI(A,B,F,2)``).

    Reference: N. Cvejic, C. N. Canagarajah, D. R. Bull, "Image fusion metric based on mutual
    information and Tsallis entropy", Electronics Letters 42(11):626–627 (2006); code
    ``metricMI.m`` + ``tsallis.m``.
    Conventions: normalize1 on A, B, F; unnormalised; the marginal quirk of :func:`tsallis` makes
    it explode on sparse histograms (thousands on medical images). A port check, not a usable
    quality score. Higher is better (nominally).

    Example (the bundled TNO infrared/visible pair, scaled to 0–255; A = B = F is not a bound):

    >>> from importlib.resources import files
    >>> from mutualfuse.image_io import read_image
    >>> from mutualfuse.metrics import qte_cvejic
    >>> a, b = (255 * read_image(files("mutualfuse") / f"data/samples/tno-01/{n}.png")[0] for n in "ab")
    >>> round(qte_cvejic(a, a, a), 1), round(qte_cvejic(a, b, (a + b) / 2), 1)
    (212.1, 20.5)
    """
    A, B, F = _norm3(a, b, f)
    return tsallis(A, F, Q_CVEJIC) + tsallis(B, F, Q_CVEJIC)


def ncc(x: np.ndarray, y: np.ndarray) -> float:
    """``NCC.m``: nonlinear correlation coefficient (H(x) + H(y) − H(x, y)) / log2(256), with
    256 bins = the gray levels."""
    mi, _, _, _ = mutual_info(x, y)
    return mi / 8.0


def qncie(a, b, f) -> float:
    """Q_NCIE, Wang's nonlinear correlation information entropy (Liu's ``metricWang.m``).

    Formula: R = [[1, N_AB, N_AF], [N_AB, 1, N_BF], [N_AF, N_BF, 1]] with N = :func:`ncc`;
    eigenvalues r_k of R; Q_NCIE = 1 + Σ_k (r_k/3)·log_256(r_k/3).
    Reference: Q. Wang, Y. Shen, J. Q. Zhang, "A nonlinear correlation measure for multivariable
    data set", Physica D 200:287–295 (2005); Q. Wang et al., "Performance evaluation of image
    fusion techniques", ch. 19 of *Image Fusion: Algorithms and Applications* (2008); code
    ``metricWang.m`` + ``NCC.m``.
    Conventions: normalize1 on A, B, F; **the bins are the 256 gray levels**, not Wang's
    equal-occupancy bins, so NCC(X, X) = H(X)/8 < 1 and A = B = F does not give 1 (0.81–0.98 on
    the 98 source images of the conformance set).
    Higher is better.

    Example (the bundled TNO infrared image):

    >>> from importlib.resources import files
    >>> from mutualfuse.image_io import read_image
    >>> from mutualfuse.metrics import qncie
    >>> a = 255 * read_image(files("mutualfuse") / "data/samples/tno-01/a.png")[0]
    >>> round(qncie(a, a, a), 3)  # A = B = F: H(A)/8 enters R, so not 1
    0.926
    """
    A, B, F = _norm3(a, b, f)
    nab, naf, nbf = ncc(A, B), ncc(A, F), ncc(B, F)
    R = np.array([[1.0, nab, naf], [nab, 1.0, nbf], [naf, nbf, 1.0]])
    r = np.linalg.eigvalsh(R)
    hr = -float(np.sum(r * np.log2(r / 3.0) / 3.0)) / 8.0
    return 1.0 - hr
