"""Classical fusion baselines of the paper's comparison (registered on import).

Import order is the order users see: multi-scale transforms (``lp``, ``rp``, ``dwt``,
``dtcwt``, ``cvt``, ``msvd``), optimisation (``gtf``), edge-preserving filters (``cbf``,
``mgff``), sparse representation (``asr``, ``csr``). ``docs/baselines.md`` documents each.
"""
from . import pyramid  # noqa: F401  (lp, rp)
from . import wavelet  # noqa: F401  (dwt, dtcwt)
from . import curvelet  # noqa: F401  (cvt)
from . import msvd  # noqa: F401
from . import gtf  # noqa: F401
from . import cbf  # noqa: F401
from . import mgff  # noqa: F401
from . import sparse  # noqa: F401  (asr, csr)


def size_need_note(method: str, params: dict | None = None, side: int | None = None) -> str:
    """For an image refused as smaller than :data:`~mutualfuse.validation.MIN_SIDE` (8x8): what a
    built-in classical method whose decomposition needs more than ``side`` (default MIN_SIDE) px
    per side, at ``params`` (its defaults where not given), needs, and the setting that fits
    ``side``: ``"; method 'lp' at levels=4 needs at least 32 px per side (at 8 px: at most
    levels=2)"``. "" for any other method, or when ``side`` suffices. A 7x7 image given to ``lp``
    was told only "smaller than 8x8", and an 8x8 one was then refused as too small for
    ``levels=4`` (docs/baselines.md, "Edge inputs")."""
    import inspect

    from ...validation import MIN_SIDE
    from ._common import deepest_levels

    side = MIN_SIDE if side is None else int(side)
    fns = {"lp": pyramid.lp, "rp": pyramid.rp, "dwt": wavelet.dwt, "dtcwt": wavelet.dtcwt, "cvt": curvelet.cvt,
           "cbf": cbf.cbf}
    if method not in fns:
        return ""
    values = {k: v.default for k, v in inspect.signature(fns[method]).parameters.items()
              if v.default is not inspect.Parameter.empty}
    values.update(params or {})
    if method == "cvt":
        scales, wedges = int(values["scales"]), int(values["wedges"])
        need, setting = curvelet.min_side(scales, wedges), f"scales={scales}, wedges={wedges}"
        fits = curvelet._what_fits(side, scales, wedges).removeprefix("; ").removesuffix(" for this size")
    elif method == "cbf":
        big, name = ((int(values["ksize"]), "ksize") if int(values["ksize"]) >= int(values["cov_wsize"])
                     else (int(values["cov_wsize"]), "cov_wsize"))
        need, setting, fits = big // 2 + 1, f"{name}={big}", f"at most {name}={2 * side - 1}"
    else:
        levels = int(values["levels"])
        need, setting = 2 * 2 ** levels, f"levels={levels}"
        fits = f"at most levels={deepest_levels(side)}" if deepest_levels(side) >= 1 else ""
    if need <= side:
        return ""
    return (f"; method {method!r} at {setting} needs at least {need} px per side"
            + (f" (at {side} px: {fits})" if fits else ""))
