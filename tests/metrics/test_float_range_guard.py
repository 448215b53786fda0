"""Float images far outside 0-255 (16-bit data as floats, a signed difference image) are refused by
the registered metrics with a one-line InputError (they were scored as 0-255 silently: EN, SD, EI
of 0-65535 floats); a fused image's overshoot of a few grey levels still scores."""
from __future__ import annotations

import numpy as np
import pytest

from mutualfuse.errors import InputError
from mutualfuse.metrics import METRICS


@pytest.fixture()
def img():
    return np.random.default_rng(4).random((48, 40)) * 255


@pytest.mark.parametrize("key", ["EN@vifb", "SD@rfn-nest", "Qabf@vifb", "Qcb@liu"])
@pytest.mark.parametrize("scale,shift", [(257.0, 0.0), (1.0, -300.0)])
def test_far_outside_0_255_is_refused_naming_metric_and_input(img, key, scale, shift):
    far = img * scale + shift
    with pytest.raises(InputError, match=rf"^{key}: fused: float image with values in \[") as e:
        METRICS.get(key)(img, img, far)
    assert "\n" not in str(e.value) and "0-255 scale" in str(e.value)


def test_an_overshoot_of_a_fused_image_scores(img):
    over = img.copy()
    over[0, :5] = [256.0, 270.0, 300.0, 510.0, -40.0]
    for key in ("EN@vifb", "SD@rfn-nest", "Qabf@vifb"):
        assert np.isfinite(METRICS.get(key)(img, img, over))
