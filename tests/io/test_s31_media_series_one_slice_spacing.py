"""A DICOM series of one slice takes its slice spacing from ``SpacingBetweenSlices``, else
``SliceThickness``, else 1 mm. A ``SpacingBetweenSlices`` of 0 (some writers leave it so) gave
1 mm although the file's ``SliceThickness`` said 3: the first positive one of the two is used."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pydicom")
pytest.importorskip("nibabel")

from test_s23_series_read import make_series  # noqa: E402

from mutualfuse.dicom_series import open_series  # noqa: E402


def test_a_zero_spacing_between_slices_falls_back_to_the_thickness(tmp_path):
    make_series(tmp_path / "one", np.random.default_rng(0).integers(0, 4000, (16, 20, 1)), step=3.0,
                SpacingBetweenSlices="0")
    ser = open_series(tmp_path / "one", 10**9)
    assert abs(float(np.linalg.norm(ser.affine[:3, 2])) - 3.0) < 1e-6, ser.affine
