"""Input handling of the Python API: per-image normalisation of batches, the notes of rescaled
inputs, the float-in-[0, 1] checks of the low-level entry points, (3, H, W) arrays and flat
images (docs/inputs.md, "Bit depth and intensity normalisation")."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from mutualfuse import Fuser, InputError


@pytest.fixture(scope="module")
def pair(samples):
    a = np.asarray(Image.open(samples / "tno-01" / "a.png").convert("L"))[:64, :80]
    b = np.asarray(Image.open(samples / "tno-01" / "b.png").convert("L"))[:64, :80]
    return a, b


@pytest.fixture(scope="module")
def average():
    """A classical method through the same API: exact, so a batch must equal the singles bit for bit."""
    return Fuser("average", device="cpu")


def _u16(a, b):
    """Two 16-bit versions of the pair in very different bands (full range; 14-bit thermal-like)."""
    return (a.astype(np.uint16) * 257, b.astype(np.uint16) * 257), (a.astype(np.uint16) * 4 + 1000,
                                                                     b.astype(np.uint16) * 4 + 1000)


def test_batch_of_16bit_images_is_normalised_per_image(average, fuser, pair):
    (a1, b1), (a2, b2) = _u16(*pair)
    batch = average.fuse(np.stack([a1, a2]), np.stack([b1, b2]))
    assert batch.dtype == np.uint16
    assert np.array_equal(batch[0], average.fuse(a1, b1)) and np.array_equal(batch[1], average.fuse(a2, b2))
    # the network: batch of 2 vs 1 is float32 rounding, at most one 16-bit code
    batch = fuser.fuse(np.stack([a1, a2]), np.stack([b1, b2]))
    for i, (x, y) in enumerate(((a1, b1), (a2, b2))):
        assert np.abs(batch[i].astype(int) - fuser.fuse(x, y)).max() <= 1, i
    # (B, H, W, 1) batches and colour (B, H, W, 3) batches too
    hw1 = average.fuse(np.stack([a1, a2])[..., None], np.stack([b1, b2])[..., None])
    assert np.array_equal(hw1[1, ..., 0], average.fuse(a2, b2))
    c1, c2 = np.stack([a1, b1, a1], -1), np.stack([a2, b2, b2], -1)
    col = average.fuse(np.stack([c1, c2]), np.stack([b1, b2]))
    assert np.array_equal(col[1], average.fuse(c2, b2))


def test_float_batch_with_one_image_outside_0_1_is_normalised_per_image(average, pair):
    a, b = pair[0] / 255.0, pair[1] / 255.0
    kelvin = 280.0 + pair[0] / 10.0  # float data of another range: percentiles, for this image only
    batch = average.fuse(np.stack([a, kelvin]), np.stack([b, b]))
    assert any("[283.1, 296.4]" in n and "batch image 1 (from 0)" in n for n in average.report.notes), \
        average.report.notes
    assert np.array_equal(batch[0], average.fuse(a, b))  # in [0, 1]: as it is, not scaled with the kelvin
    assert np.array_equal(batch[1], average.fuse(kelvin, b))
    # tensors: a (B, C, H, W) float batch
    ta, tk, tb = (torch.from_numpy(x).float()[None] for x in (a, kelvin, b))
    tbatch = average.fuse(torch.stack([ta, tk]), torch.stack([tb, tb]))
    assert torch.equal(tbatch[0], average.fuse(ta, tb)) and torch.equal(tbatch[1], average.fuse(tk, tb))


def test_rescaled_inputs_are_noted_in_the_report(average, pair):
    a, b = pair
    average.fuse(a, b)
    assert average.report.notes == []  # 8-bit at full range: nothing to say
    average.fuse(a / 255.0, b / 255.0)
    assert average.report.notes == []
    (a16, b16), _ = _u16(a, b)
    average.fuse(a16, b)
    assert average.report.notes == ["a: 16-bit input scaled by percentile (p0.1 → 0, p99.9 → 1, clipped); "
                                     "normalize='full' for the type's full range"]
    average.fuse(a / 255.0, b.astype(np.float32))  # 8-bit data in a float array
    (note,) = average.report.notes
    assert note.startswith("b: float input with values in [55, 191], outside [0, 1]") and "scaled by percentile" in note
    over = a / 255.0
    over[5, 5] = 1.05  # an overshoot beyond the tolerance: still scaled, but said
    average.fuse(over, b)
    (note,) = average.report.notes
    assert note.startswith("a: float input with values in [0.121569, 1.05], outside [0, 1]") and "np.clip" in note
    average.fuse(np.stack([a16, a16]), np.stack([b, b]))
    assert "each of the 2 images of the batch by its own" in average.report.notes[0]
    f = Fuser("average", device="cpu", normalize="full")  # full range: no rescale
    f.fuse(a16, b)
    assert f.report.notes == []


def test_network_notes_keep_the_input_notes_first(lively_weights, pair):
    (a16, b16), _ = _u16(*pair)
    pooled = Fuser(str(lively_weights), device="cpu", token_budget=16)
    pooled.fuse(a16, b16)
    notes = pooled.report.notes
    assert notes[0].startswith("a: 16-bit") and notes[1].startswith("b: 16-bit") and "pooled grid" in notes[2]


def test_tiny_float_overshoot_is_clipped_not_stretched(average, pair):
    a, b = pair[0] / 255.0, pair[1] / 255.0
    over = a.copy()
    over[0, 0], over[1, 1] = 1.0005, -0.0004  # resize rounding, within the tolerance 0.001
    out = average.fuse(over, b)
    assert average.report.notes == ["a: float input with values in [-0.0004, 1.0005] clipped to [0, 1] "
                                    "(within the tolerance 0.001)"]
    assert np.array_equal(out, average.fuse(np.clip(over, 0, 1), b))
    moved = np.abs(out - average.fuse(a, b)) > 1e-12  # not contrast-stretched: only those two pixels move
    assert moved.sum() == 2 and moved[0, 0] and moved[1, 1]
    full = Fuser("average", device="cpu", normalize="full")  # "full" accepts the overshoot too
    assert np.array_equal(full.fuse(over, b), out)
    with pytest.raises(InputError, match="not \\[0, 1\\]"):
        over[2, 2] = 1.01
        full.fuse(over, b)


@pytest.mark.parametrize("bad,msg", [
    (lambda a: a, "expected float samples in \\[0, 1\\], got dtype uint8"),
    (lambda a: a.astype(np.float64), "float samples are in \\[\\d+, \\d+\\], not \\[0, 1\\]"),
    (lambda a: np.where(np.arange(a.size).reshape(a.shape) == 77, np.nan, a / 255.0), "NaN"),
])
def test_low_level_entry_points_refuse_other_than_float_in_0_1(fuser, pair, bad, msg):
    from mutualfuse.methods import fuse_gray

    a, b = pair
    x, ok = bad(a), b / 255.0
    calls = [lambda: fuser.fuse_gray(x, ok), lambda: fuser.fuse_gray(ok, x),
             lambda: fuser.fuse_gray_batch(x[None], ok[None]), lambda: fuse_gray("average", x, ok),
             lambda: fuse_gray("average", ok, x)]
    for i, call in enumerate(calls):
        with pytest.raises(InputError, match=msg) as e:
            call()
        text = str(e.value)
        assert "\n" not in text and text.startswith("b: " if i in (1, 4) else "a: "), text
        if "NaN" not in msg:
            assert "Fuser.fuse" in text
    # within the tolerance: accepted and clipped
    near = b / 255.0
    near[0, 0] = 1.0005
    assert np.array_equal(fuse_gray("average", near, ok), fuse_gray("average", np.clip(near, 0, 1), ok))
    assert fuser.fuse_gray(near, ok).shape == near.shape


def test_three_plane_array_is_a_batch_of_gray_with_a_note(average, pair):
    a, b = pair
    x, y = np.stack([a, b, a]), np.stack([b, a, a])
    out = average.fuse(x, y)
    assert [n[:2] for n in average.report.notes] == ["a:", "b:"]
    assert "(3, 64, 80) read as a batch of 3 gray images" in average.report.notes[0]
    assert "x.transpose(1, 2, 0)" in average.report.notes[0]
    assert out.shape == x.shape and np.array_equal(out[1], average.fuse(b, a))
    average.fuse(np.stack([a, b, a, b]), np.stack([b, a, a, b]))  # RGBA-like too
    assert "read as a batch of 4 gray images" in average.report.notes[0]
    average.fuse(np.stack([a, b]), np.stack([b, a]))  # two planes are no colour image: no note
    assert average.report.notes == []
    colour = average.fuse(x.transpose(1, 2, 0), b)  # the way to pass colour
    assert colour.shape == (64, 80, 3)


def test_flat_image_keeps_its_value_in_its_type_range(average):
    flat = np.full((40, 48), 1000, np.uint16)
    out = average.fuse(flat, flat)
    assert out.dtype == np.uint16 and (out == 1000).all()  # was all zeros
    from mutualfuse.io.samples import normalize_samples, percentile_scale

    got, how = normalize_samples(np.full((8, 8), 128, np.uint8), 8, "percentile")
    assert how == "percentile" and np.allclose(got, 128 / 255)
    got, _ = normalize_samples(np.full((8, 8), 1000, np.int32), 16, "auto")  # TIFF reader's 16-bit as int32
    assert np.allclose(got, 1000 / 65535)
    assert np.allclose(normalize_samples(np.full((8, 8), 0.3), 32, "percentile")[0], 0.3)
    assert np.allclose(normalize_samples(np.full((8, 8), 300.0), 32, "auto")[0], 1.0)
    assert np.allclose(percentile_scale(np.full((8, 8), 1000, np.uint16), 0.1, 99.9), 1000 / 65535)


def test_low_level_entry_points_refuse_tensors_and_pil_in_one_line(fuser, pair):
    a, b = pair[0] / 255.0, pair[1] / 255.0
    for x in (torch.from_numpy(a), Image.fromarray(pair[0])):
        with pytest.raises(InputError, match="^a: expected a numpy float array in \\[0, 1\\], got .*Fuser.fuse"):
            fuser.fuse_gray(x, b)
        with pytest.raises(InputError, match="^b: expected a numpy float array"):
            fuser.fuse_gray_batch(a[None], x)


@pytest.mark.parametrize("kw, msg", [
    ({"max_window_pixels": 0}, "max_window_pixels must be an integer of at least 4096"),
    ({"max_window_pixels": 5000.5}, "max_window_pixels must be an integer"),
    ({"token_budget": 1.5}, "token_budget must be an integer"),
    ({"token_budget": True}, "token_budget must be an integer"),
    ({"percentiles": (1, 2, 3)}, "percentiles must be a pair"),
    ({"percentiles": (50, 10)}, "0 <= low < high <= 100"),
    ({"tile": 64.5}, "tile must be an integer"),
    ({"tile_overlap": -1}, "tile_overlap must be an integer >= 0"),
    ({"dtype": torch.float64}, "dtype must be one of"),
    ({"blend_temperature": True}, "blend_temperature must be a finite number"),
    ({"blend_temperature": float("nan")}, "blend_temperature must be a finite number"),
])
def test_fuser_options_are_checked_as_strictly_as_the_command_line(kw, msg):
    from mutualfuse.errors import ParameterError

    with pytest.raises(ParameterError, match=msg):
        Fuser("average", device="cpu", **kw)


def test_numpy_numbers_are_accepted_as_options():
    f = Fuser("default", device="cpu", detail_activity=np.float32(5), blend_temperature=np.float64(0.5),
              token_budget=np.int64(0), max_window_pixels=np.int32(100000), percentiles=(np.float32(1), 99))
    assert f.net.cfg.detail_activity == 5.0


@pytest.mark.parametrize("mode, back, alpha", [("1", "L", False), ("LA", "L", True), ("RGBA", "RGB", True),
                                               ("I", "I;16", False), ("L", "L", False), ("RGB", "RGB", False)])
def test_pil_modes_that_cannot_come_back_are_noted(samples, mode, back, alpha):
    a = Image.open(samples / "tno-01" / "a.png").convert(mode)
    b = Image.open(samples / "tno-01" / "b.png").convert("L")
    f = Fuser("average", device="cpu")
    out = f.fuse(a, b)
    assert out.mode == back
    said = [n for n in f.report.notes if "PIL mode" in n]
    assert bool(said) == (mode != back), f.report.notes
    assert any("alpha not kept" in n for n in said) == alpha


def test_rgba_array_says_alpha_is_not_kept(samples):
    rgb = np.asarray(Image.open(samples / "tno-01" / "a.png").convert("RGB"))
    rgba = np.concatenate([rgb, np.full(rgb.shape[:2] + (1,), 255, np.uint8)], -1)
    f = Fuser("average", device="cpu")
    assert f.fuse(rgba, rgb).shape == rgb.shape
    assert any("alpha not kept" in n for n in f.report.notes)


def test_tensor_results_go_back_to_the_inputs_device():
    """The result is moved to the input's device (a CUDA tensor comes back on CUDA; CPU here)."""
    from mutualfuse.convert import from_any, to_kind

    x = torch.rand(1, 1, 16, 16)
    f, kind = from_any(x, "a")
    assert kind.device == x.device
    kind.device = torch.device("meta")  # any other device: the result is moved there
    assert to_kind(f, kind).device.type == "meta"


def test_unknown_method_parameters_are_refused_when_the_fuser_is_made():
    """A parameter name the method does not take is a one-line error at Fuser(...), before any
    image (fuse-dir used to fail on every pair with Python's 'unexpected keyword argument')."""
    import mutualfuse
    from mutualfuse.errors import ParameterError

    with pytest.raises(ParameterError, match=r"method 'dwt': unknown parameter bogus \(its parameters: levels, "):
        mutualfuse.Fuser("dwt", bogus=1)
    with pytest.raises(ParameterError, match=r"method 'average': unknown parameters a, b \(it takes no parameters\)"):
        mutualfuse.Fuser("average", a=1, b=2)
    mutualfuse.Fuser("dwt", levels=2)  # a known one is accepted
    from mutualfuse.methods import fuse_gray

    x = np.zeros((32, 32))
    with pytest.raises(ParameterError, match="unknown parameter bogus"):
        fuse_gray("dwt", x, x, bogus=1)


def test_fuse_dir_with_a_bad_method_parameter_creates_nothing(tmp_path, capsys):
    from PIL import Image

    from mutualfuse.cli import main

    for d in ("A", "B"):
        (tmp_path / d).mkdir()
        Image.fromarray(np.zeros((24, 32), np.uint8)).save(tmp_path / d / "1.png")
    out = tmp_path / "O"
    assert main(["fuse-dir", str(tmp_path / "A"), str(tmp_path / "B"), "-o", str(out), "--method", "dwt",
                 "--param", "bogus=1", "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown parameter bogus" in err[0], err
    assert not out.exists()


def test_weights_given_by_keyword_are_the_weights():
    """Fuser takes weights= as fuse() does (it was refused with 'weights are the first argument');
    tests/io/test_api_model_identity.py checks the keyword fuses as the positional model."""
    import mutualfuse
    from mutualfuse.errors import WeightsError

    with pytest.raises(WeightsError, match=r"^my.safetensors: weights file not found"):
        mutualfuse.Fuser(weights="my.safetensors")


def test_pil_alpha_notes_name_real_alpha_only_and_la_is_read(samples):
    """LAB has no alpha (its "A" is a colour axis), RGBa (premultiplied) and a palette with a
    transparent colour have one; a premultiplied ``La`` image is read as gray (it raised
    Pillow's 'conversion from La to L not supported'); the note never claims a result mode the
    result does not have (a gray input's result is RGB when the other input is colour)."""
    rgb = Image.open(samples / "tno-01" / "a.png").convert("RGB")
    gray = Image.open(samples / "tno-01" / "b.png").convert("L")
    f = Fuser("average", device="cpu")

    def notes_for(a, b):
        out = f.fuse(a, b)
        return out, [n for n in f.report.notes if "PIL mode" in n]

    _, said = notes_for(rgb.convert("LAB"), gray)
    assert said and not any("alpha" in n for n in said), said
    _, said = notes_for(rgb.convert("RGBa"), gray)
    assert any("alpha not kept" in n for n in said), said
    pal = rgb.quantize(64)
    pal.info["transparency"] = 0
    _, said = notes_for(pal, gray)
    assert any("alpha not kept" in n for n in said), said
    out, said = notes_for(gray.convert("LA").convert("La"), gray)
    assert out.mode == "L" and any("alpha not kept" in n for n in said), said
    np.testing.assert_array_equal(np.asarray(out), np.asarray(f.fuse(gray, gray)))
    # a gray palette image fused with a colour one: the result is RGB, and no note says it is L
    out, said = notes_for(rgb, gray.convert("P"))
    assert out.mode == "RGB"
    assert said and not any("result is in mode L" in n for n in said), said
    f2 = Fuser("average", device="cpu", chroma="gray")
    out = f2.fuse(rgb.convert("RGBA"), gray)
    assert out.mode == "L"
    assert not any("result is in mode RGB" in n for n in f2.report.notes), f2.report.notes


def test_a_premultiplied_gray_alpha_image_reads_as_its_gray():
    """Mode ``La`` is listed as 8-bit gray, but Pillow cannot convert it to ``L`` directly
    (ValueError 'conversion from La to L not supported'); it goes through ``LA``."""
    from PIL import Image as _Image

    from mutualfuse.io.pil_modes import pil_samples

    g = np.arange(20, dtype=np.uint8).reshape(4, 5) * 10
    la = _Image.fromarray(np.stack([g, np.full_like(g, 255)], -1), "LA").convert("La")
    assert la.mode == "La"
    arr, depth = pil_samples(la, "image 1")
    assert depth == 8 and np.array_equal(arr, g)
