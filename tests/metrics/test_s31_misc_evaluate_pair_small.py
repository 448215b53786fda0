"""``evaluate_pair`` on images smaller than a metric needs (audit s31, misc): it stopped at the first
such metric (``profile="paper"`` on 64×64 images: VIF needs 65 pixels per side, an ImageTooSmallError
and no scores at all), while ``mutualfuse evaluate`` leaves that cell empty, says why and computes the
others. Now NaN, the reason in ``not_computed`` (or a warning), an error only when nothing at all is
computed. The registered metrics' size errors name the key and the actual size (they said
"VIFF needs images of at least 81 pixels per side", no key, no size)."""
import warnings

import numpy as np
import pytest

import mutualfuse.metrics as M
from mutualfuse.errors import ImageTooSmallError, InputError, MetricUndefinedError

RNG = np.random.default_rng(31)
A, B = (RNG.integers(0, 256, (64, 64)).astype(np.uint8) for _ in range(2))
F = ((A.astype(np.int32) + B) // 2).astype(np.uint8)


def test_paper_profile_on_64px_gives_nan_for_vif_and_the_others():
    why: dict = {}
    got = M.evaluate_pair(A, B, F, profile="paper", not_computed=why)
    assert list(got) == list(M.PROFILES["paper"]())
    assert np.isnan(got["VIF"])
    assert all(np.isfinite(v) for k, v in got.items() if k != "VIF")
    assert got["Qabf"] == M.METRICS.get("Qabf@vifb")(A, B, F)  # the others as computed alone
    assert why == {"VIF": "VIF@nestfuse: VIF needs images of at least 65 pixels per side, got 64×64"}


def test_without_not_computed_a_warning_says_why():
    with pytest.warns(UserWarning, match=r"^VIF@nestfuse: not computed \(NaN\): VIF@nestfuse: .*65 pixels per side, got 64×64"):
        got = M.evaluate_pair(A, B, F, metrics=["Qabf@vifb", "VIF@nestfuse"])
    assert np.isnan(got["VIF@nestfuse"]) and np.isfinite(got["Qabf@vifb"])
    with warnings.catch_warnings():  # none where everything is computed, nor with not_computed
        warnings.simplefilter("error")
        M.evaluate_pair(A, B, F, metrics=["Qabf@vifb", "SF@vifb"])
        M.evaluate_pair(A, B, F, metrics=["Qabf@vifb", "VIF@nestfuse"], not_computed={})


def test_undefined_metric_is_nan_with_its_reason():
    c = np.full((64, 64), 7, np.uint8)
    why: dict = {}
    got = M.evaluate_pair(c, B, F, metrics=["Qmi@liu", "SF@vifb"], not_computed=why)
    assert np.isnan(got["Qmi@liu"]) and np.isfinite(got["SF@vifb"])
    assert why["Qmi@liu"].startswith("Qmi@liu: a is constant (7)")


def test_nothing_computed_is_an_error():
    with pytest.raises(ImageTooSmallError, match=r"^VIFF@han: VIFF needs images of at least 81 pixels per side, "
                                                 r"got 64×64$") as e:
        M.evaluate_pair(A, B, F, metrics="VIFF@han")
    assert e.value.min_side == 81
    with pytest.raises(ImageTooSmallError, match=r"nothing computed \(VIFF@han: .*got 64×64; MS_SSIM@wang: .*"
                                                 r"176 pixels per side, got 64×64\)$") as e:
        M.evaluate_pair(A, B, F, metrics=["VIFF@han", "MS_SSIM@wang"])
    assert e.value.min_side == 176
    c = np.full((64, 64), 7, np.uint8)
    with pytest.raises(InputError, match="every metric asked for") as e:
        M.evaluate_pair(c, B, F, metrics=["VIFF@han", "Qmi@liu"])
    assert not isinstance(e.value, (ImageTooSmallError, MetricUndefinedError))


def test_not_computed_of_a_wrong_type_is_refused():
    from mutualfuse.errors import ParameterError

    with pytest.raises(ParameterError, match=r"^not_computed must be a dict .* got list$"):
        M.evaluate_pair(A, B, F, metrics="SF@vifb", not_computed=[])


@pytest.mark.parametrize("key,side", [("VIF@nestfuse", 65), ("VIFF@han", 81), ("MS_SSIM@wang", 176),
                                      ("MS_SSIM@rfn-nest", 44), ("Qs@liu", 11), ("Qc@liu", 11), ("Qm@liu", 4),
                                      ("Qp@liu", 3)])
def test_registered_size_errors_name_the_key_and_the_size(key, side):
    h, w = side - 1, side + 3
    x = RNG.integers(0, 256, (h, w)).astype(np.uint8)
    with pytest.raises(ImageTooSmallError, match=rf"^{key}: .*at least {side} pixels per side, got {w}×{h}$") as e:
        M.METRICS.get(key)(x, x, x)
    assert e.value.min_side == side


def test_different_sizes_name_the_key():
    with pytest.raises(InputError, match=r"^Qabf@vifb: images differ in size: a 64×64, b 64×64, f 63×64$"):
        M.METRICS.get("Qabf@vifb")(A, B, F[:, :-1])
