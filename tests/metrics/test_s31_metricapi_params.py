"""Parameters and the low-level ``vifvec`` (audit s31, metricapi).

* A ``convention=`` a plain metric function does not have is a one-line ParameterError (still a
  ValueError) naming the conventions it has: ``metrics.en(f, convention="RFN-NEST")`` said only
  "EN: unknown convention 'RFN-NEST'", leaving the researcher to read the source for the names.
* ``metrics.vifvec(ref, dist)`` (exported) took anything: images of two sizes raised NumPy's
  "operands could not be broadcast together", a colour image a shape error from inside the
  pyramid, NaN gave NaN silently. Now one-line InputErrors naming ``ref`` / ``dist``.
"""
from __future__ import annotations

import re

import numpy as np
import pytest

import mutualfuse.metrics as M
from mutualfuse.errors import InputError, ParameterError

RNG = np.random.default_rng(3)
A = RNG.integers(0, 256, (24, 24)).astype(np.uint8)
B = RNG.integers(0, 256, (24, 24)).astype(np.uint8)
F = np.maximum(A, B)

FNS = {"en": (F,), "sd": (F,), "ag": (F,), "ei": (F,), "sf": (F,), "mi": (A, B, F), "ce": (A, B, F),
       "psnr": (A, B, F), "rmse": (A, B, F), "qabf": (A, B, F), "nabf": (A, B, F), "scd": (A, B, F),
       "ssim": (A, B, F), "qcb": (A, B, F), "qcv": (A, B, F), "ms_ssim": (A, B, F), "vif": (A, B, F)}


@pytest.mark.parametrize("name", sorted(FNS))
def test_an_unknown_convention_names_the_ones_there_are_and_each_works(name):
    fn, args = getattr(M, name), FNS[name]
    with pytest.raises(ParameterError, match=r"unknown convention 'nope' \(use '") as e:
        fn(*args, convention="nope")
    assert isinstance(e.value, ValueError) and "\n" not in str(e.value)
    named = re.findall(r"'([^']+)'", str(e.value).split("(use ", 1)[1])
    assert named, str(e.value)
    for conv in named:  # every convention the message names is one the function takes
        try:
            fn(*args, convention=conv)
        except ParameterError as err:
            pytest.fail(f"{name}: the message names {conv!r}, which is refused: {err}")
        except InputError:  # too small for this convention's windows (MS-SSIM, VIF): a size, not the name
            pass


def test_vifvec_refuses_mismatched_sizes_colour_and_nan_naming_the_argument():
    ref = RNG.random((70, 72))
    with pytest.raises(InputError, match=r"^vifvec: ref and dist differ in size: ref 72×70, dist 72×66$"):
        M.vifvec(ref, ref[:66])
    with pytest.raises(InputError, match=r"^vifvec: dist: expected a 2-D gray array, got shape \(70, 72, 3\) "
                                         r"\(colour\?"):
        M.vifvec(ref, np.dstack([ref] * 3))
    bad = ref.copy()
    bad[5, 5] = np.nan
    with pytest.raises(InputError, match=r"^vifvec: ref: image contains NaN or infinite values$"):
        M.vifvec(bad, ref)
    assert M.vifvec(ref, ref) == pytest.approx(1.0, abs=1e-9)  # valid input: as before
