"""The metric functions on the inputs a Python user passes (audit s21): big-endian arrays, PIL
images of every mode ``mutualfuse evaluate`` reads, torch tensors, boolean colour, file names;
and each docstring's direction agrees with the registry.

Each of these gave a wrong number or an exception that was not an ``InputError`` before.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from PIL import Image

from mutualfuse.errors import InputError
from mutualfuse.metrics import METRICS, evaluate_pair, qabf, qsf, sd

RNG = np.random.default_rng(21)
A8, B8, F8 = RNG.integers(0, 256, (3, 24, 24), dtype=np.uint8)
RGB = np.stack([F8, 255 - F8, F8 // 2], axis=-1)  # a colour image whose gray is not any one channel


# ---- big-endian data: '>u2' is 16-bit, not "another integer type" -------------------------


@pytest.mark.parametrize("gray", [True, False], ids=["gray", "colour"])
def test_big_endian_uint16_is_scored_as_uint16(gray):
    """A big-endian uint16 array (FITS, some TIFF readers, PIL I;16B) was taken as 0–255
    integers: sd() gave 19288 instead of 75; the registered SD refused it as "not uint16"."""
    f16 = (F8.astype(np.uint16) * 257) if gray else (RGB.astype(np.uint16) * 257)
    native = sd(f16)
    assert sd(f16.astype(">u2")) == native
    assert METRICS.get("SD@vifb")(A8, B8, f16.astype(">u2")) == native


def test_dark_big_endian_16_bit_data_is_not_scored_as_8_bit():
    """16-bit data whose values are all ≤ 255 passed the registered metrics' range check as
    0–255 integers (SD 64.3 instead of 0.25): silently wrong."""
    dark = (F8.astype(np.uint16) * 257) // 300  # 0..218
    assert dark.max() <= 255
    value = METRICS.get("SD@vifb")(A8, B8, dark.astype(">u2"))
    assert value == METRICS.get("SD@vifb")(A8, B8, dark)
    assert value < 1.0


@pytest.mark.parametrize("dtype", [">f8", ">i4", ">f4"])
def test_other_big_endian_types_equal_native(dtype):
    assert METRICS.get("Qabf@vifb")(A8.astype(dtype), B8.astype(dtype), F8.astype(dtype)) == \
        METRICS.get("Qabf@vifb")(A8, B8, F8)


# ---- PIL images: the samples `mutualfuse evaluate` reads, not palette indices -----------


def _palette_image() -> Image.Image:
    im = Image.fromarray(RGB).convert("P")
    assert not np.array_equal(np.asarray(im), np.asarray(im.convert("L")))  # indices are not grays
    return im


@pytest.mark.parametrize("mode", ["P", "PA", "CMYK", "YCbCr", "LAB", "HSV"])
def test_pil_colour_modes_are_scored_as_their_rgb_colours(mode):
    """A palette image was scored on its palette indices, YCbCr / HSV / LAB on their channels as
    if they were R, G, B, CMYK as RGBA: silently wrong numbers."""
    im = _palette_image().convert("PA") if mode == "PA" else (
        _palette_image() if mode == "P" else Image.fromarray(RGB).convert(mode))
    rgb = np.asarray(im.convert("RGB"))
    want = qabf(A8, B8, rgb)
    assert qabf(A8, B8, im) == want
    assert METRICS.get("Qabf@vifb")(A8, B8, im) == want
    assert evaluate_pair(A8, B8, im, metrics="Qabf@vifb")["Qabf@vifb"] == want


def test_pil_gray_with_alpha_is_scored_like_its_gray():
    """Mode LA (gray + alpha) was refused as "got shape (H, W, 2)"; evaluate reads it as gray."""
    im = Image.fromarray(F8).convert("LA")
    assert METRICS.get("Qabf@vifb")(A8, B8, im) == METRICS.get("Qabf@vifb")(A8, B8, F8)


def test_a_palette_png_scores_as_evaluate_reads_it(tmp_path, capsys):
    """The same palette PNG, scored from Python (PIL.Image.open) and by `mutualfuse evaluate`."""
    import csv

    from mutualfuse.cli import main

    for role, im in (("a", Image.fromarray(A8)), ("b", Image.fromarray(B8)), ("f", _palette_image())):
        (tmp_path / role).mkdir()
        im.save(tmp_path / role / "01.png")
    out = tmp_path / "r.csv"
    rc = main(["evaluate", "--a", str(tmp_path / "a"), "--b", str(tmp_path / "b"), "--fused", str(tmp_path / "f"),
               "--metrics", "SD@vifb", "Qabf@vifb", "--out", str(out), "-q"])
    capsys.readouterr()
    assert rc == 0
    row = next(csv.DictReader(out.open()))
    with Image.open(tmp_path / "f" / "01.png") as f:
        assert f.mode == "P"
        got = evaluate_pair(A8, B8, f, metrics=["SD@vifb", "Qabf@vifb"])
    assert float(row["SD@vifb"]) == got["SD@vifb"]
    assert float(row["Qabf@vifb"]) == got["Qabf@vifb"]


# ---- torch tensors ------------------------------------------------------------------------


def test_a_tensor_that_requires_grad_is_scored():
    """A network output (requires_grad) raised torch's RuntimeError "Can't call numpy() on Tensor
    that requires grad" from every metric."""
    f = torch.from_numpy(F8.astype(np.float32)).requires_grad_(True)
    want = METRICS.get("Qabf@vifb")(A8, B8, F8.astype(np.float32))
    assert METRICS.get("Qabf@vifb")(A8, B8, f) == want
    assert qabf(A8, B8, f) == want
    assert evaluate_pair(A8, B8, f, metrics="Qabf@vifb")["Qabf@vifb"] == want


def test_a_bfloat16_tensor_is_scored():
    """bfloat16 raised NumPy's TypeError "Got unsupported ScalarType BFloat16"."""
    f = torch.from_numpy(F8.astype(np.float32)).to(torch.bfloat16)  # 0..255 integers are exact in bfloat16
    assert METRICS.get("SD@vifb")(A8, B8, f) == METRICS.get("SD@vifb")(A8, B8, F8)


def test_a_channels_first_tensor_is_a_named_input_error():
    f = torch.from_numpy(RGB).permute(2, 0, 1)
    with pytest.raises(InputError, match=r"Qabf@vifb: fused: .*\(3, 24, 24\).*channels first"):
        METRICS.get("Qabf@vifb")(A8, B8, f)
    with pytest.raises(InputError, match=r"^fused: .*channels first"):
        evaluate_pair(A8, B8, f, metrics="Qabf@vifb")


# ---- other inputs -------------------------------------------------------------------------


def test_boolean_colour_is_0_255_like_boolean_gray():
    """A boolean H×W×3 mask became 0–1 floats (scored as 0–255: SD 0.5), a boolean gray one 0/255."""
    mask = F8 > 128
    assert sd(np.stack([mask] * 3, axis=-1)) == sd(mask)
    assert sd(mask) > 100


def test_a_file_name_is_an_input_error_naming_it():
    with pytest.raises(InputError, match=r"Qabf@vifb: a: .*path 'ir\.png'.*read it first"):
        METRICS.get("Qabf@vifb")("ir.png", B8, F8)


def test_a_metric_of_f_alone_still_ignores_its_sources():
    assert METRICS.get("EN@vifb")(None, None, F8) == METRICS.get("EN@vifb")(A8, B8, F8)


# ---- docstrings ---------------------------------------------------------------------------


@pytest.mark.parametrize("key", METRICS.names())
def test_the_docstring_states_the_registered_direction(key):
    """qsf's docstring said "registered as higher-is-better"; it is registered as "zero"."""
    doc = METRICS.get(key).__doc__.split("Inputs (all metric functions)")[0]
    direction = METRICS.meta(key)["direction"]
    says = {"higher": "Higher is better" in doc, "lower": "Lower is better" in doc,
            "zero": "Closer to 0 is better" in doc}
    assert says[direction], (key, direction)
    assert not any(v for d, v in says.items() if d != direction), (key, says)
    assert "registered as higher" not in doc and "higher-is-better" not in doc


def test_qsf_documents_flat_sources():
    flat, tex = np.full((16, 16), 100.0), RNG.integers(0, 256, (16, 16)).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        assert qsf(flat, flat, tex) == math.inf
        assert math.isnan(qsf(flat, flat, flat))
    assert "+inf" in qsf.__doc__ and "NaN" in qsf.__doc__
