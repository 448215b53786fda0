"""Python API (session 27): float samples outside [0, 1] whose range ``normalize="auto"`` guesses
from their values (0-255 floats) and stretches by percentiles are warned of (``UserWarning``),
attributed to the caller's line. Before, only ``Fuser.report.notes`` said it, which
``mutualfuse.fuse`` keeps out of reach: a 0-255 float pair came back stretched to [0, 1] silently."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import mutualfuse

RNG = np.random.default_rng(27)
A255 = RNG.random((16, 20)) * 255.0
B01 = RNG.random((16, 20))


def _caught(call):
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        out = call()
    return out, [w for w in got if issubclass(w.category, UserWarning) and "float samples" in str(w.message)]


def test_fuse_warns_of_a_0_255_float_input_at_the_callers_line():
    out, got = _caught(lambda: mutualfuse.fuse(A255, B01, method="average"))
    assert len(got) == 1, [str(w.message) for w in got]
    msg = str(got[0].message)
    assert msg.startswith("a: float samples outside [0, 1] taken for data of another range and stretched")
    assert "x / 255" in msg and "\n" not in msg
    assert got[0].filename == __file__  # the user's line, not the package's
    assert out.dtype == np.float64 and out.max() <= 1.0


@pytest.mark.parametrize("kind", ["numpy32", "torch"])
def test_fuser_fuse_warns_for_each_guessed_input(kind):
    a, b = A255.astype(np.float32), (B01 * 255).astype(np.float32)
    if kind == "torch":
        a, b = torch.from_numpy(a), torch.from_numpy(b)
    _, got = _caught(lambda: mutualfuse.Fuser("average").fuse(a, b))
    assert sorted(str(w.message)[:2] for w in got) == ["a:", "b:"] and all(w.filename == __file__ for w in got)


def test_fuse_stack_warns_for_each_guessed_image():
    _, got = _caught(lambda: mutualfuse.Fuser("average").fuse_stack([B01, A255, B01]))
    assert [str(w.message)[:8] for w in got] == ["image 2:"]


@pytest.mark.parametrize("a, kw", [
    (B01, {}),  # in [0, 1]: taken as is
    (np.clip(B01 + 0.0005, 0, 1.0005), {}),  # an overshoot within the tolerance: clipped, not guessed
    ((B01 * 255).astype(np.uint8), {}),  # 8-bit: its scale is its type's
    (A255, {"normalize": "percentile"}),  # a policy asked for, not a guess
])
def test_no_warning_where_nothing_is_guessed(a, kw):
    _, got = _caught(lambda: mutualfuse.Fuser("average", **kw).fuse(a, B01))
    assert got == []


def test_the_notes_still_carry_the_values():
    f = mutualfuse.Fuser("average")
    _caught(lambda: f.fuse(A255, B01))
    assert any(n.startswith("a: float input with values in [") and "outside [0, 1]" in n for n in f.report.notes)


def test_a_flat_0_255_float_image_is_warned_of_too():
    # a flat image has no percentile range: kept at its value, clipped (7 → 1.0): not its scale either
    _, got = _caught(lambda: mutualfuse.Fuser("average").fuse(np.full((16, 20), 7.0), B01))
    assert len(got) == 1 and "a flat image clipped" in str(got[0].message)
