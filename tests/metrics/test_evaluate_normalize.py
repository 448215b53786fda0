"""``mutualfuse evaluate --normalize``: 16-bit (and float) sources scored as ``fuse`` read them,
and a note when 16-bit sources are scored at a stored scale they barely use."""
from __future__ import annotations

import argparse
import json

import numpy as np
import pytest
from PIL import Image

import mutualfuse.metrics as M
from mutualfuse.cli import evaluate as E
from mutualfuse.errors import ParameterError
from mutualfuse.image_io import read_image


def _run(argv):
    p = argparse.ArgumentParser(prog="mutualfuse")
    E.add_parser(p.add_subparsers())
    args = p.parse_args(["evaluate", *argv])
    return args.func(args)


@pytest.fixture()
def thermal(tmp_path):
    """A 16-bit thermal-like source (counts 7000–8020 of 65535), an 8-bit visible one and a fused image."""
    rng = np.random.default_rng(3)
    y, x = np.mgrid[0:96, 0:128]
    scene = 127.5 + 100 * np.sin(x / 9.0) * np.cos(y / 7.0) + rng.normal(0, 8, (96, 128))
    scene = np.clip(scene, 0, 255)
    for d in "abf":
        (tmp_path / d).mkdir()
    Image.fromarray((7000 + 4 * scene).astype(np.uint16)).save(tmp_path / "a" / "01.png")
    vis = np.clip(255 - scene + rng.normal(0, 12, scene.shape), 0, 255).astype(np.uint8)
    Image.fromarray(vis).save(tmp_path / "b" / "01.png")
    Image.fromarray(((scene + vis) / 2).astype(np.uint8)).save(tmp_path / "f" / "01.png")
    return tmp_path


def _json(tmp_path, *extra):
    out = tmp_path / "r.json"
    assert _run(["--a", str(tmp_path / "a"), "--b", str(tmp_path / "b"), "--fused", str(tmp_path / "f"),
                 "--metrics", "SSIM@vifb", "MI@vifb", "-o", str(out), *extra]) == 0
    return json.loads(out.read_text())


def test_default_scores_stored_scale_and_notes_a_narrow_16_bit_source(thermal, capsys):
    doc = _json(thermal)
    a = np.asarray(Image.open(thermal / "a" / "01.png"))
    b = np.asarray(Image.open(thermal / "b" / "01.png"))
    f = np.asarray(Image.open(thermal / "f" / "01.png"))
    assert a.dtype == np.uint16
    got = doc["methods"]["f"]["images"]["01"]["SSIM@vifb"]
    assert got == pytest.approx(M.METRICS.get("SSIM@vifb")(a, b, f), rel=1e-12)
    assert doc["sources_read"].startswith("stored scale")
    err = capsys.readouterr().err
    assert "16-bit source(s) span less than a quarter of their range" in err and "--normalize auto" in err


def test_normalize_auto_scores_the_sources_as_fuse_reads_them(thermal, capsys):
    doc = _json(thermal, "--normalize", "auto")
    a = read_image(thermal / "a" / "01.png", normalize="auto")[0] * 255.0  # what fuse fused
    b = np.asarray(Image.open(thermal / "b" / "01.png"))
    f = np.asarray(Image.open(thermal / "f" / "01.png"))
    for key in ("SSIM@vifb", "MI@vifb"):
        assert doc["methods"]["f"]["images"]["01"][key] == pytest.approx(M.METRICS.get(key)(a, b, f), rel=1e-12)
    stored = _json(thermal)["methods"]["f"]["images"]["01"]["SSIM@vifb"]
    assert doc["methods"]["f"]["images"]["01"]["SSIM@vifb"] != pytest.approx(stored, rel=1e-3)
    assert "normalize auto" in doc["sources_read"]
    err = capsys.readouterr().err
    assert "sources read as `mutualfuse fuse --normalize auto`" in err


def test_eight_bit_sources_are_unchanged_by_normalize_auto(thermal):
    Image.fromarray(np.asarray(Image.open(thermal / "b" / "01.png"))).save(thermal / "a" / "01.png")  # 8-bit
    plain = _json(thermal)["methods"]["f"]["images"]["01"]
    auto = _json(thermal, "--normalize", "auto")["methods"]["f"]["images"]["01"]
    assert plain == auto


def test_percentiles_need_a_percentile_normalisation(thermal):
    base = ["--a", str(thermal / "a"), "--b", str(thermal / "b"), "--fused", str(thermal / "f"), "--metrics", "EN@vifb"]
    for extra in ([], ["--normalize", "full"]):
        with pytest.raises(ParameterError, match="--percentiles needs --normalize auto or percentile"):
            _run(base + extra + ["--percentiles", "1", "99"])
    with pytest.raises(ParameterError, match="need 0 <= LO < HI <= 100"):
        _run(base + ["--normalize", "percentile", "--percentiles", "99", "1"])
    assert _run(base + ["--normalize", "percentile", "--percentiles", "1", "99"]) == 0
