"""Videos named with a colon (``cam:1.mp4``, ``10:00.nut``: a time of day in a recorder's
file name), given by a relative path: ffmpeg read the part before the colon as a protocol
("Protocol not found") in the calls mutualfuse makes itself. A float stream could not be read
at all (exit 2), and an intact 8-bit video got a "damaged file?" note from that failure."""
from __future__ import annotations

import subprocess

import pytest

iio = pytest.importorskip("imageio.v2")
imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")

from mutualfuse.cli import main  # noqa: E402
from video_files import lossless_video  # noqa: E402


def test_an_intact_video_named_with_a_colon_gets_no_damage_note(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    lossless_video(tmp_path / "cam:1.mp4", 0)
    lossless_video(tmp_path / "b.mp4", 1)
    assert main(["fuse-video", "cam:1.mp4", "b.mp4", "-o", "f.mp4", "--method", "average"]) == 0
    err = capsys.readouterr().err
    assert "error" not in err and "damaged" not in err, err


def test_a_float_stream_named_with_a_colon_is_read(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    made = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "lavfi", "-i",
                           "testsrc=size=32x24:rate=10", "-frames:v", "3", "-vf", "format=gbrpf32le", "-c:v", "ffv1",
                           "-level", "4", "-strict", "-2", str(tmp_path / "ir:10.nut")], capture_output=True)
    if made.returncode != 0:
        pytest.skip("this ffmpeg writes no float FFV1")
    lossless_video(tmp_path / "b.mp4", 1)
    rc = main(["fuse-video", "ir:10.nut", "b.mp4", "-o", "f.mkv", "--method", "average"])
    err = capsys.readouterr().err
    assert rc == 0, err
    assert "ir:10.nut: float samples (gbrpf32le)" in err, err
