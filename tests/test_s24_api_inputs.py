"""``Fuser.fuse`` / ``fuse_stack`` / ``mutualfuse.fuse`` with every kind of input a user may pass
(s24, P5 audit): each either fuses as documented (mutualfuse.convert: the same result as the
same samples in a plain contiguous array, in the input's dtype and layout) or is refused with a
one-line ValueError / TypeError naming the input and the problem, never a traceback from deep
inside and never a silently wrong result.

Found and fixed: ``fuse_stack(None)`` (or any non-iterable) raised ``'NoneType' object is not
iterable``; ``fuse_stack(one_image)`` split the image into its rows and failed with
"image 1: unsupported array shape (20,)"; a channels-first (3, H, W) numpy colour image fused
with a gray (H, W) one said only "batch mismatch: a has 3 images, b has 1" (the note that it was
read as a batch of 3 gray images was lost with the failed call)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

import mutualfuse
from mutualfuse import Fuser

H, W = 16, 20
RNG = np.random.default_rng(24)
U8 = RNG.integers(0, 256, (H, W), dtype=np.uint8)
U16 = RNG.integers(0, 65536, (H, W), dtype=np.uint16)
F64 = RNG.random((H, W))
PARTNER = RNG.random((H, W))


@pytest.fixture(scope="module")
def fuser():
    return Fuser("average", normalize="full")


def _np(x):
    if isinstance(x, torch.Tensor):
        return x.numpy()
    return np.asarray(x)


# (input, the same samples plainly, how the result's samples compare): the input and its plain
# twin must fuse to the same values, and the result keeps the input's kind
SAME = {
    "uint8": (U8, U8),
    "uint16": (U16, U16),
    "big-endian >u2": (U16.astype(">u2"), U16),
    "float16": (F64.astype(np.float16), F64.astype(np.float16)),
    "float32": (F64.astype(np.float32), F64.astype(np.float32)),
    "big-endian >f8": (F64.astype(">f8"), F64),
    "bool": (U8 > 127, U8 > 127),
    "reversed rows a[::-1]": (np.repeat(U8, 2, 0)[::-2], np.ascontiguousarray(np.repeat(U8, 2, 0)[::-2])),
    "every other column a[:, ::2]": (np.repeat(U8, 2, 1)[:, ::2], U8),
    "negative strides both axes": (U8[::-1, ::-1], np.ascontiguousarray(U8[::-1, ::-1])),
    "fortran order": (np.asfortranarray(U8), U8),
    "read-only": (np.array(U8, copy=True).view(), U8),
}


@pytest.mark.parametrize("name", list(SAME))
def test_numpy_inputs_fuse_as_their_plain_twin(fuser, name):
    x, plain = SAME[name]
    got = fuser.fuse(x, PARTNER)
    want = fuser.fuse(plain, PARTNER)
    assert got.dtype == x.dtype and got.shape == x.shape
    assert np.array_equal(got.astype(np.float64), want.astype(np.float64))


def test_layouts(fuser):
    assert fuser.fuse(U8[..., None], PARTNER).shape == (H, W, 1)
    assert np.array_equal(fuser.fuse(U8[..., None], PARTNER)[..., 0], fuser.fuse(U8, PARTNER))
    assert np.array_equal(fuser.fuse(U8[None], PARTNER[None])[0], fuser.fuse(U8, PARTNER))
    rgb = RNG.integers(0, 256, (H, W, 3), dtype=np.uint8)
    rgba = np.concatenate([rgb, np.zeros((H, W, 1), np.uint8)], -1)
    got = fuser.fuse(rgba, PARTNER)
    assert any("alpha not kept" in n for n in fuser.report.notes)
    assert np.array_equal(got, fuser.fuse(rgb, PARTNER))  # alpha dropped, noted


def test_float_ranges(fuser):
    # 0-1 as is; 0-255 and out of range scaled by percentiles under "auto", with a note saying so
    auto = Fuser("average")
    assert np.array_equal(auto.fuse(F64, PARTNER), fuser.fuse(F64, PARTNER))
    for x in (F64 * 255, F64 * 3 - 1):
        out = auto.fuse(x, PARTNER)
        assert out.dtype == np.float64 and 0 <= out.min() and out.max() <= 1
        assert any("outside [0, 1]" in n and "scaled by percentile" in n for n in auto.report.notes)


@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32, torch.float64, torch.bool])
def test_cpu_tensors_fuse_as_numpy(fuser, dtype):
    t = torch.from_numpy(U8) if dtype == torch.uint8 else torch.from_numpy(F64).to(dtype) if dtype != torch.bool \
        else torch.from_numpy(U8 > 127)
    got = fuser.fuse(t, PARTNER)
    assert isinstance(got, torch.Tensor) and got.dtype == dtype and tuple(got.shape) == (H, W)
    want = fuser.fuse(t.numpy(), PARTNER)
    assert np.array_equal(_np(got).astype(np.float64), np.asarray(want).astype(np.float64))
    assert np.array_equal(_np(fuser.fuse(t.t(), PARTNER.T)), _np(fuser.fuse(t.t().contiguous(), PARTNER.T)))


def test_pil_modes(fuser):
    cases = {"L": (Image.fromarray(U8), U8, "L"), "I;16": (Image.fromarray(U16), U16, "I;16"),
             "I": (Image.fromarray(U16.astype(np.int32), mode="I"), U16, "I;16"),
             "F": (Image.fromarray(F64.astype(np.float32), mode="F"), F64.astype(np.float32), "F"),
             "P": (Image.fromarray(U8).convert("P"), np.asarray(Image.fromarray(U8).convert("P").convert("L")), "L")}
    for mode, (im, plain, back) in cases.items():
        got = fuser.fuse(im, PARTNER)
        assert isinstance(got, Image.Image) and got.mode == back, mode
        assert np.array_equal(np.asarray(got).astype(np.float64),
                              np.asarray(fuser.fuse(plain, PARTNER)).astype(np.float64)), mode
    rgb = RNG.integers(0, 256, (H, W, 3), dtype=np.uint8)
    assert np.array_equal(np.asarray(fuser.fuse(Image.fromarray(rgb), PARTNER)), fuser.fuse(rgb, PARTNER))


def _nan():
    x = F64.copy()
    x[3, 4] = np.nan
    return x


def _inf():
    x = (F64 * 255).astype(np.float32)
    x[0, 0] = -np.inf
    return x


REFUSED = {
    # int16 (thermal, by its type), int32 of 16-bit values and >i2 are read since s28, as a TIFF of them
    "int32 beyond 16 bits": ((F64 * 100000 - 1000).astype(np.int32), ("dtype int32", "float64")),
    "NaN": (_nan(), ("NaN",)),
    "Inf": (_inf(), ("infinite",)),
    "empty": (np.zeros((0, 0), np.uint8), ("0 pixels",)),
    "empty rows": (np.zeros((0, W)), ("0 pixels",)),
    "1x1": (np.zeros((1, 1), np.uint8), ("size mismatch",)),
    "mismatched shape": (np.zeros((H + 1, W), np.uint8), ("size mismatch",)),
    "2 channels": (np.zeros((H, W, 2), np.uint8), ("channel count 2",)),
    "complex": (F64.astype(np.complex128), ("complex128",)),
    "PIL I beyond 16 bits": (Image.fromarray((F64 * 100000 - 1000).astype(np.int32), mode="I"),
                             ("outside 0..65535 and -32768..32767",)),
    "PIL F NaN": (Image.fromarray(_nan().astype(np.float32), mode="F"), ("NaN",)),
    "tensor int32": (torch.from_numpy((F64 * 1000).astype(np.int32)), ("torch.int32", "x.to(torch.uint16)")),
    "tensor NaN": (torch.from_numpy(_nan()), ("NaN",)),
    "tensor channels-last": (torch.from_numpy(F64)[..., None], ("channels-last", "permute")),
    "list": ([[0.1, 0.2]], ("expected a numpy array, PIL image or torch tensor, got list",)),
}


@pytest.mark.parametrize("name", list(REFUSED))
def test_refused_with_one_line_naming_the_problem(fuser, name):
    x, needles = REFUSED[name]
    with pytest.raises((ValueError, TypeError)) as e:
        fuser.fuse(x, PARTNER)
    msg = str(e.value)
    assert "\n" not in msg and type(e.value).__module__.startswith("mutualfuse"), msg
    for n in needles:
        assert n in msg, (n, msg)
    with pytest.raises((ValueError, TypeError)):  # the module-level helper and stacks alike
        mutualfuse.fuse(x, PARTNER, method="average")


def test_tiny_pair_is_refused(fuser):
    with pytest.raises(ValueError, match="smaller than 8x8"):
        fuser.fuse(np.zeros((1, 1), np.uint8), np.zeros((1, 1)))


# -- fixed in s24 ------------------------------------------------------------------------------
@pytest.mark.parametrize("images", [None, 5])
def test_stack_of_a_non_sequence_is_a_clear_type_error(images):
    with pytest.raises(TypeError, match=r"a stack takes a sequence of images .*got (NoneType|int)$"):
        Fuser("average").fuse_stack(images)  # before: "'NoneType' object is not iterable"


@pytest.mark.parametrize("image", [U8, RNG.random((H, W, 3)), Image.fromarray(U8), torch.from_numpy(F64)],
                         ids=["numpy HW", "numpy HWC", "PIL", "tensor HW"])
def test_stack_of_one_image_says_so(image):
    with pytest.raises(ValueError, match=r"a stack takes a sequence of images .*got one "):
        Fuser("average").fuse_stack(image)  # before: its rows as images ("unsupported array shape (20,)")


def test_stack_of_one_nhw_array_is_its_planes():
    planes = RNG.random((3, H, W))
    assert np.allclose(Fuser("average").fuse_stack(planes), planes.mean(0), rtol=0, atol=1e-12)


def test_channels_first_colour_with_gray_says_how_it_was_read(fuser):
    chw = RNG.random((3, H, W))
    with pytest.raises(ValueError, match=r"batch mismatch: a has 3 images, b has 1 \(a: numpy array of shape "
                                         r"\(3, 16, 20\) read as a batch of 3 gray images .*x.transpose\(1, 2, 0\)"):
        fuser.fuse(chw, PARTNER)
    with pytest.raises(ValueError, match=r"b: numpy array of shape \(3, 16, 20\) read as a batch"):
        fuser.fuse(PARTNER, chw)
    assert fuser.fuse(chw.transpose(1, 2, 0), PARTNER).shape == (H, W, 3)
    with pytest.raises(ValueError) as e:  # two batches: no guess about channels
        fuser.fuse(chw, RNG.random((2, H, W)))
    assert str(e.value) == "batch mismatch: a has 3 images, b has 2"
