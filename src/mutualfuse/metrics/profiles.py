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
    Every registered metric (including the slow ones, the unchecked extras and the metrics of
    one's own).

:func:`register_profile` adds a profile of one's own (``evaluate --import MODULE --profile NAME``).
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
#: the profiles above (a profile of one's own, :func:`register_profile`, cannot take their names)
BUILTIN_PROFILES = tuple(PROFILE_REGISTRY.names())


def register_profile(name: str, columns) -> None:
    """Register a metric profile of one's own: ``columns`` maps each column label to a registered
    metric key (``{"Qabf": "Qabf@vifb", "Mine": "mine"}``), or is a list of keys (each labelled
    with its key). ``mutualfuse evaluate --import MODULE --profile NAME`` then scores them; the
    keys are checked now (register the module's own metrics first). A name taken by a built-in
    profile or by a metric is refused; a profile of one's own registered again under its name
    from the same module (a module imported twice, ``importlib.reload``) is replaced. Every
    mistake is a one-line :class:`~mutualfuse.errors.ParameterError`."""
    import sys
    from collections.abc import Mapping

    from . import METRICS

    what = f"register_profile({name!r})"
    if not isinstance(name, str) or not name.strip() or any(c.isspace() for c in name) or "," in name:
        raise ParameterError(f"{what}: a profile name is a non-empty string without spaces or commas")
    if name in PROFILE_REGISTRY and PROFILE_REGISTRY.entry(name).name in BUILTIN_PROFILES:
        raise ParameterError(f"{what}: {PROFILE_REGISTRY.entry(name).name!r} is a built-in profile; replacing it is "
                             "not supported: register yours under another name")
    if name in METRICS:
        raise ParameterError(f"{what}: {METRICS.entry(name).name!r} is a metric's name; register the profile "
                             "under another name")
    if isinstance(columns, Mapping):
        items = list(columns.items())
    elif isinstance(columns, (list, tuple)):
        items = [(k, k) for k in columns]
    else:
        raise ParameterError(f"{what}: columns must be a dict {{label: metric key}} or a list of metric keys, "
                             f"got {type(columns).__name__}")
    if not items:
        raise ParameterError(f"{what}: no columns")
    cols: dict[str, str] = {}
    for label, key in items:
        if not isinstance(label, str) or not label.strip():
            raise ParameterError(f"{what}: column label {label!r}: a non-empty string")
        if label in cols:
            raise ParameterError(f"{what}: column {label!r} given twice")
        if not isinstance(key, str):
            raise ParameterError(f"{what}: column {label!r}: {key!r} is not a metric key")
        try:
            cols[label] = METRICS.entry(key).name
        except KeyError as e:
            raise ParameterError(f"{what}: column {label!r}: {e.args[0]}") from None
    if len(set(cols.values())) < len(cols):
        raise ParameterError(f"{what}: a metric is in two columns")

    def make() -> dict[str, str]:
        return dict(cols)

    # the caller's module and the name: the same profile registered again from there replaces it
    make.__module__ = sys._getframe(1).f_globals.get("__name__", "?")
    make.__qualname__ = f"profile:{name}"
    try:
        PROFILE_REGISTRY.add(name, make, own=True)
    except ValueError as e:
        raise ParameterError(f"{what}: {e}") from None


def _bare_name(m) -> str | None:
    """The key a bare metric name (``"Qabf"``, no ``@source``) stands for, as ``evaluate --metrics``
    picks it (the one key of that name, or its one checked key); None when no key has that name;
    :class:`~mutualfuse.errors.ParameterError` naming the keys when several could be meant."""
    from . import METRICS

    if not isinstance(m, str) or "@" in m:
        return None
    cands = [n for n in METRICS.names() if n.split("@")[0].lower() == m.strip().lower()]
    checked = [n for n in cands if METRICS.meta(n)["checked"]]
    pick = checked if len(checked) == 1 else cands
    if len(pick) == 1:
        return pick[0]
    if pick:
        raise ParameterError(f"metric {m!r} is ambiguous: use one of {', '.join(pick)}")
    return None


def resolve(metrics: Iterable[str] | None = None, profile: str | Iterable[str] | None = None) -> dict[str, str]:
    """Return ``{display name: registered key}`` for a metric list and/or a profile.

    ``profile``: a profile name, or a list of them (``evaluate --profile`` repeated): their
    columns in that order, labelled with their keys when there are several profiles. A metric
    asked for twice (by two profiles, or by a profile and ``metrics``) is one column, under its
    first label, as in ``evaluate``.

    ``metrics``: registered keys (case-insensitive), a list or one string (one key, or keys
    separated by commas as ``evaluate --metrics`` takes them). A bare metric name is taken as
    ``evaluate --metrics`` takes it: ``"Qabf"`` is ``Qabf@vifb`` (its one checked key), ``"EN"``
    is ambiguous (``EN@rfn-nest`` or ``EN@vifb``) and an error naming both. Unknown names raise
    :class:`~mutualfuse.errors.ParameterError` with suggestions.
    """
    from . import METRICS

    if isinstance(metrics, str):  # one key (or comma-separated keys), not its characters
        metrics = [m.strip() for m in metrics.split(",") if m.strip()] or [metrics]
    elif metrics is not None and not isinstance(metrics, Iterable):
        raise ParameterError(f"metrics must be a registered key or a list of keys, got {type(metrics).__name__} "
                             f"{metrics!r}")
    if profile is None or isinstance(profile, str):
        profiles = [] if profile is None else [profile]
    elif isinstance(profile, Iterable):
        profiles = list(profile)
    else:
        raise ParameterError(f"profile must be a profile name or a list of them, got {type(profile).__name__} "
                             f"{profile!r}")
    canon: list[str] = []
    for name in profiles:
        try:
            c = PROFILE_REGISTRY.entry(name).name  # case-insensitive, with "did you mean"
        except KeyError as e:
            raise ParameterError(e.args[0]) from None
        if c not in canon:
            canon.append(c)
    profiles = canon
    out: dict[str, str] = {}
    for name in profiles:
        for label, key in PROFILE_REGISTRY.get(name)().items():
            if key not in out.values():
                out[label] = key
    if len(profiles) > 1:
        out = {key: key for key in out.values()}
    if metrics is not None:
        for m in metrics:
            try:
                name = METRICS.entry(m).name
            except KeyError as e:
                bare = _bare_name(m)
                if bare is not None:
                    if bare not in out.values():
                        out[bare] = bare
                    continue
                if isinstance(m, str) and m in PROFILE_REGISTRY:  # a profile's name in the metric list
                    canon = PROFILE_REGISTRY.entry(m).name
                    raise ParameterError(f"{m!r} is a metric profile, not a metric: pass profile={canon!r} "
                                         "(metrics= adds columns to it)") from None
                raise ParameterError(e.args[0] if e.args else str(e)) from None  # str(KeyError) quotes it
            if name not in out.values():
                out[name] = name
    if not profiles and metrics is None:
        out = _default()
    return out
