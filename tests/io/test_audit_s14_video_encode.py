"""``fuse-video``'s encoder: a failed encode is an error, never a renamed broken file with exit 0."""
from __future__ import annotations

import numpy as np
import pytest

iio = pytest.importorskip("imageio.v2")
pytest.importorskip("imageio_ffmpeg")

from mutualfuse.cli import main  # noqa: E402


def _video(path, n, h, w, seed, fps=10):
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (h, w), dtype=np.uint8)
    wr = iio.get_writer(str(path), format="FFMPEG", fps=fps, codec="libx264", macro_block_size=1,
                        pixelformat="yuv444p", ffmpeg_log_level="error", output_params=["-crf", "0"])
    for i in range(n):
        wr.append_data(np.repeat(np.roll(base, 2 * i, axis=1)[..., None], 3, -1))
    wr.close()
    return path


@pytest.mark.parametrize("suffix", [".webm", ".m4v"])
def test_an_output_container_libx264_cannot_be_written_in_is_refused_before_any_work(
        tmp_path, lively_weights, capfd, suffix):
    """``-o f.webm`` passed the format check, ffmpeg refused H.264 in WebM at its first frame, and
    imageio's writer ignored ffmpeg's exit status: a 262-byte broken file, exit 0 (or ffmpeg's
    lines on the terminal and a broken-pipe error naming the ffmpeg command). ``.m4v`` failed
    only after the inputs were opened. Both are now one line before anything is decoded."""
    a = _video(tmp_path / "a.mp4", 2, 32, 48, 0)
    b = _video(tmp_path / "b.mp4", 2, 32, 48, 1)
    out = tmp_path / "o" / f"f{suffix}"
    out.parent.mkdir()
    rc = main(["fuse-video", str(a), str(b), "-o", str(out), "--weights", str(lively_weights), "-q"])
    cap = capfd.readouterr()
    lines = cap.err.strip().splitlines()
    assert rc == 2, cap.err
    assert len(lines) == 1 and lines[0].startswith("mutualfuse: error: ") and f"f{suffix}" in lines[0], cap.err
    assert "unsupported output format" in lines[0] and ".mp4" in lines[0]
    assert list(out.parent.iterdir()) == []


def test_an_encoder_that_fails_raises_one_line_naming_the_output(tmp_path):
    """The encoder checks ffmpeg's exit status and reports its first message in one line."""
    from mutualfuse.errors import InputError
    from mutualfuse.video import _Encoder

    enc = _Encoder(tmp_path / "x.webm", tmp_path / "shown.webm", 48, 32, 10.0, "yuv444p", 17)
    frame = np.zeros((32, 48, 3), np.uint8)
    with pytest.raises(InputError) as e:
        for _ in range(3):
            enc.write(frame)
        enc.close()
    msg = str(e.value)
    assert "shown.webm" in msg and "ffmpeg: " in msg and "\n" not in msg, msg
    assert "WebM" in msg or "VP8" in msg, msg  # ffmpeg's own reason, not a broken-pipe traceback


def test_mkv_avi_mov_outputs_have_the_inputs_frames_rate_and_size(tmp_path, lively_weights, capsys):
    a = _video(tmp_path / "a.mp4", 5, 31, 47, 0, fps=12.5)
    b = _video(tmp_path / "b.mp4", 5, 31, 47, 1, fps=12.5)
    for suffix in (".mkv", ".avi", ".mov", ".mp4"):
        out = tmp_path / f"f{suffix}"
        rc = main(["fuse-video", str(a), str(b), "-o", str(out), "--weights", str(lively_weights), "--batch", "2"])
        cap = capsys.readouterr()
        assert rc == 0, cap.err
        assert f"5 frames at 12.5 fps, 47x31" in cap.out
        r = iio.get_reader(str(out), format="FFMPEG")
        try:
            assert (r.count_frames(), r.get_meta_data()["fps"], r.get_meta_data()["size"]) == (5, 12.5, (47, 31))
            assert "h264" in r.get_meta_data()["codec"]
        finally:
            r.close()
