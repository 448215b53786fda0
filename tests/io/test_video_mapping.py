"""``fuse-video --frame-mapping``: one intensity mapping for a whole 16-bit video (no flicker) by
default, each frame stretched alone with ``frame``."""
from __future__ import annotations

import numpy as np
import pytest

iio = pytest.importorskip("imageio.v2")
pytest.importorskip("imageio_ffmpeg")

from test_audit_s14_video_bitdepth import _ffv1, _frames, _tno  # noqa: E402

from mutualfuse.cli import main  # noqa: E402

pytestmark = pytest.mark.needs_shared("data/ir-vis/tno")


def test_histogram_percentiles_equal_numpy():
    from mutualfuse.video import _hist_percentiles

    rng = np.random.default_rng(0)
    for n in (1, 2, 7, 1000, 12345):
        x = rng.integers(0, 65536, n)
        for p in ((0.1, 99.9), (0, 100), (25, 75), (1, 99)):
            got = _hist_percentiles(np.bincount(x, minlength=65536), p)
            assert got == pytest.approx(tuple(np.percentile(x, p)), abs=1e-9)


def _write16(path, frames, fps=9):
    import subprocess

    import imageio_ffmpeg

    h, w = frames[0].shape
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-v", "error", "-f", "rawvideo", "-pix_fmt", "gray16le",
                    "-s", f"{w}x{h}", "-r", str(fps), "-i", "-", "-c:v", "ffv1", str(path)],
                   input=b"".join(f.astype("<u2").tobytes() for f in frames), check=True)
    return path


def test_a_hot_object_in_one_frame_does_not_change_the_others_brightness(shared, tmp_path, lively_weights, capsys):
    """Raw thermal counts; frame 2 of 3 holds a small hot object (1 % of the pixels, far above the
    scene). Stretched frame by frame, that frame's 99.9th percentile jumps and its whole background
    darkens (flicker); with one mapping for the video the background keeps its grey level."""
    ir8 = _tno(shared, "ir").astype(np.uint16)
    base = 7000 + 8 * ir8
    hot = base.copy()
    hot[4:12, 4:12] = 30000
    a = _write16(tmp_path / "ir16.mkv", [base, hot, base])
    b = _write16(tmp_path / "vis16.mkv", [7000 + 8 * _tno(shared, "vis").astype(np.uint16)] * 3)
    w = ["--weights", str(lively_weights), "--task", "stored"]
    outs = {}
    for mode in ("video", "frame"):
        out = tmp_path / f"{mode}.mkv"
        assert main(["fuse-video", str(a), str(b), "-o", str(out), *w, "--frame-mapping", mode, "--crf", "0"]) == 0
        err = capsys.readouterr().err
        assert ("one intensity mapping for all frames" in err) == (mode == "video"), err
        outs[mode] = _frames(out)
    bg = np.ones(base.shape, bool)
    bg[:16, :16] = False  # away from the hot object
    jump = {m: abs(f[1][bg].mean() - f[0][bg].mean()) for m, f in outs.items()}
    # measured: frame 124.2 grey levels, video 0.001
    assert jump["frame"] > 5 and jump["video"] < 1, jump
    assert np.abs(outs["video"][0] - outs["video"][2]).mean() < 0.5


def test_eight_bit_streams_at_auto_make_no_extra_pass(shared, tmp_path, lively_weights, capsys):
    a = _ffv1(tmp_path / "a.mkv", _tno(shared, "ir"))
    b = _ffv1(tmp_path / "b.mkv", _tno(shared, "vis"))
    assert main(["fuse-video", str(a), str(b), "-o", str(tmp_path / "f.mkv"), "--weights", str(lively_weights),
                 "--task", "stored"]) == 0
    assert "one intensity mapping" not in capsys.readouterr().err  # 8-bit at auto: v/255, no percentiles
