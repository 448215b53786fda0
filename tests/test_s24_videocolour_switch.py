"""fuse-video decides gray or colour once per video, before fusing (session 24, X8). It was
decided per batch: a gray IR stream whose decoded frames carry chroma noise in some frames only
(an H.264 4:2:0 encode of not-quite-gray frames: 5-6 levels of 255 here) was fused as colour in
the batches holding those frames and as gray elsewhere, so the output switched between gray and
colour frames (a flicker). Now: colour where some frame's R, G and B differ by more than 16
levels of 255 (``NOISE_LEVELS``), else gray, for every frame, with a note naming the noise."""
from __future__ import annotations

import re
import subprocess

import numpy as np
import pytest

pytest.importorskip("imageio.v2")
pytest.importorskip("imageio_ffmpeg")

from test_s24_video_helpers import ffmpeg, video8  # noqa: E402

from mutualfuse.cli import main  # noqa: E402

N, H, W = 12, 48, 64


def gray_with_noise(path, noisy=(4, 5, 6, 7), colour_from=None, amp=4, seed=0):
    """``N`` gray (R = G = B) frames, H.264 4:2:0; the ``noisy`` ones with per-pixel colour noise of
    up to ``amp`` levels; from frame ``colour_from`` on (if given), clearly colour (a red square)."""
    rng = np.random.default_rng(seed)
    base = rng.integers(20, 236, (H, W)).astype(np.int16)
    frames = []
    for i in range(N):
        f = np.repeat(np.roll(base, 2 * i, axis=1)[..., None], 3, -1)
        if i in noisy:
            f = f + rng.integers(-amp, amp + 1, (H, W, 3))
        if colour_from is not None and i >= colour_from:
            f[8:24, 8:24] = (220, 30, 30)
        frames.append(np.clip(f, 0, 255).astype(np.uint8))
    subprocess.run([ffmpeg(), "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{W}x{H}", "-r", "10",
                    "-i", "-", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-crf", "0", str(path)],
                   input=b"".join(f.tobytes() for f in frames), check=True)
    return path


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    d = tmp_path_factory.mktemp("s24vcolour")
    return {"noisy": gray_with_noise(d / "ir.mp4"), "late": gray_with_noise(d / "late.mp4", noisy=(), colour_from=5),
            "gray": video8(d / "vis.mp4", N, H, W, 10, False, seed=3),
            "colour": video8(d / "col.mp4", N, H, W, 10, True, seed=4)}


def _frames16(path):
    import imageio.v2 as iio

    r = iio.get_reader(str(path), dtype="uint16")
    try:
        return [np.asarray(f).astype(np.int64) for f in r]
    finally:
        r.close()


def _run(capsys, a, b, out, *extra):
    rc = main(["fuse-video", str(a), str(b), "-o", str(out), "--method", "average", *extra])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    return captured.err


def test_the_decoded_noise_is_in_some_frames_only(clips):
    import imageio.v2 as iio

    from mutualfuse.video import GRAY_LEVELS, NOISE_LEVELS, _chroma_levels

    r = iio.get_reader(str(clips["noisy"]))
    levels = [_chroma_levels(np.asarray(f)) for f in r]
    r.close()
    noisy = [i for i, lv in enumerate(levels) if lv > GRAY_LEVELS]
    assert noisy == [4, 5, 6, 7] and max(levels) <= NOISE_LEVELS, levels  # the case that switched


def test_no_switch_between_gray_and_colour_frames(clips, tmp_path, capsys):
    out = tmp_path / "f.mkv"
    err = _run(capsys, clips["noisy"], clips["gray"], out, "--batch", "4", "--bit-depth", "16")
    frames = _frames16(out)
    assert len(frames) == N
    spread = [int(np.abs(f[..., 0] - f[..., 1]).max() + np.abs(f[..., 1] - f[..., 2]).max()) for f in frames]
    assert spread == [0] * N, spread  # were 0 0 0 0 1285+ ... (frames 5-8 colour) 0 0 0 0
    notes = [ln for ln in err.splitlines() if ln.startswith("note: ir.mp4: fused as gray")]
    assert len(notes) == 1 and "4 of its 12 frames carry chroma noise" in notes[0], err
    assert "decided once for the whole video" in notes[0]


def test_the_same_output_whatever_the_batch(clips, tmp_path, capsys):
    outs = []
    for batch in ("3", "12"):
        outs.append(tmp_path / f"b{batch}.mkv")
        _run(capsys, clips["noisy"], clips["gray"], outs[-1], "--batch", batch, "--bit-depth", "16")
    a, b = (_frames16(p) for p in outs)
    assert all(np.array_equal(x, y) for x, y in zip(a, b)) and len(a) == len(b) == N


def test_a_colour_video_whose_first_frames_look_gray(clips, tmp_path, capsys):
    from mutualfuse import Fuser
    from mutualfuse.video import fuse_video

    info = fuse_video(Fuser("average", device="cpu"), clips["late"], clips["gray"], tmp_path / "g.mkv", batch=4,
                      bit_depth=16)
    assert info["colour"] == [True, False] and not info["gray"]
    (note,) = [n for n in info["notes"] if "fused as colour" in n]
    assert note.startswith("late.mp4: fused as colour: its frame 6 is colour") and "its 5 frames before it" in note
    info = fuse_video(Fuser("average", device="cpu"), clips["noisy"], clips["gray"], tmp_path / "h.mkv", batch=4)
    assert info["colour"] == [False, False] and info["gray"]


def test_the_pass_stops_at_the_first_colour_frame(clips, tmp_path):
    from mutualfuse import Fuser
    from mutualfuse.video import fuse_video

    seen = []
    fuse_video(Fuser("average", device="cpu"), clips["noisy"], clips["colour"], tmp_path / "f.mp4",
               checking=lambda path, done, total: seen.append((path.name, done, total)))
    # the gray one read whole, the colour one for one frame; no percentile pass ran (8-bit under auto)
    assert seen == [("ir.mp4", k, N) for k in range(1, N + 1)] + [("col.mp4", 1, N)], seen


def test_a_gray_pixel_format_needs_no_pass(tmp_path):
    from test_s24_video_helpers import video16

    from mutualfuse import Fuser
    from mutualfuse.video import fuse_video

    ir = video16(tmp_path / "ir.mkv", 6, 32, 48, 10)
    seen = []
    info = fuse_video(Fuser("average", device="cpu"), ir, ir, tmp_path / "f.mkv",
                      checking=lambda *a: seen.append(a))
    assert seen == [] and info["gray"]


def test_the_pass_shows_lines_where_it_lasts(clips, tmp_path, capsys, monkeypatch):
    from mutualfuse.cli import fuse_video

    err = _run(capsys, clips["noisy"], clips["gray"], tmp_path / "a.mp4")  # shorter than CHECK_EVERY_S: no line
    assert "gray or colour" not in err.replace("gray or colour is decided", ""), err
    monkeypatch.setattr(fuse_video, "CHECK_EVERY_S", 0.0)
    err = _run(capsys, clips["noisy"], clips["gray"], tmp_path / "b.mp4")
    lines = [re.sub(r" \(\d+ s\)$", "", ln) for ln in err.splitlines() if "to decide gray or colour" in ln]
    assert lines[:2] == ["fuse-video: ir.mp4: 1/12 frames read to decide gray or colour",
                         "fuse-video: ir.mp4: 2/12 frames read to decide gray or colour"], err
    assert len([ln for ln in lines if ln.startswith("fuse-video: ir.mp4")]) == N, err


def test_the_percentile_pass_decides_too(tmp_path):
    """A 10-bit stream under --frame-mapping video: gray or colour comes from its percentile pass
    (no second pass), with the same rule."""
    from mutualfuse import Fuser
    from mutualfuse.video import fuse_video

    rng = np.random.default_rng(1)
    base = rng.integers(20, 236, (H, W)).astype(np.int16)
    frames = [np.repeat(np.roll(base, 2 * i, axis=1)[..., None], 3, -1) for i in range(N)]
    frames[3] = frames[3] + rng.integers(-4, 5, (H, W, 3))
    deep = tmp_path / "ir10.mkv"
    subprocess.run([ffmpeg(), "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{W}x{H}", "-r", "10",
                    "-i", "-", "-c:v", "libx264", "-pix_fmt", "yuv420p10le", "-crf", "0", str(deep)],
                   input=b"".join(np.clip(f, 0, 255).astype(np.uint8).tobytes() for f in frames), check=True)
    checked, read = [], []
    info = fuse_video(Fuser("average", device="cpu"), deep, deep, tmp_path / "f.mkv", batch=2,
                      checking=lambda *a: checked.append(a), reading=lambda *a: read.append(a))
    assert checked == [] and len(read) == N, (checked, read)
    assert info["colour"] == [False, False] and info["gray"]
    assert any(n.startswith("ir10.mkv: fused as gray: 1 of its 12 frames carry chroma noise") for n in info["notes"]), \
        info["notes"]
