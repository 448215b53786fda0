"""The benchmark's self-contained HTML report (tables, paper vs ours, runtime, figures inlined
as base64 PNG, problems, environment) and its Markdown summary. Opens offline: no external
scripts, styles, fonts or images.
"""
from __future__ import annotations

import base64
import html
import os
import platform
import sys
from pathlib import Path

from .table import MARKINGS, PARTIAL, Table, fmt, legend

_CSS = """
body{font-family:sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:13px}
th,td{padding:3px 8px;border-bottom:1px solid #ccc;text-align:right}
th:first-child,td:first-child{text-align:left}
thead th{border-bottom:2px solid #333}
.red{color:#d01010}.blue{color:#1040e0}.brown{color:#8b4513}.bold{font-weight:bold}.italic{font-style:italic}
.reproduced{color:#087a08;font-weight:bold}.differs{color:#a05000}.problems li{color:#a00000}
img{max-width:100%;border:1px solid #ddd}
.note{color:#555;font-size:12px}
"""


def _jpeg(png: Path, quality: int = 88) -> bytes:
    """The figure re-encoded as JPEG for inlining (keeps the report a few MB)."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    with Image.open(png) as im:
        im.convert("RGB").save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def environment() -> dict[str, str]:
    """Versions, threads and CPU/GPU of this machine."""
    import numpy
    import scipy
    import torch

    from .. import __version__

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = "none"
    if torch.cuda.is_available():
        gpu = ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
    load = ""
    try:
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    except (OSError, AttributeError):  # AttributeError: no os.getloadavg on Windows (the report failed there)
        pass
    return {
        "mutualfuse": __version__,
        "python": sys.version.split()[0],
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "torch": torch.__version__,
        "platform": platform.platform(),
        "cpu": cpu,
        "cpu cores (os.cpu_count)": str(os.cpu_count()),
        "torch threads": str(torch.get_num_threads()),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "(unset)"),
        "gpu": gpu,
        "load average at the end (1, 5, 15 min)": load,
    }


def data_root_line(cfg) -> str:
    """Which data root the run read and where it came from (``--data-root`` wins over
    ``MUTUALFUSE_DATA``; a different ``MUTUALFUSE_DATA`` that was not used is named)."""
    line = f"{cfg.data_root}" + (f" (from {cfg.data_root_from})" if cfg.data_root_from else "")
    env = os.environ.get("MUTUALFUSE_DATA")
    if cfg.data_root_from == "--data-root" and env and Path(env) != Path(cfg.data_root):
        line += f"; MUTUALFUSE_DATA={env} was not used (--data-root wins)"
    return line


def _row_origin(src) -> str:
    """What one row's values were computed from (its method and code, its weights, its folder)."""
    if src.kind == "method":
        params = ", ".join(f"{k}={v!r}" for k, v in src.params)
        return (f"method {src.method}{f' ({params})' if params else ''} of this mutualfuse, fused here "
                f"(method code sha256 {(src.code_sha256 or '?')[:12]})")
    if src.kind in ("weights", "ablation") and not src.weights:
        return f"the network, no weights file: {src.missing or 'none matched'}"
    if src.kind in ("weights", "ablation"):
        task = "" if src.task is None else f", --task {src.task}"
        from .sources import paper_ours_id

        vs = "; the paper view compares it with the paper's 'Ours'" if src.id == paper_ours_id() else ""
        return (f"the network with weights {src.weights} (sha256 {(src.weights_sha256 or '?')[:12]}{task}), "
                "fused here" + (f"; {src.missing}" if src.missing else "") + vs)
    if src.kind == "reference":
        return f"published fused images in {src.folder}, scored here (not fused here)"
    if src.kind == "fused":
        return f"your fused images in {src.folder}, scored here (not fused here)"
    return src.kind


#: what a column's metric metadata does not say (docs/benchmark.md, "Tables")
COLUMN_CAVEATS = {"CE": "the paper does not say whose CE it used"}


def provenance(cfg, tables: dict[str, Table], sources: dict | None = None) -> list[tuple[str, str]]:
    """``(what, where it comes from)`` for the run's data, its every column and row: the data
    root used, that every table value is computed here (the paper's values appear only in the
    paper view), whose code each column's metric is (and whether it is conformance-checked), and
    what each row was fused from (method code, weights sha256, a folder of published images).
    ``sources``: ``{(table id, row id): Source}`` (a ``--fused`` row reads another folder per set)."""
    from .. import __version__
    from ..metrics import METRICS

    out = [("data root", data_root_line(cfg)), ("cache", str(cfg.cache)),
           ("values", f"every table value was computed by mutualfuse {__version__} in this run or read from its "
                      "cache (the same code, keyed by its sha256); none is copied from the paper, whose values are "
                      "only in 'Paper vs reproduced' (tables/paper_vs_ours.*)")]
    cols: dict[str, str] = {}
    for t in tables.values():
        for c in t.columns:
            if c.label in cols:
                continue
            m = METRICS.meta(c.key)
            check = ("conformance-checked against it" if m.get("checked") else "UNCHECKED (never compared with a "
                     "reference implementation)")
            cols[c.label] = (f"{c.key}: {m.get('reference') or m.get('source')}; {check}"
                             + (f"; {COLUMN_CAVEATS[c.label]}" if c.label in COLUMN_CAVEATS else ""))
    out += [(f"column {label}", why) for label, why in cols.items()]
    rows: dict[str, list[str]] = {}
    for t in tables.values():
        for r in t.rows:
            src = (sources or {}).get((t.id, r.id))
            why = (_row_origin(src) if src is not None else
                   "the mean ± sd of the rows it names (the table's note)" if r.id.endswith("[mean]") else r.kind)
            if why not in rows.setdefault(r.label, []):
                rows[r.label].append(why)
    out += [(f"row {label}", "; ".join(why)) for label, why in rows.items()]
    return out


def stale_line(stale: list[str]) -> str:
    """The report's line naming the files of --out that this run did not write (an earlier run's)."""
    return (f"Files of tables/ and figures/ not written by this run (an earlier run's, or yours), left as they "
            f"were and not part of this report: "
            f"{', '.join(stale[:12])}{f', … ({len(stale)} files)' if len(stale) > 12 else ''}.")


def provenance_note(t: Table) -> str:
    """The note under every table: its values are computed here, with which metrics' code, and
    which row the paper view compares with the paper's "Ours" (Tables 1-3)."""
    from .. import __version__
    from .sources import paper_ours_id

    cols = ", ".join(c.key for c in t.columns)
    ours = next((r.label for r in t.rows if r.id == paper_ours_id()), None)
    vs = (f"; {ours} is the row compared with the paper's 'Ours'" if ours and t.id in ("table1", "table2", "table3")
          else "")
    return (f"every value computed by mutualfuse {__version__} (this run or its cache), none copied from the "
            f"paper (its values: tables/paper_vs_ours.*{vs}); columns {cols}; rows, data and weights: "
            "report.html, 'Where the numbers come from'")


def table_html(t: Table) -> str:
    styles = MARKINGS[t.marking]
    ranks = t.ranks()
    e = html.escape
    out = [f"<h3 id='{e(t.id)}'>{e(t.title)}</h3>", "<table><thead><tr><th>Methods</th>"]
    out += [f"<th>{e(c.heading)}</th>" for c in t.columns]
    out.append("</tr></thead><tbody>")
    for r in t.rows:
        out.append(f"<tr><td>{e(r.label)}</td>")
        for c in t.columns:
            v = r.values.get(c.label)
            text = fmt(v, c.decimals, r.spread.get(c.label)) + (PARTIAL if r.partial and v is not None else "")
            k = ranks.get((r.id, c.label))
            cls = f" class='{styles[k - 1]}'" if k else ""
            out.append(f"<td{cls}>{e(text)}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    out.append(f"<p class='note'>{e(legend(t))}</p>")
    notes = [f"{r.label}: {r.note}" for r in t.rows if r.note] + list(t.notes)
    if notes:
        out.append("<ul class='note'>" + "".join(f"<li>{e(n)}</li>" for n in notes) + "</ul>")
    return "\n".join(out)


def cells_html(cells, quick: bool) -> str:
    from . import paper as paper_view
    from .paper import summary

    e = html.escape
    s = summary(cells)
    out = ["<h2 id='paper'>Paper vs reproduced</h2>",
           f"<p>{len(cells)} printed cells of the paper's Tables 1–7: "
           + e(", ".join(f"{n} {k}" for k, n in sorted(s.items())))
           + ". Reproduced = our mean rounds to the paper's 4-decimal value or is within 5e-5 of it.</p>"]
    if quick or any(c.subset for c in cells):
        out.append(f"<p><b>{e(paper_view.SUBSET_WARNING)}</b></p>")
    if any(c.other_set for c in cells):
        out.append(f"<p><b>{e(paper_view.OTHER_SET_WARNING)}</b></p>")
    if any(c.partial for c in cells):
        out.append(f"<p><b>{e(paper_view.PARTIAL_WARNING)}</b></p>")
    out.append("<table><thead><tr><th>table</th><th>method</th><th>metric</th><th>paper</th><th>ours</th>"
               "<th>ours − paper</th><th>status</th><th>note</th></tr></thead><tbody>")
    for c in cells:
        d = c.diff
        out.append(f"<tr><td>{c.table}</td><td>{e(c.method)}</td><td>{e(c.metric)}</td><td>{e(c.paper_text)}</td>"
                   f"<td>{'' if c.ours is None else f'{c.ours:.4f}'}</td><td>{'' if d is None else f'{d:+.4f}'}</td>"
                   f"<td class='{c.status.replace(' ', '-')}'>{e(c.status)}</td><td style='text-align:left'>{e(c.why)}</td></tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def write_report(cfg, tables: dict[str, Table], cells, runtime: list[dict], figures: list[Path],
                 problems: list[str], stats: dict, sources: dict | None = None,
                 stale: list[str] | None = None) -> Path:
    from .runner import runtime_markdown, write_text
    from .table import to_markdown
    from . import paper as paper_view

    e = html.escape
    env = environment()
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>mutualfuse benchmark</title>",
             f"<style>{_CSS}</style></head><body>", "<h1>mutualfuse benchmark</h1>",
             f"<p>Command: <code>{e(cfg.command or 'mutualfuse benchmark')}</code><br>"
             f"Wall time {stats['wall_s']} s; {stats['tasks']} (row, pair) jobs, {stats['fused_computed']} fused images "
             f"and {stats['metrics_computed']} metric values computed (the rest read from the cache), "
             f"{stats['failed']} failed.</p>"]
    if cfg.quick:
        parts.append(f"<p><b>--quick: {cfg.pairs} pairs per set, no slow metrics (VIF) and no slow methods.</b></p>")
    parts.append("<h2>Problems</h2>")
    if problems:
        parts.append("<ul class='problems'>" + "".join(f"<li>{e(p)}</li>" for p in problems) + "</ul>")
    else:
        parts.append("<p>none</p>")
    prov = provenance(cfg, tables, sources)
    parts.append("<h2>Where the numbers come from</h2><table><tbody>")
    parts += [f"<tr><td>{e(k)}</td><td style='text-align:left'>{e(v)}</td></tr>" for k, v in prov]
    parts.append("</tbody></table>")
    if stale:
        parts.append(f"<p class='note'>{e(stale_line(stale))}</p>")
    parts.append("<h2>Tables</h2>")
    parts += [table_html(t) for t in tables.values()]
    parts.append(cells_html(cells, cfg.quick))
    parts.append("<h2>Runtime</h2><table><thead><tr><th>method</th><th>images</th><th>MP</th><th>s</th>"
                 "<th>s/MP</th><th>measured</th></tr></thead><tbody>")
    for r in runtime:
        spm = "—" if r["s_per_mp"] is None else f"{r['s_per_mp']:.3g}"
        parts.append(f"<tr><td>{e(r['method'])}</td><td>{r['images']}</td><td>{r['megapixels']:.3f}</td>"
                     f"<td>{r['seconds']:.2f}</td><td>{spm}</td><td>{e(r['measured'])}</td></tr>")
    parts.append("</tbody></table>")
    parts.append("<h2>Figures</h2>")
    for f in figures:
        if f.suffix == ".png":
            data = base64.b64encode(_jpeg(f)).decode()
            parts.append(f"<h3>{e(f.stem)}</h3><p class='note'>{e(f.name)} and {e(f.stem)}.pdf in figures/</p>"
                         f"<img alt='{e(f.stem)}' src='data:image/jpeg;base64,{data}'>")
    parts.append("<h2>Environment</h2><table><tbody>")
    parts += [f"<tr><td>{e(k)}</td><td style='text-align:left'>{e(v)}</td></tr>" for k, v in env.items()]
    parts.append("</tbody></table></body></html>")
    report = write_text(cfg.out / "report.html", "\n".join(parts) + "\n")

    md = ["# mutualfuse benchmark", "", f"Command: `{cfg.command or 'mutualfuse benchmark'}`", "",
          f"Wall time {stats['wall_s']} s; {stats['fused_computed']} fused images and {stats['metrics_computed']} "
          f"metric values computed, the rest read from the cache; {stats['failed']} jobs failed.", ""]
    md += ["## Problems", ""] + ([f"- {p}" for p in problems] or ["none"]) + [""]
    md += ["## Where the numbers come from", "", "| | |", "|---|---|"]
    md += [f"| {k} | {v.replace('|', '/')} |" for k, v in prov] + [""]
    md += [stale_line(stale), ""] if stale else []
    md += [to_markdown(t, heading_level=2) for t in tables.values()]
    md.append(paper_view.to_markdown(cells, cfg.quick))
    md.append(runtime_markdown(runtime, cfg.jobs))
    md += ["## Figures", ""] + [f"![{f.stem}](figures/{f.name})" for f in figures if f.suffix == ".png"] + [""]
    md += ["## Environment", "", "| | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in env.items()]
    write_text(cfg.out / "summary.md", "\n".join(md) + "\n")
    return report
