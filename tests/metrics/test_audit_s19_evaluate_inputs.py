"""``mutualfuse evaluate`` on awkward folders and files (audit s19).

- A 16-bit fused image holding 8-bit values (an 8-bit result written into a 16-bit, or wider
  integer, file) is scored as stored, x 255/65535, i.e. as a nearly black image, without a
  word: a note now says so (as one did for 16-bit sources).
- ``--a`` (or any folder) with the images in subfolders only: "no images" now says that
  subfolders are not read.
- Checked and left as they were: mixed and upper-case suffixes pair by name, a 16-bit fused
  image at full scale and a colour fused image score as their 8-bit gray equivalents, a size
  mismatch, an unknown or repeated metric name, --out in a missing folder.
"""
from __future__ import annotations

import csv

import numpy as np
import pytest
from PIL import Image

import mutualfuse.metrics as M
from mutualfuse.cli import main

KEYS = ["SF@vifb", "Qabf@vifb", "SSIM@vifb"]


def _set(root, fused="f", names=("01", "02")):
    rng = np.random.default_rng(5)
    for d in ("a", "b", fused):
        (root / d).mkdir(exist_ok=True)
    y, x = np.mgrid[0:48, 0:64]
    out = {}
    for i, n in enumerate(names):
        a = np.clip(80 + 2 * x + rng.normal(0, 9, x.shape) + i, 0, 255).astype(np.uint8)
        b = np.clip(200 - 3 * y + rng.normal(0, 9, x.shape), 0, 255).astype(np.uint8)
        f = np.maximum(a, b)
        for d, v in (("a", a), ("b", b), (fused, f)):
            Image.fromarray(v).save(root / d / f"{n}.png")
        out[n] = (a, b, f)
    return out


def _argv(root, fused="f", *more):
    return ["evaluate", "--a", str(root / "a"), "--b", str(root / "b"), "--fused", str(root / fused),
            "--metrics", *KEYS, *more]


def _rows(path):
    return {r["image"]: r for r in csv.DictReader(path.open())}


def test_a_16_bit_fused_image_of_8_bit_values_is_noted(tmp_path, capsys):
    arrays = _set(tmp_path)
    for n, (_, _, f) in arrays.items():
        Image.fromarray(f.astype(np.uint16)).save(tmp_path / "f" / f"{n}.png")
    assert main(_argv(tmp_path)) == 0
    err = capsys.readouterr().err
    assert "2 16-bit fused image(s) span less than a quarter of their range" in err, err
    assert "save it as 8-bit" in err and str(tmp_path / "f" / "01.png") in err


def test_full_scale_16_bit_and_colour_fused_images_score_as_8_bit_gray(tmp_path, capsys):
    arrays = _set(tmp_path)
    (tmp_path / "f16").mkdir()
    (tmp_path / "fc").mkdir()
    for n, (_, _, f) in arrays.items():
        Image.fromarray(f.astype(np.uint16) * 257).save(tmp_path / "f16" / f"{n}.png")
        Image.fromarray(np.stack([f] * 3, axis=2)).save(tmp_path / "fc" / f"{n}.PNG")
    got = {}
    for d in ("f", "f16", "fc"):
        assert main(_argv(tmp_path, d, "-q", "-o", str(tmp_path / f"{d}.csv"))) == 0
        got[d] = _rows(tmp_path / f"{d}.csv")
    for n, (a, b, f) in arrays.items():
        for k in KEYS:
            want = M.METRICS.get(k)(a, b, f)
            assert float(got["f"][n][k]) == want
            assert float(got["f16"][n][k]) == pytest.approx(want, rel=1e-12, abs=1e-12)
            assert float(got["fc"][n][k]) == want
    assert "span less than a quarter" not in capsys.readouterr().err


def test_mixed_upper_case_suffixes_pair_by_name(tmp_path, capsys):
    arrays = _set(tmp_path)
    for d, n, suffix in (("a", "01", ".BMP"), ("b", "02", ".TIF"), ("f", "01", ".JPEG")):
        src = tmp_path / d / f"{n}.png"
        x = np.asarray(Image.open(src))
        src.unlink()
        Image.fromarray(x).save(tmp_path / d / f"{n}{suffix}", format={"BMP": "BMP", "TIF": "TIFF"}.get(
            suffix[1:], "JPEG"), **({"quality": 100} if suffix == ".JPEG" else {}))
    assert main(_argv(tmp_path, "f", "-q", "-o", str(tmp_path / "r.csv"))) == 0
    rows = _rows(tmp_path / "r.csv")
    a, b, f = arrays["02"]
    assert float(rows["02"]["SF@vifb"]) == M.METRICS.get("SF@vifb")(a, b, f)  # BMP/TIF lossless
    assert set(rows) == {"01", "02", "mean"}


def test_a_folder_with_images_in_subfolders_only_says_so(tmp_path, capsys):
    _set(tmp_path)
    nested = tmp_path / "nested"
    (nested / "run1").mkdir(parents=True)
    for n in ("01", "02"):
        (tmp_path / "f" / f"{n}.png").rename(nested / "run1" / f"{n}.png")
    assert main(_argv(tmp_path, "nested", "-q")) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "no images" in err and "subfolder" in err and "run1" in err, err


def test_a_size_mismatch_is_a_one_line_error(tmp_path, capsys):
    _set(tmp_path)
    Image.fromarray(np.zeros((48, 63), np.uint8)).save(tmp_path / "f" / "02.png")
    assert main(_argv(tmp_path, "f", "-q")) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "63x48" in err and str(tmp_path / "f" / "02.png") in err, err


@pytest.mark.parametrize("metrics,rc,want", [
    (["SF@vifb", "Nope"], 2, "unknown metric 'Nope'"),
    (["SF@vifb", "sf@VIFB", "SF"], 0, None),  # one column
])
def test_unknown_and_repeated_metric_names(tmp_path, capsys, metrics, rc, want):
    _set(tmp_path)
    argv = ["evaluate", "--a", str(tmp_path / "a"), "--b", str(tmp_path / "b"), "--fused", str(tmp_path / "f"),
            "--metrics", *metrics, "-q", "-o", str(tmp_path / "r.csv")]
    assert main(argv) == rc
    err = capsys.readouterr().err.strip()
    if want:
        assert "\n" not in err and want in err and not (tmp_path / "r.csv").exists()
    else:
        assert next(csv.reader((tmp_path / "r.csv").open()))[3:] == ["SF@vifb"]


def test_out_in_a_missing_folder_fails_before_reading(tmp_path, capsys):
    _set(tmp_path)
    (tmp_path / "f" / "02.png").write_bytes(b"")  # would be an error too, later
    assert main(_argv(tmp_path, "f", "-q", "-o", str(tmp_path / "no" / "r.csv"))) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "output folder" in err and "does not exist" in err, err
