"""Signed and other integer arrays through the Python API, as the command line reads them (session 28).

Since session 27 ``mutualfuse fuse`` reads a signed 16-bit TIFF (a CT slice in HU, a thermal
camera's signed counts) as a signed DICOM is read, and an integer TIFF of another type by its
values (0..65535 unsigned, else -32768..32767 signed). A user who loaded the same TIFF with
tifffile (an int16 array) or Pillow (mode ``I``) and called ``mutualfuse.fuse`` got a refusal.
The API now reads those samples as the command line does: the same fused values (an int16 result
on the signed range is the command line's 16-bit output less 32768), and for another integer type
a note and a ``UserWarning`` that the result is in the 16-bit type it was read as.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from PIL import Image

import mutualfuse
from mutualfuse import Fuser, InputError
from mutualfuse.cli import main
from one_line_error import assert_one_line_error
from tiff_codecs import no_codecs  # noqa: F401  (the fixture)

tifffile = pytest.importorskip("tifffile")

H, W = 40, 48
RNG = np.random.default_rng(28)
CT = RNG.normal(40, 300, (H, W)).clip(-1024, 3071).astype(np.int16)  # HU, with negatives
CT[0, :3] = (-3024, 3071, 2000)
THERMAL = (RNG.normal(0, 50, (H, W)) + np.linspace(-200, 200, W)).astype(np.int16)
POSITIVE = np.abs(CT)  # int16 without a negative: signed by its type all the same


def _cli(tmp_path, a: np.ndarray, b: np.ndarray, *opts: str) -> np.ndarray:
    """``mutualfuse fuse`` of the two arrays written as TIFFs of their own sample type."""
    fa, fb, out = tmp_path / "a.tif", tmp_path / "b.tif", tmp_path / "o.tif"
    for f in (fa, fb, out):
        f.unlink(missing_ok=True)
    tifffile.imwrite(fa, a)
    tifffile.imwrite(fb, b)
    assert main(["fuse", str(fa), str(fb), "-o", str(out), "-q", *opts]) == 0
    got = tifffile.imread(out)
    assert got.dtype == np.uint16  # the command line's 16-bit output
    return got


def _api(a, b, method: str = "average", **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # int16 is read by its type: no warning
        return mutualfuse.fuse(a, b, method=method, device="cpu", **kw)


@pytest.mark.parametrize("normalize", ["auto", "full", "percentile"])
@pytest.mark.parametrize("which", ["ct+thermal", "no negative"])
def test_int16_arrays_fuse_as_the_cli_fuses_the_signed_tiffs(tmp_path, normalize, which):
    a, b = (CT, THERMAL) if which == "ct+thermal" else (POSITIVE, np.abs(THERMAL))
    got = _api(a, b, normalize=normalize)
    assert got.dtype == np.int16 and got.shape == (H, W)
    cli = _cli(tmp_path, a, b, "--method", "average", "--normalize", normalize)
    np.testing.assert_array_equal(got.astype(np.int32) + 32768, cli)  # the same fused bytes, on the signed range


def test_int16_through_the_shipped_network_as_through_the_cli(tmp_path):
    a, b = np.tile(CT, (2, 2)), np.tile(THERMAL, (2, 2))  # 80x96
    got = _api(a, b, method="mutualfuse")
    cli = _cli(tmp_path, a, b, "--device", "cpu")
    np.testing.assert_array_equal(got.astype(np.int32) + 32768, cli)


def test_int16_notes_say_how_the_samples_were_scaled():
    f = Fuser("average")
    f.fuse(CT, THERMAL)
    assert [n.split(" (")[0] for n in f.report.notes] == ["a: 16-bit input scaled by percentile",
                                                         "b: 16-bit input scaled by percentile"], f.report.notes


def test_a_flat_int16_image_keeps_its_place_in_the_signed_range():
    flat = np.full((H, W), -1000, np.int16)
    f = Fuser("average")
    got = f.fuse(flat, flat)
    assert got.dtype == np.int16 and np.all(got == -1000), np.unique(got)
    assert any("is flat (every sample -1000)" in n and "signed 16-bit range" in n for n in f.report.notes), \
        f.report.notes


@pytest.mark.parametrize("dtype,shift,read_as", [(np.int32, 0, np.int16), (np.int32, 4000, np.uint16),
                                                 (np.int8, 0, np.int16), (np.int8, 128, np.uint16),
                                                 (np.int64, 0, np.int16), (np.uint32, 4000, np.uint16)])
def test_other_integer_arrays_fuse_as_the_cli_fuses_a_tiff_of_their_type(tmp_path, dtype, shift, read_as):
    """By the values, as image_io reads an int8/int32/uint32 TIFF: with a negative one as int16,
    else as uint16; the result is in that 16-bit type, said in a note and a UserWarning."""
    scale = 30 if dtype == np.int8 else 1  # int8: CT // 30 is -101..102 (or its absolute values)
    a = ((CT.astype(np.int64) // scale) + (shift if dtype != np.int8 else 0))
    b = ((THERMAL.astype(np.int64) // scale) + (shift if dtype != np.int8 else 0))
    if dtype == np.int8:
        a, b = np.clip(a, -128, 127), np.clip(b, -128, 127)
        if shift:
            a, b = np.abs(a), np.abs(b)
    a, b = a.astype(dtype), b.astype(dtype)
    assert (a.min() < 0) == (read_as == np.int16)
    f = Fuser("average")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = f.fuse(a, b)
    said = [str(w.message) for w in caught if w.category is UserWarning]
    assert len(said) == 2 and [m[:3] for m in said] == ["a: ", "b: "], said
    for m, x in zip(said, (a, b)):
        assert m.endswith(f" samples (values {x.min()}..{x.max()}) read as {np.dtype(read_as)} ("
                          + ("signed" if read_as == np.int16 else "unsigned")
                          + f" 16-bit), as the command line reads an {np.dtype(dtype)} TIFF; the result is "
                          f"{np.dtype(read_as)}".replace("an uint", "a uint")), m
    assert got.dtype == read_as
    assert sum("as the command line reads" in n for n in f.report.notes) == 2, f.report.notes
    cli = _cli(tmp_path, a, b, "--method", "average")
    offset = 32768 if read_as == np.int16 else 0
    np.testing.assert_array_equal(got.astype(np.int32) + offset, cli)


def test_pil_mode_i_with_negatives_fuses_as_the_int16_array():
    f = Fuser("average")
    got = f.fuse(Image.fromarray(CT.astype(np.int32), "I"), Image.fromarray(THERMAL.astype(np.int32), "I"))
    assert got.mode == "I"
    np.testing.assert_array_equal(np.asarray(got), f.fuse(CT, THERMAL).astype(np.int32))
    # without a negative value, mode I is read as before: 16-bit samples, an I;16 result
    pos = f.fuse(Image.fromarray(POSITIVE.astype(np.int32), "I"), Image.fromarray(POSITIVE.astype(np.int32), "I"))
    assert pos.mode == "I;16"


def test_a_signed_tiff_opened_by_pillow_fuses_as_through_the_cli(tmp_path):
    cli = _cli(tmp_path, CT, THERMAL, "--method", "average")
    a, b = Image.open(tmp_path / "a.tif"), Image.open(tmp_path / "b.tif")
    assert a.mode == "I"  # how Pillow opens a signed 16-bit TIFF
    got = Fuser("average").fuse(a, b)
    np.testing.assert_array_equal(np.asarray(got) + 32768, cli)


def test_a_stack_of_int16_planes_fuses_as_fuse_stack(tmp_path):
    planes = [CT, (CT.astype(np.int32) - 300).astype(np.int16), THERMAL]
    files = []
    for i, p in enumerate(planes):
        files.append(tmp_path / f"z{i}.tif")
        tifffile.imwrite(files[-1], p)
    out = tmp_path / "s.tif"
    assert main(["fuse-stack", *map(str, files), "-o", str(out), "--method", "average", "-q"]) == 0
    got = Fuser("average").fuse_stack(planes)
    assert got.dtype == np.int16
    np.testing.assert_array_equal(got.astype(np.int32) + 32768, tifffile.imread(out))


@pytest.mark.parametrize("x,values", [((CT.astype(np.int32) * 100), f"[{int(CT.min()) * 100}, {int(CT.max()) * 100}]"),
                                      (np.full((H, W), 70000, np.uint32), "[70000, 70000]")])
def test_integers_that_fit_no_16bit_type_are_refused_naming_the_float_cast(x, values):
    with pytest.raises(InputError) as e:
        Fuser("average").fuse(x, CT)
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith(f"a: unsupported array dtype {x.dtype}"), msg
    assert f"its values {values} are outside 0..65535 and -32768..32767: pass x.astype(np.float64)" in msg, msg


def test_pil_mode_i_beyond_16_bits_is_refused_in_one_line():
    with pytest.raises(InputError, match=r"^a: 32-bit integer image with values -40000\.\.100, outside 0\.\.65535 and "
                                         r"-32768\.\.32767, is not supported; as a float image"):
        Fuser("average").fuse(Image.fromarray(np.linspace(-40000, 100, H * W).reshape(H, W).astype(np.int32), "I"), CT)


def test_a_signed_tensor_is_told_the_numpy_way():
    torch = pytest.importorskip("torch")
    with pytest.raises(InputError, match=r"torch\.int16 .* its values \[-3024, 3071\] are signed 16-bit ones: pass "
                                         r"x\.numpy\(\)"):
        Fuser("average").fuse(torch.from_numpy(CT), CT)


def test_a_compressed_uint32_tiff_without_imagecodecs_is_read_by_its_values(tmp_path, capsys, no_codecs):  # noqa: F811
    """The Pillow fallback (no imagecodecs for tifffile's zlib) reads an unsigned 32-bit gray page
    by its values since session 31 (f2ecdde; it was refused naming imagecodecs before): the same
    fused file as the uncompressed TIFF, which is read by its values too."""
    x = (np.arange(H * W).reshape(H, W) * 20).astype(np.uint32)
    packed, plain = tmp_path / "u32z.tif", tmp_path / "u32.tif"
    tifffile.imwrite(packed, x, compression="zlib")
    tifffile.imwrite(plain, x)
    assert main(["fuse", str(packed), str(packed), "-o", str(tmp_path / "z.tif"), "--method", "average", "-q"]) == 0
    assert main(["fuse", str(plain), str(plain), "-o", str(tmp_path / "o.tif"), "--method", "average", "-q"]) == 0
    np.testing.assert_array_equal(tifffile.imread(tmp_path / "z.tif"), tifffile.imread(tmp_path / "o.tif"))
    with pytest.warns(UserWarning, match="uint32 samples"):
        got = Fuser("average").fuse(x, x)
    np.testing.assert_array_equal(got, tifffile.imread(tmp_path / "o.tif"))
