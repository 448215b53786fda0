"""Integer images other than uint8/uint16 outside 0-255 (audit s16)."""
from __future__ import annotations

import numpy as np
import pytest

import mutualfuse.metrics as M
from mutualfuse.errors import InputError

KEYS = [e.name for e in M.METRICS]


def _triple(dtype, scale=1, offset=0):
    rng = np.random.default_rng(4)
    return tuple((rng.integers(0, 256, (24, 24)) * scale + offset).astype(dtype) for _ in range(3))


@pytest.mark.parametrize("key", KEYS)
def test_wide_or_signed_integer_images_outside_0_255_are_refused(key):
    """``METRICS.get("EI@vifb")(a, b, f)`` with int32 12-bit data (0-4080, e.g. from Pillow's mode
    "I") gave EI 5262 instead of 214 (scored as 0-255), and int8 data (-128..127) gave values too:
    silently wrong numbers, now a one-line InputError naming the metric."""
    fn = M.METRICS.get(key)
    for dtype, scale, offset in ((np.int32, 16, 0), (np.int64, 257, 0), (np.int8, 1, -128), (np.uint32, 16, 0)):
        a, b, f = _triple(dtype, scale, offset)
        with pytest.raises(InputError, match=rf"^{key}: (a|b|fused): {np.dtype(dtype).name} image with values"):
            fn(a, b, f)


@pytest.mark.parametrize("key", ["EN@vifb", "Qabf@vifb", "SSIM@nestfuse", "Qcb@liu"])
def test_integer_images_holding_0_255_values_still_score_as_uint8(key):
    fn = M.METRICS.get(key)
    a, b, f = _triple(np.uint8)
    ref = fn(a, b, f)
    for dtype in (np.int16, np.int32, np.int64, np.uint32):
        assert fn(*(x.astype(dtype) for x in (a, b, f))) == ref
    assert fn(*(x.tolist() for x in (a, b, f))) == ref  # Python lists: int64
    u16 = tuple(x.astype(np.uint16) * 257 for x in (a, b, f))  # uint16: scaled, still accepted
    assert fn(*u16) == pytest.approx(ref, rel=1e-9, abs=1e-12)
