"""Figures like the paper's Figs. 3–8: grids of source and fused images with zoom boxes.

A figure is described in a small YAML file (``configs/benchmark/figures.yaml``)::

    figures:
      - id: fig3                      # file name: fig3.png / fig3.pdf
        title: Infrared and visible, TNO pair 02
        set: ir-vis/tno
        pair: "02"
        rows: all                     # or a list of row ids (method:dwt, weights:default, ...)
        boxes:                        # fractions of width and height: [x0, y0, x1, y1]
          - {box: [0.40, 0.35, 0.60, 0.65], color: red}
          - {box: [0.05, 0.05, 0.30, 0.30], color: blue}
      - id: fig4
        kind: sources                 # the source pairs themselves (like Figs. 4, 7, 9)
        set: ir-vis/tno
        pairs: ["01", "02", "03", "04"]

In every panel each box is outlined in its colour and enlarged (×2–3) into a corner (first box
bottom-left, second bottom-right). Fig. files are written as PNG (120 dpi) and PDF by a
matplotlib Figure of their own (Agg and PDF canvases; the session's backend is left as it is),
the PDF without a creation date.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError

COLOURS = {"red": (230, 25, 25), "blue": (30, 90, 255), "green": (20, 170, 40), "yellow": (240, 200, 0),
           "orange": (255, 140, 0), "magenta": (220, 0, 220), "cyan": (0, 200, 220)}


@dataclass
class Box:
    box: tuple[float, float, float, float]
    color: str = "red"


@dataclass
class FigureSpec:
    id: str
    set: str
    kind: str = "fused"
    title: str = ""
    pair: str | None = None
    pairs: list[str] = field(default_factory=list)
    rows: Any = "all"
    boxes: list[Box] = field(default_factory=list)


def load_figures(path: Path) -> list[FigureSpec]:
    import yaml

    try:
        doc = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as e:
        raise InputError(f"{path}: cannot read the figures config ({type(e).__name__})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("figures"), list):
        raise InputError(f"{path}: expected a mapping with a 'figures' list")
    out = []
    for i, f in enumerate(doc["figures"]):
        where = f"{path}: figure {i + 1}"
        try:
            out.append(_figure(f, where))
        except InputError:
            raise
        except (TypeError, ValueError, AttributeError) as e:  # a value of the wrong kind (a string box …)
            raise InputError(f"{where}: {type(e).__name__}: {' '.join(str(e).split())[:150]}") from None
    return out


#: a figure id is a file name of figures/ (``fig3``): no folder, no hidden file
_FIGURE_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


def _figure(f: Any, where: str) -> FigureSpec:
    if not isinstance(f, dict) or "id" not in f or "set" not in f:
        raise InputError(f"{where}: needs 'id' and 'set'")
    fid = str(f["id"])
    if not _FIGURE_ID.fullmatch(fid):
        raise InputError(f"{where}: id {fid!r} must be a plain file name (letters, digits, '_', '-', '.'), "
                         "written as figures/<id>.png and .pdf")
    kind = f.get("kind", "fused")
    if kind not in ("fused", "sources"):
        raise InputError(f"{where}: kind must be 'fused' or 'sources'")
    raw_boxes = f.get("boxes") or []
    if not isinstance(raw_boxes, list):
        raise InputError(f"{where}: boxes must be a list of {{box: [x0, y0, x1, y1], color: …}}")
    boxes = []
    for b in raw_boxes:
        box = b.get("box") if isinstance(b, dict) else None
        bb = tuple(float(x) for x in box) if isinstance(box, (list, tuple)) else ()
        if len(bb) != 4 or not (0 <= bb[0] < bb[2] <= 1 and 0 <= bb[1] < bb[3] <= 1):
            shown = box if isinstance(b, dict) else b
            raise InputError(f"{where}: box {shown} must be [x0, y0, x1, y1] fractions with x0<x1, y0<y1")
        col = b.get("color", "red")
        if col not in COLOURS:
            raise InputError(f"{where}: colour {col!r} not one of {', '.join(COLOURS)}")
        boxes.append(Box(bb, col))
    if len(boxes) > 2:
        raise InputError(f"{where}: at most two zoom boxes")
    if kind == "fused" and not f.get("pair"):
        raise InputError(f"{where}: a fused figure needs 'pair'")
    pairs = f.get("pairs") or []
    if not isinstance(pairs, list):
        raise InputError(f"{where}: pairs must be a list of pair names")
    rows = f.get("rows", "all")
    if rows != "all" and not isinstance(rows, list):
        raise InputError(f"{where}: rows must be 'all' or a list of row ids")
    return FigureSpec(fid, str(f["set"]), kind, str(f.get("title", "")),
                      str(f["pair"]) if f.get("pair") is not None else None,
                      [str(p) for p in pairs], rows, boxes)


def _rgb(img: np.ndarray) -> np.ndarray:
    return np.repeat(img[..., None], 3, axis=2) if img.ndim == 2 else img[..., :3]


def zoom_panel(img: np.ndarray, boxes: list[Box]) -> np.ndarray:
    """The image (as RGB uint8) with each box outlined and enlarged into a bottom corner."""
    from PIL import Image, ImageDraw

    base = Image.fromarray(_rgb(img).astype(np.uint8))
    W, H = base.size
    lw = max(1, round(min(W, H) / 150))
    draw = ImageDraw.Draw(base)
    crops = []
    for bx in boxes:
        x0, y0, x1, y1 = (round(bx.box[0] * W), round(bx.box[1] * H), round(bx.box[2] * W), round(bx.box[3] * H))
        x1, y1 = max(x1, x0 + 2), max(y1, y0 + 2)
        crops.append((base.crop((x0, y0, x1, y1)), COLOURS[bx.color]))
        draw.rectangle((x0, y0, x1 - 1, y1 - 1), outline=COLOURS[bx.color], width=lw)
    for k, (crop, col) in enumerate(crops):
        cw, ch = crop.size
        scale = min(0.42 * W / cw, 0.42 * H / ch)
        big = crop.resize((max(1, round(cw * scale)), max(1, round(ch * scale))), Image.Resampling.NEAREST)
        bw, bh = big.size
        x = 0 if k == 0 else W - bw
        y = H - bh
        base.paste(big, (x, y))
        draw.rectangle((x, y, x + bw - 1, y + bh - 1), outline=col, width=lw + 1)
    return np.asarray(base)


def render_grid(panels: list[tuple[str, np.ndarray]], title: str, out_stem: Path, ncols: int | None = None) -> list[Path]:
    """Save a grid of titled panels as ``<stem>.png`` and ``<stem>.pdf``; returns the paths."""
    # a Figure of its own, not pyplot's: matplotlib.use("Agg", force=True) switched the backend of
    # the caller's session (a notebook calling run_benchmark lost its inline plots); savefig
    # renders PNG and PDF with the Agg / PDF canvases whatever the session's backend
    from matplotlib.figure import Figure

    n = len(panels)
    ncols = ncols or min(n, 5)
    nrows = -(-n // ncols)
    h, w = panels[0][1].shape[:2]
    pw = 2.6
    fig = Figure(figsize=(pw * ncols, pw * nrows * h / w + 0.35 * nrows + 0.4))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, (name, img) in zip(axes.ravel(), panels):
        ax.imshow(img, cmap="gray" if img.ndim == 2 else None, vmin=0, vmax=255, interpolation="nearest")
        ax.set_title(name, fontsize=9)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    out_stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for ext in ("png", "pdf"):
        p = out_stem.with_name(f"{out_stem.name}.{ext}")  # with_suffix took 'fig3' of an id 'fig3.v2'
        tmp = p.with_name(f".{p.name}.tmp")
        # no creation time in the PDF: the same run gives the same file
        fig.savefig(tmp, dpi=120, format=ext, metadata={"CreationDate": None} if ext == "pdf" else None)
        tmp.replace(p)
        paths.append(p)
    return paths
