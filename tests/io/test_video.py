"""``fuse-video``: same frame count, rate and size; mismatches → one line, exit 2, no output."""
from __future__ import annotations

import os

import numpy as np
import pytest

iio = pytest.importorskip("imageio.v2")
pytest.importorskip("imageio_ffmpeg")

from mutualfuse.cli import main  # noqa: E402


def _video(path, frames, fps, colour):
    w = iio.get_writer(str(path), format="FFMPEG", fps=fps, codec="libx264", macro_block_size=1,
                       pixelformat="yuv444p", ffmpeg_log_level="error", output_params=["-crf", "0"])
    for f in frames:
        w.append_data(f if colour else np.repeat(f[..., None], 3, -1))
    w.close()
    return path


def _frames(n, h, w, seed, colour=False):
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (h, w, 3) if colour else (h, w), dtype=np.uint8)
    return [np.roll(base, 2 * i, axis=1) for i in range(n)]


def _count(path):
    r = iio.get_reader(str(path), format="FFMPEG")
    try:
        return r.count_frames(), r.get_meta_data()["fps"], r.get_meta_data()["size"]
    finally:
        r.close()


def test_fuse_video_same_count_rate_size(tmp_path, lively_weights, capsys):
    a = _video(tmp_path / "ir.mp4", _frames(7, 35, 49, 0), 12.5, colour=False)  # odd size
    b = _video(tmp_path / "vis.mp4", _frames(7, 35, 49, 1, colour=True), 12.5, colour=True)
    out = tmp_path / "f.mp4"
    rc = main(["fuse-video", str(a), str(b), "-o", str(out), "--weights", str(lively_weights), "--batch", "3", "-q"])
    assert rc == 0, capsys.readouterr().err
    assert _count(out) == (7, 12.5, (49, 35))
    first = iio.get_reader(str(out), format="FFMPEG").get_data(0)
    assert first.shape == (35, 49, 3) and first.std() > 5
    # --chroma gray: the colour input's chroma is dropped, every frame is gray (R = G = B)
    rc = main(["fuse-video", str(a), str(b), "-o", str(tmp_path / "g.mp4"), "--weights", str(lively_weights),
               "--chroma", "gray", "-q"])
    assert rc == 0, capsys.readouterr().err
    g = iio.get_reader(str(tmp_path / "g.mp4"), format="FFMPEG").get_data(0).astype(int)
    assert np.abs(g[..., 0] - g[..., 1]).max() <= 2 and np.abs(g[..., 2] - g[..., 1]).max() <= 2  # codec rounding
    assert np.abs(first[..., 0].astype(int) - first[..., 1]).max() > 10  # the default keeps colour


def test_fuse_video_frame_count_mismatch_leaves_nothing(tmp_path, lively_weights, capsys):
    a = _video(tmp_path / "a.mp4", _frames(5, 32, 48, 0), 10, colour=False)
    b = _video(tmp_path / "b.mp4", _frames(3, 32, 48, 1), 10, colour=False)
    out_dir = tmp_path / "o"
    out_dir.mkdir()
    rc = main(["fuse-video", str(a), str(b), "-o", str(out_dir / "f.mp4"), "--weights", str(lively_weights),
               "--batch", "2", "-q"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "frame count mismatch" in err[0] and "b.mp4" in err[0]
    assert os.listdir(out_dir) == []


def test_fuse_video_rate_and_size_mismatch(tmp_path, lively_weights, capsys):
    a = _video(tmp_path / "a.mp4", _frames(2, 32, 48, 0), 10, colour=False)
    b = _video(tmp_path / "b.mp4", _frames(2, 32, 48, 1), 25, colour=False)
    c = _video(tmp_path / "c.mp4", _frames(2, 32, 40, 1), 10, colour=False)
    for other, text in ((b, "frame rate mismatch"), (c, "size mismatch"), (tmp_path / "none.mp4", "file not found")):
        rc = main(["fuse-video", str(a), str(other), "-o", str(tmp_path / "f.mp4"), "--weights", str(lively_weights), "-q"])
        err = capsys.readouterr().err.strip().splitlines()
        assert rc == 2 and len(err) == 1 and text in err[0] and other.name in err[0]
        assert not (tmp_path / "f.mp4").exists()


def test_fuse_video_auto_detects_the_task_once_on_the_first_frames(tmp_path, samples, capsys):
    """`default` (task mode auto) detects the task on the first frame pair and fuses every frame at
    that task's settings: the frames equal `fuse-video --task multi-focus`'s, and a note says so."""
    from PIL import Image

    src = [np.asarray(Image.open(samples / "lytro-01" / f"{r}.png").convert("L"))[100:164, 120:200] for r in "ab"]
    a = _video(tmp_path / "a.mp4", [np.roll(src[0], i, axis=1) for i in range(4)], 10, colour=False)
    b = _video(tmp_path / "b.mp4", [np.roll(src[1], i, axis=1) for i in range(4)], 10, colour=False)
    got = {}
    for task in (None, "multi-focus"):
        out = tmp_path / f"{task}.mp4"
        rc = main(["fuse-video", str(a), str(b), "-o", str(out), "--batch", "3", "--device", "cpu"]
                  + (["--task", task] if task else []))
        err = capsys.readouterr().err
        assert rc == 0, err
        assert ("note: task: multi-focus, detected on the first frame pair" in err) == (task is None), err
        r = iio.get_reader(str(out), format="FFMPEG")
        got[task] = [np.asarray(f) for f in r]
        r.close()
    assert len(got[None]) == 4 and all(np.array_equal(x, y) for x, y in zip(got[None], got["multi-focus"]))


def test_fuse_video_sigterm_leaves_no_partial_file(tmp_path, lively_weights):
    """SIGTERM (``timeout``, schedulers) ends a run like Ctrl+C: no hidden ``.part`` file, exit 143
    (128 + SIGTERM; Ctrl+C's is 130)."""
    import signal
    import subprocess
    import sys
    import time

    a = _video(tmp_path / "a.mp4", _frames(400, 96, 128, 0), 10, colour=False)
    b = _video(tmp_path / "b.mp4", _frames(400, 96, 128, 1), 10, colour=False)
    out_dir = tmp_path / "o"
    out_dir.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "mutualfuse", "fuse-video", str(a), str(b), "-o",
                             str(out_dir / "f.mp4"), "--weights", str(lively_weights), "--batch", "1", "-q"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not any(out_dir.iterdir()) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)  # until the temporary output exists: the run is writing
    assert proc.poll() is None, "finished before it could be interrupted: make the video longer"
    time.sleep(0.3)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert "interrupted" in err and "Traceback" not in err
    assert list(out_dir.iterdir()) == []


def test_bad_output_format_error_comes_alone(tmp_path, lively_weights, capsys):
    """No progress bar before a one-line error (the bar appears once the inputs passed their checks)."""
    a = _video(tmp_path / "a.mp4", _frames(3, 32, 48, 0), 10, colour=False)
    b = _video(tmp_path / "b.mp4", _frames(3, 32, 48, 1), 10, colour=False)
    rc = main(["fuse-video", str(a), str(b), "-o", str(tmp_path / "f.xyz"), "--weights", str(lively_weights)])
    err = capsys.readouterr().err
    assert rc == 2 and "frames" not in err and len(err.strip().splitlines()) == 1, err
    rc = main(["fuse-video", str(a), str(b), "-o", str(tmp_path / "f.mp4"), "--weights", str(lively_weights)])
    err = capsys.readouterr().err
    assert rc == 0 and "frames" in err, err  # the bar, once it runs
