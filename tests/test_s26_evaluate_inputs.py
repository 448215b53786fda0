"""Audit s26 of ``mutualfuse evaluate`` on inputs other than 8-bit gray PNGs: what a user scoring
another tool's fused images meets (a source turned by its EXIF orientation, ...)."""
from __future__ import annotations

import numpy as np
from PIL import Image

from one_line_error import assert_one_line_error

RNG = np.random.default_rng(26)
Y, X = np.mgrid[0:40, 0:56]
SCENE = np.clip(127.5 + 90 * np.sin(X / 7.0) * np.cos(Y / 5.0) + RNG.normal(0, 10, X.shape), 0, 255).astype(np.uint8)
VIS = np.clip(255 - SCENE.astype(int) + RNG.integers(-12, 13, X.shape), 0, 255).astype(np.uint8)


def _folders(tmp_path, a, b, f, a_name="01.png", exif=None):
    for d in ("a", "b", "f"):
        (tmp_path / d).mkdir()
    Image.fromarray(a).save(tmp_path / "a" / a_name, **({"exif": exif} if exif is not None else {}))
    Image.fromarray(b).save(tmp_path / "b" / "01.png")
    Image.fromarray(f).save(tmp_path / "f" / "01.png")
    return [str(tmp_path / d) for d in ("a", "b", "f")]


def test_size_mismatch_of_a_source_turned_by_exif_names_its_stored_size(tmp_path, capsys):
    """A phone photo stored 40 wide and 56 high with EXIF orientation 6 is read (as ``fuse`` reads
    it) 56x40; a fused image made by a tool that ignores the tag is 40x56. The error said
    "f/01.png is 40x56, a/01.jpg is 56x40" while the file a/01.jpg is 40x56 on disk: it names the
    stored size and the tag now."""
    exif = Image.Exif()
    exif[0x0112] = 6
    stored = np.ascontiguousarray(np.rot90(SCENE, 1))  # 56 high, 40 wide: displayed 56 wide, 40 high
    a, b, f = _folders(tmp_path, stored, VIS, stored, a_name="01.jpg", exif=exif)
    assert_one_line_error(capsys, ["evaluate", "--a", a, "--b", b, "--fused", f, "--metrics", "SF@vifb", "-q"],
                          "image sizes differ", "01.png is 40x56", "01.jpg is 56x40 (stored 40x56, turned by its "
                          "EXIF orientation 6)")


# MATLAB rgb2gray's weights (docs/metrics.md), written out here rather than taken from the package
W = (0.298936021293775, 0.587043074451121, 0.114020904255103)


def _matlab_gray(rgb: np.ndarray) -> np.ndarray:
    d = rgb[..., 0] * W[0] + rgb[..., 1].astype(np.float64) * W[1] + rgb[..., 2].astype(np.float64) * W[2]
    return np.floor(d + 0.5).astype(rgb.dtype)  # non-negative: half away from zero


def _colour(gray: np.ndarray, shifts, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.stack([np.clip(gray.astype(int) + s + rng.integers(-9, 10, gray.shape), 0, 255) for s in shifts],
                    -1).astype(np.uint8)


def _run_json(capsys, a, b, fused, out, *extra):
    import json

    from mutualfuse.cli import main

    argv = ["evaluate", "--a", a, "--b", b] + [x for f in fused for x in ("--fused", f)]
    rc = main(argv + ["--metrics", "Qabf@vifb", "SSIM@vifb", "EN@vifb", "SF@vifb", "-o", str(out), *extra])
    _, err = capsys.readouterr()
    assert rc == 0, err
    return json.loads(out.read_text()), err


def test_colour_images_are_scored_as_their_matlab_gray_and_the_output_says_so(tmp_path, capsys):
    """Colour sources, a colour fused image, an RGBA one and a colour palette one score exactly as
    the same images turned gray by hand with MATLAB's rgb2gray (the documented conventions); the
    stderr note, the JSON's ``colour_images`` and the .md table's notes say how colour was turned
    gray (before, only the JSON's ``gray_conversion`` did, for gray images as well)."""
    ac, bc = _colour(SCENE, (0, 14, -20), 1), _colour(VIS, (-11, 0, 23), 2)
    fc = _colour(((SCENE.astype(int) + VIS) // 2).astype(np.uint8), (30, -25, 4), 3)
    rgba = np.dstack([fc, RNG.integers(0, 256, SCENE.shape, dtype=np.uint8)])
    for d in ("a", "b", "rgb", "rgba", "pal", "ga", "gb", "grgb", "grgba", "gpal"):
        (tmp_path / d).mkdir()
    Image.fromarray(ac).save(tmp_path / "a" / "01.png")
    Image.fromarray(bc).save(tmp_path / "b" / "01.png")
    Image.fromarray(fc).save(tmp_path / "rgb" / "01.png")
    Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba" / "01.png")
    pal = Image.fromarray(fc).quantize(48)
    pal.save(tmp_path / "pal" / "01.png")
    # the same images turned gray by hand
    Image.fromarray(_matlab_gray(ac)).save(tmp_path / "ga" / "01.png")
    Image.fromarray(_matlab_gray(bc)).save(tmp_path / "gb" / "01.png")
    Image.fromarray(_matlab_gray(fc)).save(tmp_path / "grgb" / "01.png")
    Image.fromarray(_matlab_gray(fc)).save(tmp_path / "grgba" / "01.png")  # alpha dropped, as MATLAB's imread
    Image.fromarray(_matlab_gray(np.asarray(pal.convert("RGB")))).save(tmp_path / "gpal" / "01.png")
    t = str(tmp_path)
    got, err = _run_json(capsys, f"{t}/a", f"{t}/b", [f"{t}/rgb", f"{t}/rgba", f"{t}/pal"], tmp_path / "c.json",
                         "-o", str(tmp_path / "c.md"))
    want, err_gray = _run_json(capsys, f"{t}/ga", f"{t}/gb", [f"{t}/grgb", f"{t}/grgba", f"{t}/gpal"],
                               tmp_path / "g.json")
    for m, g in (("rgb", "grgb"), ("rgba", "grgba"), ("pal", "gpal")):
        assert got["methods"][m]["images"] == want["methods"][g]["images"]  # bit-identical
    said = "scored as gray through MATLAB rgb2gray (0.298936021293775 R + 0.587043074451121 G + 0.114020904255103 B)"
    assert f"note: 2 colour sources and 3 colour fused images (e.g. {t}/a/01.png) {said}" in err
    assert "note: " not in err_gray.replace(str(tmp_path), "")  # gray images: no note at all
    assert got["colour_images"] == {"sources": 2, "fused": 3} and want["colour_images"] == {"sources": 0, "fused": 0}
    assert got["fused_read"].startswith("stored scale (8-bit as stored, 16-bit x 255/65535")  # beside sources_read
    assert f"2 colour sources and 3 colour fused images {said}" in (tmp_path / "c.md").read_text()
    # VIFB's own code averages per-channel values on a colour fused image: the @vifb columns say they do not
    vifb = "Qabf@vifb, SSIM@vifb, EN@vifb, SF@vifb: VIFB's own code scores a colour fused image channel by channel"
    assert f"note: {vifb}" in err and vifb in (tmp_path / "c.md").read_text()


def test_no_vifb_colour_note_without_a_colour_fused_image_or_a_vifb_column(tmp_path, capsys):
    """Colour sources with a gray fused image (VIFB's code turns the sources gray itself then), or
    a colour fused image scored only with rfn-nest's metrics: the colour note alone."""
    for d in ("a", "b", "f", "fc"):
        (tmp_path / d).mkdir()
    Image.fromarray(_colour(SCENE, (0, 9, -9), 4)).save(tmp_path / "a" / "01.png")
    Image.fromarray(VIS).save(tmp_path / "b" / "01.png")
    Image.fromarray(((SCENE.astype(int) + VIS) // 2).astype(np.uint8)).save(tmp_path / "f" / "01.png")
    Image.fromarray(_colour(VIS, (5, 0, -5), 5)).save(tmp_path / "fc" / "01.png")
    t = str(tmp_path)
    _, err = _run_json(capsys, f"{t}/a", f"{t}/b", [f"{t}/f"], tmp_path / "r.json")
    assert "note: 1 colour source (e.g." in err and "VIFB's own code" not in err
    from mutualfuse.cli import main

    assert main(["evaluate", "--a", f"{t}/a", "--b", f"{t}/b", "--fused", f"{t}/fc", "--metrics", "SD@rfn-nest"]) == 0
    err = capsys.readouterr().err
    assert "note: 1 colour source and 1 colour fused image (e.g." in err and "VIFB's own code" not in err


def test_a_line_break_or_escape_in_a_name_does_not_break_the_tables(tmp_path, capsys):
    """A fused folder named ``new<LF>line`` and an image ``x<LF>y.png`` (or one with an ESC): the
    terminal table's row was split over two lines (and an escape sequence reached the terminal), the
    .md table's row was cut in two. They show as ``new\\nline`` now; the CSV keeps the names exactly
    (quoted), as the JSON does."""
    import csv

    from mutualfuse.cli import main

    fused = "new\nline"
    for d in ("a", "b", fused):
        (tmp_path / d).mkdir()
        for n in ("x\ny", "e\x1b[2Jc", "p,q"):
            Image.fromarray(SCENE if d == "a" else VIS).save(tmp_path / d / f"{n}.png")
    t = str(tmp_path)
    rc = main(["evaluate", "--a", f"{t}/a", "--b", f"{t}/b", "--fused", f"{t}/{fused}", "--metrics", "SF@vifb",
               "-o", f"{t}/r.md", "-o", f"{t}/r.csv", "-q"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    lines = out.splitlines()
    assert len(lines) == 2 + 4 + 1  # heading, rule, three images and the mean, legend: one line each
    assert all(ln.startswith("new\\nline  ") for ln in lines[2:6]) and "\x1b" not in out
    assert {ln.split()[1] for ln in lines[2:6]} == {"x\\ny", "e\\x1b[2Jc", "p,q", "mean"}
    md = (tmp_path / "r.md").read_text()
    assert "\x1b" not in md and [ln for ln in md.splitlines() if ln.startswith("| new")] == [
        next(ln for ln in md.splitlines() if "nline |" in ln)]  # the method's row: one line
    with open(tmp_path / "r.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert [r[0] for r in rows[1:]] == [fused] * 4
    assert sorted(r[2] for r in rows[1:]) == sorted(["x\ny", "e\x1b[2Jc", "p,q", "mean"])


def test_16_bit_and_mixed_depth_files_score_as_the_documented_conversion_by_hand(tmp_path, capsys):
    """A 16-bit colour PNG fused image and a 16-bit gray TIFF source against an 8-bit source: each
    metric's value is the metric on the images converted by hand as docs/metrics.md says (16-bit
    colour: rgb2gray rounded in uint16; then x 255/65535 onto the 0-255 scale)."""
    import tifffile
    from png_files import png16_colour
    from tolerance import assert_close

    import mutualfuse.metrics as M

    rng = np.random.default_rng(7)
    a16 = (SCENE.astype(np.uint32) * 257 + rng.integers(0, 257, SCENE.shape)).astype(np.uint16)
    base = a16.astype(np.int64) // 2 + VIS.astype(np.int64) * 128
    f16 = np.stack([np.clip(base + s + rng.integers(-900, 900, SCENE.shape), 0, 65535) for s in (2500, -1500, 400)],
                   -1).astype(np.uint16)
    for d in ("a", "b", "f"):
        (tmp_path / d).mkdir()
    tifffile.imwrite(tmp_path / "a" / "01.tif", a16)
    Image.fromarray(VIS).save(tmp_path / "b" / "01.png")
    png16_colour(tmp_path / "f" / "01.png", f16)
    keys = ["Qabf@vifb", "SSIM@nestfuse", "EN@vifb", "MI@vifb", "SD@rfn-nest", "Nabf@rfn-nest", "Qcb@vifb"]
    from mutualfuse.cli import main

    t = str(tmp_path)
    assert main(["evaluate", "--a", f"{t}/a", "--b", f"{t}/b", "--fused", f"{t}/f", "--metrics", *keys,
                 "-o", f"{t}/r.json", "-q"]) == 0
    import json

    got = json.loads((tmp_path / "r.json").read_text())["methods"]["f"]["images"]["01"]
    ha = a16.astype(np.float64) * (255.0 / 65535.0)
    hf = _matlab_gray(f16).astype(np.float64) * (255.0 / 65535.0)
    for key in keys:
        assert_close(got[key], float(M.METRICS.get(key).unchecked(ha, VIS.astype(np.float64), hf)), dtype=np.float64,
                     msg=key)


def test_a_gray_image_stored_as_rgb_is_not_called_colour(tmp_path, capsys):
    """Many tools write a gray result as a 3-channel PNG with equal channels: rgb2gray gives it back
    unchanged (uint8 and uint16, every value), so it scores as the gray file and draws no colour note
    (nor the one on VIFB's per-channel means, which equal the gray value there)."""
    f = ((SCENE.astype(int) + VIS) // 2).astype(np.uint8)
    for d in ("a", "b", "f3", "f1"):
        (tmp_path / d).mkdir()
    Image.fromarray(SCENE).save(tmp_path / "a" / "01.png")
    Image.fromarray(VIS).save(tmp_path / "b" / "01.png")
    Image.fromarray(np.dstack([f, f, f])).save(tmp_path / "f3" / "01.png")
    Image.fromarray(f).save(tmp_path / "f1" / "01.png")
    t = str(tmp_path)
    got, err = _run_json(capsys, f"{t}/a", f"{t}/b", [f"{t}/f3", f"{t}/f1"], tmp_path / "r.json")
    assert got["methods"]["f3"]["images"] == got["methods"]["f1"]["images"]
    assert got["colour_images"] == {"sources": 0, "fused": 0} and "colour" not in err.replace(t, "")


def test_a_line_break_in_an_image_name_does_not_split_a_note(tmp_path, capsys):
    """The note on NaN values names the images: an image ``x<LF>y`` split it over two lines."""
    from mutualfuse.cli import main

    for d in ("a", "b", "f"):
        (tmp_path / d).mkdir()
    flat = np.full(SCENE.shape, 90, np.uint8)  # Q_CB is 0/0 with a flat fused image
    Image.fromarray(SCENE).save(tmp_path / "a" / "x\ny.png")
    Image.fromarray(VIS).save(tmp_path / "b" / "x\ny.png")
    Image.fromarray(flat).save(tmp_path / "f" / "x\ny.png")
    t = str(tmp_path)
    assert main(["evaluate", "--a", f"{t}/a", "--b", f"{t}/b", "--fused", f"{t}/f", "--metrics", "Qcb@vifb"]) == 0
    err = capsys.readouterr().err
    note = [ln for ln in err.splitlines() if "value(s) are NaN" in ln]
    assert len(note) == 1 and "Qcb@vifb for x\\ny;" in note[0], err


def test_a_metric_left_out_for_images_of_different_sizes_names_each_size(tmp_path, capsys):
    """AG needs 2 pixels per side: a 1x1 and a 3x1 image both leave it out. The note (and the JSON's
    reason) named the first image's size for both ("got 1×1" for the 3x1 image too)."""
    import json

    from mutualfuse.cli import main

    for d in ("a", "b", "f"):
        (tmp_path / d).mkdir()
        Image.fromarray(SCENE[:1, :1]).save(tmp_path / d / "1.png")
        Image.fromarray(SCENE[:1, 3:6]).save(tmp_path / d / "r.png")
    t = str(tmp_path)
    assert main(["evaluate", "--a", f"{t}/a", "--b", f"{t}/b", "--fused", f"{t}/f", "--metrics", "AG@vifb", "SF@vifb",
                 "-o", f"{t}/r.json"]) == 0
    err = capsys.readouterr().err
    note = next(ln for ln in err.splitlines() if ln.startswith("note: AG@vifb: not computed"))
    assert "got 1×1" in note and "got 3×1" in note, note
    reason = json.loads((tmp_path / "r.json").read_text())["not_computed"]["AG@vifb"]["reason"]
    assert "got 1×1" in reason and "got 3×1" in reason
