"""``fuse-video`` at 16 bits (s20 audit of ``--bit-depth``): what its notes say of float streams,
and the pixel format under ``--chroma gray``.

- A flat float stream (every sample 300, a thermal camera's shutter frames) was noted as "float
  samples in [300, 300], used as they are", while every frame is kept at 300 clipped to [0, 1]
  (white), as a flat float still is; now the note says so.
- A float stream written at 8 bits was said to have "16-bit samples (gbrpf32le)"; it has float ones.
- Colour inputs under ``--chroma gray`` (a gray result) were written as three equal gbrp16le
  planes; now gray16le, as for two gray streams.

Every video here is made at run time by imageio-ffmpeg's bundled ffmpeg (64x48, 3 frames).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("imageio.v2")
pytest.importorskip("imageio_ffmpeg")

from mutualfuse.cli import main  # noqa: E402

# the video writers, readers and sizes of the first s20 video test, not a copy of them
sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_s20_video_depth import FF, FPS, H, N, W, _read, _stream, _write  # noqa: E402,F401


def _flat_float(path, value):
    """A gbrpf32le stream whose every sample is ``value``, as raw video in NUT (the bundled FFV1's
    experimental float coding decoded a constant frame with zeros in it: measured, frame 2)."""
    frames = [np.full((3, H, W), value, dtype="<f4") for _ in range(N)]
    p = _write(path, frames, "gbrpf32le", "-c:v", "rawvideo")
    assert np.array_equal(_read(p, "gbrpf32le", "<f4", channels=3), np.stack(frames))
    return p


def _gray16(path, seed):
    rng = np.random.default_rng(seed)
    return _write(path, [rng.integers(1000, 30000, (H, W)).astype("<u2") for _ in range(N)], "gray16le")


def test_a_flat_float_stream_is_noted_as_kept_and_clipped_not_used_as_it_is(tmp_path, capsys):
    """Every sample 300: each frame is 1.0 after clipping (--method max gives 65535 everywhere);
    the note says it is flat and clipped. Every sample 0.25: kept at 0.25, not clipped."""
    k = _flat_float(tmp_path / "k.nut", 300.0)
    g = _gray16(tmp_path / "g.mkv", 1)
    out = tmp_path / "f.mkv"
    assert main(["fuse-video", str(k), str(g), "-o", str(out), "--method", "max"]) == 0
    err = capsys.readouterr().err
    assert (_read(out, "gbrp16le", "<u2", channels=3) == 65535).all()
    assert ("note: k.nut: float samples (gbrpf32le) all 300: a flat video, not stretched, kept at that value, "
            "clipped to [0, 1]") in err, err
    assert "used as they are" not in err, err  # was: "in [300, 300], used as they are"
    q = _flat_float(tmp_path / "q.nut", 0.25)
    assert main(["fuse-video", str(q), str(g), "-o", str(tmp_path / "f2.mkv"), "--method", "max"]) == 0
    err = capsys.readouterr().err
    assert "note: q.nut: float samples (gbrpf32le) all 0.25: a flat video, not stretched, kept at that value " \
           "(a flat float still's rule)" in err, err


def test_a_float_stream_written_at_8_bits_is_said_to_have_float_samples(tmp_path, capsys):
    rng = np.random.default_rng(2)
    k = _write(tmp_path / "k.nut", [np.repeat((290 + 20 * rng.random((H, W))).astype("<f4")[None], 3, 0)
                                    for _ in range(N)], "gbrpf32le", "-c:v", "rawvideo")
    g = _gray16(tmp_path / "g.mkv", 3)
    assert main(["fuse-video", str(k), str(g), "-o", str(tmp_path / "f.mp4"), "--method", "average"]) == 0
    err = capsys.readouterr().err
    assert "note: the output is 8-bit: k.nut has float samples (gbrpf32le), g.mkv has 16-bit samples (gray16le)" \
        in err, err  # was "k.nut has 16-bit samples (gbrpf32le)"


def test_chroma_gray_gives_a_gray16le_output(tmp_path, capsys):
    """A 10-bit colour stream and a gray16le one under --chroma gray: the fused result is gray, so the
    16-bit output is gray16le (was gbrp16le: three equal planes), in .mkv and .mov alike (FFV1 is
    lossless: both hold the same samples)."""
    rng = np.random.default_rng(4)
    yuv = [np.stack([rng.integers(64, 940, (H, W)), rng.integers(200, 800, (H, W)),
                     rng.integers(200, 800, (H, W))]).astype("<u2") for _ in range(N)]
    a = _write(tmp_path / "a.mkv", yuv, "yuv444p10le")
    g = _gray16(tmp_path / "g.mkv", 5)
    out = tmp_path / "f.mkv"
    assert main(["fuse-video", str(a), str(g), "-o", str(out), "--method", "average", "--chroma", "gray"]) == 0
    err = capsys.readouterr().err
    assert _stream(out).startswith("ffv1, gray16le"), _stream(out)
    assert "note: the output is 16-bit lossless FFV1 (gray16le)" in err, err
    mov = tmp_path / "f.mov"
    assert main(["fuse-video", str(a), str(g), "-o", str(mov), "--method", "average", "--chroma", "gray",
                 "--bit-depth", "16", "-q"]) == 0
    assert "gray16le" in _stream(mov), _stream(mov)
    got = _read(out, "gray16le", "<u2")
    assert got.shape == (N, H, W) and np.unique(got).size > 1000
    assert np.array_equal(got, _read(mov, "gray16le", "<u2"))


def _nearly_flat(value, outlier, dtype):
    """Frames of one value but two samples a frame (under 0.1% of them: the 0.1 and 99.9
    percentiles of the whole video are that value)."""
    frames = []
    for i in range(N):
        f = np.full((H, W), value, dtype=dtype)
        f[3, 5 + i] = f[40, 60 - i] = outlier
        frames.append(f)
    return frames


def test_equal_whole_video_percentiles_are_said_not_called_used_as_they_are(tmp_path, capsys):
    """Where percentiles apply but the whole video's are equal (nearly every sample one value), each
    frame is scaled alone; a float stream under --normalize percentile was noted as "used as they
    are", a 16-bit one got no note. Both now say it."""
    k = _write(tmp_path / "k.nut", [np.repeat(f[None], 3, 0) for f in _nearly_flat(0.5, 0.9, "<f4")],
               "gbrpf32le", "-c:v", "rawvideo")
    g = _gray16(tmp_path / "g.mkv", 6)
    assert main(["fuse-video", str(k), str(g), "-o", str(tmp_path / "f.mkv"), "--method", "max",
                 "--normalize", "percentile"]) == 0
    err = capsys.readouterr().err
    assert ("note: k.nut: float samples (gbrpf32le) in [0.5, 0.9]: the 0.1 and 99.9 percentiles of the whole "
            "video are equal") in err, err
    assert "used as they are" not in err, err
    s = _write(tmp_path / "s.mkv", _nearly_flat(5000, 60000, "<u2"), "gray16le")
    assert main(["fuse-video", str(s), str(g), "-o", str(tmp_path / "f2.mkv"), "--method", "max"]) == 0
    err = capsys.readouterr().err
    assert "note: s.mkv: the 0.1 and 99.9 percentiles of the whole video are equal" in err, err
    assert "each frame is scaled alone, as a still is" in err, err
