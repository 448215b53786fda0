"""Image-fusion quality metrics that agree with the reference MATLAB code.

Every metric is a plain function on arrays (``metrics.qabf(a, b, f)``, ``metrics.en(f)``...),
with a ``convention=`` argument where the reference implementations differ, and is registered
once in :data:`METRICS` under the key ``<metric>@<source>`` used by the conformance table
(``shared/conformance/metrics_reference.tsv``), e.g. ``EN@rfn-nest`` or ``Qabf@vifb``.
Registered metrics all have the signature ``fn(a, b, f) -> float`` (metrics of F alone ignore
``a`` and ``b``). Inputs: gray 2-D arrays on the 0–255 scale (uint8 as read, or floats holding
0–255 values); colour arrays are converted with MATLAB ``rgb2gray`` (see :mod:`._common`).

Metadata of every entry (``METRICS.meta(name)``):

``metric``      the metric's short name (``"EN"``)
``source``      ``"rfn-nest"``, ``"nestfuse"``, ``"vifb"``, ``"liu"`` (Z. Liu's imageFusionMetrics),
                ``"han"`` (VIFF), ``"extra"`` (ours, unchecked) or ``"own"`` (a metric of one's own,
                :func:`register_metric`: never checked; its ``defined_in`` says where it is)
``direction``   ``"higher"`` or ``"lower"`` is better, or ``"zero"``: closer to 0 is better
                (Q_SF, whose ideal is 0 and whose sign says whether detail was lost or added)
``higher_is_better``  True / False for "higher" / "lower", None for "zero" (use :func:`goodness`
                to compare values whatever the direction)
``uses_sources`` whether A and B enter the value (False for EN, SD, AG, EI, SF, and MI@rfn-nest,
                which is exactly 2·EN(F))
``reference``   the reference code path at its pinned commit
``convention``  one-line summary of the input range / quirks
``slow``        True for metrics that take noticeably longer (VIF, FMI, Q_P)
``checked``     True when a conformance table (``metrics_reference.tsv`` or
                ``metrics_reference_liu.tsv``) has values for it and they are matched

:mod:`.profiles` defines named selections (``paper`` = the mix used for the paper's tables).
:func:`register_metric` and :func:`register_profile` add metrics and profiles of one's own
(``mutualfuse evaluate --import MODULE``; docs/metrics.md, "Your own metric").

Example: the bundled TNO infrared/visible pair (``read_image`` gives 0–1 floats: scale them to
0–255), fused by the max rule:

>>> from importlib.resources import files
>>> import numpy as np
>>> from mutualfuse.image_io import read_image
>>> a, b = (255 * read_image(files("mutualfuse") / f"data/samples/tno-01/{n}.png")[0] for n in "ab")
>>> f = np.maximum(a, b)

A registered metric by key, and its metadata:

>>> from mutualfuse.metrics import METRICS, PROFILES, evaluate_pair
>>> qabf = METRICS.get("Qabf@vifb")  # fn(a, b, f) -> float, input range checked
>>> round(qabf(a, b, f), 3), round(qabf(a, b, a), 3)  # the max rule beats the infrared image alone
(0.547, 0.526)
>>> meta = METRICS.meta("Qabf@vifb")
>>> meta["source"], meta["direction"], meta["uses_sources"], meta["checked"]
('vifb', 'higher', True, True)

A profile maps table columns to keys; :func:`evaluate_pair` scores them all:

>>> PROFILES["paper"]()["MI"]  # the paper's MI column is rfn-nest's (= 2·EN)
'MI@rfn-nest'
>>> scores = evaluate_pair(a, b, f, profile="paper")
>>> {k: round(v, 3) for k, v in scores.items()}  # doctest: +NORMALIZE_WHITESPACE
{'EI': 37.495, 'SF': 9.081, 'EN': 6.713, 'Qabf': 0.547, 'SCD': 1.5,
 'MS_SSIM': 0.775, 'MI': 13.426, 'SD': 36.514, 'VIF': 0.521}
"""
from __future__ import annotations

import time
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from ..errors import ImageTooSmallError, InputError, MetricUndefinedError, ParameterError
from ..registry import Registry
from ._common import as255, as_array, rgb2gray_matlab, to_gray, RGB2GRAY_WEIGHTS
from .gradient import ag, ei, nabf, qabf, sf
from .information import ce, en, fmi, mi, mi_bits
from .stats import psnr, rmse, sd
from .structural import mef_ssim, ms_ssim, ms_ssim_wang, qcb, qcv, scd, ssim, ssim_af, ssim_bf
from .fidelity import vif, vif_af, vif_bf, vifvec
from .liu_gradient import qg, qm, qsf
from .liu_info import qmi, qncie, qte, qte_cvejic
from .liu_phase import qp
from .liu_structural import qc, qs, qw, qy
from . import liu_structural as _liu_structural
from .viff import VIFF_REF, viff

MetricFn = Callable[[np.ndarray, np.ndarray, np.ndarray], float]

_INPUT_NOTE = """

    Inputs (all metric functions): 2-D gray arrays on the 0–255 scale as read (uint8, or floats
    holding 0–255 values; uint16 is scaled by 255/65535; other integer types must hold 0–255
    values, as registered metrics check), or PIL images and torch tensors of such data (see
    :func:`mutualfuse.metrics.as_array`). The plain functions (``metrics.qabf``, ``metrics.en``...)
    score a float image on the 0–1 scale as 0–255 values (a wrong number, not an error):
    multiply it by 255; the registered metrics (``METRICS.get(key)``, ``evaluate_pair``) refuse
    it. Colour H×W×3 arrays are converted with
    MATLAB's ``rgb2gray`` (0.298936021293775, 0.587043074451121, 0.114020904255103; integer input
    rounded half away from zero in its own type, uint8 or uint16; float input not rounded) before
    the metric applies its reference code's own input range.
    Reference code commits: rfn-nest = hli1221/imagefusion-rfn-nest@76e4e05 ``analysis_matlab/``;
    nestfuse = hli1221/imagefusion-nestfuse@a8ac170 ``analysis_metrics_in_paper/``;
    vifb = xingchenzhang/VIFB@22b2ea9 ``metrics/``; pyramid = matlabPyrTools@f02ab05.
    See docs/metrics.md for the conformance results.
    """

METRICS: Registry[MetricFn] = Registry("metric")

RFN = "hli1221/imagefusion-rfn-nest@76e4e0500a3d818068f31942d7d5ed874c36c37b:analysis_matlab/"
NEST = "hli1221/imagefusion-nestfuse@a8ac170ad6ae7037c9da33ccf511c88893d0c31b:analysis_metrics_in_paper/"
VIFB = "xingchenzhang/VIFB@22b2ea9d91499cc5962d9bdcae9c290270f0fade:metrics/"


def _reg(name: str, fn: MetricFn, *, higher: bool | None, uses_sources: bool, reference: str,
         convention: str, slow: bool = False, checked: bool = True) -> None:
    """``higher``: True = higher is better, False = lower is better, None = closer to 0 is better."""
    metric, source = name.split("@")
    direction = {True: "higher", False: "lower", None: "zero"}[higher]
    if source not in ("rfn-nest", "nestfuse", "vifb", "liu", "han"):
        source = "extra"
    from .input_range import range_checked  # float 0-1 images given as 0-255 are refused, not mis-scored

    METRICS.add(name, range_checked(fn, name, uses_sources), metric=metric, source=source, direction=direction,
                higher_is_better=higher,
                uses_sources=uses_sources, reference=reference, convention=convention,
                slow=slow, checked=checked)


def goodness(name: str, value: float) -> float:
    """``value`` mapped so that larger is better, whatever the metric's ``direction``:
    ``value`` (higher is better), ``-value`` (lower) or ``-|value|`` (closer to 0, e.g. Q_SF).
    Use it to rank or compare scores of one metric (NaN stays NaN)."""
    d = METRICS.meta(name)["direction"]
    return value if d == "higher" else (-value if d == "lower" else -abs(value))


ARROWS = {"higher": "↑", "lower": "↓", "zero": "→0"}
ARROWS_ASCII = {"higher": "^", "lower": "v", "zero": "->0"}


def _f_only(fn: Callable[..., float], **kw: Any) -> MetricFn:
    def wrapped(a, b, f):
        return fn(f, **kw)

    wrapped.__doc__ = fn.__doc__
    wrapped.__name__ = fn.__name__
    return wrapped


def _abf(fn: Callable[..., float], **kw: Any) -> MetricFn:
    def wrapped(a, b, f):
        return fn(a, b, f, **kw)

    wrapped.__doc__ = fn.__doc__
    wrapped.__name__ = fn.__name__
    return wrapped


def _min_side(fn: MetricFn, side: int, what: str) -> MetricFn:
    """``fn`` with :class:`~mutualfuse.errors.ImageTooSmallError` for images under ``side``
    pixels per side (``evaluate`` then leaves the value empty with a note, instead of stopping)."""
    from ..errors import ImageTooSmallError

    def wrapped(a, b, f):
        shape = np.shape(as_array(f))
        # only a gray or colour image (H×W, H×W×1/3/4) has a size to test; any other shape (1-D,
        # 4-D) is left to the metric's own one-line InputError, not called "too small"
        shape = shape[:2] if len(shape) == 2 or (len(shape) == 3 and shape[2] in (1, 3, 4)) else ()
        if len(shape) == 2 and min(shape) < side:
            raise ImageTooSmallError(f"{what} needs images of at least {side} pixels per side, "
                                     f"got {shape[1]}×{shape[0]}", side)
        return fn(a, b, f)

    wrapped.__doc__ = fn.__doc__
    wrapped.__name__ = fn.__name__
    return wrapped


# ---- rfn-nest (analysis_Reference.m) ----
_reg("EN@rfn-nest", _f_only(en, convention="rfn-nest"), higher=True, uses_sources=False,
     reference=RFN + "analysis_Reference.m (IPT entropy)", convention="im2uint8, 256 bins, log2")
_reg("SD@rfn-nest", _f_only(sd, convention="rfn-nest"), higher=True, uses_sources=False,
     reference=RFN + "analysis_sd.m", convention="0-1 image, sqrt(sum sq dev), no /N (size-dependent)")
_reg("MI@rfn-nest", _abf(mi, convention="rfn-nest"), higher=True, uses_sources=False,
     reference=RFN + "analysis_MI.m", convention="degenerate: exactly 2*EN(F), bits")
_reg("SCD@rfn-nest", _abf(scd, convention="rfn-nest"), higher=True, uses_sources=True,
     reference=RFN + "analysis_SCD.m", convention="corr2(F-B,A)+corr2(F-A,B), 0-1 images")
_reg("Nabf@rfn-nest", _abf(nabf, convention="rfn-nest"), higher=False, uses_sources=True,
     reference=RFN + "analysis_nabf.m", convention="0-1 images, Sobel/8 mirror border, all weights 0.001")
_reg("MS_SSIM@rfn-nest", _abf(mef_ssim), higher=True, uses_sources=True,
     reference=RFN + "analysis_ms_ssim.m", convention="MEF-SSIM (Ma et al.), 0-255, 3 scales")
# ---- nestfuse (analysis_metrics_7.m) ----
_reg("SSIM@nestfuse", _abf(ssim, convention="nestfuse"), higher=True, uses_sources=True,
     reference=NEST + "analysis_metrics_7.m (IPT ssim)", convention="mean of IPT ssim(F,A), ssim(F,B); 0-1, replicate")
_reg("SSIM_AF@nestfuse", ssim_af, higher=True, uses_sources=True,
     reference=NEST + "analysis_metrics_7.m (IPT ssim)", convention="IPT ssim(F,A) on 0-1 images")
_reg("SSIM_BF@nestfuse", ssim_bf, higher=True, uses_sources=True,
     reference=NEST + "analysis_metrics_7.m (IPT ssim)", convention="IPT ssim(F,B) on 0-1 images")
_reg("VIF@nestfuse", _abf(vif, convention="nestfuse"), higher=True, uses_sources=True,
     reference=NEST + "vif/vifvec.m", convention="mean of vifvec(A,F), vifvec(B,F) on 0-1 images", slow=True)
_reg("VIF_AF@nestfuse", vif_af, higher=True, uses_sources=True,
     reference=NEST + "vif/vifvec.m", convention="vifvec(A,F) on 0-1 images", slow=True)
_reg("VIF_BF@nestfuse", vif_bf, higher=True, uses_sources=True,
     reference=NEST + "vif/vifvec.m", convention="vifvec(B,F) on 0-1 images", slow=True)
_reg("FMI_pixel@nestfuse", _min_side(_abf(fmi, feature="pixel"), 3, "FMI (3×3 windows)"), higher=True, uses_sources=True,
     reference=NEST + "analysis_fmi.m ('none')", convention="fast-FMI on pixels, 3x3 windows, 0-1", slow=True)
_reg("FMI_dct@nestfuse", _min_side(_abf(fmi, feature="dct"), 3, "FMI (3×3 windows)"), higher=True, uses_sources=True,
     reference=NEST + "analysis_fmi.m ('dct')", convention="fast-FMI on dct2 of the image, 3x3 windows",
     slow=True, checked=False)
_reg("FMI_w@nestfuse", _abf(fmi, feature="wavelet"), higher=True, uses_sources=True,
     reference=NEST + "analysis_fmi.m ('wavelet')",
     convention="fast-FMI on one-level dmey DWT (PyWavelets 62-tap dmey, not MATLAB's 102-tap)",
     slow=True, checked=False)
# ---- VIFB (compute_metrics.m) ----
_reg("CE@vifb", _abf(ce), higher=False, uses_sources=True,
     reference=VIFB + "metricsCross_entropy.m", convention="mean of CE(A,F), CE(B,F); 256 bins, log2")
_reg("EN@vifb", _f_only(en, convention="vifb"), higher=True, uses_sources=False,
     reference=VIFB + "metricsEntropy.m", convention="256 bins, log2")
_reg("MI@vifb", _abf(mi, convention="vifb"), higher=True, uses_sources=True,
     reference=VIFB + "metricsMutinf.m", convention="min-max requantised, 256x256 bins, nats")
_reg("PSNR@vifb", _abf(psnr), higher=True, uses_sources=True,
     reference=VIFB + "metricsPsnr.m", convention="non-squared Frobenius norm / N (not an MSE)")
_reg("RMSE@vifb", _abf(rmse), higher=False, uses_sources=True,
     reference=VIFB + "metricsRmse.m", convention="non-squared Frobenius norm / N")
_reg("AG@vifb", _f_only(ag), higher=True, uses_sources=False,
     reference=VIFB + "metricsAvg_gradient.m", convention="MATLAB gradient, sum / ((M-1)(N-1))")
_reg("EI@vifb", _f_only(ei), higher=True, uses_sources=False,
     reference=VIFB + "metricsEdge_intensity.m", convention="Sobel, replicate border, 0-255")
_reg("Qabf@vifb", _abf(qabf), higher=True, uses_sources=True,
     reference=VIFB + "metricsQabf.m", convention="Xydeas-Petrovic on 255*x, gA==gF -> gF quirk")
_reg("SD@vifb", _f_only(sd, convention="vifb"), higher=True, uses_sources=False,
     reference=VIFB + "metricsVariance.m", convention="population SD, 0-255")
_reg("SF@vifb", _f_only(sf), higher=True, uses_sources=False,
     reference=VIFB + "metricsSpatial_frequency.m", convention="sums divided by M*N")
_reg("SSIM@vifb", _abf(ssim, convention="vifb"), higher=True, uses_sources=True,
     reference=VIFB + "metricsSsim.m", convention="sum of two SSIMs, L=255, 'valid' map")
_reg("Qcb@vifb", _abf(qcb), higher=True, uses_sources=True,
     reference=VIFB + "metricsQcb.m", convention="normalize1, DFT-domain CSF, 31x31 DoG contrast")
_reg("Qcv@vifb", _abf(qcv), higher=False, uses_sources=True,
     reference=VIFB + "metricsQcv.m", convention="normalize1, 16x16 blocks, Mannos-Sakrison CSF")
# ---- Z. Liu et al. (TPAMI 2012) imageFusionMetrics and Han et al.'s VIFF (metrics_reference_liu.tsv) ----
LIU = "zhengliu6699/imageFusionMetrics@d6f7f1a0c0a13e7d19bc1e8e4d4f3ad51f439273:"
_reg("Qmi@liu", _abf(qmi), higher=True, uses_sources=True, reference=LIU + "metricMI.m (sw=1)",
     convention="normalize1; Hossny's normalised MI, 256x256 bins, log2; range 0-2")
_reg("Qte@liu", _abf(qte), higher=True, uses_sources=True, reference=LIU + "metricMI.m (sw=3)",
     convention="normalize1; Nava q=0.43137; swapped Tsallis marginals, H^q and +I_q(A,B) as coded")
_reg("Qte_cvejic@liu", _abf(qte_cvejic), higher=True, uses_sources=True, reference=LIU + "metricMI.m (sw=2)",
     convention="normalize1; Cvejic q=1.85, unnormalised (port check, not a quality score)")
_reg("Qncie@liu", _abf(qncie), higher=True, uses_sources=True, reference=LIU + "metricWang.m",
     convention="normalize1; NCC with gray-level bins, log base 256 (A=B=F < 1)")
_reg("Qg@liu", _abf(qg), higher=True, uses_sources=True, reference=LIU + "metricXydeas.m",
     convention="0-255; Sobel zero-padded; per-pixel normalised mean (mean2), max 0.98666")
_reg("Qm@liu", _abf(qm), higher=True, uses_sources=True, reference=LIU + "metricPWW.m",
     convention="0-255; 2-level Haar (matlabPyrTools); EP is a sum of 3 exps: range (0,3]")
_reg("Qsf@liu", _abf(qsf), higher=None, uses_sources=True, reference=LIU + "metricZheng.m",
     convention="0-255; (SF_F-SF_R)/SF_R, sums / (M*N); ideal 0, negative = lost detail")
_reg("Qp@liu", _abf(qp), higher=True, uses_sources=True, reference=LIU + "metricZhao.m + myphasecong3.m",
     convention="0-255; Kovesi/Liu phase congruency (PC, M, m); fused maps unmasked", slow=True)
_reg("Qs@liu", _abf(qs), higher=True, uses_sources=True, reference=LIU + "metricPeilla.m (sw=1)",
     convention="0-255; Piella Q with Wang SSIM 11x11 'valid', L=255")
_reg("Qw@liu", _abf(qw), higher=True, uses_sources=True, reference=LIU + "metricPeilla.m (sw=2)",
     convention="0-255; Piella weighted Q_W, SSIM 11x11 'valid', L=255")
_reg("Qc@liu", _abf(qc), higher=True, uses_sources=True, reference=LIU + "metricCvejic.m (sw=2)",
     convention="0-255; UIQI 7x7 'valid', C=2e-16; NaN / noise-driven where windows are flat (Octave's rounding reproduced)")
_reg("Qy@liu", _abf(qy), higher=True, uses_sources=True, reference=LIU + "metricYang.m",
     convention="0-255; UIQI 7x7 'valid', C=2e-16; NaN / noise-driven where windows are flat (Octave's rounding reproduced)")
_reg("Qcv@liu", _abf(_liu_structural.qcv), higher=False, uses_sources=True, reference=LIU + "metricChen.m",
     convention="normalize1, 16x16 blocks, Mannos-Sakrison CSF (= Qcv@vifb)")
_reg("Qcb@liu", _abf(_liu_structural.qcb), higher=True, uses_sources=True, reference=LIU + "metricChenBlum.m",
     convention="normalize1, DFT-domain CSF, 31x31 DoG contrast (= Qcb@vifb)")
_reg("VIFF@han", _abf(viff), higher=True, uses_sources=True, reference=VIFF_REF,
     convention="0-255 gray; 4 scales, sigma_n^2=0.005*255^2, weights [1,0,0.15,1]/2.15")
# ---- extras (ours; no reference values) ----
_reg("MI@bits", _abf(mi_bits), higher=True, uses_sources=True,
     reference="Qu et al. 2002 (textbook definition)", convention="MI(A,F)+MI(B,F), 256x256 bins, log2",
     checked=False)
_reg("MS_SSIM@wang", _abf(ms_ssim_wang), higher=True, uses_sources=True,
     reference="Wang, Simoncelli & Bovik 2003 (msssim.m)", convention="mean of MS-SSIM(A,F), MS-SSIM(B,F); 5 scales",
     checked=False)
_reg("VIF@0-255", _abf(vif, convention="0-255"), higher=True, uses_sources=True,
     reference=NEST + "vif/vifvec.m", convention="vifvec on 0-255 images as its documentation intends",
     slow=True, checked=False)

from .profiles import PROFILES, register_profile, resolve  # noqa: E402  (needs METRICS)

for _fn in (en, sd, mi, mi_bits, scd, nabf, ms_ssim, mef_ssim, ms_ssim_wang, ssim, ssim_af, ssim_bf, vif,
            vif_af, vif_bf, fmi, ce, psnr, rmse, ag, ei, qabf, sf, qcb, qcv, qmi, qte, qte_cvejic, qncie,
            qg, qm, qsf, qp, qs, qw, qc, qy, viff):
    if _fn.__doc__ and "Inputs (all metric functions)" not in _fn.__doc__:
        _fn.__doc__ = _fn.__doc__.rstrip() + _INPUT_NOTE
for _e in METRICS:
    if _e.obj.__doc__ and "Inputs (all metric functions)" not in _e.obj.__doc__:
        _e.obj.__doc__ = _e.obj.__doc__.rstrip() + _INPUT_NOTE


# ---------------------------------------------------------------------------------------------
# a metric of one's own
# ---------------------------------------------------------------------------------------------

#: the ``source`` of every metric registered with :func:`register_metric` (never conformance-checked)
OWN_SOURCE = "own"
DIRECTIONS = ("higher", "lower", "zero")


class MetricResultError(ParameterError):
    """A metric of one's own (:func:`register_metric`) returned something that is not one real
    number (None, an array, a string, a complex number), or raised an exception that is not one
    of the package's own errors; one line naming the metric and where it is defined."""


def _defined_at(fn: Any) -> str:
    import inspect

    fn = inspect.unwrap(fn)
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', type(fn).__name__)}"


def _result_value(out: Any, name: str, where: str) -> float:
    """``out`` as a float, or :class:`MetricResultError` when it is not one real number. NaN and
    ±inf are values (as for the built-in metrics: ``evaluate`` notes them, and a mean over them
    is NaN or infinite)."""
    if isinstance(out, (bool, np.bool_)):
        raise MetricResultError(f"metric {name!r} ({where}) returned {out!r}, a bool: a metric returns one "
                                "real number")
    try:
        import torch

        if isinstance(out, torch.Tensor):
            out = out.detach().cpu().numpy()
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    try:
        arr = np.asarray(out)
    except Exception:  # noqa: BLE001 - any object
        arr = np.asarray(None, dtype=object)
    if arr.dtype.kind not in "iuf":
        what = "None (a missing return statement?)" if out is None else f"a {type(out).__name__}"
        raise MetricResultError(f"metric {name!r} ({where}) returned {what}: a metric returns one real number")
    if arr.ndim != 0:
        raise MetricResultError(f"metric {name!r} ({where}) returned an array of shape {arr.shape}: a metric "
                                "returns one real number (a scalar, e.g. float(x.mean()))")
    return float(arr)


def register_metric(name: str, *, direction: str = "higher", uses_sources: bool = True, reference: str = "",
                    convention: str = "", slow: bool = False, checked: bool = False
                    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a fusion-quality metric of one's own: ``@register_metric("mine", direction="higher")``
    on a function ``fn(a, b, f) -> float``. It is then a registered metric like the built-in ones:
    ``METRICS.get(name)``, :func:`evaluate_pair`, ``mutualfuse evaluate --import MODULE --metrics
    name`` (and ``--list``), profiles (:func:`register_profile`).

    The function gets the images as 2-D gray ``float64`` arrays on the 0–255 scale, whatever they
    were (uint8 as stored, uint16 scaled by 255/65535, colour through MATLAB ``rgb2gray``, PIL
    images and tensors read), new arrays it may modify, all of one shape; ``a`` and ``b`` are
    ``None`` for a metric with ``uses_sources=False`` (a metric of the fused image alone: the
    sources are not read, whatever the caller passes, as for the built-in EN or SF), and where
    the caller gave none. Called through the registry, the images first pass the input-range guard of the
    built-in metrics (a 0–1 float image is refused, :mod:`.input_range`).

    It returns one real number (NaN and ±inf are values, as for the built-in metrics); anything
    else, and any exception of its own, is a one-line :class:`MetricResultError` naming the
    metric and where it is defined (``evaluate``: with the file). The package's own errors
    (:class:`~mutualfuse.errors.ImageTooSmallError`, :class:`~mutualfuse.errors.MetricUndefinedError`:
    the cell is left empty with a note) pass through.

    ``direction``: ``"higher"`` or ``"lower"`` is better, or ``"zero"`` (closer to 0 is better);
    ``uses_sources``: whether ``a`` and ``b`` enter the value; ``reference`` and ``convention``:
    one line each, shown by ``evaluate --list`` and in its JSON output; ``slow``: noted in the list.

    A metric of one's own is never conformance-checked (``checked`` is False, and
    ``checked=True`` is refused): only the project's reference tables mark a metric checked. Its
    ``source`` is ``"own"``, so no built-in profile but ``all`` includes it. A name taken by a
    built-in metric (its key, or its short name: ``Qabf``) or a profile is refused (replacing a built-in metric is not supported: its
    key stands for an implementation checked against the reference code); registering the same
    function again (a module imported twice, ``importlib.reload``) replaces it. Every mistake
    in the registration is a one-line :class:`~mutualfuse.errors.ParameterError`."""
    import functools
    import inspect

    from .input_range import range_checked
    from .profiles import PROFILE_REGISTRY

    what = f"register_metric({name!r})"
    if not isinstance(name, str) or not name.strip():
        raise ParameterError(f"{what}: a metric name is a non-empty string")
    if name != name.strip() or any(c.isspace() for c in name) or "," in name or name.startswith("-"):
        raise ParameterError(f"{what}: a metric name has no spaces or commas and does not start with '-' "
                             "(evaluate --metrics takes comma-separated names)")
    if direction not in DIRECTIONS:
        raise ParameterError(f"{what}: direction={direction!r}: use 'higher' or 'lower' (is better), or 'zero' "
                             "(closer to 0 is better)")
    for opt, value in (("uses_sources", uses_sources), ("slow", slow), ("checked", checked)):
        if not isinstance(value, bool):
            raise ParameterError(f"{what}: {opt}={value!r}: True or False")
    for opt, value in (("reference", reference), ("convention", convention)):
        if not isinstance(value, str):
            raise ParameterError(f"{what}: {opt}={value!r}: a string (one line)")
    if checked:
        raise ParameterError(f"{what}: checked=True: only the project's conformance tables mark a metric checked "
                             "(docs/metrics.md); a metric of your own is listed as unchecked")
    if name in PROFILE_REGISTRY:
        raise ParameterError(f"{what}: {PROFILE_REGISTRY.entry(name).name!r} is a metric profile's name; "
                             "register the metric under another name")
    if name in METRICS and METRICS.meta(name)["source"] != OWN_SOURCE:
        raise ParameterError(f"{what}: a built-in metric is registered as {METRICS.entry(name).name!r} (names are "
                             "case-insensitive); replacing a built-in metric is not supported (its key stands for "
                             "code checked against the reference): register yours under another name, e.g. "
                             f"{name.split('@')[0] + '@mine'!r}")
    short = [e.name for e in METRICS if e.meta["source"] != OWN_SOURCE and e.meta["metric"].lower() == name.lower()]
    if short:  # `evaluate --metrics Qabf` names the built-in Qabf (one checked key of that short name)
        raise ParameterError(f"{what}: {name!r} is the short name of the built-in metric{'s' if len(short) > 1 else ''} "
                             f"{', '.join(short)} (evaluate --metrics {name} names "
                             f"{'them' if len(short) > 1 else 'it'}): register yours under a key such as "
                             f"{name + '@mine'!r}")

    def deco(fn):
        where = _defined_at(fn)
        if not callable(fn):
            raise ParameterError(f"{what}: {fn!r} is not a function: a metric is fn(a, b, f) -> float")
        try:
            sig = inspect.signature(fn)
        except (TypeError, ValueError):  # no signature (a builtin): the call says
            sig = None
        if sig is not None:
            try:
                sig.bind(None, None, None)
            except TypeError as e:
                raise ParameterError(f"{what}: {where}{sig} cannot be called as fn(a, b, f) ({e}): a metric takes "
                                     "the two sources and the fused image, also when it uses the fused image "
                                     "only (uses_sources=False)") from None

        @functools.wraps(fn)
        def own(a, b, f):
            from ..errors import FuseError
            from ..plugins import _describe
            from ._common import as255, check_same_shape

            if not uses_sources:  # a metric of F alone: the sources are not read (as for EN@vifb)
                a = b = None
            imgs = [None if x is None else as255(x, n) for x, n in ((a, "a"), (b, "b"), (f, "f"))]
            given = [x for x in imgs if x is not None]
            if len(given) > 1:
                check_same_shape(*given, names=tuple(n for n, x in zip(("a", "b", "f"), imgs) if x is not None))
            try:
                out = fn(*imgs)
            except (FuseError, MemoryError):
                raise
            except Exception as e:  # noqa: BLE001 - whatever the user's function raises
                raise MetricResultError(f"metric {name!r} ({where}) failed: {_describe(e)}") from None
            return _result_value(out, name, where)

        try:
            METRICS.add(name, range_checked(own, name, uses_sources), metric=name.split("@")[0],
                        source=OWN_SOURCE, direction=direction,
                        higher_is_better={"higher": True, "lower": False, "zero": None}[direction],
                        uses_sources=uses_sources, reference=reference or f"your metric: {where}",
                        convention=convention, slow=slow, checked=False, defined_in=where)
        except ValueError as e:  # another metric of one's own holds the name
            raise ParameterError(f"{what}: {e}") from None
        return fn

    return deco


def evaluate_pair(a, b, f, metrics: Iterable[str] | None = None, profile: str | Iterable[str] | None = None,
                  timings: dict[str, float] | None = None,
                  not_computed: dict[str, str] | None = None) -> dict[str, float]:
    """Score one fused image ``f`` against its sources ``a``, ``b``.

    ``metrics``: registered names (``"Qabf@vifb"``; a list, or one string, with names separated by
    commas; a bare name such as ``"Qabf"`` where it names one key, as ``evaluate --metrics``
    takes it: :func:`~.profiles.resolve`); ``profile``: a named profile from
    :data:`PROFILES` (e.g. ``"paper"``), whose entries map a display name to a registered key,
    or a list of them (their columns in order, labelled with their keys; a metric asked for
    twice is computed once). With neither, the ``default`` profile is computed: every checked
    fast metric of rfn-nest, nestfuse and VIFB (not Liu et al.'s nor VIFF: ``profile="liu"``).
    Images (NumPy arrays, PIL images or torch tensors, :func:`~._common.as_array`) are
    converted once (colour → MATLAB ``rgb2gray``; see :mod:`._common`). Returns ``{name:
    value}`` in order; if ``timings`` is a dict, it receives seconds per metric.

    A metric the images are too small for (:class:`~mutualfuse.errors.ImageTooSmallError`: VIF
    needs 65 pixels per side, so ``profile="paper"`` on 64×64 images) or that is undefined for
    them (:class:`~mutualfuse.errors.MetricUndefinedError`) is NaN, and the other metrics are
    still computed, as ``mutualfuse evaluate`` leaves that cell empty: if ``not_computed`` is a
    dict, it receives ``{name: reason}`` for each such metric (the reason starts with the metric's
    key and names the image size; ``evaluate``'s JSON ``not_computed`` records it without the
    key, which is its label there); without it, one
    :class:`UserWarning` per such metric says why. Only when no metric asked for can be computed
    is it an error, as in ``evaluate``: the metric's own exception for one metric, else an
    :class:`~mutualfuse.errors.InputError` listing the reasons (an ``ImageTooSmallError`` with the
    largest ``min_side`` when every reason is a size). (Until session 31 the first such metric
    raised, and the others were lost.)
    """
    from collections.abc import MutableMapping

    from .input_range import check_layout

    if timings is not None and not isinstance(timings, MutableMapping):
        raise ParameterError(f"timings must be a dict (it receives seconds per metric) or None, got "
                             f"{type(timings).__name__}")
    if not_computed is not None and not isinstance(not_computed, MutableMapping):
        raise ParameterError(f"not_computed must be a dict (it receives the reason of each metric not computed) "
                             f"or None, got {type(not_computed).__name__}")

    grays = []
    for x, n in ((a, "a"), (b, "b"), (f, "fused")):
        arr = as_array(x, n)  # PIL images and tensors read once, big-endian data in native order
        check_layout(arr, n)
        grays.append(to_gray(arr))
    A, B, F = grays
    out: dict[str, float] = {}
    skipped: dict[str, InputError] = {}
    chosen = resolve(metrics, profile)
    for label, key in chosen.items():
        t0 = time.perf_counter()
        try:
            out[label] = float(METRICS.get(key)(A, B, F))
        except (ImageTooSmallError, MetricUndefinedError) as e:  # evaluate: an empty cell and a note
            out[label] = float("nan")
            skipped[label] = e
        if timings is not None:
            timings[label] = time.perf_counter() - t0
    if skipped and len(skipped) == len(chosen):  # nothing computed: an error, as evaluate's
        if len(skipped) == 1:
            raise next(iter(skipped.values()))
        why = "; ".join(dict.fromkeys(str(e) for e in skipped.values()))
        msg = f"the images are too small for, or undefined in, every metric asked for; nothing computed ({why})"
        if all(isinstance(e, ImageTooSmallError) for e in skipped.values()):
            raise ImageTooSmallError(msg, max(e.min_side for e in skipped.values()))
        raise InputError(msg)
    for label, e in skipped.items():
        if not_computed is not None:
            not_computed[label] = str(e)
        else:
            import warnings

            warnings.warn(f"{label}: not computed (NaN): {e}", UserWarning, stacklevel=2)
    return out


__all__ = [
    "METRICS", "PROFILES", "evaluate_pair", "resolve", "goodness", "ARROWS", "ARROWS_ASCII",
    "register_metric", "register_profile", "MetricResultError",
    "en", "sd", "mi", "mi_bits", "scd", "nabf", "ms_ssim", "mef_ssim", "ms_ssim_wang",
    "ssim", "ssim_af", "ssim_bf", "vif", "vif_af", "vif_bf", "vifvec", "fmi",
    "ce", "psnr", "rmse", "ag", "ei", "qabf", "sf", "qcb", "qcv",
    "qmi", "qte", "qte_cvejic", "qncie", "qg", "qm", "qsf", "qp", "qs", "qw", "qc", "qy", "viff",
    "as255", "as_array", "to_gray", "rgb2gray_matlab", "RGB2GRAY_WEIGHTS",
]
