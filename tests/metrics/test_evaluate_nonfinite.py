"""``mutualfuse evaluate`` on degenerate images: NaN / inf values, strict JSON, no NumPy warnings."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from mutualfuse.cli import main


def _folders(tmp_path):
    rng = np.random.default_rng(0)
    for d in ("a", "b", "black", "same"):
        (tmp_path / d).mkdir()
    for n in ("01", "02"):
        a = rng.integers(0, 256, (48, 64), dtype=np.uint8)
        b = rng.integers(0, 256, (48, 64), dtype=np.uint8)
        Image.fromarray(a).save(tmp_path / "a" / f"{n}.png")
        Image.fromarray(b).save(tmp_path / "b" / f"{n}.png")
        Image.fromarray(np.zeros_like(a)).save(tmp_path / "black" / f"{n}.png")
    # a pair of identical sources fused into themselves: PSNR is +inf
    Image.fromarray(a).save(tmp_path / "b" / "02.png")
    Image.fromarray(a).save(tmp_path / "same" / "02.png")
    Image.fromarray(a).save(tmp_path / "a" / "02.png")
    Image.fromarray(a).save(tmp_path / "same" / "01.png")
    return tmp_path


def _strict(text):
    def bad(c):
        raise ValueError(f"non-standard JSON constant {c}")
    return json.loads(text, parse_constant=bad)


def test_nan_and_inf_are_strict_json_and_no_warnings_are_printed(tmp_path, capsys):
    d = _folders(tmp_path)
    out = d / "r.json"
    rc = main(["evaluate", "--a", str(d / "a"), "--b", str(d / "b"), "--fused", str(d / "black"),
               "--fused", str(d / "same"), "--metrics", "Qcb@vifb", "PSNR@vifb", "-o", str(out)])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert "Warning" not in captured.err, captured.err
    assert "value(s) are NaN" in captured.err
    doc = _strict(out.read_text())
    black = doc["methods"]["black"]["images"]["01"]
    assert black["Qcb@vifb"] is None  # NaN: undefined on an all-black fused image
    assert doc["methods"]["same"]["images"]["02"]["PSNR@vifb"] == "inf"
    assert isinstance(doc["methods"]["same"]["images"]["01"]["PSNR@vifb"], float)
    # -q: nothing on stderr
    rc = main(["evaluate", "--a", str(d / "a"), "--b", str(d / "b"), "--fused", str(d / "black"),
               "--metrics", "Qcb@vifb", "-q"])
    assert rc == 0 and capsys.readouterr().err == ""


def test_empty_metric_list_is_an_error_and_duplicates_are_shown_once(tmp_path, capsys):
    d = _folders(tmp_path)
    base = ["evaluate", "--a", str(d / "a"), "--b", str(d / "b"), "--fused", str(d / "same")]
    for empty in ("", ","):
        assert main(base + ["--metrics", empty]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "names no metric" in err[0], err
    from mutualfuse.evaluation import select_metrics

    labels = select_metrics(["SF@vifb"], "paper")
    assert list(labels.values()).count("SF@vifb") == 1 and len(set(labels.values())) == len(labels)


def test_size_mismatch_names_both_files_with_their_folders(tmp_path, capsys):
    d = _folders(tmp_path)
    (d / "small").mkdir()
    for n in ("01", "02"):
        Image.fromarray(np.zeros((20, 20), np.uint8)).save(d / "small" / f"{n}.png")
    assert main(["evaluate", "--a", str(d / "a"), "--b", str(d / "b"), "--fused", str(d / "small")]) == 2
    err = capsys.readouterr().err
    assert str(d / "small" / "01.png") in err and str(d / "a" / "01.png") in err, err


def _small_set(tmp_path, sides):
    """Folders a, b, f with one random pair (and its mean as fused image) per (h, w) in ``sides``."""
    rng = np.random.default_rng(1)
    for d in ("a", "b", "f"):
        (tmp_path / d).mkdir()
    for i, (h, w) in enumerate(sides):
        a = rng.integers(0, 256, (h, w), dtype=np.uint8)
        b = rng.integers(0, 256, (h, w), dtype=np.uint8)
        f = ((a.astype(np.int32) + b) // 2).astype(np.uint8)
        for d, x in (("a", a), ("b", b), ("f", f)):
            Image.fromarray(x).save(tmp_path / d / f"{i:02d}.png")
    return ["evaluate", "--a", str(tmp_path / "a"), "--b", str(tmp_path / "b"), "--fused", str(tmp_path / "f")]


def test_metric_too_big_for_small_images_is_left_empty_with_a_note(tmp_path, capsys):
    """A metric needing larger images (MS-SSIM Wang: 176 px, VIFF: 81 px) is NaN / null with one note
    per reason; every other metric is still computed (was: the whole evaluation stopped)."""
    base = _small_set(tmp_path, [(100, 120), (200, 180)])
    out = tmp_path / "r.json"
    for jobs in ("1", "2"):
        rc = main(base + ["--metrics", "EN@vifb", "MS_SSIM@wang", "VIFF@han", "-j", jobs, "-o", str(out)])
        err = capsys.readouterr().err
        assert rc == 0, err
        notes = [ln for ln in err.splitlines() if "not computed" in ln]
        assert len(notes) == 1 and "MS_SSIM@wang" in notes[0] and "1 of 2 image(s) (00)" in notes[0], err
        assert "176 pixels per side" in notes[0] and "their mean is NaN" in notes[0]
        assert "value(s) are NaN" not in err  # the skipped cells are not counted again as undefined
        doc = _strict(out.read_text())
        imgs = doc["methods"]["f"]["images"]
        assert imgs["00"]["MS_SSIM@wang"] is None and isinstance(imgs["01"]["MS_SSIM@wang"], float)
        assert all(isinstance(imgs[n][k], float) for n in ("00", "01") for k in ("EN@vifb", "VIFF@han"))
        assert doc["methods"]["f"]["mean"]["MS_SSIM@wang"] is None
        assert doc["not_computed"] == {"MS_SSIM@wang": {"reason": notes[0].split("): ", 1)[1].split(";")[0],
                                                        "images": ["00"]}}
    # -q: no notes, same exit status
    assert main(base + ["--metrics", "MS_SSIM@wang", "EN@vifb", "-q"]) == 0
    assert capsys.readouterr().err == ""


def test_images_too_small_for_every_metric_asked_for_is_an_error(tmp_path, capsys):
    base = _small_set(tmp_path, [(40, 50)])
    out = tmp_path / "r.csv"
    assert main(base + ["--metrics", "VIF@nestfuse", "MS_SSIM@wang", "-q", "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nothing computed" in err[0] and str(tmp_path / "a" / "00.png") in err[0], err
    assert "65 pixels per side" in err[0] and "176 pixels per side" in err[0]
    assert not out.exists()


def test_size_limits_are_exact_and_named(tmp_path):
    """Each registered size limit: one pixel below it is ImageTooSmallError naming the limit,
    at the limit the metric returns a finite number (VIF used to fail below 65 px with NumPy's
    'window shape cannot be larger than input array shape')."""
    from mutualfuse.errors import ImageTooSmallError
    from mutualfuse.metrics import METRICS

    rng = np.random.default_rng(2)
    limits = {"VIF@nestfuse": 65, "VIF@0-255": 65, "VIFF@han": 81, "MS_SSIM@wang": 176, "MS_SSIM@rfn-nest": 44,
              "Qs@liu": 11, "Qc@liu": 11, "Qm@liu": 4, "Qp@liu": 3, "AG@vifb": 2, "Qabf@vifb": 2}
    for key, side in limits.items():
        for h, w in ((side, side + 7), (side + 7, side)):
            a, b = (rng.integers(0, 256, (h, w)).astype(np.uint8) for _ in range(2))
            f = ((a.astype(np.int32) + b) // 2).astype(np.uint8)
            with np.errstate(invalid="ignore", divide="ignore"):  # Q_P's empty mask: 0/0
                v = METRICS.get(key)(a, b, f)
            assert np.isfinite(v) or key == "Qp@liu", (key, h, w)  # Q_P of noise this small: empty mask, NaN
            small = (slice(0, h - 1), slice(None)) if h == side else (slice(None), slice(0, w - 1))
            with pytest.raises(ImageTooSmallError, match=f"at least {side} pixels per side") as ei:
                METRICS.get(key)(a[small], b[small], f[small])
            assert ei.value.min_side == side
