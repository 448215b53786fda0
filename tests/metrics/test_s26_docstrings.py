"""Audit s26: the docstring of every registered metric and training loss states its formula,
reference, direction and a runnable example, and what it states is what the code computes.

* every registered key's function (``METRICS``) and every loss (``LOSSES``) has a ``>>>``
  example, run by ``test_docstring_examples.py`` (its module is in that runner's list), a
  reference (a paper or the reference code's file) and the registry's direction in words
  (before s26: no example for Nabf, MS_SSIM@rfn-nest, SSIM_AF/BF, VIF_AF/BF, the three FMI
  keys, CE, Qte_cvejic, Qw, Qc, Qcv@liu, Qcb@liu, MI@bits, MS_SSIM@wang);
* the documented formulas, recomputed here independently in NumPy / SciPy on small images
  (log base, input range, border, window, quirks), give the code's values;
* the ranges that the PSNR and SD docstrings and docs/metrics.md quote are those of the
  conformance table (before s26 PSNR quoted "≈ 59–70 dB on the IR–VIS sets": TNO's rows are
  56.3–61.6 dB).
"""
from __future__ import annotations

import csv
import doctest
import importlib.util
import inspect
import re
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage
from scipy.signal import convolve2d, correlate2d

from metrics_shared import TSV, needs_shared
from tolerance import assert_close

import mutualfuse.metrics as M
from mutualfuse.losses import LOSSES
from mutualfuse.metrics import METRICS, RGB2GRAY_WEIGHTS

REPO = Path(__file__).resolve().parents[2]
DOC = (REPO / "docs" / "metrics.md").read_text(encoding="utf-8")
_NOTE = "Inputs (all metric functions)"


def _runner_modules() -> list[str]:
    spec = importlib.util.spec_from_file_location("_s26_runner", Path(__file__).with_name("test_docstring_examples.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.MODULES


RUNNER = _runner_modules()


def _own_doc(fn) -> str:
    """The function's own docstring, without the input note that ``metrics/__init__`` appends."""
    return (inspect.getdoc(inspect.unwrap(fn)) or "").split(_NOTE)[0]


def _examples(fn) -> int:
    target = inspect.unwrap(fn)
    tests = doctest.DocTestFinder(recurse=False).find(target, target.__name__,
                                                      globs={}, module=inspect.getmodule(target))
    return sum(len(t.examples) for t in tests)


_DIRECTION = {"higher": r"[Hh]igher is better", "lower": r"[Ll]ower is better", "zero": r"[Cc]loser to 0 is better"}


@pytest.mark.parametrize("key", [k for k in METRICS.names() if METRICS.meta(k)["source"] != "own"])
def test_every_registered_metric_documents_formula_reference_direction_and_example(key):
    fn = inspect.unwrap(METRICS.get(key))
    doc = _own_doc(fn)
    assert doc, f"{key}: {fn.__name__} has no docstring"
    assert _examples(fn) > 0, f"{key}: the docstring of {fn.__module__}.{fn.__name__} has no >>> example"
    assert fn.__module__ in RUNNER, f"{key}: {fn.__module__} is not run by test_docstring_examples.py"
    assert re.search(r"Reference|\w\.m\b", doc), f"{key}: {fn.__name__}'s docstring names no reference"
    direction = METRICS.meta(key)["direction"]
    assert re.search(_DIRECTION[direction], doc), f"{key}: {fn.__name__}'s docstring does not say '{direction}'"
    assert "=" in doc, f"{key}: {fn.__name__}'s docstring states no formula"


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_every_registered_loss_documents_formula_shapes_and_example(name):
    fn = LOSSES[name]
    doc = inspect.getdoc(fn) or ""
    assert _examples(fn) > 0, name
    assert fn.__module__ in RUNNER, name
    assert "(B, 1, H, W)" in doc and "[0, 1]" in doc, f"{name}: shapes / range not stated"
    assert re.search(r"L\w* = ", doc), f"{name}: no formula"


def test_the_documented_rgb2gray_weights_are_the_code_s():
    note = M.en.__doc__[M.en.__doc__.index(_NOTE):]
    weights = [float(w) for w in re.search(r"rgb2gray`` \(([0-9., \n]+);", note).group(1).replace("\n", " ").split(",")]
    assert_close(np.array(weights), RGB2GRAY_WEIGHTS, dtype=np.float64)


# ---- the documented formulas, recomputed by hand ---------------------------------------------

_rng = np.random.default_rng(26)
A, B = _rng.integers(0, 256, (2, 40, 48)).astype(np.float64)
F = np.clip(np.round((A + B) / 2 + _rng.normal(0, 5, A.shape)), 0, 255)
N = F.size


def _entropy(counts, log) -> float:
    p = counts[counts > 0] / counts.sum()
    return float(-np.sum(p * log(p)))


def _hist(x) -> np.ndarray:
    return np.bincount(x.astype(np.int64).ravel(), minlength=256).astype(np.float64)


def _mi(x, y, log) -> float:
    joint = np.zeros((256, 256))
    np.add.at(joint, (x.astype(np.int64).ravel(), y.astype(np.int64).ravel()), 1)
    return _entropy(joint.sum(1), log) + _entropy(joint.sum(0), log) - _entropy(joint.ravel(), log)


def _round_half_away(x):
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def _normalize1(x):
    return _round_half_away((x - x.min()) / (x.max() - x.min()) * 255)


def _gauss(n, sigma):
    r = (n - 1) / 2
    xx, yy = np.meshgrid(np.arange(-r, r + 1), np.arange(-r, r + 1))
    w = np.exp(-(xx ** 2 + yy ** 2) / (2 * sigma ** 2))
    return w / w.sum()


def _ssim_map(x, y, filt, c1, c2):
    mx, my = filt(x), filt(y)
    sx, sy, sxy = filt(x * x) - mx ** 2, filt(y * y) - my ** 2, filt(x * y) - mx * my
    return (2 * mx * my + c1) * (2 * sxy + c2) / ((mx ** 2 + my ** 2 + c1) * (sx + sy + c2)), sx, sy, sxy


def _en():  # 256 bins, log2
    return _entropy(_hist(F), np.log2)


def _sd_rfn():  # 0-1 image, no division by N
    x = F / 255
    return float(np.sqrt(np.sum((x - x.mean()) ** 2)))


def _sf():  # each sum of squared differences divided by M·N
    return float(np.sqrt((np.sum(np.diff(F, axis=1) ** 2) + np.sum(np.diff(F, axis=0) ** 2)) / N))


def _ag():  # MATLAB gradient (central inside, one-sided at the border), sum over M·N / ((M-1)(N-1))
    gx, gy = np.empty_like(F), np.empty_like(F)
    gx[:, 1:-1] = (F[:, 2:] - F[:, :-2]) / 2
    gx[:, 0], gx[:, -1] = F[:, 1] - F[:, 0], F[:, -1] - F[:, -2]
    gy[1:-1] = (F[2:] - F[:-2]) / 2
    gy[0], gy[-1] = F[1] - F[0], F[-1] - F[-2]
    return float(np.sum(np.sqrt((gx ** 2 + gy ** 2) / 2)) / ((F.shape[0] - 1) * (F.shape[1] - 1)))


def _ei():  # imfilter with fspecial('sobel') and its transpose, replicated border
    p = np.pad(F, 1, mode="edge")
    k = np.array([[1.0, 2, 1], [0, 0, 0], [-1, -2, -1]])
    return float(np.mean(np.hypot(correlate2d(p, k, "valid"), correlate2d(p, k.T, "valid"))))


def _d():
    return (np.linalg.norm(A - F) / N + np.linalg.norm(B - F) / N) / 2  # Frobenius norm not squared, / N


def _psnr():
    return float(20 * np.log10(255 / np.sqrt(_d())))


def _ce():  # log2, only the levels where both are non-zero
    pf = _hist(F) / N
    out = 0.0
    for x in (A, B):
        px = _hist(x) / N
        m = (px > 0) & (pf > 0)
        out += np.sum(px[m] * np.log2(px[m] / pf[m]))
    return float(out / 2)


def _mi_vifb():  # min-max requantised, nats
    q = [_round_half_away((x - x.min()) / (x.max() - x.min()) * 255) for x in (A, B, F)]
    return _mi(q[0], q[2], np.log) + _mi(q[1], q[2], np.log)


def _mi_bits():
    return _mi(A, F, np.log2) + _mi(B, F, np.log2)


def _scd():
    def corr2(x, y):
        return np.corrcoef(x.ravel(), y.ravel())[0, 1]

    return float(corr2(F - B, A) + corr2(F - A, B))


def _qabf():  # on 255·x, conv2 'same', gA == gF -> gF, no square root
    def edges(x):
        sx = convolve2d(x, np.array([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]]), mode="same")
        sy = convolve2d(x, np.array([[1.0, 2, 1], [0, 0, 0], [-1, -2, -1]]), mode="same")
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.hypot(sx, sy), np.where(sx == 0, np.pi / 2, np.arctan(sy / sx))

    (ga, aa), (gb, ab), (gf, af) = (edges(255 * x) for x in (A, B, F))

    def q(gx, ax):
        with np.errstate(divide="ignore", invalid="ignore"):
            g = np.where(gx > gf, gf / gx, np.where(gx == gf, gf, gx / gf))
        a = 1 - np.abs(ax - af) / (np.pi / 2)
        return 0.9994 / (1 + np.exp(-15 * (g - 0.5))) * 0.9879 / (1 + np.exp(-22 * (a - 0.8)))

    return float(np.sum(q(ga, aa) * ga + q(gb, ab) * gb) / np.sum(ga + gb))


def _nabf():  # 0-1 images: every weight 0.001, so Σ over gF > gA, gB of (2 - QAF - QBF) / 2N
    def parts(x):
        p = np.pad(x / 255, 1, mode="reflect")  # mirror without repeating the edge
        v = np.array([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]]) / 8
        gv, gh = correlate2d(p, v, "valid"), correlate2d(p, v.T, "valid")
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.hypot(gv, gh), np.where((gv == 0) & (gh == 0), 0.0, np.arctan(gv / gh))

    (ga, aa), (gb, ab), (gf, af) = (parts(x) for x in (A, B, F))

    def q(gx, ax):
        with np.errstate(divide="ignore", invalid="ignore"):
            g = np.where((gx == 0) | (gf == 0), 0.0, np.minimum(gx, gf) / np.maximum(gx, gf))
        a = np.abs(np.abs(ax - af) - np.pi / 2) * 2 / np.pi
        return np.sqrt(0.9999 / (1 + np.exp(-19 * (g - 0.5))) * 0.9995 / (1 + np.exp(-22 * (a - 0.5))))

    assert max(ga.max(), gb.max()) < 2  # the documented reason why every weight is 0.001
    mask = (gf > ga) & (gf > gb)
    return float(np.sum(mask * (2 - q(ga, aa) - q(gb, ab))) / (2 * N))


def _ssim_nestfuse():  # IPT ssim on 0-1 data: L = 1, Gaussian 11x11 σ 1.5, replicated border, full map
    w = _gauss(11, 1.5)

    def filt(z):
        return ndimage.correlate(z, w, mode="nearest")

    return float((_ssim_map(F / 255, A / 255, filt, 1e-4, 9e-4)[0].mean()
                  + _ssim_map(F / 255, B / 255, filt, 1e-4, 9e-4)[0].mean()) / 2)


def _ssim_vifb():  # a sum, L = 255, 'valid'
    w = _gauss(11, 1.5)

    def filt(z):
        return correlate2d(z, w, "valid")

    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    return float(_ssim_map(B, F, filt, c1, c2)[0].mean() + _ssim_map(A, F, filt, c1, c2)[0].mean())


def _qmi():  # normalize1, 2·[I(A,F)/(H(A)+H(F)) + I(B,F)/(H(B)+H(F))], log2
    a, b, f = (_normalize1(x) for x in (A, B, F))

    def h(x):
        return _entropy(_hist(x), np.log2)

    return 2 * (_mi(a, f, np.log2) / (h(a) + h(f)) + _mi(b, f, np.log2) / (h(b) + h(f)))


def _qncie():  # NCC = MI/8 (256 gray-level bins), Q = 1 + Σ (r/3)·log_256(r/3)
    a, b, f = (_normalize1(x) for x in (A, B, F))
    n_ab, n_af, n_bf = (_mi(x, y, np.log2) / 8 for x, y in ((a, b), (a, f), (b, f)))
    r = np.linalg.eigvalsh(np.array([[1, n_ab, n_af], [n_ab, 1, n_bf], [n_af, n_bf, 1]]))
    return float(1 + np.sum(r / 3 * np.log(r / 3) / np.log(256)))


def _qsf():
    def diffs(x):
        return (x[:, :-1] - x[:, 1:], x[:-1] - x[1:], x[1:, 1:] - x[:-1, :-1], x[1:, :-1] - x[:-1, 1:])

    w = (1, 1, np.sqrt(2) / 2, np.sqrt(2) / 2)
    sf_f = np.sqrt(sum(wk * np.sum(d ** 2) / N for wk, d in zip(w, diffs(F))))
    sf_r = np.sqrt(sum(wk * np.sum(np.maximum(np.abs(x), np.abs(y)) ** 2) / N
                       for wk, x, y in zip(w, diffs(A), diffs(B))))
    return float((sf_f - sf_r) / sf_r)


def _qg():  # zero-padded Sobel, 1e-5 for zero strengths, Γ = 1 sigmoids, per-pixel normalised mean
    def sobel(x):
        k = np.array([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]])
        p = np.pad(x, 1)
        gx, gy = correlate2d(p, k, "valid"), correlate2d(p, k.T, "valid")
        return np.hypot(gx, gy), np.arctan(gy / np.where(gx == 0, 1e-5, gx))

    (ga, aa), (gb, ab), (gf, af) = (sobel(x) for x in (A, B, F))
    gf = np.where(gf == 0, 1e-5, gf)

    def q(gx, ax):
        gx = np.where(gx == 0, 1e-5, gx)
        g = np.minimum(gx, gf) / np.maximum(gx, gf)
        a = np.abs(np.abs(ax - af) - np.pi / 2) * 2 / np.pi
        return 1 / (1 + np.exp(-10 * (g - 0.5))) / (1 + np.exp(-20 * (a - 0.75))), gx

    (qa, wa), (qb, wb) = q(ga, aa), q(gb, ab)
    return float(np.mean((qa * wa + qb * wb) / (wa + wb)))


def _qm():  # 2-level orthonormal Haar, EP a sum of three exponentials, Q_1^(2/3)·Q_2^(1/3)
    def bands(x):
        out = []
        for _ in range(2):
            p, q, r, s = x[0::2, 0::2], x[0::2, 1::2], x[1::2, 0::2], x[1::2, 1::2]
            out.append(((q + s - p - r) / 2, (r + s - p - q) / 2, (p + s - q - r) / 2))
            x = (p + q + r + s) / 2
        return out

    qs = []
    for la, lb, lf in zip(bands(A), bands(B), bands(F)):
        wa, wb = sum(x * x for x in la), sum(x * x for x in lb)
        ea = sum(np.exp(-np.abs(x - y)) for x, y in zip(la, lf))
        eb = sum(np.exp(-np.abs(x - y)) for x, y in zip(lb, lf))
        qs.append(np.sum(ea * wa + eb * wb) / np.sum(wa + wb))
    return float(qs[0] ** (2 / 3) * qs[1] ** (1 / 3))


def _piella():
    w = _gauss(11, 1.5)

    def filt(z):
        return correlate2d(z, w, "valid")

    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    _, sa, sb, _ = _ssim_map(A, B, filt, c1, c2)
    lam = sa / (sa + sb)
    val = lam * _ssim_map(F, A, filt, c1, c2)[0] + (1 - lam) * _ssim_map(F, B, filt, c1, c2)[0]
    return val, np.maximum(sa, sb)


def _qs():
    return float(_piella()[0].mean())


def _qw():
    val, c = _piella()
    return float(np.sum(c / c.sum() * val))


def _uiqi7():
    w = _gauss(7, 1.5)

    def filt(z):
        return correlate2d(z, w, "valid")

    return {k: _ssim_map(x, y, filt, 2e-16, 2e-16) for k, (x, y) in
            {"ab": (A, B), "af": (A, F), "bf": (B, F)}.items()}


def _qc():  # μ = σ_AF/(σ_AF + σ_BF); the score (not μ) clipped to 0 / 1
    m = _uiqi7()
    mu = m["af"][3] / (m["af"][3] + m["bf"][3])
    s = mu * m["af"][0] + (1 - mu) * m["bf"][0]
    s[mu < 0], s[mu > 1] = 0.0, 1.0
    return float(s.mean())


def _qy():  # λ-weighted where UIQI(A,B) ≥ 0.75, else the max
    m = _uiqi7()
    lam = m["ab"][1] / (m["ab"][1] + m["ab"][2])
    q = np.where(m["ab"][0] >= 0.75, lam * m["af"][0] + (1 - lam) * m["bf"][0], np.fmax(m["af"][0], m["bf"][0]))
    return float(q.mean())


HAND = {
    "EN@vifb": _en, "EN@rfn-nest": _en, "SD@vifb": lambda: float(F.std()), "SD@rfn-nest": _sd_rfn,
    "MI@rfn-nest": lambda: 2 * _en(), "SF@vifb": _sf, "AG@vifb": _ag, "EI@vifb": _ei,
    "PSNR@vifb": _psnr, "RMSE@vifb": _d, "CE@vifb": _ce, "MI@vifb": _mi_vifb, "MI@bits": _mi_bits,
    "SCD@rfn-nest": _scd, "Qabf@vifb": _qabf, "Nabf@rfn-nest": _nabf, "SSIM@nestfuse": _ssim_nestfuse,
    "SSIM@vifb": _ssim_vifb, "Qmi@liu": _qmi, "Qncie@liu": _qncie, "Qsf@liu": _qsf, "Qg@liu": _qg,
    "Qm@liu": _qm, "Qs@liu": _qs, "Qw@liu": _qw, "Qc@liu": _qc, "Qy@liu": _qy,
}


@pytest.mark.parametrize("key", sorted(HAND))
def test_the_documented_formula_computed_by_hand_gives_the_code_s_value(key):
    # float64 on both sides: independent code paths (other filters, other summation orders)
    assert_close(METRICS.get(key)(A, B, F), HAND[key](), dtype=np.float64, msg=key)


# ---- the ranges quoted in the docstrings and docs/metrics.md ---------------------------------


def _ranges(metric: str, method: str | None = None) -> dict[str, tuple[float, float]]:
    out: dict[str, list[float]] = {}
    with open(TSV, newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            if row["metric"] == metric and (method is None or row["method"].startswith(method)):
                out.setdefault(row["set"], []).append(float(row["value"]))
    return {s: (min(v), max(v)) for s, v in out.items()}


def _psnr_row() -> str:
    return next(line for line in DOC.splitlines() if line.startswith("| `PSNR@vifb`"))


@needs_shared
def test_the_psnr_ranges_quoted_are_the_conformance_table_s():
    r = _ranges("PSNR@vifb")
    quoted = [f"{r[s][0]:.1f}–{r[s][1]:.1f} dB" for s in ("ir-vis/tno", "multi-focus/lytro", "medical/ct-mr")]
    doc = " ".join(M.psnr.__doc__.split())
    for q in quoted:
        assert q in doc, (q, "metrics.psnr")
        assert q in _psnr_row(), (q, "docs/metrics.md")


@needs_shared
def test_the_sd_range_quoted_for_lytro_is_the_conformance_table_s():
    lo, hi = _ranges("SD@rfn-nest", "ifcnn")["multi-focus/lytro"]
    with open(TSV, newline="") as fh:
        paper_row = [float(r["value"]) for r in csv.DictReader(fh, delimiter="\t")
                     if r["metric"] == "SD@rfn-nest" and r["set"] == "multi-focus/lytro" and r["method"] == "ifcnn-max"]
    quoted = f"{lo:.0f}–{hi:.0f} for IFCNN's outputs on the 520×520 Lytro images, ≈{np.mean(paper_row):.0f} on average"
    assert quoted in " ".join(M.sd.__doc__.split())
    assert quoted in next(line for line in DOC.splitlines() if line.startswith("| `SD@rfn-nest`"))


def test_viff_size_limit_is_documented_as_the_port_s_not_the_formula_s():
    """VIFF's docstring gave its 81-pixel limit as "the 'valid' windows at scale 4"; those exist
    from 41 pixels per side (the NumPy version scores a 41×41 triple), so the limit is the port's."""
    from mutualfuse.errors import ImageTooSmallError
    from mutualfuse.metrics.viff import _viff_numpy

    a, b = np.random.default_rng(0).integers(0, 256, (2, 41, 41)).astype(np.float64)
    assert np.isfinite(_viff_numpy(a, b, (a + b) / 2))
    with pytest.raises(ImageTooSmallError, match="81"):
        M.viff(a, b, (a + b) / 2)
    doc = " ".join(M.viff.__doc__.split())
    assert "Images under 81 pixels per side are refused" in doc and "from 41 pixels per side" in doc
    assert "(the 'valid' windows at scale 4)" not in doc


def _meta_line(field: str) -> str:
    doc = M.__doc__
    start = doc.index(f"``{field}``")
    return " ".join(doc[start:doc.index("\n``", start + 1)].split())


def test_the_package_docstring_names_every_metric_without_sources_and_every_slow_one():
    """``uses_sources`` listed EN, SD, AG, EI, SF but not MI@rfn-nest (registered False: 2·EN(F));
    ``slow`` listed VIF, FMI but not Q_P (registered slow)."""
    line = _meta_line("uses_sources")
    for key in METRICS.names():
        meta = METRICS.meta(key)
        if meta["source"] != "own" and not meta["uses_sources"]:
            assert meta["metric"] in line and (meta["metric"] != "MI" or key in line), (key, line)
    short = {"VIF": "VIF", "VIF_AF": "VIF", "VIF_BF": "VIF", "Qp": "Q_P"}
    line = _meta_line("slow")
    for key in METRICS.names():
        meta = METRICS.meta(key)
        if meta["source"] != "own" and meta["slow"]:
            name = short.get(meta["metric"], meta["metric"].split("_")[0])
            assert name in line, (key, line)


# ---- the losses' documented formulas, by hand (L = 1, Gaussian 11×11 σ 1.5, 'valid') ---------


def _loss_inputs():
    import torch

    x, y, f = (torch.from_numpy(v[None, None] / 255) for v in (A, B, F))
    return x, y, f


def _ssim_by_hand(s, t):
    w = _gauss(11, 1.5)

    def filt(z):
        return correlate2d(z, w, "valid")

    m, vs, _, _ = _ssim_map(s, t, filt, 0.01 ** 2, 0.03 ** 2)
    mu = filt(s)
    return m, vs, mu


def test_var_and_mean_ssim_losses_are_their_documented_formulas():
    from mutualfuse.losses import mean_ssim_loss, var_ssim_loss

    x, y, f = _loss_inputs()
    (sx, vx, mx), (sy, vy, my) = _ssim_by_hand(A / 255, F / 255), _ssim_by_hand(B / 255, F / 255)
    # Eq. 4–5: per window the source of the larger variance (Y on ties), 1 − the mean SSIM
    assert_close(var_ssim_loss(x, y, f).item(), 1 - np.where(vx > vy, sx, sy).mean(), dtype=np.float64)
    # VIF-Net: the source of the larger local mean
    assert_close(mean_ssim_loss(x, y, f).item(), 1 - np.where(mx > my, sx, sy).mean(), dtype=np.float64)


def test_gradient_and_truth_terms_are_their_documented_formulas():
    import torch

    from mutualfuse.losses import max_gradient_loss, truth_loss

    x, y, f = _loss_inputs()

    def grad(z):  # Sobel by correlation, 'valid', sqrt(gx² + gy² + 1e-12)
        k = np.array([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]])
        return np.sqrt(correlate2d(z, k, "valid") ** 2 + correlate2d(z, k.T, "valid") ** 2 + 1e-12)

    ga, gb, gf = (grad(v / 255) for v in (A, B, F))
    assert_close(max_gradient_loss(x, y, f).item(), np.abs(gf - np.maximum(ga, gb)).mean(), dtype=np.float32)
    # L_truth = (1/B) Σ m_i [(1 − mean SSIM(F_i, T_i)) + mean |F_i − T_i| + γ mean ||∇F_i| − |∇T_i||]
    t = torch.cat([x, y])
    out = torch.cat([f, f])
    per = [1 - _ssim_by_hand(truth / 255, F / 255)[0].mean() + np.abs(F - truth).mean() / 255
           + 0.5 * np.abs(gf - grad(truth / 255)).mean() for truth in (A, B)]
    assert_close(truth_loss(out, t, torch.tensor([1.0, 0.0]), grad_weight=0.5).item(), per[0] / 2, dtype=np.float32)
