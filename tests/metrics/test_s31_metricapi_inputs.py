"""Metric inputs a researcher passes by mistake get a one-line InputError naming the argument
(audit s31, metricapi): NaN or infinity in an image (the message named no image: "image contains
NaN or Inf values", from every metric alike), a ragged nested list (NumPy's own ValueError about
"inhomogeneous shape"), None for a source a metric uses ("got shape ()"); and a 0-1 float image
that spills over 0-1 (a network's unclipped output) is refused by the registered metrics like a
0-1 image, instead of being scored as a black 0-255 image (EN 0.8 instead of 7.6)."""
from __future__ import annotations

import numpy as np
import pytest

import mutualfuse.metrics as M
from mutualfuse.errors import InputError

RNG = np.random.default_rng(31)
A = RNG.integers(0, 256, (32, 32)).astype(np.uint8)
B = RNG.integers(0, 256, (32, 32)).astype(np.uint8)
F = np.maximum(A, B)


def _with_nan() -> np.ndarray:
    x = F.astype(np.float64)
    x[3, 4] = np.nan
    x[5, 6] = np.inf
    return x


@pytest.mark.parametrize("key", ["Qabf@vifb", "EN@vifb", "Qcb@liu", "SSIM@nestfuse"])
def test_registered_metric_names_itself_and_the_image_with_nan(key):
    with pytest.raises(InputError, match=rf"^{key}: fused: image contains NaN or infinite values "
                                         r"\(2 of 1024 values\)$"):
        M.METRICS.get(key)(A, B, _with_nan())
    if not M.METRICS.meta(key)["uses_sources"]:  # NaN in a source a metric of F alone ignores: it scores
        assert M.METRICS.get(key)(_with_nan(), B, F) == M.METRICS.get(key)(A, B, F)


def test_evaluate_pair_names_the_metric_and_the_image_with_nan():
    with pytest.raises(InputError, match=r"^Qabf@vifb: fused: image contains NaN"):
        M.evaluate_pair(A, B, _with_nan(), metrics=["Qabf@vifb"])


@pytest.mark.parametrize("fn,args,name", [
    (M.qabf, (A, B, "nan"), "f"), (M.qcb, (A, "nan", F), "b"), (M.qg, ("nan", B, F), "a"),
    (M.en, ("nan",), "f"), (M.sf, ("nan",), "f"), (M.sd, ("nan",), "f"), (M.ag, ("nan",), "f"),
])
def test_plain_function_names_the_argument_with_nan(fn, args, name):
    args = tuple(_with_nan() if isinstance(x, str) else x for x in args)
    with pytest.raises(InputError, match=rf"^{name}: image contains NaN or infinite values \(2 of 1024 pixels\)$"):
        fn(*args)


@pytest.mark.parametrize("lo,hi", [(-0.02, 1.03), (0.0, 1.2), (-0.3, 1.0)])
def test_a_0_1_image_spilling_over_0_1_is_refused(lo, hi):
    f01 = lo + (hi - lo) * F / 255.0  # fractions, values in [lo, hi]
    for key in ("EN@vifb", "Qabf@vifb", "SSIM@nestfuse"):
        with pytest.raises(InputError, match=rf"^{key}: fused: float image with values in \[.*0-1 image .*"
                                             r"0-255 scale") as e:
            M.METRICS.get(key)(A, B, f01)
        assert "\n" not in str(e.value)
    # still scored: whole-number floats, and fractional images beyond the slack (0-255 data)
    mask = (F > 128).astype(np.float64)  # a 0/1 mask: whole numbers
    assert np.isfinite(M.METRICS.get("EN@vifb")(A, B, mask))
    dark = F / 255.0 * 1.4 + 0.2  # fractional values up to 1.6: beyond the 0-1 slack, a dark 0-255 image
    assert np.isfinite(M.METRICS.get("EN@vifb")(A, B, dark))
    assert np.isfinite(M.METRICS.get("Qabf@vifb")(A, B, F.astype(np.float64) + 0.25))


def test_a_ragged_list_is_an_input_error_naming_the_argument():
    ragged = [[1, 2, 3], [4, 5]]
    with pytest.raises(InputError, match=r"^f: not an image: NumPy cannot make this list one array"):
        M.en(ragged)
    with pytest.raises(InputError, match=r"^Qabf@vifb: b: not an image"):
        M.METRICS.get("Qabf@vifb")(A, ragged, F)


def test_none_for_a_source_says_none():
    with pytest.raises(InputError, match=r"^Qabf@vifb: b: expected a gray .* image, got None \(this metric uses"):
        M.METRICS.get("Qabf@vifb")(A, None, F)
    with pytest.raises(InputError, match=r"^a: expected a gray .* image, got None$"):
        M.qabf(None, B, F)
