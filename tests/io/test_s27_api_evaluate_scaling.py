"""``mutualfuse evaluate --normalize``: how each source was put on the 0-255 scale is said
(session 27). Under ``auto`` a float source's range is told from its values: one holding 0-255
values is stretched by its percentiles while one in [0, 1] is taken as is. Before, the user was
told only "sources read as `mutualfuse fuse --normalize auto` reads them", and the JSON output
had no word of which source was stretched."""
from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile
from PIL import Image

from mutualfuse.cli import main


def _folders(tmp_path, a_kind: str, b_kind: str):
    rng = np.random.default_rng(27)
    base = rng.integers(40, 200, (40, 48)).astype(np.uint8)
    other = np.clip(base.astype(int) + rng.integers(-30, 30, base.shape), 0, 255).astype(np.uint8)
    for d in ("a", "b", "f"):
        (tmp_path / d).mkdir()
    Image.fromarray(((base.astype(int) + other) // 2).astype(np.uint8)).save(tmp_path / "f" / "x.png")

    def write(folder, img, kind):
        if kind == "u8":
            Image.fromarray(img).save(tmp_path / folder / "x.png")
        elif kind == "f255":
            tifffile.imwrite(tmp_path / folder / "x.tif", img.astype(np.float32))
        elif kind == "f01":
            tifffile.imwrite(tmp_path / folder / "x.tif", (img / 255.0).astype(np.float32))
        elif kind == "u16":
            tifffile.imwrite(tmp_path / folder / "x.tif", img.astype(np.uint16) * 257)

    write("a", base, a_kind)
    write("b", other, b_kind)
    return base, other


def _evaluate(tmp_path, capsys, *extra):
    out = tmp_path / "r.json"
    rc = main(["evaluate", "--a", str(tmp_path / "a"), "--b", str(tmp_path / "b"), "--fused", str(tmp_path / "f"),
               "--metrics", "Qabf@vifb", "-o", str(out), *extra])
    _, err = capsys.readouterr()
    assert rc == 0, err
    return json.loads(out.read_text()), [ln for ln in err.splitlines() if ln.startswith("note: sources under")]


def test_a_0_255_float_source_stretched_by_its_values_is_said(tmp_path, capsys):
    _folders(tmp_path, "f255", "f01")
    doc, notes = _evaluate(tmp_path, capsys, "--normalize", "auto")
    a, b = str(tmp_path / "a" / "x.tif"), str(tmp_path / "b" / "x.tif")
    assert doc["source_scaling"][a].startswith("float stretched by its own percentiles 0.1-99.9 (values ")
    assert doc["source_scaling"][b].startswith("float in [0, 1] x 255 (values ")
    assert len(notes) == 1, notes
    note = notes[0]
    assert f"1 float stretched by its own percentiles 0.1-99.9 (e.g. {a}, values " in note
    assert f"1 float in [0, 1] x 255 (e.g. {b}, values " in note
    assert "a float source's range is told from its values" in note and "divide it by 255" in note


def test_the_stretch_is_what_the_note_says(tmp_path, capsys):
    # the 0-255 float source scores as its percentile stretch, not as the 8-bit image of its values
    _folders(tmp_path, "f255", "u8")
    stretched, _ = _evaluate(tmp_path, capsys, "--normalize", "auto")
    tifffile.imwrite(tmp_path / "a" / "x.tif", (tifffile.imread(tmp_path / "a" / "x.tif") / 255).astype(np.float32))
    kept, _ = _evaluate(tmp_path, capsys, "--normalize", "auto")
    q = [d["methods"]["f"]["mean"]["Qabf@vifb"] for d in (stretched, kept)]
    assert abs(q[0] - q[1]) > 1e-3, q


@pytest.mark.parametrize("normalize, want", [
    ("percentile", {"a": "16-bit stretched by its own percentiles 1-99",
                    "b": "8-bit stretched by its own percentiles 1-99"}),
    ("auto", {"a": "16-bit stretched by its own percentiles 1-99", "b": "8-bit as stored"}),
    (None, {"a": "16-bit x 255/65535", "b": "8-bit as stored"}),
])
def test_every_source_scaling_is_recorded(tmp_path, capsys, normalize, want):
    _folders(tmp_path, "u16", "u8")
    extra = [] if normalize is None else ["--normalize", normalize, "--percentiles", "1", "99"]
    doc, notes = _evaluate(tmp_path, capsys, *extra)
    names = {"a": str(tmp_path / "a" / "x.tif"), "b": str(tmp_path / "b" / "x.png")}
    assert doc["source_scaling"] == {names[k]: v for k, v in want.items()}
    if normalize is None:  # the stored scale: nothing guessed, no note (the JSON still says it)
        assert notes == []
    else:
        assert len(notes) == 1 and all(f"1 {v} (e.g. {names[k]})" in notes[0] for k, v in want.items()), notes
        assert "told from its values" not in notes[0]


def test_eight_bit_scores_are_unchanged(tmp_path, capsys):
    base, other = _folders(tmp_path, "u8", "u8")
    doc, _ = _evaluate(tmp_path, capsys)
    import mutualfuse.metrics as M

    f = np.asarray(Image.open(tmp_path / "f" / "x.png"))
    assert doc["methods"]["f"]["mean"]["Qabf@vifb"] == M.METRICS.get("Qabf@vifb")(base, other, f)


def test_the_markdown_table_says_how_the_sources_were_read(tmp_path, capsys):
    # before: the .md / .tex table of scores made under --normalize said nothing of it
    _folders(tmp_path, "f255", "f01")
    md = tmp_path / "r.md"
    assert main(["evaluate", "--a", str(tmp_path / "a"), "--b", str(tmp_path / "b"), "--fused", str(tmp_path / "f"),
                 "--metrics", "Qabf@vifb", "-q", "--normalize", "auto", "-o", str(md)]) == 0
    capsys.readouterr()
    assert ("- Sources read as mutualfuse fuse --normalize auto reads them, percentiles 0.1-99.9, on the 0-255 "
            "scale (1 float stretched by its own percentiles 0.1-99.9, 1 float in [0, 1] x 255).") in md.read_text()


def test_the_markdown_table_without_normalize_is_as_before(tmp_path, capsys):
    _folders(tmp_path, "u16", "u8")
    md = tmp_path / "r.md"
    assert main(["evaluate", "--a", str(tmp_path / "a"), "--b", str(tmp_path / "b"), "--fused", str(tmp_path / "f"),
                 "--metrics", "Qabf@vifb", "-q", "-o", str(md)]) == 0
    capsys.readouterr()
    assert "Sources read" not in md.read_text()


def test_help_of_normalize_says_how_a_float_source_is_read(capsys):
    assert main(["evaluate", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "a float source in [0, 1] as is, of any other range stretched by its percentiles" in out
    assert "source_scaling" in out
