"""fuse-video's progress where stderr is not a terminal (session 24): ``fuse-video ... 2>log``
(nohup, a batch job) got the tqdm bar redrawn after every batch, a carriage-return frame each
(an hour of 30 fps video at --batch 8: 13500 of them), where fuse, fuse-stack and fuse-volume
draw their bars at a terminal only. Not at a terminal it now writes plain lines: one after the
first batch, then one at most every ``LOG_EVERY_S`` seconds. At a terminal the bar is kept.

The decoding pass that finds a video's percentiles (a 16-bit stream under --frame-mapping video)
runs before any frame is fused and showed nothing (600 frames of 640x480 gray16le: 21 s on a
2-core CPU); it now has its own bar at a terminal, lines elsewhere, and ``fuse_video(reading=)``."""
from __future__ import annotations

import re

import pytest

pytest.importorskip("imageio.v2")
pytest.importorskip("imageio_ffmpeg")

from test_s24_video_helpers import video8, video16  # noqa: E402

from mutualfuse.cli import main  # noqa: E402


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    d = tmp_path_factory.mktemp("s24progress")
    return video8(d / "ir.mp4", 6, 32, 48, 10, False, seed=0), video8(d / "vis.mp4", 6, 32, 48, 10, True, seed=1)


def _run(capsys, clips, out, *extra):
    rc = main(["fuse-video", str(clips[0]), str(clips[1]), "-o", str(out), "--method", "average", *extra])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    return captured.err


def test_no_bar_frames_in_a_log(clips, tmp_path, capsys):
    err = _run(capsys, clips, tmp_path / "f.mp4", "--batch", "1")
    assert "\r" not in err and "frame/s" not in err, repr(err)
    lines = [ln for ln in err.splitlines() if ln.startswith("fuse-video: ")]
    assert lines and re.fullmatch(r"fuse-video: 1/6 frames fused \(\d+ s\)", lines[0]), err
    assert len(lines) == 1, err  # six batches within seconds: one line, not six


def test_lines_every_interval(clips, tmp_path, capsys, monkeypatch):
    from mutualfuse.cli import fuse_video

    monkeypatch.setattr(fuse_video, "LOG_EVERY_S", 0.0)
    err = _run(capsys, clips, tmp_path / "f.mp4", "--batch", "2")
    lines = [ln for ln in err.splitlines() if ln.startswith("fuse-video: ")]
    assert [ln.split(" frames")[0] for ln in lines] == ["fuse-video: 2/6", "fuse-video: 4/6", "fuse-video: 6/6"], err


def test_the_bar_at_a_terminal(clips, tmp_path, capsys, monkeypatch):
    import sys

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    err = _run(capsys, clips, tmp_path / "f.mp4")
    assert "frames:" in err and "fuse-video: " not in err, repr(err)


def test_quiet_writes_no_progress(clips, tmp_path, capsys):
    err = _run(capsys, clips, tmp_path / "f.mp4", "-q")
    assert err == "", repr(err)


@pytest.fixture(scope="module")
def deep(tmp_path_factory):
    return video16(tmp_path_factory.mktemp("s24deep") / "ir.mkv", 6, 32, 48, 10, seed=0)


def test_the_percentile_pass_is_shown(clips, deep, tmp_path, capsys, monkeypatch):
    import sys

    from mutualfuse.cli import fuse_video

    err = _run(capsys, (deep, clips[1]), tmp_path / "e.mkv")  # a pass shorter than LOG_EVERY_S: no line
    assert "frames read" not in err and "fuse-video: 6/6 frames fused (" in err, err
    monkeypatch.setattr(fuse_video, "LOG_EVERY_S", 0.0)
    err = _run(capsys, (deep, clips[1]), tmp_path / "f.mkv")
    lines = [ln for ln in err.splitlines() if ln.startswith("fuse-video: ")]
    assert [re.sub(r"\(\d+ s\)$", "", ln) for ln in lines] == [
        f"fuse-video: ir.mkv: {k}/6 frames read for its percentiles " for k in range(1, 7)] + [
        "fuse-video: 6/6 frames fused "], err
    assert "\r" not in err, repr(err)
    err = _run(capsys, (deep, clips[1]), tmp_path / "g.mkv", "--frame-mapping", "frame")  # no such pass
    assert "frames read" not in err, err
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    err = _run(capsys, (deep, clips[1]), tmp_path / "h.mkv")
    assert "ir.mkv: percentiles" in err and "frames:" in err and "fuse-video: " not in err, repr(err)


def test_the_api_reports_the_pass(clips, deep, tmp_path):
    from mutualfuse import Fuser
    from mutualfuse.video import fuse_video

    seen = []
    fuse_video(Fuser("average", device="cpu"), deep, deep, tmp_path / "f.mkv",
               reading=lambda path, done, total: seen.append((path.name, done, total)))
    assert seen == [("ir.mkv", k, 6) for k in range(1, 7)], seen  # one pass for a video fused with itself
    seen.clear()
    fuse_video(Fuser("average", device="cpu"), clips[0], clips[1], tmp_path / "g.mp4",
               reading=lambda *a: seen.append(a))
    assert seen == []  # 8-bit under auto: v/255, no pass
