"""Lookup and size errors: "did you mean" names registered keys as spelled, profiles suggest too, FMI refuses tiny images."""
import pytest

from mutualfuse.errors import ParameterError
from mutualfuse.metrics import resolve


def test_unknown_metric_suggests_the_registered_spelling():
    with pytest.raises(ParameterError) as e:
        resolve(["Qabff"])
    assert "did you mean Qabf@vifb?" in str(e.value)


def test_unknown_profile_suggests_and_profiles_are_case_insensitive():
    with pytest.raises(ParameterError) as e:
        resolve(profile="lui")
    assert "did you mean liu?" in str(e.value)
    assert resolve(profile="LIU") == resolve(profile="liu")


def test_fmi_plain_function_refuses_images_under_its_window():
    import numpy as np

    from mutualfuse.errors import ImageTooSmallError
    from mutualfuse.metrics import fmi

    x = np.arange(4, dtype=np.uint8).reshape(2, 2) * 60
    with pytest.raises(ImageTooSmallError, match="FMI needs images of at least 3×3") as e:
        fmi(x, x, x)
    assert e.value.min_side == 3
    y = np.arange(9, dtype=np.uint8).reshape(3, 3) * 25
    assert np.isfinite(fmi(y, y[::-1], y))  # 3×3 is enough

