"""Which set, metric columns and marking each benchmark table uses.

The paper's tables (Rao et al.) and the metric conventions that reproduce them
(``docs/metrics.md``): the ``paper`` profile of :mod:`mutualfuse.metrics.profiles` (EN, SD, MI,
SCD, MS_SSIM from rfn-nest; VIF from nestfuse; EI, SF, Qabf from VIFB) plus CE, which only
Tables 1 and 4–7 print and which we take from VIFB (``CE@vifb``; the paper does not say whose
code computed it). Column order and sets follow the paper's tables.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..metrics import METRICS, resolve

#: the columns of the paper's tables, by task
IRVIS_COLUMNS = ("EI", "CE", "SF", "EN", "Qabf", "MS_SSIM", "SD", "VIF")
MULTIFOCUS_COLUMNS = ("EI", "SF", "EN", "SCD", "MI", "SD", "VIF")
MEDICAL_COLUMNS = ("EI", "SF", "EN", "Qabf", "SCD", "MS_SSIM", "MI", "SD", "VIF")

TASK_COLUMNS = {"ir-vis": IRVIS_COLUMNS, "multi-focus": MULTIFOCUS_COLUMNS, "medical": MEDICAL_COLUMNS}


def column_keys() -> dict[str, str]:
    """Display label → registered metric key for every column any table uses."""
    keys = dict(resolve(profile="paper"))
    keys["CE"] = "CE@vifb"
    return keys


def extra_columns(names: tuple[str, ...] | list[str]) -> dict[str, str]:
    """``--extra-metrics`` (``BenchmarkConfig.extra_metrics``) → ``{column label: registered key}``,
    each label the metric's registered key (``Qcb@liu``, ``Qmine@own``), so an extra column is never
    confused with the paper's columns (short labels). Names are read as ``evaluate --metrics``
    reads them (:func:`mutualfuse.evaluation.select_metrics`: case-insensitive keys, commas, a bare
    name when unambiguous); an unknown, ambiguous or profile name is one line. Call it after the
    ``--import`` modules are imported (they register the metrics of one's own)."""
    from ..errors import ParameterError
    from ..evaluation import select_metrics
    from ..metrics.profiles import PROFILE_REGISTRY

    if not names:
        return {}
    items = [m for item in names for m in (s.strip() for s in item.split(",")) if m]
    if not items:
        raise ParameterError(f"--extra-metrics {' '.join(names)!r} names no metric (see `mutualfuse evaluate --list`)")
    for m in items:
        if m not in METRICS and m in PROFILE_REGISTRY:
            raise ParameterError(f"--extra-metrics {m}: {PROFILE_REGISTRY.entry(m).name!r} is a metric profile, not "
                                 "a metric: name its metrics' keys (`mutualfuse evaluate --list`)")
    try:
        picked = select_metrics(items, None)
    except ParameterError as e:
        raise ParameterError(f"--extra-metrics: {e}") from None
    return {key: key for key in picked.values()}


def extra_column_note(label: str, key: str) -> str:
    """The table note of an extra column: whose metric it is and whether it is conformance-checked."""
    m = METRICS.meta(key)
    if m["source"] == "own":
        return (f"{label}: a metric of your own ({m.get('defined_in') or m['reference']}), never conformance-checked "
                "(unchecked); an extra column (--extra-metrics), not in the paper's table")
    if not m["checked"]:
        return (f"{label}: not conformance-checked (unchecked; {m['reference']}); an extra column (--extra-metrics), "
                "not in the paper's table")
    return (f"{label}: checked against the reference code of {m['source']} (docs/metrics.md); an extra column "
            "(--extra-metrics), not in the paper's table")


@dataclass(frozen=True)
class TableSpec:
    """One table: id, title, set (relative to the data root), columns, marking style, paper table."""

    id: str
    title: str
    set: str
    columns: tuple[str, ...]
    marking: str
    paper_table: int | None = None
    ablation: bool = False

    def is_slow(self, label: str) -> bool:
        return bool(METRICS.meta(column_keys()[label])["slow"])


PAPER_TABLES: tuple[TableSpec, ...] = (
    TableSpec("table1", "Table 1: infrared and visible image fusion (ir-vis/tno)", "ir-vis/tno",
              IRVIS_COLUMNS, "bold-italic", 1),
    TableSpec("table2", "Table 2: multi-focus image fusion (multi-focus/lytro)", "multi-focus/lytro",
              MULTIFOCUS_COLUMNS, "red-blue-brown", 2),
    TableSpec("table3", "Table 3: medical image fusion (medical/ct-mr)", "medical/ct-mr",
              MEDICAL_COLUMNS, "red-blue-brown", 3),
)

#: the pairs of the paper's sets of Tables 2 and 3 as the shared data lays them out (its README:
#: Lytro's 20 pairs, IFCNN's 8 "MD" pairs); a data root whose set lacks one or holds others is no
#: reproduction of those tables (Table 1 never is: the paper's 10 TNO pairs are unknown)
PAPER_SET_PAIRS: dict[str, tuple[str, ...]] = {
    "table2": tuple(f"lytro-{i:02d}" for i in range(1, 21)),
    "table3": tuple(f"c{i:02d}" for i in range(1, 9)),
}


def paper_set_note(table_id: str, set_name: str, pairs: list[str]) -> str:
    """Why a set's pairs are not the paper's set of ``table_id`` ("" when they are, or unknown)."""
    want = PAPER_SET_PAIRS.get(table_id)
    if not want:
        return ""
    lacks = [n for n in want if n not in pairs]
    more = sorted(set(pairs) - set(want))

    def names(ns: list[str]) -> str:
        return ", ".join(ns[:5]) + (f", … ({len(ns)})" if len(ns) > 5 else "")

    if not lacks and not more:
        return ""
    what = "; ".join(x for x in (f"it lacks {names(lacks)}" if lacks else "",
                                 f"it holds {names(more)} besides" if more else "") if x)
    return (f"{set_name} is not the paper's set of {len(want)} pairs ({want[0]}…{want[-1]}): {what}; "
            "the paper view's cells of this table are no reproduction check")


ABLATION_TITLES = {
    "table4": "Table 4: network structure (ir-vis/tno)",
    "table5": "Table 5: loss function (ir-vis/tno)",
    "table6": "Table 6: fusion rule (ir-vis/tno)",
    "table7": "Table 7: network depth (ir-vis/tno)",
}

#: the other shared sets ``--sets`` accepts by name (any ``<task>/<name>`` folder works)
EXTRA_SETS = ("ir-vis/tno40", "ir-vis/msrs-sample", "medical/ct-mr-harvard", "medical/pet-mri", "medical/spect-mri")


def set_table(set_name: str) -> TableSpec:
    """The table of a set given with ``--sets``: the columns of its task (first path part)."""
    task = set_name.split("/", 1)[0]
    if task not in TASK_COLUMNS:
        raise ValueError(f"{set_name}: unknown task {task!r} (sets are <task>/<name>, task one of "
                         f"{', '.join(TASK_COLUMNS)})")
    parts = set_name.split("/")
    if len(parts) < 2 or any(p in ("", ".", "..") for p in parts[1:]):
        raise ValueError(f"{set_name}: expected <task>/<name>, a folder below the data root (e.g. ir-vis/tno40)")
    tid = set_name.replace("/", "-")
    return TableSpec(tid, f"{set_name} (the columns of the paper's {task} table)", set_name,
                     TASK_COLUMNS[task], "red-blue-brown")
