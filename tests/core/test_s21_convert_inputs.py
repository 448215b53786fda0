"""Audit s21 (convert): inputs of ``Fuser.fuse`` / ``mutualfuse fuse`` refused for the wrong reason.

Before:

* finite float64 samples spanning about ±1e308 were refused as "image contains NaN or infinite
  values" (through the CLI, naming ``a`` instead of the file): the percentile mapping's
  differences overflowed to inf and gave NaN;
* a numpy ``(H, W, C)`` array with C = 5..7 was read as a batch of H gray images H x C wide, so
  the error was "batch mismatch: a has 16 images, b has 1" (or "smaller than 8x8");
* the tensor dtype error said "use uint8 or float" though uint16 and bool are taken, and the
  int32 refusals did not say what to do (PIL mode ``I``, 32-bit integers, is taken).
"""
from __future__ import annotations

import numpy as np
import pytest

from mutualfuse import Fuser
from mutualfuse.errors import InputError
from mutualfuse.io.samples import percentile_scale
from one_line_error import assert_one_line_error

RNG = np.random.default_rng(21)
BASE = RNG.uniform(-1.0, 1.0, (24, 32))
OTHER = RNG.uniform(0.0, 1.0, (24, 32))


# 5e307: scaled by the new branch (above 2**1021) where the old code did not overflow yet: the
# same mapping, to the bit
@pytest.mark.parametrize("top", [5e307, 1e308, 1.7e308])
def test_percentile_scale_of_huge_floats_is_the_same_mapping(top):
    """Samples up to ``top`` in magnitude map as the same samples scaled by 2**-1024 (an exact
    scaling, which the mapping does not see): it was all NaN from about ±9e307 on, where the
    differences of two samples overflow."""
    y = BASE / np.abs(BASE).max() * top
    mapped: list = []
    got = percentile_scale(y, 0.1, 99.9, 1.0, mapped=mapped)
    ref_mapped: list = []
    ref = percentile_scale(y * 2.0 ** -1024, 0.1, 99.9, 1.0, mapped=ref_mapped)
    assert np.isfinite(got).all()
    np.testing.assert_array_equal(got, ref)
    assert mapped == [tuple(float(np.ldexp(v, 1024)) for v in ref_mapped[0])]  # the input's percentiles


def test_percentile_scale_min_max_fallback_of_huge_floats():
    """Equal percentiles fall back to min/max: -1.7e308 → 0, 1.7e308 → 1 (it was NaN)."""
    x = np.zeros((40, 40))  # 1600 samples: the 0.1 and 99.9 percentiles both fall among the zeros
    x[0, 0], x[0, 1] = -1.7e308, 1.7e308
    detail: list = []
    got = percentile_scale(x, 0.1, 99.9, 1.0, detail)
    assert got[0, 0] == 0.0 and got[0, 1] == 1.0 and got[5, 5] == 0.5
    assert "minimum and maximum" in detail[0]


def test_fuser_fuses_finite_floats_near_the_float64_limit():
    """``Fuser.fuse`` of a float image in ±1.7e308 (finite): fused as the same image at ±1 is (the
    percentile mapping is scale-free); it was refused as containing NaN or infinite values."""
    f = Fuser("average")
    small = f.fuse(BASE, OTHER)
    huge = f.fuse(BASE * 1.7e308 / np.abs(BASE).max(), OTHER)
    assert np.isfinite(huge).all()
    np.testing.assert_allclose(huge, small, rtol=0, atol=1e-12)  # float64 rounding of the input's scaling
    assert any("scaled by percentile" in n for n in f.report.notes)


def test_cli_fuses_a_float64_tiff_near_the_float64_limit(tmp_path, capsys):
    tifffile = pytest.importorskip("tifffile")
    from mutualfuse.cli import main

    a, b, out = tmp_path / "a.tif", tmp_path / "b.tif", tmp_path / "f.png"
    tifffile.imwrite(a, BASE * 1e308)
    tifffile.imwrite(b, OTHER)
    assert main(["fuse", str(a), str(b), "-o", str(out), "--method", "average"]) == 0
    _, err = capsys.readouterr()
    assert out.exists() and "NaN" not in err and "a.tif: float input scaled by percentile" in err


def test_cli_still_refuses_a_float_tiff_that_holds_inf(tmp_path, capsys):
    """A float32 TIFF whose samples are infinite is still refused, naming the file."""
    tifffile = pytest.importorskip("tifffile")
    a, b, out = tmp_path / "a.tif", tmp_path / "b.tif", tmp_path / "f.png"
    x = BASE.astype(np.float32)
    x[2, 3] = np.inf
    tifffile.imwrite(a, x)
    tifffile.imwrite(b, OTHER.astype(np.float32))
    assert_one_line_error(capsys, ["fuse", str(a), str(b), "-o", str(out), "--method", "average"],
                          "a.tif: float image contains 1 NaN or infinite values")
    assert not out.exists()


@pytest.mark.parametrize("c", [5, 6, 7])
def test_numpy_hwc_with_5_to_7_channels_says_channels(c):
    x = RNG.uniform(0, 1, (16, 16, c))
    for b in (RNG.uniform(0, 1, (16, 16)), x):
        with pytest.raises(InputError) as e:
            Fuser("average").fuse(x, b)
        msg = str(e.value)
        assert msg.startswith(f"a: unsupported channel count {c} in numpy array of shape (16, 16, {c})"), msg
        assert "4 RGBA" in msg and "(B, H, W) batch" in msg and "\n" not in msg


@pytest.mark.parametrize("shape, out_shape", [
    ((16, 20), (16, 20)),
    ((16, 20, 1), (16, 20, 1)),
    ((16, 20, 3), (16, 20, 3)),
    ((16, 20, 4), (16, 20, 3)),
    ((3, 16, 20), (3, 16, 20)),     # a batch of 3 gray images (noted)
    ((2, 16, 8), (2, 16, 8)),       # a batch of gray images 8 wide: the smallest
    ((2, 16, 20, 1), (2, 16, 20, 1)),
    ((2, 16, 20, 3), (2, 16, 20, 3)),
])
def test_numpy_layouts_that_worked_still_work(shape, out_shape):
    x = RNG.uniform(0, 1, shape)
    assert Fuser("average").fuse(x, x).shape == out_shape


def test_channel_count_errors_say_what_each_layout_takes():
    f = Fuser("average")
    with pytest.raises(InputError, match=r"unsupported channel count 2 in shape \(16, 16, 2\) \(expected 1 gray, "
                                         r"3 RGB or 4 RGBA\)"):
        f.fuse(np.zeros((16, 16, 2)), np.zeros((16, 16, 2)))
    with pytest.raises(InputError, match=r"unsupported channel count 4 in shape \(2, 16, 16, 4\) \(expected 1 gray "
                                         r"or 3 RGB\)"):
        f.fuse(np.zeros((2, 16, 16, 4)), np.zeros((2, 16, 16, 4)))


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.int16, np.uint32])
def test_numpy_integers_in_16_bits_fuse_as_16_bit_samples(dtype):
    """Refused (naming the uint16 cast) until session 28; now read as the command line reads a TIFF
    of that type (tests/io/test_s28_apiint_signed.py): the values of a uint16 image, int16 by its
    type on the signed range (the same fused values, less 32768)."""
    x = (np.arange(16 * 20).reshape(16, 20) * 100).astype(dtype)  # 0..31900: 16-bit samples
    from PIL import Image

    f = Fuser("average")
    as_u16 = f.fuse(x.astype(np.uint16), x.astype(np.uint16)[::-1].copy())
    pil = f.fuse(Image.fromarray(x.astype(np.int32), "I"), Image.fromarray(x.astype(np.int32)[::-1].copy(), "I"))
    np.testing.assert_array_equal(as_u16, np.asarray(pil))
    got = f.fuse(x, x[::-1].copy())
    want = (as_u16.astype(np.int32) - 32768).astype(np.int16) if dtype == np.int16 else as_u16
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


def test_numpy_integers_outside_16_bits_are_told_to_use_floats():
    x = np.arange(16 * 20).reshape(16, 20).astype(np.int32) * 1000 - 7
    with pytest.raises(InputError, match=r"its values \[-7, 318993\] are outside 0\.\.65535 and -32768\.\.32767: pass "
                                         r"x\.astype\(np\.float64\)"):
        Fuser("average").fuse(x, x)


def test_torch_dtype_refusal_lists_what_is_accepted():
    torch = pytest.importorskip("torch")
    f = Fuser("average")
    ok = torch.zeros(16, 16)
    with pytest.raises(InputError, match=r"unsupported tensor dtype torch\.int32 \(use uint8, uint16, bool or "
                                         r"float\); its values are in 0\.\.65535: pass x\.to\(torch\.uint16\)"):
        f.fuse(torch.zeros(16, 16, dtype=torch.int32), ok)
    with pytest.raises(InputError, match=r"its values \[0, 255000\] are outside 0\.\.65535: pass "
                                         r"x\.to\(torch\.float64\)"):
        f.fuse(torch.arange(256).reshape(16, 16) * 1000, ok)
    with pytest.raises(InputError, match=r"unsupported tensor dtype torch\.complex64 \(use uint8, uint16, bool or "
                                         r"float\)$"):
        f.fuse(torch.zeros(16, 16, dtype=torch.complex64), ok)
    for dt in (torch.bool, torch.uint8, torch.float32):  # taken, as listed
        assert f.fuse(torch.zeros(16, 16, dtype=dt), ok).dtype == dt


def test_torch_channels_last_is_named():
    torch = pytest.importorskip("torch")
    f = Fuser("average")
    with pytest.raises(InputError, match=r"tensor of shape \(16, 16, 3\) looks channels-last; .* pass "
                                         r"x\.permute\(2, 0, 1\)"):
        f.fuse(torch.zeros(16, 16, 3), torch.zeros(16, 16))
    with pytest.raises(InputError, match=r"pass x\[\.\.\., :3\]\.permute\(0, 3, 1, 2\)"):
        f.fuse(torch.zeros(2, 16, 16, 4), torch.zeros(2, 16, 16, 4))
    assert f.fuse(torch.zeros(3, 16, 16), torch.zeros(16, 16)).shape == (3, 16, 16)
