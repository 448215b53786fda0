"""``mutualfuse.tasks.detect_task``: the three rules, their thresholds, degenerate and large inputs."""
from __future__ import annotations

import dataclasses

import numpy as np
from scipy import ndimage

from mutualfuse.image_io import read_gray_float
from mutualfuse.tasks import DEFAULT_RULE, TASK_CHOICES, TASKS, detect_task, task_features
from tolerance import assert_close


def _scene(h=200, w=240, seed=0):
    """A smooth random scene with fine texture, in [0.1, 0.9]."""
    rng = np.random.default_rng(seed)
    x = ndimage.gaussian_filter(rng.random((h, w)), 6) + 0.1 * ndimage.gaussian_filter(rng.random((h, w)), 1)
    x = (x - x.min()) / (x.max() - x.min())
    return 0.1 + 0.8 * x


def test_bundled_samples_are_detected_as_their_task(samples):
    want = {"tno-01": "ir-vis", "lytro-01": "multi-focus", "ct-mr-c01": "medical"}
    for name, task in want.items():
        a, b = (read_gray_float(samples / name / f"{r}.png") for r in "ab")
        assert detect_task(a, b).task == task, (name, detect_task(a, b))


def test_multi_focus_same_scene_blurred_in_complementary_halves():
    s = _scene()
    blur = ndimage.gaussian_filter(s, 3)
    left = np.zeros_like(s, dtype=bool)
    left[:, : s.shape[1] // 2] = True
    a, b = np.where(left, s, blur), np.where(left, blur, s)
    g = detect_task(a, b)
    assert g.task == "multi-focus" and g.corr > 0.99 and g.mean_diff < 1
    # the same scene much brighter in one source is not multi-focus (another modality or exposure)
    assert detect_task(a, np.clip(b + 30 / 255, 0, 1)).task == "ir-vis"


def test_two_modalities_of_an_open_scene_are_ir_vis():
    s, t = _scene(seed=1), _scene(seed=2)
    assert detect_task(s, t).task == "ir-vis"
    assert detect_task(s, 1 - s).task == "ir-vis"  # inverted contrast: correlation −1


def test_a_scanned_body_on_black_in_both_is_medical():
    h, w = 256, 256
    yy, xx = np.mgrid[:h, :w]
    body = ((yy - 128) / 110) ** 2 + ((xx - 128) / 90) ** 2 <= 1
    a = np.where(body, _scene(h, w, seed=3), 0.0)
    b = np.where(body, 1 - _scene(h, w, seed=4), 0.0)  # another contrast of the same body
    g = detect_task(a, b)
    assert g.task == "medical" and g.dark_ring == 1.0
    # the dark border must be dark in *both*: a black frame in one source only is not medical
    assert detect_task(a, _scene(h, w, seed=5)).task == "ir-vis"


def test_threshold_edges_follow_the_rule():
    s = _scene()
    blur = ndimage.gaussian_filter(s, 3)
    corr, dmean, dark = task_features(s, blur)
    assert detect_task(s, blur, dataclasses.replace(DEFAULT_RULE, mf_min_corr=min(1.0, corr + 1e-3))).task != \
        "multi-focus"
    assert detect_task(s, blur, dataclasses.replace(DEFAULT_RULE, mf_min_corr=corr - 1e-3)).task == "multi-focus"
    assert detect_task(s, blur, dataclasses.replace(DEFAULT_RULE, mf_max_mean_diff=-1.0)).task == "ir-vis"


def test_degenerate_and_large_inputs():
    z = np.zeros((40, 50))
    g = detect_task(z, z)  # constant: no correlation defined → 0; both black everywhere → medical
    assert g.corr == 0.0 and g.task == "medical" and np.isfinite([g.corr, g.mean_diff, g.dark_ring]).all()
    assert detect_task(np.full((40, 50), 0.5), np.full((40, 50), 0.5)).task == "ir-vis"
    big = np.kron(_scene(150, 200), np.ones((9, 9)))  # 1350 x 1800: area-downsampled to 150 x 200 first
    g = detect_task(big, big)
    assert g.task == "multi-focus" and g.corr > 0.999
    assert g.describe().startswith("low-pass correlation 1.000")
    assert set(TASKS) < set(TASK_CHOICES) and {"auto", "stored"} < set(TASK_CHOICES)


def test_float32_inputs_give_the_float64_features_up_to_their_rounding():
    """The features are computed in float64 whatever the input; float32 inputs differ only by
    their own rounding (the float32 tolerance of the suite's policy)."""
    s, t = _scene(seed=6), _scene(seed=7)
    assert_close(np.array(task_features(s.astype(np.float32), t.astype(np.float32))),
                 np.array(task_features(s, t)), dtype=np.float32)


def test_area_downsample_is_the_block_mean():
    from mutualfuse.tasks import _area_downsample

    x = np.random.default_rng(8).random((530, 777)).astype(np.float32)
    # 777 / 256 → factor 4: blocks of 4 x 4, the last 2 rows and 1 column dropped
    want = x[:528, :776].astype(np.float64).reshape(132, 4, 194, 4).mean(axis=(1, 3))
    assert_close(_area_downsample(x, 256), want, dtype=np.float64)
    assert _area_downsample(x[:200, :250], 256).shape == (200, 250)


def test_very_elongated_images_have_finite_features(recwarn):
    """A strip with an aspect ratio above 256:1 (3000 × 10: ≥ 8 × 8, so a valid input) had a
    0-pixel downsampled copy: NaN dark ring, 'Mean of empty slice' warnings, correlation 0, and
    two identical sources detected as IR–VIS. The copy now keeps ≥ 8 pixels across."""
    from mutualfuse.tasks import _area_downsample

    s = _scene(3000, 10, seed=9)
    for a in (s, s.T):
        assert min(_area_downsample(a, 256).shape) == 10
        g = detect_task(a, a)
        assert np.isfinite([g.corr, g.mean_diff, g.dark_ring]).all(), g
        assert g.task == "multi-focus" and g.corr > 0.999
    g = detect_task(s, _scene(3000, 10, seed=10))
    assert np.isfinite([g.corr, g.mean_diff, g.dark_ring]).all() and g.task == "ir-vis"
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]
    # ordinary aspect ratios keep the factor that brings the longer side to <= 256
    assert _area_downsample(np.zeros((530, 777)), 256).shape == (132, 194)
    assert _area_downsample(np.zeros((2000, 64)), 256).shape == (250, 8)  # 32:1: still the full factor 8


def test_features_do_not_depend_on_the_blas_thread_count(samples):
    """The correlation used np.dot, whose summation order follows OpenBLAS's thread count: the
    bundled TNO pair's correlation differed in the last digit between 1 and 2 threads, so a pair
    at a threshold could be detected differently on another machine. Now bit-identical."""
    threadpoolctl = __import__("pytest").importorskip("threadpoolctl")
    for name in ("tno-01", "lytro-01", "ct-mr-c01"):
        a, b = (read_gray_float(samples / name / f"{r}.png") for r in "ab")
        feats = []
        for n in (1, 2, 3):
            with threadpoolctl.threadpool_limits(n, "blas"):
                feats.append(task_features(a, b))
        assert feats[0] == feats[1] == feats[2], (name, feats)
