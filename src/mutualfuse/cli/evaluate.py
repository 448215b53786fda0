"""``mutualfuse evaluate``: score folders of fused images against their source pairs.

Files are paired by name (the file name without its extension) across ``--a``, ``--b`` and
every ``--fused`` folder. Every image is converted to gray first with MATLAB's ``rgb2gray``
(weights 0.298936021293775/0.587043074451121/0.114020904255103, rounded half away from zero,
as the reference tables were made; see ``docs/metrics.md``); 16-bit images are scaled to the
0–255 scale; DICOM sources are read as ``fuse`` reads them (VOI window, else percentiles), on the
0–255 scale. The metrics are those of :mod:`mutualfuse.metrics` (``--metrics`` keys such as
``Qabf@vifb`` or ``--profile paper``).
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from pathlib import Path

import numpy as np

from ..errors import InputError, ParameterError
from ..evaluation import (  # noqa: F401  (the library part, in mutualfuse.evaluation; names kept for callers)
    SOURCE_NORMALIZE, SUFFIXES, DecodedImages, _compute, _listing, _names, _run_one, _score, _size_of, check_sizes,
    list_metrics, natural_key, natural_sorted, pair_folders, read_gray, select_metrics, verify_reads)


def add_parser(sub) -> None:
    p = sub.add_parser(
        "evaluate",
        help="score fused images with reference-exact fusion metrics",
        description="Score every fused image in one or more --fused folders against the source pair "
                    "with the same name in --a and --b. Prints a table (per image and mean; * marks the "
                    "best value of each metric, arrows show whether higher or lower is better) and "
                    "optionally writes CSV or JSON.",
    )
    p.add_argument("--a", metavar="DIR", help="folder of first source images (e.g. infrared, CT); required")
    p.add_argument("--b", metavar="DIR", help="folder of second source images (e.g. visible, MR); required")
    p.add_argument("--fused", action="append", metavar="DIR",
                   help="folder of fused images (required); repeat to compare several methods")
    p.add_argument("--metrics", nargs="+", action="extend", metavar="KEY",
                   help="metric keys (e.g. Qabf@vifb EN@rfn-nest; a bare name such as Qabf works when "
                        "unambiguous; commas allowed; repeatable; with --profile, added to its columns). "
                        "See --list.")
    p.add_argument("--profile", action="append", metavar="NAME",
                   help="named metric set: paper, rfn-nest, nestfuse, vifb, liu, default, all "
                        "(default, without --metrics: 'default' = the fast conformance-checked "
                        "metrics of rfn-nest, nestfuse and VIFB; Liu et al.'s and VIFF are in 'liu'); "
                        "repeat to combine profiles. A profile's columns have short labels (Qcb for Qcb@liu) "
                        "unless profiles are combined or another column is the same metric from another "
                        "code: then every column is labelled with its key")
    p.add_argument("--normalize", choices=SOURCE_NORMALIZE, default=None,
                   help="read 16-bit, float and DICOM *sources* as `mutualfuse fuse --normalize` reads them "
                        "(auto: fuse's default, per-image percentiles or the DICOM window; a float source in "
                        "[0, 1] as is, of any other range stretched by its percentiles), scored on the "
                        "0-255 scale, each source's reading said in a note and the JSON's source_scaling; default: PNG/TIFF sources at their stored scale (16-bit x 255/65535, "
                        "as the reference code reads them), DICOM as fuse reads it. Fused images are always "
                        "scored as stored")
    p.add_argument("--percentiles", type=float, nargs=2, default=None, metavar=("LO", "HI"),
                   help="with --normalize auto/percentile: the percentiles mapped to 0 and 255 "
                        "(default 0.1 99.9, as fuse)")
    p.add_argument("-o", "--out", metavar="FILE", action="append", default=[],
                   help="write the results to FILE: .csv or .json (every image and the means), .md or .tex "
                        "(the means as a Markdown or LaTeX table, best in bold); repeat for several files")
    from .common import int_at_least

    p.add_argument("-j", "--jobs", type=int_at_least(1), default=1,
                   help="worker processes computing the metrics of a pair in parallel (default %(default)s)")
    p.add_argument("--list", action="store_true", help="list the available metrics and profiles and exit")
    from .common import add_import, add_quiet

    add_import(p, help="import a Python module first: a module name (found on the Python path or in the working "
                       "folder), a .py file or a package folder; the metrics it registers "
                       "(mutualfuse.metrics.register_metric) and metric profiles (register_profile) can be named by "
                       "--metrics and --profile and are listed by --list; every -j worker imports it too; "
                       "repeatable (docs/metrics.md, 'Your own metric')")

    add_quiet(p)
    p.set_defaults(func=run)


# ---------------------------------------------------------------------------------------------
# output
# ---------------------------------------------------------------------------------------------

#: the key of the mean row in ``table[method]`` (not a string, so that an image named ``mean``
#: keeps its own row); shown as ``mean`` in the table and the CSV
MEAN = ("mean",)
#: the --out formats: suffix → name
OUT_FORMATS = {".csv": "CSV", ".json": "JSON", ".md": "Markdown", ".tex": "LaTeX"}


def _group_label(g) -> str:
    return "mean" if g == MEAN else g


def _shown(s: str) -> str:
    """``s`` for a text meant to be read (the terminal table, the ``.md`` / ``.tex`` tables): a
    file or folder name that is not valid UTF-8 on disk (Python's surrogate escapes, e.g.
    ``bad\\udcff``) shows its undecodable bytes as ``\\xff`` instead of stopping the output with
    a UnicodeEncodeError; a control character or line break in a name (a folder ``new\\nline``, an
    escape sequence) is shown as its backslash escape (``\\n``, ``\\x1b``), so that it neither
    breaks the table's row (the terminal's, the Markdown table's) nor acts on the terminal; every
    other name is unchanged. The CSV and JSON outputs keep the names as they are."""
    s = s.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    if s.isprintable():
        return s
    import unicodedata

    return "".join(repr(c)[1:-1] if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in s)


def _for_stream(text: str, stream) -> str:
    """``text`` as ``stream`` can print it: a character its encoding lacks (a Unicode file name on
    an ASCII terminal, ``LC_ALL=C``) as a backslash escape instead of a UnicodeEncodeError after
    the ``--out`` files were written."""
    enc = getattr(stream, "encoding", None) or "utf-8"
    try:
        return text.encode(enc, "backslashreplace").decode(enc)
    except (LookupError, UnicodeError):
        return text


def _named(s: str) -> str:
    """A method or image name in the terminal table (:func:`_shown`, then :func:`_for_stream`)."""
    return _for_stream(_shown(s), sys.stdout)


def _cols(s: str) -> int:
    """Terminal columns of ``s``: East Asian wide and full-width characters take two, combining
    marks none (a table of Chinese or Japanese file names lines up), every other character one."""
    import unicodedata

    if s.isascii():
        return len(s)
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


#: how ``evaluate`` turns a colour image gray (every metric scores gray images), as the reference
#: tables were made (docs/metrics.md); recorded in the JSON output as ``gray_conversion``
GRAY_CONVERSION = ("MATLAB rgb2gray (0.298936021293775 R + 0.587043074451121 G + 0.114020904255103 B), "
                   "rounded half away from zero; alpha dropped, palettes expanded")


def _vifb_colour_note(labels: dict[str, str], colour: tuple[int, int] | None) -> str | None:
    """For colour fused images scored with VIFB's metrics: VIFB's own driver (``compute_metrics.m``)
    hands the RGB arrays to its metric functions, which score a colour fused image channel by
    channel and average; these columns are the values of the gray images instead (as the
    conformance values were computed), which differed from VIFB's per-channel means by 0.02 %
    (SSIM) to 42 % (Q_CV) on a Lytro and a TNO crop (docs/metrics.md)."""
    vifb = [lab for lab, key in labels.items() if key.endswith("@vifb")]
    if not vifb or not colour or not colour[1]:
        return None
    return (f"{', '.join(vifb)}: VIFB's own code scores a colour fused image channel by channel and averages the "
            "three values; these are the values of the gray images (rgb2gray), which differ from VIFB's "
            "per-channel means (docs/metrics.md)")


def _colour_words(colour: tuple[int, int]) -> str:
    """"2 colour sources and 1 colour fused image" for ``(2, 1)``."""
    parts = [f"{n} colour {w}{'s' if n != 1 else ''}" for n, w in zip(colour, ("source", "fused image")) if n]
    return " and ".join(parts)


#: how every output orders the images (recorded in the JSON output as ``image_order``)
IMAGE_ORDER = ("natural: numbers in a name compare by value (2 before 10, img2 before img10), the rest "
               "as text; names equal so (01 and 1) by the plain string")


def unchecked_labels(labels: dict[str, str]) -> list[tuple[str, str]]:
    """``(label, reference)`` of the columns whose metric is not conformance-checked against its
    reference code (``METRICS.meta(key)["checked"]`` false: a port or definition nobody compared
    with the reference's numbers, or a metric of one's own), in column order."""
    from ..metrics import METRICS

    out = []
    for lab, key in labels.items():
        m = METRICS.meta(key)
        if not m["checked"]:
            out.append((lab, m["reference"] or m.get("defined_in") or "no reference"))
    return out


def _unchecked_note(labels: dict[str, str]) -> str | None:
    """The words the ``.md`` / ``.tex`` notes and the terminal's note use for unchecked columns."""
    un = unchecked_labels(labels)
    if not un:
        return None
    return ("unchecked metric(s), not conformance-checked against reference code (values not compared "
            "with the reference's own numbers): " + "; ".join(f"{lab} ({ref})" for lab, ref in un))


def _direction_marks() -> dict[str, str]:
    """Column marks per metric direction (higher / lower / closer to 0 is better), ASCII if needed."""
    from ..metrics import ARROWS, ARROWS_ASCII

    enc = getattr(sys.stdout, "encoding", None) or "ascii"
    try:
        "".join(ARROWS.values()).encode(enc)
        return dict(ARROWS)
    except (UnicodeEncodeError, LookupError):
        return dict(ARROWS_ASCII)


def _fmt(v: float) -> str:
    if not math.isfinite(v):
        return str(v)
    if v == 0:
        v = 0.0  # -0.0 (EN of a one-pixel image) printed as -0.0000
    a = abs(v)
    if a != 0 and (a < 1e-3 or a >= 1e6):
        return f"{v:.4e}"
    return f"{v:.4f}"


def _best(vals: list[float], key: str) -> set[int]:
    """Indices of the best value(s) of metric ``key`` (by :func:`mutualfuse.metrics.goodness`); NaN
    takes no mark, an infinite value ranks by the direction (PSNR's +inf, a fused image equal to its
    sources, is the best: it was passed over and the best finite value starred)."""
    from ..metrics import goodness

    defined = [(goodness(key, v), i) for i, v in enumerate(vals) if not math.isnan(v)]
    if len(defined) < 2:
        return set()
    target = max(defined)[0]
    return {i for v, i in defined if v == target}


def format_table(methods: list[str], names: list[str], labels: dict[str, str], table: dict) -> str:
    """table[method][image name or MEAN][label] -> value."""
    from ..metrics import METRICS

    marks_of = _direction_marks()
    up, down, zero = marks_of["higher"], marks_of["lower"], marks_of["zero"]
    direction = {lab: METRICS.meta(key)["direction"] for lab, key in labels.items()}
    cols = list(labels)
    head = ["method", "image"] + [f"{c}{marks_of[direction[c]]}" for c in cols]
    rows_out: list[list[str]] = []
    groups = names + [MEAN]
    if len(methods) > 1:
        # best across methods, for every image and for the mean
        for g in groups:
            marks = {c: _best([table[m][g][c] for m in methods], labels[c]) for c in cols}
            for i, m in enumerate(methods):
                rows_out.append([_named(m), _named(_group_label(g))]
                                + [_fmt(table[m][g][c]) + ("*" if i in marks[c] else "") for c in cols])
    else:
        m = methods[0]
        marks = {c: _best([table[m][g][c] for g in names], labels[c]) for c in cols}
        for i, g in enumerate(groups):
            rows_out.append([_named(m), _named(_group_label(g))]
                            + [_fmt(table[m][g][c]) + ("*" if i in marks[c] else "") for c in cols])
    widths = [max(_cols(r[k]) for r in [head] + rows_out) for k in range(len(head))]

    def pad(x: str, w: int, left: bool) -> str:  # by terminal columns: a CJK name takes two a character
        fill = " " * (w - _cols(x))
        return x + fill if left else fill + x

    lines = ["  ".join(pad(h, w, k < 2) for k, (h, w) in enumerate(zip(head, widths)))]
    lines.append("  ".join("-" * w for w in widths))
    for r in rows_out:
        lines.append("  ".join(pad(x, w, k < 2) for k, (x, w) in enumerate(zip(r, widths))))
    note = "* best per metric " + ("across methods" if len(methods) > 1 else "across images")
    legend = f"{note}; {up} higher is better, {down} lower is better"
    if "zero" in direction.values():
        legend += f", {zero} closer to 0 is better"
    lines.append(legend)
    return "\n".join(lines)


#: how the fused images are read, whatever ``--normalize`` (recorded in the JSON output as
#: ``fused_read``, beside ``sources_read``)
FUSED_READING = ("stored scale (8-bit as stored, 16-bit x 255/65535, 16-bit colour through rgb2gray in 16 bits "
                 "first; EXIF/TIFF orientation applied); a float fused image is refused")


def _source_reading(args) -> str:
    """How the sources were read, in words (recorded in the JSON output)."""
    if args.normalize is None:
        return ("stored scale (8-bit as stored, 16-bit x 255/65535); DICOM as `mutualfuse fuse` reads it "
                "(VOI window, else 0.1-99.9 percentiles) on the 0-255 scale")
    pct = args.percentiles or (0.1, 99.9)
    extra = f", percentiles {pct[0]:g}-{pct[1]:g}" if args.normalize != "full" else ""
    return f"as `mutualfuse fuse --normalize {args.normalize}` reads them{extra}, on the 0-255 scale"


def _source_scaling(scaling: list, percentiles) -> dict[str, str]:
    """How each source was put on the 0-255 scale, for the JSON output's ``source_scaling``:
    ``{path: words}`` (:data:`mutualfuse.evaluation.SCALINGS`, with a float file's values and the
    percentiles of a stretched one). ``scaling``: :func:`~mutualfuse.evaluation.verify_reads`'s."""
    from ..evaluation import SCALINGS

    lo, hi = percentiles or (0.1, 99.9)
    out = {}
    for path, key, span in scaling:
        words = SCALINGS[key] + (f" {lo:g}-{hi:g}" if key.endswith("stretched") else "")
        out[str(path)] = words + (f" (values {span[0]:.6g} to {span[1]:.6g})" if span else "")
    return out


def _scaling_note(scaling: list, normalize: str | None, percentiles) -> str | None:
    """``evaluate``'s note on how the sources were put on the 0-255 scale under ``--normalize``
    (counted by kind, with an example each). Under ``auto`` a float source's scale is told from its
    values (in [0, 1]: as is; else stretched by its percentiles, as ``fuse`` reads it), which the
    note says when it happened: a 0-255 float source was stretched without a word before."""
    if normalize is None or not scaling:
        return None
    from ..evaluation import SCALINGS

    lo, hi = percentiles or (0.1, 99.9)
    kinds: dict[str, list] = {}
    for path, key, span in scaling:
        kinds.setdefault(key, []).append((path, span))
    parts = []
    for key, items in kinds.items():
        path, span = items[0]
        words = SCALINGS[key] + (f" {lo:g}-{hi:g}" if key.endswith("stretched") else "")
        words = words.replace(" its own ", " their own ") if len(items) > 1 else words
        values = f", values {span[0]:.6g} to {span[1]:.6g}" if span else ""
        parts.append(f"{len(items)} {words} (e.g. {_shown(str(path))}{values})")
    note = f"note: sources under --normalize {normalize}: " + "; ".join(parts)
    if normalize == "auto" and "float stretched" in kinds:
        note += ("; a float source's range is told from its values, as `mutualfuse fuse` reads it: in [0, 1] "
                 "taken as is, any other range stretched by its percentiles (0-255 float data is not scored at "
                 "its own values: divide it by 255, or save it as 8-bit)")
    return note


def _table_reading_note(scaling: list, args) -> str | None:
    """The ``.md`` / ``.tex`` tables' note on how the sources were read under ``--normalize``
    (their scores depend on it; a table pasted into a paper said nothing of it): the policy and
    how many sources of each kind were stretched or kept. ``None`` without ``--normalize`` (the
    stored scale, as the reference code reads files)."""
    if args.normalize is None:
        return None
    from ..evaluation import SCALINGS

    lo, hi = args.percentiles or (0.1, 99.9)
    counts: dict[str, int] = {}
    for _, key, _ in scaling:
        counts[key] = counts.get(key, 0) + 1
    words = {k: SCALINGS[k] + (f" {lo:g}-{hi:g}" if k.endswith("stretched") else "") for k in counts}
    kinds = ", ".join(f"{n} {words[k].replace(' its own ', ' their own ') if n > 1 else words[k]}"
                      for k, n in counts.items())
    return f"Sources read {_source_reading(args).replace('`', '')}" + (f" ({kinds})" if kinds else "") + "."


def write_results(path: Path, methods, names, labels, table, dirs, skipped: dict | None = None,
                  source_reading: str | None = None, colour: tuple[int, int] | None = None) -> None:
    from ..metrics import METRICS

    from ..io.atomic import atomic_write

    suffix = path.suffix.lower()
    if suffix not in OUT_FORMATS:
        raise ParameterError(f"--out {path}: use a {', '.join(OUT_FORMATS)} file name")
    with atomic_write(path) as tmp:
        _write_results(tmp, suffix, methods, names, labels, table, dirs, skipped or {}, source_reading, colour)


def write_all_results(paths: list[Path], methods, names, labels, table, dirs, skipped: dict | None = None,
                      source_reading: str | None = None, colour: tuple[int, int] | None = None,
                      source_scaling: dict[str, str] | None = None, reading_note: str | None = None) -> None:
    """Write every ``--out`` file, all or none (``-o r.csv -o r.json``: a failure of the second
    left the first written): :func:`mutualfuse.io.atomic.atomic_write_all`. One-line
    :class:`~mutualfuse.errors.InputError` naming the output that failed. ``source_scaling``:
    how each source was put on the 0-255 scale (:func:`_source_scaling`; the JSON's);
    ``reading_note``: the ``.md`` / ``.tex`` tables' note on it (:func:`_table_reading_note`)."""
    from ..io.atomic import atomic_write_all

    for path in paths:
        if path.suffix.lower() not in OUT_FORMATS:
            raise ParameterError(f"--out {path}: use a {', '.join(OUT_FORMATS)} file name")
    # every CSV with its sidecar (csv_sidecar): how it was scored, which a CSV cannot say and still be
    # read by pandas.read_csv's defaults
    sidecars = {csv_sidecar(p): p for p in paths if p.suffix.lower() == ".csv"}

    def write(tmp: Path, shown: Path) -> None:
        if shown in sidecars:
            with open(tmp, "w", encoding="ascii") as fh:
                json.dump(_scoring_record(labels, skipped or {}, source_reading, colour, source_scaling,
                                          csv_name=sidecars[shown].name), fh, indent=2, allow_nan=False)
                fh.write("\n")
            return
        _write_results(tmp, shown.suffix.lower(), methods, names, labels, table, dirs, skipped or {},
                       source_reading, colour, source_scaling, reading_note)

    atomic_write_all(list(paths) + list(sidecars), write)


def csv_sidecar(path: Path) -> Path:
    """The file written beside every ``--out X.csv``: ``X.csv.meta.json``, how the CSV was scored
    (:func:`_scoring_record`: the mutualfuse version, each column's metric, reference and
    convention, the gray conversion, how sources and fused images were read). The CSV itself stays
    a plain table (``pandas.read_csv`` with its defaults reads it; a ``#`` header line would not)."""
    return path.with_name(path.name + ".meta.json")


def _scoring_record(labels, skipped: dict, source_reading: str | None, colour, source_scaling,
                    csv_name: str | None = None) -> dict:
    """How the values were scored, as the JSON output and the CSV's sidecar record it."""
    from .. import __version__

    doc = {"mutualfuse_version": __version__}
    if csv_name is not None:
        doc["csv"] = csv_name
        doc["csv_columns"] = ("method (the --fused folder's label), folder (as given), image (the name without "
                              "its extension; 'mean' rows: the mean over the images, last of each method), then "
                              "one column per metric, labelled as under 'metrics'; values at full precision "
                              "(Python repr), 'nan' for a value undefined or not computed, 'inf' / '-inf' for "
                              "an infinite one")
    doc.update({
        "values": "NaN (a metric undefined for that image, or not computed because the image is "
                  "smaller than it needs: see not_computed) is written as null, +/-infinity "
                  "(e.g. PSNR of identical images) as the strings \"inf\" / \"-inf\"",
        "metrics": {lab: _json_metric(key) for lab, key in labels.items()},
        "image_order": IMAGE_ORDER,
        "gray_conversion": GRAY_CONVERSION,
        "colour_images": {"sources": (colour or (0, 0))[0], "fused": (colour or (0, 0))[1]},
        "sources_read": source_reading or "stored scale",
        "source_scaling": source_scaling or {},
        "fused_read": FUSED_READING,
        "not_computed": {
            lab: {"reason": v["reason"], "images": natural_sorted({n for _, n in v["images"]})}
            for lab, v in skipped.items()
        },
    })
    if csv_name is not None:
        del doc["values"]  # the JSON's own null / "inf" convention; the CSV's is csv_columns
    return doc


def _write_results(tmp: Path, suffix: str, methods, names, labels, table, dirs, skipped: dict,
                   source_reading: str | None = None, colour: tuple[int, int] | None = None,
                   source_scaling: dict[str, str] | None = None, reading_note: str | None = None) -> None:
    """One ``--out`` file. ``colour``: the number of colour (source, fused) images, scored as gray
    through MATLAB's ``rgb2gray`` (the JSON's ``colour_images``, a note of the .md / .tex tables)."""
    from ..metrics import METRICS

    if suffix == ".csv":
        # UTF-8 whatever the locale; a name that is not UTF-8 on disk is written as its own bytes
        # (surrogateescape), so the CSV's image column matches the file name byte for byte
        with open(tmp, "w", newline="", encoding="utf-8", errors="surrogateescape") as fh:
            w = csv.writer(fh)
            w.writerow(["method", "folder", "image"] + list(labels))
            for m in methods:
                for g in names + [MEAN]:
                    w.writerow([m, dirs[m], _group_label(g)] + [repr(table[m][g][c]) for c in labels])
    elif suffix in (".md", ".tex"):
        from ..benchmark.table import to_latex, to_markdown

        t = means_table(methods, names, labels, table, dirs, skipped, colour, reading_note)
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(to_markdown(t) if suffix == ".md" else to_latex(t))
    elif suffix == ".json":
        doc = _scoring_record(labels, skipped, source_reading, colour, source_scaling)
        doc.update({
            "methods": {
                m: {"folder": dirs[m], "images": {g: _json_row(table[m][g]) for g in names},
                    "mean": _json_row(table[m][MEAN])}
                for m in methods
            },
        })
        with open(tmp, "w", encoding="ascii") as fh:  # ensure_ascii: \\uXXXX escapes, whatever the locale
            json.dump(doc, fh, indent=2, allow_nan=False)  # strict JSON: no bare NaN / Infinity
            fh.write("\n")


def _json_metric(key: str) -> dict:
    """One column's metric for the JSON output's ``metrics``
    (:func:`mutualfuse.benchmark.table.metric_record`)."""
    from ..benchmark.table import metric_record

    return metric_record(key)


def means_table(methods, names, labels, table, dirs, skipped: dict | None = None,
                colour: tuple[int, int] | None = None, reading_note: str | None = None):
    """The means of every method as a :class:`mutualfuse.benchmark.table.Table` (what ``--out
    FILE.md`` / ``FILE.tex`` write): one row a method, one column a metric with its direction,
    4 decimals, the best of each column in bold (ties at the printed decimals share it; NaN
    means print "—" and take no mark). The notes name each method's folder and the metrics'
    keys, say which metrics some images were too small for, and (``colour``: the number of colour
    source and fused images) how colour images were turned gray."""
    from ..benchmark.table import MISSING, Column, Row, Table
    from ..metrics import METRICS

    cols = []
    for lab, key in labels.items():
        meta = METRICS.meta(key)
        cols.append(Column(lab, key, None if meta["direction"] == "zero" else bool(meta["higher_is_better"])))
    rows = [Row(id=m, label=_shown(m), values={lab: (None if math.isnan(v) else v) for lab, v in table[m][MEAN].items()},
                n_pairs=len(names), n_ok=len(names)) for m in methods]
    renamed = [f"{lab} = {key}" for lab, key in labels.items() if lab != key]
    notes = [f"Means over {len(names)} image{'s' if len(names) != 1 else ''} (mutualfuse evaluate)"
             + (f"; metrics: {', '.join(renamed)}" if renamed else "") + "."]
    notes += [_shown(f"{m}: folder {dirs[m]}") for m in methods if dirs[m] != m]
    unchecked = _unchecked_note(labels)
    if unchecked:
        notes.append(unchecked[0].upper() + unchecked[1:] + ".")
    if reading_note:  # --normalize: how the sources were put on the 0-255 scale
        notes.append(_shown(reading_note))
    if colour and any(colour):
        notes.append(f"{_colour_words(colour)[0].upper()}{_colour_words(colour)[1:]} scored as gray through "
                     f"{GRAY_CONVERSION}.")
        vifb = _vifb_colour_note(labels, colour)
        if vifb:
            notes.append(vifb + ".")
    for lab, v in (skipped or {}).items():
        notes.append(f"{lab}: not computed for {len({n for _, n in v['images']})} image(s) ({v['reason']}), "
                     f"so its mean is undefined ({MISSING})")
    # a column's undefined mean is explained by the note above when the column was not computed for
    # some image; any other NaN mean (0/0 in the metric) and any infinite mean gets its own note
    undefined = [lab for lab in labels if lab not in (skipped or {})
                 and any(math.isnan(table[m][MEAN][lab]) for m in methods)]
    if undefined:
        notes.append(f"{MISSING}: a mean over values of which some are undefined (NaN, 0/0 in the metric"
                     + (f": {', '.join(undefined)}" if len(undefined) < len(labels) else "")
                     + "; the per-image values are in the CSV or JSON output)")
    infinite = [lab for lab in labels if any(math.isinf(table[m][MEAN][lab]) for m in methods)]
    if infinite:
        # said in words: the cell is "inf" in the Markdown table and $\infty$ in the LaTeX one
        notes.append(f"Infinite mean: a mean over values of which some are infinite (a zero denominator in the "
                     f"metric, e.g. PSNR of a fused image equal to its sources): {', '.join(infinite)}")
    return Table(id="evaluate", title=f"Means over {len(names)} images", columns=cols, rows=rows,
                 marking="bold", notes=notes, marking_source="")


def _json_row(row: dict) -> dict:
    """Metric values for strict JSON: NaN → None (null), ±inf → "inf" / "-inf"."""
    return {k: (None if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else v)
            for k, v in row.items()}


def _skip_notes(skipped: dict, n_images: int) -> list[str]:
    """One note per (reason, images) group of metrics left empty because the images are too
    small for them or the metric is undefined for them (see :func:`mutualfuse.evaluation._compute`)."""
    groups: dict = {}
    for lab, v in skipped.items():
        imgs = tuple(natural_sorted({n for _, n in v["images"]}))
        groups.setdefault((v["reason"], imgs), []).append(lab)
    lines = []
    for (reason, imgs), labs in groups.items():
        mean = "; their mean is NaN" if len(imgs) < n_images else ""
        lines.append(f"note: {', '.join(labs)}: not computed (NaN) for {len(imgs)} of {n_images} image(s) "
                     f"({_shown(_names(imgs, 5))}): {reason}{mean}")
    return lines


def _cells_where(pred, methods, names, labels, table) -> tuple[int, str]:
    """The number of table cells whose value v satisfies ``pred(v, (label, method, image))``, and
    where they are ("LABEL for IMAGES; ..."), for the notes below."""
    per_label: dict[str, set] = {}
    count = 0
    for lab in labels:
        for m in methods:
            for n in names:
                if pred(table[m][n][lab], (lab, m, n)):
                    per_label.setdefault(lab, set()).add(n)
                    count += 1
    return count, "; ".join(f"{lab} for {_shown(_names(imgs, 5))}" for lab, imgs in per_label.items())


def _nan_note(methods, names, labels, table, skipped: dict) -> str | None:
    """One note on the NaN values that are not "not computed" (:func:`_skip_notes`): the metric
    is undefined for the image (0/0), named per metric with its images."""
    left_out = {(lab, m, n) for lab, v in skipped.items() for m, n in v["images"]}
    count, where = _cells_where(lambda v, key: math.isnan(v) and key not in left_out, methods, names, labels, table)
    if not count:
        return None
    return (f"note: {count} value(s) are NaN, undefined for those images (0/0 in the metric, e.g. a flat fused "
            f"image, or for some metrics a flat region of the images): {where}; a mean over them is NaN too")


def _inf_note(methods, names, labels, table) -> str | None:
    """One note on the infinite values (a zero denominator that is the metric's own answer, e.g.
    PSNR of a fused image equal to its sources, Q_SF with flat sources and a fused image that is
    not), named per metric with its images: a mean over them is infinite too, and the table's
    mean row would otherwise carry them without a word."""
    count, where = _cells_where(lambda v, key: math.isinf(v), methods, names, labels, table)
    if not count:
        return None
    return (f"note: {count} value(s) are infinite, a zero denominator in the metric (e.g. PSNR of a fused image "
            f"equal to its sources, Q_SF with flat sources): {where}; a mean over them is infinite too")


def _method_labels(fused: list[Path]) -> list[str]:
    seen: dict[Path, Path] = {}
    for d in fused:  # one folder spelt twice (relative and absolute, through a link) would be scored twice
        try:
            if not d.is_dir():  # missing: the folder checks say what is wrong with it
                continue
            real = d.resolve()
        except OSError:
            continue
        if real in seen and seen[real] != d:
            raise ParameterError(f"--fused {seen[real]} and {d} are the same folder")
        seen.setdefault(real, d)
    labels = [d.name or str(d) for d in fused]
    if len(set(labels)) < len(labels):
        labels = [str(d) for d in fused]
    if len(set(labels)) < len(labels):
        raise ParameterError("the same --fused folder is given twice")
    return labels


def refuse_outputs_over_inputs(outs, listings) -> None:
    """An ``--out`` file that is one of the images read (a symbolic or hard link to a source or a
    fused image, ``-o r.csv`` where ``r.csv -> a/01.png``) is a one-line error naming both,
    before any image is decoded: the results were written through the link over the image."""
    idents: dict[tuple[int, int], Path] = {}
    for out in outs:
        try:
            st = Path(out).stat()  # follows a link: the file a write would replace the contents of
        except OSError:  # not there (yet): no input can be it
            continue
        idents.setdefault((st.st_dev, st.st_ino), Path(out))
    if not idents:
        return
    for listing in listings:
        for q in listing.values():
            try:
                st = q.stat()
            except OSError:
                continue
            out = idents.get((st.st_dev, st.st_ino))
            if out is not None:
                raise InputError(f"{out}: output path is the same file as input {q}")


def run(args: argparse.Namespace) -> int:
    from .common import apply_imports

    apply_imports(args)  # metrics and profiles of one's own (--import): registered before --metrics is read
    if args.list:
        print(list_metrics())
        return 0
    missing = [o for o, v in (("--a", args.a), ("--b", args.b), ("--fused", args.fused)) if not v]
    if missing:
        raise ParameterError(f"evaluate needs {', '.join(missing)} (or --list)")
    if args.jobs < 1:
        raise ParameterError(f"--jobs {args.jobs}: must be at least 1")
    from ..image_io import check_writable

    from .common import refuse_in_the_way

    for out in args.out:  # before any metric is computed: a folder, '-', the suffix, permissions (as every command)
        refuse_in_the_way(out)  # `-o afile/r.csv`: said as every command says it
        check_writable(out, formats=OUT_FORMATS, hint=True)
    sidecars = [str(csv_sidecar(Path(o))) for o in args.out if Path(o).suffix.lower() == ".csv"]
    for out in sidecars:  # the CSV's record of how it was scored: written with it, all or none
        check_writable(out, formats={".json": "JSON"}, hint=False)
    outs = list(args.out) + sidecars
    if len({Path(o).resolve() for o in outs}) < len(outs):
        raise ParameterError(f"--out: the same file is given twice ({', '.join(outs)})")
    if args.percentiles is not None:  # before any image is read
        if args.normalize not in ("auto", "percentile"):
            raise ParameterError("--percentiles needs --normalize auto or percentile")
        lo, hi = args.percentiles
        if not 0 <= lo < hi <= 100:
            raise ParameterError(f"--percentiles {lo:g} {hi:g}: need 0 <= LO < HI <= 100")
    try:
        labels = select_metrics(args.metrics, args.profile)
    except ParameterError as e:
        if str(e).startswith("unknown metric") and not getattr(args, "imports", None):
            own = "profile of your own" if str(e).startswith("unknown metric profile") else "of your own"
            raise ParameterError(f"{e}; a metric {own}: --import its module first") from None
        raise
    a_dir, b_dir = Path(args.a), Path(args.b)
    fused = [Path(d) for d in args.fused]
    methods = _method_labels(fused)
    names, la, lb, lf = pair_folders(a_dir, b_dir, fused)
    refuse_outputs_over_inputs(outs, [la, lb, *lf.values()])
    check_sizes(names, la, lb, lf)
    # every image decoded before any metric (a truncated file is found now, not at its pair after
    # the metrics of every pair before it), and kept for the scoring while the kept images fit in
    # evaluation.READ_CACHE_BYTES (512 MiB): each image is then decoded once; see docs/metrics.md
    reads = DecodedImages()
    narrow = verify_reads(names, la, lb, lf, args.normalize, args.percentiles, jobs=args.jobs, quiet=args.quiet,
                          keep=reads)
    skipped: dict = {}
    table = _compute(names, la, lb, lf, methods, fused, labels, args.jobs, args.quiet, skipped,
                     normalize=args.normalize, percentiles=args.percentiles, reads=reads,
                     imports=tuple(getattr(args, "imports", None) or ()))
    del reads
    n_cells = len(methods) * len(names) * len(labels)
    n_skipped = sum(len(v["images"]) for v in skipped.values())
    if n_skipped == n_cells:  # nothing at all was computed: an error, not a table of NaN
        reasons = "; ".join(sorted({v["reason"] for v in skipped.values()}))
        where = str(la[names[0]]) if len(names) == 1 else f"{la[names[0]].parent} ({len(names)} images)"
        raise InputError(f"{where}: the images are too small for, or undefined in, every metric asked for; "
                         f"nothing computed ({reasons})")
    for m in methods:
        table[m][MEAN] = {lab: float(np.mean([table[m][n][lab] for n in names])) for lab in labels}
    # before the table: `evaluate ... --out r.csv | head` still leaves the whole file; all of them or none
    colour = (sum(1 for _, src in narrow["colour"] if src), sum(1 for _, src in narrow["colour"] if not src))
    write_all_results([Path(o) for o in args.out], methods, names, labels, table,
                      {m: str(d) for m, d in zip(methods, fused)}, skipped, source_reading=_source_reading(args),
                      colour=colour, source_scaling=_source_scaling(narrow["scaling"], args.percentiles),
                      reading_note=_table_reading_note(narrow["scaling"], args))
    print(format_table(methods, names, labels, table))
    if not args.quiet:
        for line in _skip_notes(skipped, len(names)):
            print(line, file=sys.stderr)
        from ..image_io import _is_dicom, _one_line_path  # a name's line break or escape shown escaped, as errors

        n_dicom = sum(_is_dicom(p) for listing in (la, lb) for p in listing.values())
        if n_dicom and args.normalize is None:
            print(f"note: {n_dicom} DICOM source(s) read as `mutualfuse fuse` reads them (the stored VOI window, "
                  "else the 0.1-99.9 percentiles), on the 0-255 scale, not from stored 8/16-bit values",
                  file=sys.stderr)
        if narrow["colour"]:  # which gray conversion the metrics saw (the CSV and the table cannot say)
            print(f"note: {_colour_words(colour)} (e.g. {_one_line_path(narrow['colour'][0][0])}) scored as gray "
                  f"through {GRAY_CONVERSION}, as the conformance reference values were computed", file=sys.stderr)
            vifb = _vifb_colour_note(labels, colour)
            if vifb:
                print(f"note: {vifb}", file=sys.stderr)
        if args.normalize is not None:
            print(f"note: sources read as `mutualfuse fuse --normalize {args.normalize}` reads them "
                  "(16-bit, float and DICOM files on the 0-255 scale); fused images as stored", file=sys.stderr)
            scaling_note = _scaling_note(narrow["scaling"], args.normalize, args.percentiles)
            if scaling_note:
                print(_for_stream(scaling_note, sys.stderr), file=sys.stderr)
        if narrow["sources"]:
            print(f"note: {len(narrow['sources'])} 16-bit source(s) span less than a quarter of their range (e.g. "
                  f"{_one_line_path(narrow['sources'][0][0])}) and are scored at their stored scale (x 255/65535), "
                  "while `mutualfuse fuse` stretches such images by percentiles (its default, auto): --normalize "
                  "auto scores the sources as fuse read them then (weights of one's own trained with another "
                  "data.normalize are fused with that policy: give it here, e.g. --normalize full; `mutualfuse "
                  "methods --card W` names it)",
                  file=sys.stderr)
        if narrow["fused"]:
            p, lo, hi = narrow["fused"][0]
            eight = (" (an image of 8-bit values saved in a 16-bit or wider integer file reads so, and scores as a "
                     "nearly black image: save it as 8-bit)" if hi <= 255 else "")
            print(f"note: {len(narrow['fused'])} 16-bit fused image(s) span less than a quarter of their range (e.g. "
                  f"{_one_line_path(p)}: values {lo}-{hi} of 0-65535) and are scored as stored (x 255/65535){eight}",
                  file=sys.stderr)
        unchecked = _unchecked_note(labels)
        if unchecked:
            print(f"note: {unchecked}", file=sys.stderr)
        nan_note = _nan_note(methods, names, labels, table, skipped)
        if nan_note:
            print(nan_note, file=sys.stderr)
        inf_note = _inf_note(methods, names, labels, table)
        if inf_note:
            print(inf_note, file=sys.stderr)
        if "mean" in names:
            print("note: an image is named 'mean': its rows come before each method's mean row, which is the "
                  "last row of the method", file=sys.stderr)
        for out, csv_out in zip(sidecars, (o for o in args.out if Path(o).suffix.lower() == ".csv")):
            print(f"wrote {_one_line_path(out)} (how {_one_line_path(Path(csv_out).name)} was scored)", file=sys.stderr)
        for out in args.out:  # the files asked for last, in their order
            print(f"wrote {_one_line_path(out)}", file=sys.stderr)
    return 0
