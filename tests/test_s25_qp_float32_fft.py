"""Q_P's 72 inverse FFTs per triple run in complex64 (issue 15, speed): the filtered spectra are
rounded once to float32 parts, the transforms run in float32, every later operation reads the
responses as float64. Checked here: the transforms really are complex64, the per-pixel pass does
its arithmetic in float64 on float32 input, and the maps and Q_P stay close to the float64
transforms (the conformance rows themselves: tests/metrics/test_conformance_liu.py)."""
from __future__ import annotations

import types
from importlib.resources import files

import numpy as np
import pytest
from scipy import fft as sfft

from tolerance import assert_close

from mutualfuse.image_io import read_image
from mutualfuse.metrics import liu_phase as P


def _tno_crop(name: str, rows: int = 97, cols: int = 130) -> np.ndarray:
    im = 255 * read_image(files("mutualfuse") / f"data/samples/tno-01/{name}.png")[0]
    return np.ascontiguousarray(im[20:20 + rows, 30:30 + cols], dtype=np.float64)


def test_phase_congruency_inverse_transforms_run_in_complex64(monkeypatch):
    """Every inverse FFT of the compiled path gets complex64 input (the float64 version spent
    half of Q_P's time in complex128 transforms)."""
    im = _tno_crop("a")
    cfg = P.PhaseCongruencyConfig()
    P.filter_bank(*im.shape, cfg)  # built (float64 noise sums) before the spy
    seen = []

    def ifft2(x, *a, **k):
        seen.append(x.dtype)
        return sfft.ifft2(x, *a, **k)

    monkeypatch.setattr(P, "sfft", types.SimpleNamespace(fft2=sfft.fft2, ifft2=ifft2))
    pc, M, m = P.phase_congruency(im, cfg)
    assert len(seen) == cfg.norient, seen
    assert all(d == np.complex64 for d in seen), seen
    assert pc.dtype == M.dtype == m.dtype == np.float64


def test_energy_pass_reads_float32_responses_in_float64():
    """The energy pass on complex64 responses gives bit for bit what it gives on the same
    values widened to complex128: its arithmetic is float64 (float32 → float64 is exact), not
    float32 (which would round every product and sum to 24 bits)."""
    K = P._kernels()
    rng = np.random.default_rng(5)
    nscale, rows, cols = 4, 11, 37
    eo32 = (rng.normal(0, 50, (nscale, rows, cols))
            + 1j * rng.normal(0, 50, (nscale, rows, cols))).astype(np.complex64)
    outs = []
    for eo in (eo32, eo32.astype(np.complex128)):
        o = [np.empty((rows, cols)) for _ in range(4)]
        K["energy"](eo, 0.5, 10.0, *o)
        outs.append(o)
    for got, want in zip(*outs):
        assert np.array_equal(got, want)


@pytest.mark.parametrize("shape", [(97, 130), (64, 51)])
def test_float32_transforms_stay_close_to_float64(monkeypatch, shape):
    """PC, M and m from complex64 transforms against complex128 ones on a real image (TNO
    crops, an even and an odd size): within the float32 tolerance, and Q_P within 1e-6
    relative (measured: ≤ 3e-8 on these crops; the conformance rows: docs/metrics.md)."""
    a, b = _tno_crop("a", *shape), _tno_crop("b", *shape)
    f = np.round((a + b) / 2)
    got_maps = P.phase_congruency(a)
    got_q = P.qp(a, b, f)
    monkeypatch.setattr(P, "FFT_DTYPE", np.complex128)
    want_maps = P.phase_congruency(a)
    want_q = P.qp(a, b, f)
    for g, w in zip(got_maps, want_maps):
        assert_close(g, w, dtype=np.float32)
    assert abs(got_q - want_q) <= 1e-6 * abs(want_q), (got_q, want_q)
