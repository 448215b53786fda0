"""Named metric profiles: which registered metric each table column uses.

A profile maps a display name (the column heading) to a registered key of
:data:`mutualfuse.metrics.METRICS`.

``paper``
    The mix the method's paper (Rao et al., Tables 1–3) used, established in the conformance
    README's "Check against the paper": EN, SD, MI, SCD and MS_SSIM from rfn-nest's
    ``analysis_matlab`` (MI = 2·EN, size-dependent SD, MS_SSIM = MEF-SSIM), VIF from nestfuse's
    ``vifvec`` on 0–1 images, EI, SF and Qabf from VIFB. The paper's Qabf column is not
    reproduced by any known code (see ``docs/metrics.md``); VIFB's is the closest.
``rfn-nest`` / ``nestfuse`` / ``vifb``
    Every metric of one reference code base, under that code's conventions.
``liu``
    The twelve metrics of Liu et al.'s TPAMI 2012 comparison (Q_MI, Q_TE, Q_NCIE, Q_G, Q_M, Q_SF,
    Q_P, Q_S, Q_C, Q_Y, Q_CV, Q_CB) from the authors' ``imageFusionMetrics`` code, plus Han et
    al.'s VIFF, under their TPAMI names. The two extras of that code (``Qte_cvejic@liu``,
    ``Qw@liu``) are available by key only.
``default``
    Every conformance-checked metric of the first reference table (rfn-nest, nestfuse, VIFB)
    that is fast (no VIF/FMI), one key per metric and source. Liu et al.'s metrics and VIFF are
    not in it (use ``liu``).
``all``
    Every registered metric (including the slow ones and the unchecked extras).
"""
from __future__ import annotations

from typing import Iterable

from ..errors import ParameterError
from ..registry import Registry

PAPER = {
    "EI": "EI@vifb",
    "SF": "SF@vifb",
    "EN": "EN@rfn-nest",
    "Qabf": "Qabf@vifb",
    "SCD": "SCD@rfn-nest",
    "MS_SSIM": "MS_SSIM@rfn-nest",
    "MI": "MI@rfn-nest",
    "SD": "SD@rfn-nest",
    "VIF": "VIF@nestfuse",
}


LIU_PROFILE = {
    "Qmi": "Qmi@liu",
    "Qte": "Qte@liu",
    "Qncie": "Qncie@liu",
    "Qg": "Qg@liu",
    "Qm": "Qm@liu",
    "Qsf": "Qsf@liu",
    "Qp": "Qp@liu",
    "Qs": "Qs@liu",
    "Qc": "Qc@liu",
    "Qy": "Qy@liu",
    "Qcv": "Qcv@liu",
    "Qcb": "Qcb@liu",
    "VIFF": "VIFF@han",
}


def _by_source(source: str) -> dict[str, str]:
    from . import METRICS

    return {n: n for n in METRICS.names(source=source) if METRICS.meta(n)["checked"]}


def _default() -> dict[str, str]:
    from . import METRICS

    return {e.name: e.name for e in METRICS
            if e.meta["checked"] and not e.meta["slow"] and e.meta["source"] in ("rfn-nest", "nestfuse", "vifb")}


def _all() -> dict[str, str]:
    from . import METRICS

    return {e.name: e.name for e in METRICS}


#: the named metric profiles (each a function returning ``{display name: metric key}``);
#: :data:`PROFILES` is the read-only dict view used by ``evaluate`` and the benchmark
PROFILE_REGISTRY: Registry = Registry("metric profile")
for _name, _fn in (
    ("paper", lambda: dict(PAPER)),
    ("rfn-nest", lambda: _by_source("rfn-nest")),
    ("nestfuse", lambda: _by_source("nestfuse")),
    ("vifb", lambda: _by_source("vifb")),
    ("liu", lambda: dict(LIU_PROFILE)),
    ("default", _default),
    ("all", _all),
):
    PROFILE_REGISTRY.add(_name, _fn)
PROFILES = PROFILE_REGISTRY.view()


def resolve(metrics: Iterable[str] | None = None, profile: str | None = None) -> dict[str, str]:
    """Return ``{display name: registered key}`` for a metric list and/or a profile.

    ``metrics``: registered keys (case-insensitive), a list or one key as a string. Unknown names
    raise :class:`~mutualfuse.errors.ParameterError` with suggestions.
    """
    from . import METRICS

    if isinstance(metrics, str):  # one key, not its characters
        metrics = [metrics]
    elif metrics is not None and not isinstance(metrics, Iterable):
        raise ParameterError(f"metrics must be a registered key or a list of keys, got {type(metrics).__name__} "
                             f"{metrics!r}")
    out: dict[str, str] = {}
    if profile is not None:
        try:
            make = PROFILE_REGISTRY.get(profile)  # case-insensitive, with "did you mean"
        except KeyError as e:
            raise ParameterError(e.args[0]) from None
        out.update(make())
    if metrics is not None:
        for m in metrics:
            try:
                name = METRICS.entry(m).name
            except KeyError as e:
                if isinstance(m, str) and m in PROFILE_REGISTRY:  # a profile's name in the metric list
                    canon = PROFILE_REGISTRY.entry(m).name
                    raise ParameterError(f"{m!r} is a metric profile, not a metric: pass profile={canon!r} "
                                         "(metrics= adds columns to it)") from None
                raise ParameterError(e.args[0] if e.args else str(e)) from None  # str(KeyError) quotes it
            out[name] = name
    if profile is None and metrics is None:
        out = _default()
    return out
