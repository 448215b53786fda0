"""``fuse-video`` on streams of more than 8 bits (a 14-bit thermal camera recorded as gray16le) and
its ``--normalize`` / ``--percentiles`` options, on the real TNO pair."""
from __future__ import annotations

import subprocess

import numpy as np
import pytest

iio = pytest.importorskip("imageio.v2")
imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")

from mutualfuse.cli import main  # noqa: E402

pytestmark = pytest.mark.needs_shared("data/ir-vis/tno")


def _tno(shared, which):
    from PIL import Image

    return np.asarray(Image.open(shared / "data" / "ir-vis" / "tno" / which / "01.png").convert("L"))[:64, :96]


def _ffv1(path, img, n=3, fps=9):
    """A lossless FFV1 video of ``img`` shifted 1 px a frame: gray16le for uint16 (as thermal
    recorders store raw counts), gray for uint8, so that decoding gives the samples back exactly."""
    fmt, dt = ("gray16le", "<u2") if img.dtype == np.uint16 else ("gray", "u1")
    data = b"".join(np.roll(img, i, axis=1).astype(dt).tobytes() for i in range(n))
    h, w = img.shape
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-v", "error", "-f", "rawvideo", "-pix_fmt", fmt,
                    "-s", f"{w}x{h}", "-r", str(fps), "-i", "-", "-c:v", "ffv1", str(path)], input=data, check=True)
    return path


def _frames(path):
    r = iio.get_reader(str(path), format="FFMPEG")
    try:
        return [np.asarray(f)[..., 0].astype(float) for f in r]
    finally:
        r.close()


def test_a_16_bit_thermal_stream_is_fused_at_16_bits_not_its_top_8(shared, tmp_path, lively_weights, capsys):
    """14-bit-style counts (7000 + 8·v, a narrow band of 0…65535) were decoded as rgb24, i.e. the
    top 8 bits: 6 grey levels were left of the IR image's 140, the fused frames were nearly flat,
    exit 0. Decoded at 16 bits and scaled by per-frame percentiles (as a 16-bit still is, the
    default --normalize auto), the fused video equals the one from the same scene in 8 bits
    (percentile-stretched the same way)."""
    ir8, vis8 = _tno(shared, "ir"), _tno(shared, "vis")
    a16 = _ffv1(tmp_path / "ir16.mkv", 7000 + 8 * ir8.astype(np.uint16))
    b16 = _ffv1(tmp_path / "vis16.mkv", 7000 + 8 * vis8.astype(np.uint16))
    a8 = _ffv1(tmp_path / "ir8.mkv", ir8)
    b8 = _ffv1(tmp_path / "vis8.mkv", vis8)
    out16, out8 = tmp_path / "f16.mkv", tmp_path / "f8.mkv"
    w = ["--weights", str(lively_weights), "--task", "stored", "-q"]
    assert main(["fuse-video", str(a16), str(b16), "-o", str(out16), *w, "--bit-depth", "8"]) == 0, capsys.readouterr().err
    assert main(["fuse-video", str(a8), str(b8), "-o", str(out8), *w, "--normalize", "percentile"]) == 0, \
        capsys.readouterr().err
    f16, f8 = _frames(out16), _frames(out8)
    assert len(f16) == len(f8) == 3
    for x, y in zip(f16, f8):
        assert np.unique(x).size > 100, np.unique(x).size  # 6 before: the top 8 bits of a narrow band
        assert np.abs(x - y).mean() < 0.5, np.abs(x - y).mean()  # lossless inputs: measured 0.0


def test_normalize_and_percentiles_are_applied_to_8_bit_frames(shared, tmp_path, lively_weights, capsys):
    """--normalize percentile / --percentiles were accepted by fuse-video and ignored (frames were
    always v/255). A dim 8-bit stream (v // 4) stretched by percentiles must fuse close to the
    original stream stretched the same way, far from the dim stream at v/255."""
    ir8, vis8 = _tno(shared, "ir"), _tno(shared, "vis")
    a = _ffv1(tmp_path / "a.mkv", ir8)
    b = _ffv1(tmp_path / "b.mkv", vis8)
    a_dim = _ffv1(tmp_path / "a_dim.mkv", ir8 // 4)
    w = ["--weights", str(lively_weights), "--task", "stored", "-q"]
    outs = {}
    for name, src, extra in (("ref", a, ["--normalize", "percentile"]), ("dim_pct", a_dim, ["--normalize", "percentile"]),
                             ("dim_full", a_dim, []), ("dim_pct_wide", a_dim, ["--normalize", "percentile",
                                                                             "--percentiles", "0", "100"])):
        out = tmp_path / f"{name}.mkv"
        assert main(["fuse-video", str(src), str(b), "-o", str(out), *w, *extra]) == 0, capsys.readouterr().err
        outs[name] = _frames(out)
    d = lambda p, q: float(np.mean([np.abs(x - y).mean() for x, y in zip(outs[p], outs[q])]))  # noqa: E731
    # measured: dim_pct 5.95 grey levels from ref (v // 4 keeps 64 levels), dim_full 112.6; before
    # the fix both were 111 (the options never reached the frames)
    assert d("dim_full", "ref") > 10 * d("dim_pct", "ref"), (d("dim_full", "ref"), d("dim_pct", "ref"))
    assert d("dim_pct_wide", "dim_pct") > 1.0  # --percentiles reaches the frames too (measured 5.4)


@pytest.mark.parametrize("fmt,bits", [("gray16le(pc, progressive)", 16), ("yuv420p10le(tv)", 10), ("p010le", 10),
                                      ("rgb48le", 16), ("yuv420p(progressive)", 8), ("gray", 8), ("rgb24", 8),
                                      ("", 8)])
def test_stream_bits(fmt, bits):
    from mutualfuse.video import stream_bits

    assert stream_bits(fmt) == bits
