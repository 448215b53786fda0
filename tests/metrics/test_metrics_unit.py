"""Unit tests of the metric library: conversions, registry, properties of the metrics."""
from __future__ import annotations

import math

import numpy as np
import pytest

import mutualfuse.metrics as M
from mutualfuse.errors import InputError, ParameterError
from mutualfuse.metrics import _common as C
from tolerance import assert_close


def _pair(n=96, seed=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:n, 0:n]
    base = 128 + 60 * np.sin(xx / 7.0) * np.cos(yy / 11.0)
    a = np.clip(base + rng.normal(0, 12, base.shape), 0, 255).round().astype(np.uint8)
    b = np.clip(255 - base + rng.normal(0, 12, base.shape), 0, 255).round().astype(np.uint8)
    f = ((a.astype(int) + b + 1) // 2).astype(np.uint8)
    return a, b, f


def test_rgb2gray_weights_are_matlabs():
    assert C.RGB2GRAY_WEIGHTS == pytest.approx([0.298936021293775, 0.587043074451121, 0.114020904255103],
                                               abs=1e-15)


def test_rgb2gray_rounds_half_away_and_keeps_dtype():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
    g = C.rgb2gray_matlab(x)
    d = x.astype(float) @ C.RGB2GRAY_WEIGHTS
    assert g.dtype == np.uint8
    np.testing.assert_array_equal(g, np.floor(d + 0.5))
    assert C.round_half_away(np.array([0.5, 1.5, 2.5, -0.5])).tolist() == [1, 2, 3, -1]
    x16 = (x.astype(np.uint16) * 257)
    assert C.rgb2gray_matlab(x16).dtype == np.uint16


def test_as255_scales_16bit_and_rejects_bad_shapes():
    x = np.array([[0, 65535]], dtype=np.uint16)
    np.testing.assert_allclose(C.as255(x), [[0, 255]])
    with pytest.raises(InputError):
        C.as255(np.zeros((4, 4, 2)))
    with pytest.raises(InputError):
        M.qabf(np.zeros((8, 8)), np.zeros((8, 8)), np.zeros((8, 9)))


def test_every_entry_has_complete_metadata_and_a_docstring():
    assert len(M.METRICS) >= 28
    for e in M.METRICS:
        for k in ("metric", "source", "direction", "higher_is_better", "uses_sources", "reference", "convention",
                  "slow", "checked"):
            assert k in e.meta, (e.name, k)
        assert e.meta["source"] in ("rfn-nest", "nestfuse", "vifb", "liu", "han", "extra")
        assert e.meta["higher_is_better"] == {"higher": True, "lower": False, "zero": None}[e.meta["direction"]]
        assert e.obj.__doc__ and len(e.obj.__doc__) > 80, e.name


@pytest.mark.parametrize("name", [e.name for e in M.METRICS])
def test_every_metric_is_finite_and_deterministic(name):
    a, b, f = _pair(192 if name == "MS_SSIM@wang" else 96)
    fn = M.METRICS.get(name)
    v = fn(a, b, f)
    assert isinstance(v, float) and math.isfinite(v)
    assert fn(a, b, f) == v
    if not M.METRICS.meta(name)["uses_sources"]:
        z = np.zeros_like(a)
        assert fn(z, z, f) == v


@pytest.mark.parametrize("name", [e.name for e in M.METRICS if not e.meta["slow"] and e.name != "MS_SSIM@wang"])
def test_colour_input_equals_its_matlab_gray(name):
    a, b, f = _pair(96 if name == "VIFF@han" else 64, seed=3)  # VIFF needs >= 81 px per side
    rgb = np.stack([f, np.roll(f, 3, axis=1), 255 - f], axis=2).astype(np.uint8)
    fn = M.METRICS.get(name)
    assert fn(a, b, rgb) == fn(a, b, C.rgb2gray_matlab(rgb))


def test_identity_properties():
    a, _, _ = _pair(96)
    assert M.ssim(a, a, a, "nestfuse") == pytest.approx(1.0, abs=1e-12)
    assert M.rmse(a, a, a) == 0.0
    assert M.ce(a, a, a) == 0.0
    assert M.vif(a, a, a) == pytest.approx(1.0, abs=1e-6)
    assert M.METRICS.get("MI@bits")(a, a, a) == pytest.approx(2 * M.en(a), abs=1e-12)
    assert M.fmi(a, a, a) == 1.0


def test_wang_ms_ssim_identity_and_size_check():
    a, b, f = _pair(192)
    assert M.ms_ssim_wang(a, a, a) == pytest.approx(1.0, abs=1e-12)
    assert 0 < M.ms_ssim(a, b, f, convention="wang") < 1
    with pytest.raises(ValueError):
        M.ms_ssim_wang(*_pair(96))


def test_symmetric_metrics_do_not_depend_on_source_order():
    a, b, f = _pair(80, seed=5)
    for name in ("Qabf@vifb", "Qcb@vifb", "Qcv@vifb", "SSIM@vifb", "PSNR@vifb", "MI@vifb", "CE@vifb",
                 "SCD@rfn-nest", "Nabf@rfn-nest", "SSIM@nestfuse"):
        fn = M.METRICS.get(name)
        assert fn(a, b, f) == pytest.approx(fn(b, a, f), rel=1e-12), name


def test_vifb_qabf_quirk_is_reproduced():
    """Where g_A == g_F VIFB sets the strength ratio G to g_F, not 1.

    F = A: every pixel with weight (g_A > 0, or g_B > 0 on the zero-padded border, where
    g_B == g_F too) has g_X == g_F and equal angles (A^{XF} = 1). With the quirk G = g_F, a
    multiple of 255 here, so the sigmoid saturates at T_g and Q = T_g T_a / (1 + e^{-22 (1 - 0.8)})
    exactly; the textbook ratio G = 1 would give T_g / (1 + e^{-15 (1 - 0.5)}) times that.
    """
    z = np.full((32, 32), 100, np.uint8)
    a = z.copy()
    a[10:20, 10:20] = 200
    Tg, Ta = 0.9994, 0.9879
    quirk = Tg * Ta / (1 + math.exp(-22 * 0.2))  # 0.97533...
    textbook = quirk / (1 + math.exp(-15 * 0.5))  # 0.97479...: 5.5e-4 lower, far above rounding
    with np.errstate(all="ignore"):
        v = M.qabf(a, z, a)
    assert_close(v, quirk, dtype=np.float64)
    assert abs(v - textbook) > 1e-4
    assert_close(M.qabf(a, a, a), quirk, dtype=np.float64)  # not 1: identical images do not score 1


def test_spyr_helpers_agree():
    from mutualfuse.metrics import fidelity as V

    x = _pair(64)[0].astype(float)
    full = V._wtree(V.build_spyr(x, 4))
    part = V._tree(x, 4)
    for k, band in part.items():
        np.testing.assert_allclose(band, full[k], rtol=0, atol=1e-12)
    assert len(full) == 26


def test_evaluate_pair_profiles_and_errors():
    a, b, f = _pair(96)
    r = M.evaluate_pair(a, b, f, profile="paper")
    assert list(r) == ["EI", "SF", "EN", "Qabf", "SCD", "MS_SSIM", "MI", "SD", "VIF"]
    t = {}
    r2 = M.evaluate_pair(a, b, f, metrics=["qabf@VIFB"], timings=t)
    assert r2 == {"Qabf@vifb": r["Qabf"]} and t["Qabf@vifb"] >= 0
    default = M.evaluate_pair(a, b, f)
    assert "EN@rfn-nest" in default and "VIF@nestfuse" not in default
    with pytest.raises(ParameterError, match="did you mean"):
        M.evaluate_pair(a, b, f, metrics=["Qabf@vifbb"])
    with pytest.raises(ParameterError):
        M.evaluate_pair(a, b, f, profile="nope")
    with pytest.raises(ValueError):
        M.sd(f, convention="nope")


def test_size_limits_are_errors_not_nans():
    with pytest.raises(ValueError, match="65 pixels"):
        M.vif(*_pair(64))
    assert math.isfinite(M.vif(*_pair(65)))
    with pytest.raises(ValueError, match="44"):
        M.mef_ssim(*_pair(40))


def test_direction_closer_to_zero_is_honest():
    """Q_SF's ideal is 0 (negative = detail lost, positive = detail added): its direction is "zero",
    and every consumer ranks it by |value| (evaluate's best mark, the benchmark table's ranks)."""
    from mutualfuse.benchmark.table import Column, Row, Table
    from mutualfuse.cli.evaluate import _best

    assert M.METRICS.meta("Qsf@liu")["direction"] == "zero"
    assert M.METRICS.meta("Qsf@liu")["higher_is_better"] is None
    assert [e.name for e in M.METRICS if e.meta["direction"] == "zero"] == ["Qsf@liu"]
    assert M.goodness("Qsf@liu", -0.05) > M.goodness("Qsf@liu", 0.2) > M.goodness("Qsf@liu", -0.3)
    assert M.goodness("Nabf@rfn-nest", 0.1) > M.goodness("Nabf@rfn-nest", 0.2)
    assert M.goodness("Qabf@vifb", 0.2) > M.goodness("Qabf@vifb", 0.1)
    assert _best([-0.3, 0.02, 0.2, -0.02], "Qsf@liu") == {1, 3}
    assert _best([-0.3, 0.02, 0.2], "Qabf@vifb") == {2}
    col = Column("Qsf", "Qsf@liu", None)
    rows = [Row(id=k, label=k, values={"Qsf": v}) for k, v in (("a", -0.3), ("b", 0.05), ("c", 0.1))]
    ranks = Table(id="t", title="t", columns=[col], rows=rows).ranks()
    assert ranks == {("b", "Qsf"): 1, ("c", "Qsf"): 2, ("a", "Qsf"): 3}
    assert col.heading.endswith("→0")


def test_emulated_fma_is_correctly_rounded():
    """``liu_structural._fma`` (Q_C / Q_Y's emulation of OpenBLAS's fused daxpy) equals the exactly
    rounded a·w + c (Python's int/int division rounds correctly), including products and sums
    whose rounding differs from two separate roundings."""
    from fractions import Fraction

    from mutualfuse.metrics.liu_structural import _fma, _split

    rng = np.random.default_rng(3)
    x = np.concatenate([rng.integers(0, 65026, 4000).astype(float), rng.uniform(-300, 300, 4000)])
    c = np.concatenate([rng.uniform(0, 300, 4000), rng.uniform(-1e3, 1e3, 4000)])
    c[::7] = -np.round(x[::7] * 0.0123, 3)  # cancellation: a·w + c close to 0
    w = 0.012345678901234567
    xh, xl = _split(x)
    wh, wl = _split(np.float64(w))
    got = _fma(xh, xl, x, wh, wl, w, c.copy())
    exact = np.array([float(Fraction(xi) * Fraction(w) + Fraction(ci)) for xi, ci in zip(x, c)])
    assert np.array_equal(got, exact)
    assert not np.array_equal(x * w + c, exact)  # the test has cases where fusing matters


def test_qc_qy_exact_path_only_where_it_matters(monkeypatch):
    """Q_C / Q_Y recompute Octave's rounding only in noise-sensitive windows; computing every
    window that way (threshold ∞) gives the same value on sources with flat areas, where the
    separable filter alone gives other clip decisions."""
    import mutualfuse.metrics.liu_structural as S

    rng = np.random.default_rng(11)
    a = rng.integers(0, 256, (60, 70)).astype(float)
    a[0:25, 0:30] = 80.0
    b = rng.integers(0, 256, (60, 70)).astype(float)
    b[30:60, 35:70] = 200.0
    f = np.round((a + b) / 2)
    fast = (S.qc(a, b, f), S.qy(a, b, f))
    monkeypatch.setattr(S, "_NOISE_REL", np.inf)  # every window in Octave's rounding
    exact = (S.qc(a, b, f), S.qy(a, b, f))
    assert all(np.isfinite(exact))
    assert fast == pytest.approx(exact, rel=1e-12)
    monkeypatch.setattr(S, "_NOISE_REL", -1.0)  # no window: the separable filter alone
    assert S.qc(a, b, f) != pytest.approx(exact[0], rel=1e-3)  # flat windows decide Q_C here


@pytest.mark.parametrize("shape", [(48, 64), (37, 51)])
def test_compiled_phase_congruency_equals_the_numpy_formulas(shape, samples):
    """Q_P's phase congruency runs its per-pixel work compiled (numba); the NumPy array
    expressions it replaced stay as the reference. Same PC, M and m maps (float64 tolerance), on
    a real image cropped to an even and an odd size (Kovesi's grid differs), with the cached
    filter bank and with a fresh one."""
    from PIL import Image

    from mutualfuse.metrics import liu_phase as P

    assert P._kernels() is not None
    img = np.asarray(Image.open(samples / "tno-01" / "b.png").convert("L"), dtype=np.float64)
    im = img[40 : 40 + shape[0], 60 : 60 + shape[1]]
    cfg = P.PhaseCongruencyConfig()
    ref = P._phase_congruency_numpy(im, cfg, P._FilterBank(*shape, cfg))
    for got in (P.phase_congruency(im, cfg), P.phase_congruency(im, cfg, P.filter_bank(*shape, cfg))):
        for g, r in zip(got, ref):
            assert np.isfinite(g).all() and g.shape == shape
            assert_close(g, r)
    assert P.filter_bank(*shape, cfg) is P.filter_bank(*shape, cfg)
    assert not P.filter_bank(*shape, cfg).log_gabor[0].flags.writeable
