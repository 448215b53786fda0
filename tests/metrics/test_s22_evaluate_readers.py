"""Audit s22 of ``mutualfuse evaluate`` and the metric functions' readers: PIL 16-bit, float and
int32 modes against the arrays and files they stand for, a dark source under ``--normalize full``,
and the notes of the ``.md`` / ``.tex`` means tables on undefined and infinite means."""
from __future__ import annotations

import csv

import numpy as np
import pytest
import tifffile
from PIL import Image

import mutualfuse.metrics as M
from mutualfuse import evaluation as EV
from mutualfuse.cli import main
from mutualfuse.errors import InputError, ParameterError

RNG = np.random.default_rng(22)
Y, X = np.mgrid[0:48, 0:56]
SCENE = np.clip(127.5 + 90 * np.sin(X / 7.0) * np.cos(Y / 5.0) + RNG.normal(0, 10, X.shape), 0, 255)
VIS = np.clip(255 - SCENE + RNG.normal(0, 12, X.shape), 0, 255).astype(np.uint8)
T16 = (7000 + 40 * SCENE).astype(np.uint16)  # a thermal frame's counts
FUSED = ((SCENE + VIS) / 2).astype(np.uint8)
KEYS = ("Qabf@vifb", "SSIM@vifb", "EN@vifb")


def _files(tmp_path):
    """The same 16-bit frame as a PNG (PIL mode I;16), a big-endian TIFF (I;16B) and a
    little-endian TIFF (I;16)."""
    png, be, le = tmp_path / "t.png", tmp_path / "be.tif", tmp_path / "le.tif"
    Image.fromarray(T16).save(png)
    tifffile.imwrite(be, T16.astype(">u2"), byteorder=">")
    tifffile.imwrite(le, T16)
    return {"I;16": png, "I;16B": be, "le": le}


@pytest.mark.parametrize("which", ["I;16", "I;16B", "le"])
def test_a_16_bit_file_opened_with_pil_scores_as_evaluate_reads_it(tmp_path, which):
    path = _files(tmp_path)[which]
    with Image.open(path) as im:
        assert im.mode == ("I;16B" if which == "I;16B" else "I;16")
        read = EV.read_gray(path)  # what evaluate scores
        assert read.dtype == np.uint16 and np.array_equal(read, T16)
        for key in KEYS:
            want = EV._score(key, read, VIS, FUSED)
            assert M.METRICS.get(key)(im, VIS, FUSED) == want  # the same arithmetic: bit-identical
            assert M.METRICS.get(key)(T16, VIS, FUSED) == want


def test_pil_float_and_int32_modes_score_as_their_arrays(tmp_path):
    """Mode F (a float TIFF, or fromarray of floats): its 0-255 values as a float array's; mode I
    (fromarray of int32, .convert("I")): 0-255 values as an int32 array's, and a value above 255 a
    one-line refusal naming the argument (evaluate reads an int32 TIFF as 16-bit data: docs)."""
    f32 = FUSED.astype(np.float32) + np.float32(0.25)
    tifffile.imwrite(tmp_path / "f.tif", f32)
    with Image.open(tmp_path / "f.tif") as im:
        assert im.mode == "F"
        for key in KEYS:
            assert M.METRICS.get(key)(VIS, VIS, im) == M.METRICS.get(key)(VIS, VIS, f32)
    im = Image.fromarray(VIS).convert("I")
    assert im.mode == "I"
    for key in KEYS:
        assert M.METRICS.get(key)(im, FUSED, FUSED) == M.METRICS.get(key)(VIS.astype(np.int32), FUSED, FUSED)
    with pytest.raises(InputError, match=r"^Qabf@vifb: a: int32 image with values in \[7\d+, \d+\]"):
        M.METRICS.get("Qabf@vifb")(Image.fromarray(T16).convert("I"), VIS, FUSED)


def _folders(tmp_path, a, b, f):
    for d in "abf":
        (tmp_path / d).mkdir()
    for d, arr in zip("abf", (a, b, f)):
        Image.fromarray(arr).save(tmp_path / d / "01.png")


def _csv_row(path):
    return next(r for r in csv.DictReader(path.open()) if r["image"] == "01")


def test_a_dark_source_under_normalize_full_is_scored(tmp_path, capsys):
    """A 16-bit source using counts 0-200 of 65535 reads under --normalize full as floats below 1
    on the 0-255 scale: a dark image. The metrics' input-range guard took it for a 0-1 image and
    stopped the run ('f/01.png: Qabf@vifb: Qabf@vifb: a: float image with values in [0, 0.78]:
    ... multiply by 255', exit status 2, naming the fused file); evaluate's own reads are on the
    0-255 scale by construction, and now score."""
    dark = (SCENE * 200 / 255).astype(np.uint16)
    _folders(tmp_path, dark, VIS, FUSED)
    out = tmp_path / "r.csv"
    rc = main(["evaluate", "-q", "--a", str(tmp_path / "a"), "--b", str(tmp_path / "b"), "--fused",
               str(tmp_path / "f"), "--metrics", "Qabf@vifb", "SSIM@vifb", "--normalize", "full", "-o", str(out)])
    assert rc == 0, capsys.readouterr().err
    a = EV.read_gray(tmp_path / "a" / "01.png", "full", source=True)
    assert a.dtype == np.float64 and 0 < a.max() < 1  # the case: a dark image on the 0-255 scale
    row = _csv_row(out)
    # the plain functions, which have no range guard
    assert float(row["Qabf@vifb"]) == M.qabf(a, VIS, FUSED)
    assert float(row["SSIM@vifb"]) == M.ssim(a, VIS, FUSED, convention="vifb")
    assert float(row["Qabf@vifb"]) == M.METRICS.get("Qabf@vifb").unchecked(a, VIS, FUSED)  # docs/metrics.md
    # the registered metric still refuses such floats from Python, where their scale is not known
    with pytest.raises(InputError, match="0-255 scale"):
        M.METRICS.get("Qabf@vifb")(a, VIS, FUSED)


def _means_notes(tmp_path, capsys, *metrics):
    out = tmp_path / "r.md"
    rc = main(["evaluate", "-q", "--a", str(tmp_path / "a"), "--b", str(tmp_path / "b"), "--fused",
               str(tmp_path / "f"), "--metrics", *metrics, "-o", str(out), "-o", str(tmp_path / "r.tex")])
    assert rc == 0, capsys.readouterr().err
    return out.read_text(), (tmp_path / "r.tex").read_text()


def test_the_means_table_notes_an_undefined_mean_beside_a_metric_not_computed(tmp_path, capsys):
    """SCD is NaN (0/0) with a constant source; VIF is not computed for a 48x56 image (it needs
    65 pixels a side). The .md/.tex notes said why VIF's mean is "—" but nothing on SCD's "—" (the
    note on undefined means was left out whenever any metric was not computed)."""
    _folders(tmp_path, np.full_like(VIS, 90), VIS, FUSED)
    md, tex = _means_notes(tmp_path, capsys, "SCD@rfn-nest", "VIF@nestfuse", "EN@vifb")
    assert "| — | — |" in md
    assert "VIF@nestfuse: not computed for 1 image(s)" in md
    assert "—: a mean over values of which some are undefined (NaN, 0/0 in the metric: SCD@rfn-nest;" in md
    assert "--: a mean over values of which some are undefined (NaN, 0/0 in the metric: SCD@rfn-nest;" in tex


def test_the_means_table_notes_an_infinite_mean(tmp_path, capsys):
    """PSNR@vifb of a fused image equal to its sources is +inf, and so is its mean, printed 'inf' in
    the .md/.tex table without a word (stderr and the JSON said it); now a note names the column."""
    _folders(tmp_path, VIS, VIS, VIS)
    md, tex = _means_notes(tmp_path, capsys, "PSNR@vifb", "EN@vifb")
    assert "| f | inf | " in md and r"f & $\infty$ & " in tex  # LaTeX: $\infty$ since s30
    for text in (md, tex):
        assert "Infinite mean: a mean over values of which some are infinite" in text and ": PSNR@vifb" in text


def test_a_profile_name_given_to_metrics_says_so(capsys):
    """`--metrics paper` was 'unknown metric 'paper' (available: <46 keys>)'; it names --profile now."""
    from one_line_error import assert_one_line_error

    assert_one_line_error(capsys, ["evaluate", "--a", "a", "--b", "b", "--fused", "f", "--metrics", "Qabf", "Paper"],
                          "--metrics Paper: 'paper' is a metric profile, not a metric: use --profile paper")
    with pytest.raises(ParameterError, match=r"^'paper' is a metric profile, not a metric: pass profile='paper'"):
        M.evaluate_pair(VIS, VIS, FUSED, metrics="paper")
