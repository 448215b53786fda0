"""``mutualfuse evaluate`` on degenerate images: NaN / inf values, strict JSON, no NumPy warnings."""
from __future__ import annotations

import json

import numpy as np
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
