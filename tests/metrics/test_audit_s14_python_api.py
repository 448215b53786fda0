"""The metric functions' Python interface as documented (audit s14)."""
from __future__ import annotations

import numpy as np
import pytest

import mutualfuse.metrics as M
from mutualfuse.errors import ParameterError


def _triple():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (40, 48)).astype(np.uint8)
    b = rng.integers(0, 256, (40, 48)).astype(np.uint8)
    return a, b, np.maximum(a, b)


def test_evaluate_pair_takes_one_metric_key_as_a_string():
    a, b, f = _triple()
    got = M.evaluate_pair(a, b, f, metrics="Qabf@vifb")  # was: "unknown metric 'Q'" (its characters)
    assert got == {"Qabf@vifb": M.METRICS.get("Qabf@vifb")(a, b, f)}
    assert M.resolve("en@VIFB") == {"EN@vifb": "EN@vifb"}
    with pytest.raises(ParameterError, match="'Qabfx@vifb'"):
        M.resolve("Qabfx@vifb")


@pytest.mark.parametrize("key", ["FMI_pixel@nestfuse", "FMI_dct@nestfuse"])
def test_fmi_on_images_under_3_pixels_is_image_too_small(key):
    """FMI's 3×3 windows need 3 pixels per side: below that the registered metric raises
    ImageTooSmallError (evaluate: NaN and a note), not numpy's "window shape cannot be larger
    than input array shape" ValueError (evaluate: stopped with exit status 2)."""
    from mutualfuse.errors import ImageTooSmallError

    a, b, f = (x[:2] for x in _triple())
    with pytest.raises(ImageTooSmallError) as ei:
        M.METRICS.get(key)(a, b, f)
    assert ei.value.min_side == 3 and "48×2" in str(ei.value)
    a, b, f = (x[:3] for x in _triple())
    assert np.isfinite(M.METRICS.get(key)(a, b, f))


def test_evaluate_leaves_fmi_empty_for_a_2_pixel_image_and_computes_the_rest(tmp_path, capsys):
    import argparse
    import json

    from PIL import Image

    from mutualfuse.cli import evaluate as E

    a, b, f = (x[:2] for x in _triple())
    for role, arr in (("a", a), ("b", b), ("f", f)):
        (tmp_path / role).mkdir()
        Image.fromarray(arr).save(tmp_path / role / "01.png")
    p = argparse.ArgumentParser(prog="mutualfuse")
    E.add_parser(p.add_subparsers())
    out = tmp_path / "r.json"
    args = p.parse_args(["evaluate", "--a", str(tmp_path / "a"), "--b", str(tmp_path / "b"), "--fused",
                         str(tmp_path / "f"), "--metrics", "FMI_pixel@nestfuse", "SF@vifb", "--out", str(out)])
    assert args.func(args) == 0
    doc = json.loads(out.read_text())
    row = doc["methods"]["f"]["images"]["01"]
    assert row["FMI_pixel@nestfuse"] is None and row["SF@vifb"] == M.METRICS.get("SF@vifb")(a, b, f)
    assert "FMI_pixel@nestfuse" in doc["not_computed"]
    assert "FMI_pixel@nestfuse: not computed (NaN)" in capsys.readouterr().err


def test_the_input_note_says_how_colour_is_rounded_for_each_dtype():
    """help(metrics.qabf) said colour is "rounded half away from zero to uint8": uint16 colour is
    rounded in uint16 and float colour not at all (rgb2gray_matlab, as MATLAB)."""
    rgb = np.array([[[1000, 2001, 3003]]], dtype=np.uint16)
    assert M.to_gray(rgb).dtype == np.uint16
    f = M.to_gray(rgb.astype(np.float64))
    assert f.dtype == np.float64 and f[0, 0] != np.round(f[0, 0])
    doc = " ".join(M.qabf.__doc__.split())
    assert "to uint8)" not in doc
    assert "rounded half away from zero in its own type, uint8 or uint16; float input not rounded" in doc
