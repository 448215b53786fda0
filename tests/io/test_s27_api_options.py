"""Python API, as a notebook user meets it (session 27): a misspelt Fuser option is said as one,
and help() of the entry points states the dtype / range conventions of inputs and outputs."""
from __future__ import annotations

import numpy as np
import pytest

import mutualfuse
from mutualfuse.errors import ParameterError


@pytest.mark.parametrize("model", ["dwt", "default"])
@pytest.mark.parametrize("typo, meant", [("tokn_budget", "token_budget"), ("chrome", "chroma"),
                                         ("normalise", "normalize"), ("Chroma", "chroma")])
def test_a_misspelt_option_names_the_option_meant(model, typo, meant):
    # before: "unknown parameter tokn_budget (its parameters: levels, ...)" or "the network takes no
    # method parameters": the option the user meant was not named
    with pytest.raises(ParameterError) as ei:
        mutualfuse.Fuser(model, device="cpu", **{typo: 0})
    msg = str(ei.value)
    assert f"did you mean the Fuser option {meant} (for {typo})?" in msg and "\n" not in msg


def test_fuse_keyword_typo_names_the_option_meant():
    a = np.zeros((16, 16))
    with pytest.raises(ParameterError, match=r"did you mean the Fuser option method \(for methd\)"):
        mutualfuse.fuse(a, a, methd="dwt")


def test_a_real_method_parameter_typo_keeps_its_own_suggestion_only():
    with pytest.raises(ParameterError) as ei:
        mutualfuse.Fuser("dwt", levls=3)
    assert "did you mean levels?" in str(ei.value) and "Fuser option" not in str(ei.value)
    assert mutualfuse.Fuser("dwt", levels=3).method_params == {"levels": 3}


def _doc(fn) -> str:
    return " ".join((fn.__doc__ or "").split())


@pytest.mark.parametrize("words", [
    "uint8``: 0-255 read as ``v / 255", "bool``: False/True as 0/255", "``uint16``: by the ``normalize`` policy",
    "values in [0, 1] taken as they are", "0-255 floats) stretched by percentiles", "``uint16`` on the full 0-65535",
    "float in [0, 1] (also for a float input given on 0-255", "channels-last", "channels-first", "InputError"])
def test_help_of_fuser_fuse_states_the_dtype_and_range_conventions(words):
    # before: "Fuse a pair of numpy arrays, PIL images or tensors (single or batched); same kind out."
    assert words in _doc(mutualfuse.Fuser.fuse)


def test_help_of_fuse_points_to_the_conventions():
    doc = _doc(mutualfuse.fuse)
    assert "uint8 0-255" in doc and "float in [0, 1] as is" in doc and "help(mutualfuse.Fuser.fuse)" in doc


def test_the_stated_conventions_hold():
    rng = np.random.default_rng(0)
    g = rng.integers(0, 256, (16, 20), dtype=np.uint8)
    f = mutualfuse.Fuser("average")
    assert f.fuse(g, g).dtype == np.uint8
    b = f.fuse(g > 128, g > 128)
    assert b.dtype == bool and np.array_equal(b, g > 128)
    with pytest.warns(UserWarning, match="float samples outside"):  # 0-255 floats: not scaled back
        out = f.fuse(g.astype(np.float32), g.astype(np.float32))
    assert out.dtype == np.float32 and 0.0 <= out.min() and out.max() <= 1.0
    assert any("scaled by percentile" in n for n in f.report.notes)
    u = (g.astype(np.uint16) * 257)
    assert mutualfuse.Fuser("average", normalize="full").fuse(u, u).max() == u.max()
    # int16: signed 16-bit by its type since s28 (as a signed TIFF), the result int16 on -32768..32767
    s16 = mutualfuse.Fuser("average", normalize="full").fuse(g.astype(np.int16), g.astype(np.int16))
    assert s16.dtype == np.int16 and np.array_equal(s16, g.astype(np.int16))
