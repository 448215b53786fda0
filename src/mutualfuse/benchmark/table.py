"""Result tables: the data model, best-value marks, and the Markdown / CSV / LaTeX writers and readers.

A :class:`Table` has metric :class:`Column` s (each with its direction) and :class:`Row` s (a
method and its mean value per column over the set's pairs). Best values are marked per column
as the paper marks them (:data:`MARKINGS`): Table 1 the best two in **bold** and *italic*,
Tables 2–3 the best three in red, blue and brown, Tables 4–7 the best in bold. Rows whose mean
misses some pairs (a failure) are printed with ``†`` and take no mark; missing values print ``—``.

Every writer has a reader, so the files can be read back (``read_markdown``, ``read_csv``,
``read_latex``): Markdown and LaTeX keep the printed decimals and the marks, CSV keeps every
value at full precision (``repr``).
"""
from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field

#: marking style → the decorations of rank 1, 2, 3 …
MARKINGS: dict[str, tuple[str, ...]] = {
    "bold-italic": ("bold", "italic"),
    "red-blue-brown": ("red", "blue", "brown"),
    "bold": ("bold",),
    "none": (),
}
MARKING_LEGEND = {
    "bold-italic": "best in bold, second in italic",
    "red-blue-brown": "best in red, second in blue, third in brown",
    "bold": "best in bold",
    "none": "",
}
PARTIAL = "†"
PM = " ± "
MISSING = "—"
UP, DOWN, TO_ZERO = "↑", "↓", "→0"

LATEX_HEADINGS = {"Qabf": r"$Q^{ab/f}$", "MS_SSIM": r"MS\_SSIM"}


@dataclass
class Column:
    """One metric column: display label, registered metric key, direction, printed decimals."""

    label: str
    key: str
    higher_is_better: bool | None  # None: closer to 0 is better (the metric's direction "zero", e.g. Q_SF)
    decimals: int = 4

    @property
    def heading(self) -> str:
        return f"{self.label} {self.mark}"

    @property
    def mark(self) -> str:
        return TO_ZERO if self.higher_is_better is None else (UP if self.higher_is_better else DOWN)

    def goodness(self, v: float) -> float:
        """``v`` mapped so that larger is better."""
        return -abs(v) if self.higher_is_better is None else (v if self.higher_is_better else -v)


@dataclass
class Row:
    """One method: ``values[label]`` is the mean over the pairs that succeeded (None: none did).

    ``n_ok`` of ``n_pairs`` pairs succeeded; a row with ``n_ok < n_pairs`` is partial (``†``).
    ``note`` says why values are missing (e.g. which weights do not exist yet).
    ``spread`` (a mean over several trained variants, e.g. seeds) holds each column's sample
    standard deviation across them, printed as ``mean ± sd``; ``ranked=False`` rows (the
    members of such a mean) are printed but take no mark.
    """

    id: str
    label: str
    values: dict[str, float | None]
    n_pairs: int = 0
    n_ok: int = 0
    kind: str = "method"
    note: str = ""
    spread: dict[str, float | None] = field(default_factory=dict)
    ranked: bool = True

    @property
    def partial(self) -> bool:
        return 0 < self.n_ok < self.n_pairs


@dataclass
class Table:
    id: str
    title: str
    columns: list[Column]
    rows: list[Row]
    marking: str = "red-blue-brown"
    notes: list[str] = field(default_factory=list)
    #: how many pairs the set has (0: unknown); a row's ``n_pairs`` below it means a subset (--pairs / --quick)
    set_pairs: int = 0
    #: why the set is not the paper's set of this table ("" when it is, or unknown): every paper
    #: cell compared with it says so (:func:`mutualfuse.benchmark.specs.paper_set_note`)
    other_set: str = ""
    #: said after the marking legend ("" for tables that are not the paper's, e.g. ``evaluate``'s)
    marking_source: str = "as the paper marks this table"

    def value(self, row_id: str, label: str) -> float | None:
        for r in self.rows:
            if r.id == row_id:
                return r.values.get(label)
        raise KeyError(row_id)

    def ranks(self) -> dict[tuple[str, str], int]:
        """``{(row id, column label): rank}`` for the marked ranks (1 = best).

        Ranks are dense over the distinct values printed at the column's decimals (ties share a
        mark); partial and missing rows take no rank, nor a NaN; an infinite value ranks by the
        column's direction (+inf is the best of a higher-is-better column).
        """
        styles = MARKINGS[self.marking]
        out: dict[tuple[str, str], int] = {}
        for c in self.columns:
            vals = {}
            for r in self.rows:
                v = r.values.get(c.label)
                # an infinite mean ranks by the column's direction (PSNR's +inf of a fused image equal to
                # its sources is the best; it was passed over, and the best finite value marked best)
                if v is None or math.isnan(v) or r.partial or not r.ranked:
                    continue
                vals[r.id] = round(v, c.decimals)
            distinct = sorted({c.goodness(v) for v in vals.values()}, reverse=True)
            if len(vals) < 2:
                continue
            for rid, v in vals.items():
                k = distinct.index(c.goodness(v)) + 1
                if k <= len(styles):
                    out[(rid, c.label)] = k
        return out


def fmt(v: float | None, decimals: int = 4, sd: float | None = None, pm: str = PM) -> str:
    """A cell: the value at ``decimals``; with ``sd`` (a spread), ``value ± sd``."""
    if v is None:
        return MISSING
    if not math.isfinite(v):
        return str(v)
    if sd is not None and math.isfinite(sd):
        return f"{v:.{decimals}f}{pm}{sd:.{decimals}f}"
    return f"{v:.{decimals}f}"


# ---------------------------------------------------------------------------------------------
# Markdown
# ---------------------------------------------------------------------------------------------

_MD_COLOUR = '<span style="color:{c}">{v}</span>'


def _md_cell(text: str, style: str | None) -> str:
    if style == "bold":
        return f"**{text}**"
    if style == "italic":
        return f"*{text}*"
    if style:
        return _MD_COLOUR.format(c=style, v=text)
    return text


#: what a row label escapes in Markdown: the table's cell separator and what would start
#: emphasis, code, an HTML tag or an escape (``r*2*`` would show *2* in italics)
_MD_SPECIAL = re.compile(r"([\\|*_`<])")


def _md_escape(s: str) -> str:
    """A row label as Markdown text: a backslash before each of ``\\ | * _ ` <``
    (:func:`_md_unescape` reverses it)."""
    return _MD_SPECIAL.sub(r"\\\1", s)


def _md_unescape(s: str) -> str:
    return re.sub(r"\\([\\|*_`<])", r"\1", s)


def legend(t: Table) -> str:
    """The line under a table (every format): directions, marks, and what ``†`` and ``±`` mean."""
    parts = [f"{UP} higher is better, {DOWN} lower is better"
             + (f", {TO_ZERO} closer to 0 is better" if any(c.higher_is_better is None for c in t.columns) else "")]
    if MARKING_LEGEND[t.marking]:
        parts.append(MARKING_LEGEND[t.marking] + (f" ({t.marking_source})" if t.marking_source else ""))
    if any(r.partial for r in t.rows):
        parts.append(f"{PARTIAL} mean over fewer pairs (a failure, see the notes), not ranked")
    if any(r.spread for r in t.rows):
        parts.append("mean ± sd: over the trained variants listed below it (sample standard deviation), "
                     "which are not ranked themselves")
    return "; ".join(parts) + "."


def to_markdown(t: Table, heading_level: int = 2) -> str:
    styles = MARKINGS[t.marking]
    ranks = t.ranks()
    lines = [f"{'#' * heading_level} {t.title}", ""]
    lines.append("| Methods | " + " | ".join(c.heading for c in t.columns) + " |")
    lines.append("|---|" + "---:|" * len(t.columns))
    for r in t.rows:
        cells = []
        for c in t.columns:
            text = fmt(r.values.get(c.label), c.decimals, r.spread.get(c.label))
            if r.partial and r.values.get(c.label) is not None:
                text += PARTIAL
            k = ranks.get((r.id, c.label))
            cells.append(_md_cell(text, styles[k - 1] if k else None))
        lines.append(f"| {_md_escape(r.label)} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(legend(t))
    for r in t.rows:
        if r.note:
            lines.append(f"- {_md_escape(r.label)}: {r.note}")
    for n in t.notes:
        lines.append(f"- {n}")
    return "\n".join(lines) + "\n"


_MD_STYLE_RES = [
    ("bold", re.compile(r"^\*\*(.*)\*\*$")),
    ("italic", re.compile(r"^\*(.*)\*$")),
    ("colour", re.compile(r'^<span style="color:(\w+)">(.*)</span>$')),
]


def _parse_cell(text: str) -> tuple[float | None, str | None, bool]:
    """A printed cell → (value, style, partial)."""
    style = None
    text = text.strip()
    for name, rx in _MD_STYLE_RES:
        m = rx.match(text)
        if m:
            if name == "colour":
                style, text = m.group(1), m.group(2)
            else:
                style, text = name, m.group(1)
            break
    partial = text.endswith(PARTIAL)
    text = text.rstrip(PARTIAL).strip()
    if text == MISSING:
        return None, style, partial
    return float(text.split(PM.strip())[0]), style, partial


@dataclass
class ReadTable:
    """What a reader recovers: headings, and per row label the values and styles of its cells."""

    headings: list[str]
    values: dict[str, list[float | None]]
    styles: dict[str, list[str | None]]


def _split_md_row(line: str) -> list[str]:
    """A table line's cells, split at the ``|`` that no backslash escapes (an escaped backslash
    does not escape the ``|`` after it); the escapes of :func:`_md_escape` undone."""
    cells = re.findall(r"((?:\\.|[^\\|])*)\|", line.strip())[1:]
    return [_md_unescape(c.strip()) for c in cells]


def read_markdown(text: str) -> ReadTable:
    """Parse the first table of :func:`to_markdown` output."""
    lines = [ln for ln in text.splitlines() if ln.startswith("|")]
    if len(lines) < 2:
        raise ValueError("no Markdown table found")
    head = _split_md_row(lines[0])[1:]
    values: dict[str, list] = {}
    styles: dict[str, list] = {}
    for ln in lines[2:]:
        cells = _split_md_row(ln)
        parsed = [_parse_cell(c) for c in cells[1:]]
        values[cells[0]] = [p[0] for p in parsed]
        styles[cells[0]] = [p[1] for p in parsed]
    return ReadTable(head, values, styles)


# ---------------------------------------------------------------------------------------------
# CSV (full precision)
# ---------------------------------------------------------------------------------------------


def to_csv(t: Table) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["row_id", "method", "kind", "n_pairs", "n_ok"] + [c.heading for c in t.columns] + ["note"])
    for r in t.rows:
        vals = [repr(float(r.values[c.label])) if r.values.get(c.label) is not None else "" for c in t.columns]
        w.writerow([r.id, r.label, r.kind, r.n_pairs, r.n_ok] + vals + [r.note])
    return buf.getvalue()


def csv_meta(t: Table) -> dict:
    """What the CSV's plain headings do not say, for its sidecar ``tables/<id>.csv.meta.json``
    (as ``mutualfuse evaluate --out X.csv`` writes ``X.csv.meta.json``; a ``#`` line in the CSV
    would break ``pandas.read_csv``'s defaults): the mutualfuse version, the table's title, each
    value column's registered metric (key, direction, reference, convention, ``checked``) and
    the table's notes (pairs, data, failures, provenance)."""
    from .. import __version__

    return {"mutualfuse_version": __version__, "table": t.id, "title": t.title,
            "csv_columns": ("row_id, method (the row's label), kind, n_pairs (pairs of the set), n_ok (pairs fused "
                            "and scored: a row with n_ok < n_pairs is partial), then one column per metric, "
                            "headed '<label> <direction mark>' as under 'metrics' (the mean over the n_ok pairs at "
                            "full precision, Python repr; empty: no value), then note"),
            "metrics": {c.heading: metric_record(c.key) for c in t.columns},
            "notes": list(t.notes)}


def metric_record(key: str) -> dict:
    """One registered metric as the machine-readable outputs record it (``evaluate``'s JSON and
    CSV sidecar, the benchmark's CSV sidecars): its key, direction, whether it is
    conformance-checked against its reference code (``checked``), its code (``source``: ``vifb``,
    ``liu``, ..., ``own`` for a metric of one's own, whose ``reference`` names its module),
    reference and convention."""
    from ..metrics import METRICS

    m = METRICS.meta(key)
    return {"key": key, "higher_is_better": m["higher_is_better"], "direction": m["direction"],
            "reference": m["reference"], "convention": m["convention"],
            "checked": bool(m["checked"]), "source": m["source"]}


def read_csv(text: str) -> ReadTable:
    rows = list(csv.reader(io.StringIO(text)))
    head = rows[0][5:-1]
    values = {}
    for r in rows[1:]:
        values[r[1]] = [float(x) if x != "" else None for x in r[5:-1]]
    return ReadTable(head, values, {k: [None] * len(head) for k in values})


# ---------------------------------------------------------------------------------------------
# LaTeX (booktabs + xcolor)
# ---------------------------------------------------------------------------------------------

#: LaTeX's special characters, and the three that its default OT1 font encoding prints as other glyphs
#: (``|`` as an em dash, ``<`` and ``>`` as ¡ and ¿): a method named ``a|b`` reads ``a|b`` in the PDF
_TEX_ESC = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
            "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
            "|": r"\textbar{}", "<": r"\textless{}", ">": r"\textgreater{}"}


def tex_escape(s: str) -> str:
    return "".join(_TEX_ESC.get(ch, ch) for ch in s).replace(PARTIAL, r"$^\dagger$").replace(MISSING, "--")


#: the non-ASCII symbols of the legends and notes, as LaTeX (pdflatex's utf8 input has no arrows)
_TEX_SYMBOLS = {UP: r"$\uparrow$", DOWN: r"$\downarrow$", "→": r"$\to$", "±": r"$\pm$", "×": r"$\times$",
                "≥": r"$\geq$", "≤": r"$\leq$", "σ": r"$\sigma$", "≈": r"$\approx$"}


def tex_text(s: str) -> str:
    """Free text (a legend, a note) for LaTeX: escaped as :func:`tex_escape`, symbols as math."""
    s = tex_escape(s)
    for ch, tex in _TEX_SYMBOLS.items():
        s = s.replace(ch, tex)
    return s


#: an infinite value in a LaTeX cell (``inf`` is not a number a reader of the PDF knows; the CSV and
#: JSON keep ``inf``, which ``float()`` and pandas read back)
TEX_INF = {1: r"$\infty$", -1: r"$-\infty$"}


def _tex_value(v: float, decimals: int, sd: float | None) -> str:
    """A LaTeX cell's number (:func:`fmt`), an infinite value as ``$\\infty$`` / ``$-\\infty$``."""
    if math.isinf(v):
        return TEX_INF[1 if v > 0 else -1]
    return fmt(v, decimals, sd, pm=r"${}\pm{}$")


def _tex_cell(text: str, style: str | None) -> str:
    if style == "bold":
        return rf"\textbf{{{text}}}"
    if style == "italic":
        return rf"\textit{{{text}}}"
    if style:
        return rf"\textcolor{{{style}}}{{{text}}}"
    return text


def to_latex(t: Table) -> str:
    styles = MARKINGS[t.marking]
    ranks = t.ranks()
    head = " & ".join(
        LATEX_HEADINGS.get(c.label, tex_escape(c.label)) + (r"$\to 0$" if c.higher_is_better is None else r"$\uparrow$" if c.higher_is_better else r"$\downarrow$")
        for c in t.columns)
    colour = any(st not in (None, "bold", "italic") for st in styles)  # \textcolor cells: xcolor needed
    out = [
        r"% requires \usepackage{booktabs}" + (r" and \usepackage{xcolor}" if colour else ""),
        r"\begin{table}[t]", r"\centering",
        rf"\caption{{{tex_escape(t.title)}{'. ' + tex_escape(MARKING_LEGEND[t.marking].capitalize()) if MARKING_LEGEND[t.marking] else ''}}}",
        rf"\label{{tab:{t.id}}}",
        r"\begin{tabular}{l" + "r" * len(t.columns) + "}",
        r"\toprule",
        rf"Methods & {head} \\",
        r"\midrule",
    ]
    for r in t.rows:
        cells = []
        for c in t.columns:
            v = r.values.get(c.label)
            text = _tex_value(v, c.decimals, r.spread.get(c.label)) if v is not None else "--"
            if r.partial and v is not None:
                text += r"$^\dagger$"
            k = ranks.get((r.id, c.label))
            cells.append(_tex_cell(text, styles[k - 1] if k else None))
        out.append(f"{tex_escape(r.label)} & " + " & ".join(cells) + r" \\")
    out += [r"\bottomrule", r"\end{tabular}"]
    # what the Markdown prints under the table: the legend, each row's note, the table's notes
    notes = [legend(t)] + [f"{r.label}: {r.note}" for r in t.rows if r.note] + list(t.notes)
    out += [r"\par\smallskip", r"\begin{minipage}{\linewidth}\footnotesize"]
    out += [tex_text(n) + r"\par" for n in notes]
    out += [r"\end{minipage}", r"\end{table}"]
    return "\n".join(out) + "\n"


_TEX_STYLE = re.compile(r"^\\(textbf|textit|textcolor\{(\w+)\})\{(.*)\}$")
_TEX_UNESC = {v: k for k, v in _TEX_ESC.items()}


def _tex_unescape(s: str) -> str:
    s = s.replace(r"$^\dagger$", PARTIAL)
    for esc, ch in sorted(_TEX_UNESC.items(), key=lambda kv: -len(kv[0])):
        s = s.replace(esc, ch)
    return s


def read_latex(text: str) -> ReadTable:
    body = text.split(r"\midrule", 1)[1].split(r"\bottomrule", 1)[0]
    head_line = text.split(r"\toprule", 1)[1].split(r"\midrule", 1)[0].strip().rstrip("\\").strip()
    head = [h.strip() for h in head_line.split(" & ")[1:]]
    values, styles = {}, {}
    for ln in body.strip().splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)&", ln.strip().rstrip("\\").strip())]
        vs, ss = [], []
        for c in cells[1:]:
            style = None
            m = _TEX_STYLE.match(c)
            if m:
                style = {"textbf": "bold", "textit": "italic"}.get(m.group(1), m.group(2))
                c = m.group(3)
            c = c.replace(r"$^\dagger$", "").split(r"${}\pm{}$")[0]
            inf = {tex: float(sign) * math.inf for sign, tex in TEX_INF.items()}
            vs.append(None if c == "--" else inf[c] if c in inf else float(c))
            ss.append(style)
        label = _tex_unescape(cells[0])
        values[label], styles[label] = vs, ss
    return ReadTable(head, values, styles)
