"""Q_P, Zhao et al.'s phase-congruency fusion metric, with Liu's revision of Kovesi's
phase congruency (``metricZhao.m`` + ``myphasecong3.m`` of ``zhengliu6699/imageFusionMetrics@d6f7f1a``).
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from scipy import fft as sfft
from scipy import ndimage

from .._jit import njit as _njit
from ._common import gaussian_1d, prep3
from .liu_kernels import kernels
from ..errors import ImageTooSmallError, ParameterError


#: dtype of the 72 inverse FFTs (nscale × norient × 3 images) of :func:`qp`: complex64 (float32
#: parts). The filtered spectra are computed in float64 and rounded once to float32, the inverse
#: transforms run in float32 (about half the time and memory traffic of complex128: Q_P ~1.3×
#: faster at 640×480), and every later operation reads the float32 responses as float64.
#: Approximate: Q_P moved by at most 6.6e-6 relative against the complex128 transforms on the 49
#: conformance triples (Lytro 15; median 1.5e-8, 3 above 1e-6), a bound measured there, not guaranteed elsewhere
#: (the PC > 0.1 masks and the noise threshold can turn on a float32 rounding). ``np.complex128``
#: gives the previous float64 values bit for bit.
FFT_DTYPE = np.complex64


@dataclass(frozen=True)
class PhaseCongruencyConfig:
    """``myphasecong3`` defaults (Kovesi's ``phasecong3`` parameters)."""

    nscale: int = 4
    norient: int = 6
    min_wavelength: float = 3.0
    mult: float = 2.1
    sigma_onf: float = 0.55
    dtheta_on_sigma: float = 1.2
    k: float = 2.0
    cut_off: float = 0.5
    g: float = 10.0


def _grid(n: int) -> np.ndarray:
    """Kovesi's normalised frequency range for one axis (odd and even sizes differ)."""
    if n % 2:
        return np.arange(-(n - 1) / 2, (n - 1) / 2 + 1) / (n - 1)
    return np.arange(-n / 2, n / 2) / n


def _lowpass(rows: int, cols: int, cutoff: float = 0.45, order: int = 15) -> np.ndarray:
    """Kovesi's ``lowpassfilter``: Butterworth 1/(1 + (r/cutoff)^(2n)), placed with ``fftshift``
    (not ``ifftshift``), so for odd sizes it is off by one sample — reproduced."""
    x = (np.arange(1, cols + 1) - (cols // 2 + 1)) / cols
    y = (np.arange(1, rows + 1) - (rows // 2 + 1)) / rows
    xx, yy = np.meshgrid(x, y)
    r = np.sqrt(xx * xx + yy * yy)
    return np.fft.fftshift(1.0 / (1.0 + (r / cutoff) ** (2 * order)))


class _FilterBank:
    """The image-independent part of ``myphasecong3`` for one image size: log-Gabor radial
    filters, angular spreads, and per orientation the mean squared smallest-scale filter EM_n and
    the noise-model sums Σ(Σ_s f_s²) and Σ(Σ_{i<j} f_i f_j) of the filters' inverse FFTs (computed
    once and shared by A, B and F; the reference recomputes them for every image)."""

    def __init__(self, rows: int, cols: int, cfg: PhaseCongruencyConfig):
        nscale, norient = cfg.nscale, cfg.norient
        theta_sigma = np.pi / norient / cfg.dtheta_on_sigma
        x, y = np.meshgrid(_grid(cols), _grid(rows))
        radius = np.sqrt(x * x + y * y)
        radius[rows // 2, cols // 2] = 1.0
        theta = np.arctan2(-y, x)
        radius = np.fft.ifftshift(radius)
        theta = np.fft.ifftshift(theta)
        sintheta, costheta = np.sin(theta), np.cos(theta)
        lp = _lowpass(rows, cols)
        self.log_gabor = []
        for s in range(nscale):
            fo = 1.0 / (cfg.min_wavelength * cfg.mult**s)
            lg = np.exp(-(np.log(radius / fo) ** 2) / (2 * np.log(cfg.sigma_onf) ** 2)) * lp
            lg[0, 0] = 0.0
            self.log_gabor.append(lg)
        self.spread, self.em_n, self.sum_an2, self.sum_aiaj = [], [], [], []
        sqrt_n = np.sqrt(rows * cols)
        for o in range(norient):
            angl = o * np.pi / norient
            ds = sintheta * np.cos(angl) - costheta * np.sin(angl)
            dc = costheta * np.cos(angl) + sintheta * np.sin(angl)
            dtheta = np.abs(np.arctan2(ds, dc))
            spread = np.exp(-(dtheta**2) / (2 * theta_sigma**2))
            self.spread.append(spread)
            filt0 = self.log_gabor[0] * spread
            self.em_n.append(float(np.sum(filt0**2)))
            f = [np.real(sfft.ifft2(lg * spread)) * sqrt_n for lg in self.log_gabor]
            self.sum_an2.append(float(np.sum(sum(x * x for x in f))))
            aiaj = np.zeros((rows, cols))
            for si in range(nscale - 1):
                for sj in range(si + 1, nscale):
                    aiaj += f[si] * f[sj]
            self.sum_aiaj.append(float(np.sum(aiaj)))
        self.log_gabor = np.stack(self.log_gabor)  # (nscale, rows, cols), for the compiled pass


@functools.lru_cache(maxsize=2)
def filter_bank(rows: int, cols: int, cfg: PhaseCongruencyConfig) -> _FilterBank:
    """The :class:`_FilterBank` of one image size, built once and reused (read-only arrays):
    evaluating a folder of same-size images builds it once instead of once per triple."""
    bank = _FilterBank(rows, cols, cfg)
    bank.log_gabor.flags.writeable = False
    for x in bank.spread:
        x.flags.writeable = False
    return bank


def _orient_spectrum_py(X, lg, spread, out):
    """``out[s]`` = ``X`` · (``lg[s]`` · ``spread``) for every scale s: the image spectrum times
    the log-Gabor filters of one orientation, in one pass (NumPy's ``np.multiply(lg[s], spread)``
    then complex × real: the same values, without filter images in between, and each row of
    ``X`` and ``spread`` read once for all scales). Row views: the inner loop vectorises."""
    nscale, rows, cols = out.shape
    for i in range(rows):
        xr = X[i]
        sr = spread[i]
        for s in range(nscale):
            lr = lg[s, i]
            orow = out[s, i]
            for j in range(cols):
                f = lr[j] * sr[j]
                z = xr[j]
                orow[j] = complex(z.real * f, z.imag * f)


def _orient_energy_py(eo, cut_off, g, sum_an, expo, energy, abs2_0):
    """One orientation's per-pixel pass over its ``nscale`` filter responses ``eo`` (nscale,
    rows, cols) complex: Σ_s |eo_s| (into ``sum_an``), the exponent (cutOff − width)·g of the
    frequency-spread weight, width = Σ_s |eo_s| / (max_s |eo_s| + ε) / nscale (into ``expo``;
    the caller takes ``np.exp``), the phase-deviation energy Σ_s (e·ē + o·ō − |e·ō − o·ē|) with
    (ē, ō) the unit mean phase vector (into ``energy``, before the noise threshold) and |eo_0|²
    (into ``abs2_0``, for the median). The same operations in the same order as the array
    expressions of :func:`_phase_congruency_numpy`, except |z| = sqrt(re² + im²) where NumPy
    calls ``hypot`` (equal to within an ulp). One image row at a time, the scales in the outer
    loop and the pixels of the row in the inner one (which vectorises), the per-pixel sums kept
    in the output rows and in ``ma``, ``me``, ``mo`` (row scratch)."""
    nscale, rows, cols = eo.shape
    eps = 0.0001
    ma = np.empty(cols)
    me = np.empty(cols)
    mo = np.empty(cols)
    se = np.empty(cols)
    for i in range(rows):
        sa = sum_an[i]
        so = energy[i]   # Σ_s imaginary parts until the energy replaces them
        z0 = eo[0, i]
        a2r = abs2_0[i]
        for j in range(cols):
            re = np.float64(z0[j].real)
            im = np.float64(z0[j].imag)
            a2 = re * re + im * im
            a = math.sqrt(a2)  # NumPy's abs uses hypot: the same to an ulp, several times slower
            a2r[j] = a2
            sa[j] = 0.0 + a
            se[j] = 0.0 + re
            so[j] = 0.0 + im
            ma[j] = a
        for s in range(1, nscale):
            zs = eo[s, i]
            for j in range(cols):
                re = np.float64(zs[j].real)
                im = np.float64(zs[j].imag)
                a = math.sqrt(re * re + im * im)
                sa[j] += a
                se[j] += re
                so[j] += im
                ma[j] = a if a > ma[j] else ma[j]
        ex = expo[i]
        for j in range(cols):
            xe = math.sqrt(se[j] * se[j] + so[j] * so[j]) + eps
            me[j] = se[j] / xe
            mo[j] = so[j] / xe
            ex[j] = (cut_off - sa[j] / (ma[j] + eps) / nscale) * g
            so[j] = 0.0
        for s in range(nscale):
            zs = eo[s, i]
            for j in range(cols):
                e = np.float64(zs[j].real)
                od = np.float64(zs[j].imag)
                so[j] += e * me[j] + od * mo[j] - abs(e * mo[j] - od * me[j])


def _orient_accumulate_py(sum_an, wexp, energy, T, c, sn,
                          total_energy, total_sum_an, covx2, covy2, covxy):
    """One orientation's contribution after the noise threshold ``T``: the frequency-spread
    weight 1/(1 + ``wexp``) (``wexp`` = exp of :func:`_orient_energy_py`'s exponent), the
    thresholded weighted energy and the PC covariance terms, accumulated in place (same
    operations and order as :func:`_phase_congruency_numpy`); row views, so it vectorises."""
    rows, cols = energy.shape
    for i in range(rows):
        sa_r = sum_an[i]
        wx_r = wexp[i]
        en_r = energy[i]
        te_r = total_energy[i]
        ts_r = total_sum_an[i]
        x2_r = covx2[i]
        y2_r = covy2[i]
        xy_r = covxy[i]
        for j in range(cols):
            en = en_r[j] - T
            en = en if en > 0.0 else 0.0
            sa = sa_r[j]
            w = 1.0 / (1 + wx_r[j])
            ts_r[j] += sa
            te_r[j] += w * en
            pc = w * en / sa
            cx = pc * c
            cy = pc * sn
            x2_r[j] += cx * cx
            y2_r[j] += cy * cy
            xy_r[j] += cx * cy


def _moments_py(total_energy, total_sum_an, covx2, covy2, covxy, norient):
    """:func:`_moments_numpy` in one pass, in place: PC into ``total_energy``, the maximum
    moment M into ``covx2`` and the minimum moment m into ``covy2`` (the same operations)."""
    rows, cols = total_energy.shape
    eps = 0.0001
    for i in range(rows):
        te = total_energy[i]
        ts = total_sum_an[i]
        x2 = covx2[i]
        y2 = covy2[i]
        xy = covxy[i]
        for j in range(cols):
            cx2 = x2[j] / (norient / 2)
            cy2 = y2[j] / (norient / 2)
            cxy = xy[j] / norient
            denom = math.sqrt(cxy * cxy + (cx2 - cy2) * (cx2 - cy2)) + eps
            te[j] = te[j] / (ts[j] + eps)
            x2[j] = (cy2 + cx2 + denom) / 2
            y2[j] = (cy2 + cx2 - denom) / 2


#: radix buckets of :func:`_median_buckets_py`: a non-negative double's bit pattern, read as an
#: int64, orders as the value; its top 16 bits below the sign (the exponent and 4 mantissa bits)
#: cut the values into ranges of 1/16 octave, so the median's bucket holds a few % of them
_RADIX_SHIFT = 47


def _median_buckets_py(v, k_lo, k_hi, counts):
    """First pass of an exact selection of the ``k_lo``-th and ``k_hi``-th smallest values of the
    1-D float64 array ``v`` (k_lo ≤ k_hi): a histogram of the top bits of the values' bit
    patterns into ``counts`` (2**16), then the buckets b_lo, b_hi holding those two ranks.
    Returns (b_lo, b_hi, rank of the first value of b_lo, number of values in b_lo … b_hi), or
    b_lo = −1 when a value is negative (sign bit set, −0 included) or NaN, which this order
    does not cover."""
    bits = v.view(np.int64)
    counts[:] = 0
    for x in bits:
        if x < 0 or x > 0x7FF0000000000000:  # sign bit set, or a NaN (+inf is 0x7FF0...0)
            return -1, -1, 0, 0
        counts[x >> _RADIX_SHIFT] += 1
    c = 0
    b_lo = -1
    start = 0
    for b in range(counts.shape[0]):
        if b_lo < 0 and c + counts[b] > k_lo:
            b_lo = b
            start = c
        if c + counts[b] > k_hi:
            return b_lo, b, start, c + counts[b] - start
        c += counts[b]
    return -1, -1, 0, 0  # not reached for k_hi < len(v)


def _median_gather_py(v, b_lo, b_hi, out):
    """Second pass: the values of ``v`` in the buckets b_lo … b_hi (:func:`_median_buckets_py`)
    into ``out``."""
    bits = v.view(np.int64)
    n = 0
    for j in range(bits.shape[0]):
        b = bits[j] >> _RADIX_SHIFT
        if b_lo <= b and b <= b_hi:
            out[n] = v[j]
            n += 1


def _median(K, x: np.ndarray) -> float:
    """``np.median(x)`` (the same value: the middle element, or the mean of the two middle ones
    as ``(lo + hi) / 2``) of a C-contiguous array of non-negative values, by a radix selection
    (:func:`_median_buckets_py`: one histogram pass and one gathering pass, then ``np.partition``
    of the few values in the median's bucket) instead of partitioning a copy of all of them
    (~3x faster at 640×480). Arrays with a negative value or a NaN go to ``np.median``."""
    v = x.reshape(-1)
    n = v.size
    k = n // 2
    k_lo = k if n % 2 else k - 1
    b_lo, b_hi, start, m = K["median_buckets"](v, k_lo, k, np.empty(1 << 16, dtype=np.int64))
    if b_lo < 0:
        return float(np.median(v))
    part = np.empty(m)
    K["median_gather"](v, b_lo, b_hi, part)
    part.partition([k_lo - start, k - start])
    return float((part[k_lo - start] + part[k - start]) / 2) if k_lo < k else float(part[k - start])


@functools.lru_cache(maxsize=1)
def _kernels():
    """The numba-compiled per-pixel passes (``None`` without numba). No ``fastmath``: every
    operation is evaluated as written in float64 (no FMA contraction, no reassociation), so the
    compiled path differs from the NumPy one only where a library function rounds differently
    (|z| by ``sqrt`` instead of ``hypot``); ``error_model="numpy"`` gives 0/0 = NaN as NumPy
    does. Compiled once per machine (``cache=True``) where numba finds a writable cache folder,
    else once per process (:func:`mutualfuse._jit.njit`)."""
    try:
        import numba  # noqa: F401  (compiled through _jit.njit)
    except ImportError:          # pragma: no cover - numba is a dependency; keep a working fallback
        return None
    jit = functools.partial(_njit, nogil=True, error_model="numpy")  # cache=True where writable
    return {"spectrum": jit(_orient_spectrum_py), "energy": jit(_orient_energy_py),
            "accumulate": jit(_orient_accumulate_py), "moments": jit(_moments_py),
            "median_buckets": jit(_median_buckets_py), "median_gather": jit(_median_gather_py)}


def _noise_threshold(median_e2n: float, bank: "_FilterBank", o: int, cfg: PhaseCongruencyConfig) -> float:
    """Kovesi's noise threshold T of orientation ``o`` from the median of |EO_0|² (Rayleigh model)."""
    mean_e2n = -median_e2n / np.log(0.5)
    noise_power = mean_e2n / bank.em_n[o]
    est_noise_energy2 = 2 * noise_power * bank.sum_an2[o] + 4 * noise_power * bank.sum_aiaj[o]
    tau = np.sqrt(est_noise_energy2 / 2)
    est_noise_energy = tau * np.sqrt(np.pi / 2)
    est_noise_sigma = np.sqrt((2 - np.pi / 2) * tau**2)
    return float((est_noise_energy + cfg.k * est_noise_sigma) / 1.7)


def _start(im: np.ndarray, cfg: PhaseCongruencyConfig, bank: "_FilterBank | None"):
    """The filter bank (the cached one of this size unless given), the image's FFT and the five
    zeroed accumulators (total energy, total amplitude, covariance xx, yy, xy)."""
    rows, cols = im.shape
    if bank is None:
        bank = filter_bank(rows, cols, cfg)
    return bank, sfft.fft2(im), [np.zeros((rows, cols)) for _ in range(5)]


def _moments_numpy(total_energy, total_sum_an, covx2, covy2, covxy, norient: int):
    """PC map and the maximum / minimum moments M, m from the accumulated orientation terms."""
    eps = 0.0001
    pc = total_energy / (total_sum_an + eps)
    cx2 = covx2 / (norient / 2)
    cy2 = covy2 / (norient / 2)
    cxy = covxy / norient
    denom = np.sqrt(cxy**2 + (cx2 - cy2) ** 2) + eps
    return pc, (cy2 + cx2 + denom) / 2, (cy2 + cx2 - denom) / 2


def phase_congruency(im: np.ndarray, cfg: PhaseCongruencyConfig = PhaseCongruencyConfig(),
                     bank: "_FilterBank | None" = None):
    """Liu's ``myphasecong3``: (phase congruency PC, maximum moment M, minimum moment m).

    Kovesi's PC_2 with log-Gabor filters (``cfg``), noise threshold from the median of the
    smallest-scale energy, frequency-spread weighting; PC = Σ_o weighted energy / (Σ_o Σ_s A + ε)
    (Liu's revision: one PC map summed over orientations), M and m from the PC covariance over
    orientations. The FFT is taken without padding (periodic boundary). ``bank``: the filters
    for this image size, when several images of one size are processed.

    The per-pixel work runs compiled (numba, :func:`_kernels`), the FFTs in scipy (the inverse
    ones in :data:`FFT_DTYPE`, complex64: approximate, see there);
    :func:`_phase_congruency_numpy` keeps the same formulas as NumPy array expressions, the
    reference the tests compare the compiled path against.
    """
    K = _kernels()
    if K is None:                # pragma: no cover - numba is a dependency
        return _phase_congruency_numpy(im, cfg, bank)
    rows, cols = im.shape
    nscale, norient = cfg.nscale, cfg.norient
    bank, imagefft, (total_energy, total_sum_an, covx2, covy2, covxy) = _start(im, cfg, bank)
    eo = np.empty((nscale, rows, cols), dtype=FFT_DTYPE)
    sum_an, expo, energy, abs2_0 = (np.empty((rows, cols)) for _ in range(4))
    for o in range(norient):
        angl = o * np.pi / norient
        K["spectrum"](imagefft, bank.log_gabor, bank.spread[o], eo)
        res = sfft.ifft2(eo, overwrite_x=True)  # all scales in one call, in place (2-D over the last two axes)
        if not np.shares_memory(res, eo):
            eo[...] = res
        K["energy"](eo, cfg.cut_off, cfg.g, sum_an, expo, energy, abs2_0)
        np.exp(expo, out=expo)  # NumPy's vectorised exp, as the NumPy version (libm's: ~8x slower)
        T = _noise_threshold(_median(K, abs2_0), bank, o, cfg)
        K["accumulate"](sum_an, expo, energy, T, float(np.cos(angl)), float(np.sin(angl)),
                        total_energy, total_sum_an, covx2, covy2, covxy)
    K["moments"](total_energy, total_sum_an, covx2, covy2, covxy, norient)
    return total_energy, covx2, covy2


def _phase_congruency_numpy(im: np.ndarray, cfg: PhaseCongruencyConfig = PhaseCongruencyConfig(),
                            bank: "_FilterBank | None" = None):
    """:func:`phase_congruency` as NumPy array expressions (the reference of the compiled path;
    its inverse FFTs in :data:`FFT_DTYPE` too, the responses widened to complex128)."""
    eps = 0.0001
    rows, cols = im.shape
    nscale, norient = cfg.nscale, cfg.norient
    bank, imagefft, (total_energy, total_sum_an, covx2, covy2, covxy) = _start(im, cfg, bank)
    for o in range(norient):
        angl = o * np.pi / norient
        spread = bank.spread[o]
        sum_e = np.zeros((rows, cols))
        sum_o = np.zeros((rows, cols))
        sum_an = np.zeros((rows, cols))
        eo_list = []
        for s in range(nscale):
            eo = sfft.ifft2((imagefft * (bank.log_gabor[s] * spread)).astype(FFT_DTYPE))
            eo = eo.astype(np.complex128)
            eo_list.append(eo)
            an = np.abs(eo)
            sum_an += an
            sum_e += eo.real
            sum_o += eo.imag
            if s == 0:
                max_an = an
            else:
                max_an = np.maximum(max_an, an)

        x_energy = np.sqrt(sum_e**2 + sum_o**2) + eps
        mean_e = sum_e / x_energy
        mean_o = sum_o / x_energy
        energy = np.zeros((rows, cols))
        for eo in eo_list:
            e, od = eo.real, eo.imag
            energy += e * mean_e + od * mean_o - np.abs(e * mean_o - od * mean_e)

        T = _noise_threshold(float(np.median(np.abs(eo_list[0]) ** 2)), bank, o, cfg)
        energy = np.maximum(energy - T, 0.0)

        width = sum_an / (max_an + eps) / nscale
        weight = 1.0 / (1 + np.exp((cfg.cut_off - width) * cfg.g))
        total_sum_an += sum_an
        total_energy += weight * energy
        with np.errstate(divide="ignore", invalid="ignore"):
            pc = weight * energy / sum_an
        covx = pc * np.cos(angl)
        covy = pc * np.sin(angl)
        covx2 += covx**2
        covy2 += covy**2
        covxy += covx * covy

    return _moments_numpy(total_energy, total_sum_an, covx2, covy2, covxy, norient)


def _gauss_same(x: np.ndarray, g1: np.ndarray) -> np.ndarray:
    """``filter2(fspecial('gaussian', 11, 1.5), x, 'same')`` (zero padding), separably."""
    y = ndimage.correlate1d(x, g1, axis=0, mode="constant")
    return ndimage.correlate1d(y, g1, axis=1, mode="constant")


def _corr_coefficient(f1, f2, fmax, ff, m1, m2, m3) -> float:
    """``correlation_coeffcient`` of ``metricZhao.m``: masked local correlation, best of three.

    Compiled (numba, ``liu_kernels._zhao_corr_py``): the eleven local Gaussian sums per row of
    the zero-padded maps ('valid' on a 5-pixel zero border is ``filter2 'same'``: scipy's
    ``correlate1d`` in constant mode adds the same products in the same order, the padding
    contributing exact zeros), then r and the maximum per pixel, without the 33 full-image
    filter passes and their temporaries; the same values as :func:`_corr_coefficient_numpy`
    (the tests' reference) up to rounding.
    """
    K = kernels()
    if K is None:                # pragma: no cover - numba is a dependency
        return _corr_coefficient_numpy(f1, f2, fmax, ff, m1, m2, m3)
    g1 = gaussian_1d(11, 1.5)
    P1, P2, PM, PF = (np.pad(x, 5) for x in (f1 * m1, f2 * m2, fmax * m3, ff))
    best = np.empty(ff.shape)
    K["zhao_corr"](P1, P2, PM, PF, m1, m2, m3, g1, 0.0001, best)
    return float(np.sum(best) / np.sum(m3))


def _corr_coefficient_numpy(f1, f2, fmax, ff, m1, m2, m3) -> float:
    """:func:`_corr_coefficient` as NumPy array expressions (the reference of the compiled path)."""
    g1 = gaussian_1d(11, 1.5)
    c = 0.0001
    f1, f2, fmax = f1 * m1, f2 * m2, fmax * m3
    muf = _gauss_same(ff, g1)
    sf2 = _gauss_same(ff * ff, g1) - muf * muf
    rs = []
    for x, m in ((f1, m1), (f2, m2), (fmax, m3)):
        mu = _gauss_same(x, g1)
        sx2 = _gauss_same(x * x, g1) - mu * mu
        sxf = _gauss_same(x * ff, g1) - mu * muf
        r = np.zeros_like(ff)
        r[m] = (sxf[m] + c) / (np.sqrt(np.abs(sx2[m] * sf2[m])) + c)
        rs.append(r)
    best = np.maximum(np.maximum(rs[0], rs[1]), rs[2])
    return float(np.sum(best) / np.sum(m3))


def qp(a, b, f, threshold: float = 0.1) -> float:
    """Q_P, Zhao et al.'s phase-congruency-based metric (Liu's ``metricZhao.m``).

    Formula: from phase congruency PC, maximum moment M and minimum moment m of A, B and F
    (:func:`phase_congruency`), per feature k ∈ {PC, M, m}: masked local correlations
    r_X = (σ_XF + C)/(sqrt|σ_X² σ_F²| + C) for X = A, B and the "max" map (features of the
    source with the larger PC), each on its mask PC_X > 0.1; P_k = Σ_pixels max(r_A, r_B, r_max)
    / |mask_max|; Q_P = P_PC·P_M·P_m.
    Reference: J. Zhao, R. Laganière, Z. Liu, "Performance assessment of combinative
    pixel-level image fusion based on an absolute feature measurement", Int. J. Innovative
    Computing, Information and Control 3(6A):1433–1447 (2007); code ``metricZhao.m`` (internal
    name ``pc_assessFusion``) + ``myphasecong3.m`` (Liu's revision of P. Kovesi's
    ``phasecong3``).
    Conventions: raw 0–255 values; ``myphasecong3`` defaults (nscale 4, norient 6, minimum
    wavelength 3, mult 2.1, sigmaOnf 0.55, dThetaOnSigma 1.2, k 2, cutOff 0.5, g 10), FFT
    without padding (the inverse FFTs in float32 for speed: within 6.6e-6 relative of float64
    on the conformance images, :data:`FFT_DTYPE`), median-based noise threshold, low-pass filter placed with ``fftshift``
    (off by one sample for odd sizes, reproduced). ``threshold``: the PC mask level (the
    reference's 0.1), a number in [0, 1) (PC lies in [0, 1]; ParameterError otherwise).
    C = 1e-4; Gaussian 11×11 σ 1.5 by ``filter2 'same'`` (zero padding); 0 outside a mask. **Quirk reproduced:** the fused
    feature maps are not masked, so A = B = F gives 0.92–0.98 (98 source images of the
    conformance set), not 1. Higher is better.

    Example (the bundled TNO infrared image):

    >>> from importlib.resources import files
    >>> from mutualfuse.image_io import read_image
    >>> from mutualfuse.metrics import qp
    >>> a = 255 * read_image(files("mutualfuse") / "data/samples/tno-01/a.png")[0]
    >>> round(qp(a, a, a), 3)  # A = B = F: not 1, the fused maps are not masked
    0.957
    """
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.integer, np.floating)) \
            or not 0 <= threshold < 1:
        # PC lies in [0, 1]: a threshold of 1 or more masks every pixel (Q_P = 0/0), NaN compares false
        raise ParameterError(f"Q_P: threshold must be a number in [0, 1), got {threshold!r}")
    A, B, F = prep3(a, b, f)
    if min(A.shape) < 3:
        raise ImageTooSmallError(f"Q_P needs images of at least 3 pixels per side, got {A.shape[1]}×{A.shape[0]}", 3)
    cfg = PhaseCongruencyConfig()
    bank = filter_bank(*A.shape, cfg)
    pc1, M1, n1 = phase_congruency(A, cfg, bank)
    pc2, M2, n2 = phase_congruency(B, cfg, bank)
    pcf, Mf, nf = phase_congruency(F, cfg, bank)
    mask = pc1 > pc2
    pc_max = np.where(mask, pc1, pc2)
    M_max = np.where(mask, M1, M2)
    n_max = np.where(mask, n1, n2)
    m1, m2, m3 = pc1 > threshold, pc2 > threshold, pc_max > threshold
    r_pc = _corr_coefficient(pc1, pc2, pc_max, pcf, m1, m2, m3)
    r_M = _corr_coefficient(M1, M2, M_max, Mf, m1, m2, m3)
    r_m = _corr_coefficient(n1, n2, n_max, nf, m1, m2, m3)
    return r_pc * r_M * r_m
