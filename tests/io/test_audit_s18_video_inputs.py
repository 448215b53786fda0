"""``fuse-video`` with odd inputs (s18 audit): files that are not videos, rotation tags, audio
tracks, variable frame rates, colour that starts on a black frame, lengths that differ by one
frame at the end of a long video, frames too small for the method, Ctrl+C."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

iio = pytest.importorskip("imageio.v2")
imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")

from mutualfuse.cli import main  # noqa: E402

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()


def _video(path, n, h, w, seed=0, fps=10, colour=False, first=None):
    """A lossless H.264 video of a random image shifted 2 px a frame (``first``: its frame 0)."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (h, w, 3) if colour else (h, w), dtype=np.uint8)
    wr = iio.get_writer(str(path), format="FFMPEG", fps=fps, codec="libx264", macro_block_size=1,
                        pixelformat="yuv444p", ffmpeg_log_level="error", output_params=["-crf", "0"])
    for i in range(n):
        f = first if (i == 0 and first is not None) else np.roll(base, 2 * i, axis=1)
        wr.append_data(f if f.ndim == 3 else np.repeat(f[..., None], 3, -1))
    wr.close()
    return path


def _ffmpeg(*args):
    subprocess.run([FFMPEG, "-y", "-v", "error", *map(str, args)], check=True, stdin=subprocess.DEVNULL)


def _read(path):
    r = iio.get_reader(str(path), format="FFMPEG")
    try:
        return [np.asarray(f) for f in r], r.get_meta_data()
    finally:
        r.close()


def _run(args, capsys):
    rc = main(["fuse-video", *map(str, args)])
    cap = capsys.readouterr()
    return rc, cap.out, cap.err.strip().splitlines()


@pytest.fixture
def ab(tmp_path):
    return _video(tmp_path / "a.mp4", 6, 32, 48, 0), _video(tmp_path / "b.mp4", 6, 32, 48, 1)


def test_an_unreadable_file_is_one_line_with_ffmpegs_reason_not_its_banner(tmp_path, ab, capsys):
    """A truncated MP4, a text file named .mp4, an audio-only file: the error held imageio's
    "Could not load meta information === stderr === ffmpeg version n9.0.2 ... built with gcc",
    cut at 160 characters before ffmpeg's reason."""
    a, b = ab
    data = b.read_bytes()
    (tmp_path / "trunc.mp4").write_bytes(data[: len(data) // 2])
    (tmp_path / "text.mp4").write_text("not a video\n")
    _ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=0.5", "-c:a", "aac", tmp_path / "sound.mp4")
    out = tmp_path / "o" / "f.mp4"
    out.parent.mkdir()
    for name, reason in (("trunc.mp4", "moov atom not found"), ("text.mp4", "Invalid data found"),
                         ("sound.mp4", "it has no video stream")):
        rc, _, err = _run([a, tmp_path / name, "-o", out, "--method", "average", "-q"], capsys)
        assert rc == 2 and len(err) == 1, err
        assert f"{name}: not a readable video" in err[0] and reason in err[0], err
        assert "ffmpeg version" not in err[0] and "stderr" not in err[0], err
    assert list(out.parent.iterdir()) == []


def test_a_still_image_given_as_a_video_is_named_as_such(tmp_path, ab, capsys):
    from PIL import Image

    Image.fromarray(np.zeros((32, 48), np.uint8)).save(tmp_path / "still.png")
    rc, _, err = _run([ab[0], tmp_path / "still.png", "-o", tmp_path / "f.mp4", "--method", "average"], capsys)
    assert rc == 2 and len(err) == 1 and "still.png: an image, not a video" in err[0], err  # was "`FFMPEG` can not
    assert not (tmp_path / "f.mp4").exists()                                                 # handle the given uri"


def _rotated(src, dst):
    try:
        _ffmpeg("-display_rotation", "90", "-i", src, "-c", "copy", dst)
    except subprocess.CalledProcessError:
        pytest.skip("this ffmpeg cannot set a rotation tag (-display_rotation needs ffmpeg 7)")
    return dst


def test_a_rotation_tag_is_named_in_the_size_error_and_in_a_note(tmp_path, ab, capsys):
    """ffmpeg turns the frames as the tag says: a 48x32 phone clip tagged 90 degrees decodes as
    32x48. The size mismatch said "b is 32x48" with nothing about the tag, below an extra line
    of imageio-ffmpeg's logger ("The frame size for reading (32, 48) is different from the source
    frame size (48, 32)."); with both tagged, the run was silent about turning the frames."""
    a, b = ab
    rb = _rotated(b, tmp_path / "b_rot.mp4")
    rc, _, err = _run([a, rb, "-o", tmp_path / "f.mp4", "--method", "average", "-q"], capsys)
    assert rc == 2 and len(err) == 1, err
    assert "size mismatch" in err[0] and "b_rot.mp4 is 32x48 (stored 48x32, turned by its rotation tag)" in err[0], err
    cli = subprocess.run([sys.executable, "-m", "mutualfuse", "fuse-video", str(a), str(rb), "-o", str(tmp_path / "f.mp4"),
                          "--method", "average"], capture_output=True, text=True, timeout=120)  # no pytest log capture
    assert cli.returncode == 2 and cli.stderr.strip().splitlines() == [err[0]], cli.stderr
    ra = _rotated(a, tmp_path / "a_rot.mp4")
    rc, out, err = _run([ra, rb, "-o", tmp_path / "f.mp4", "--method", "average"], capsys)
    assert rc == 0, err
    assert "32x48" in out and not any("different from the source" in ln for ln in err), err
    for name in ("a_rot.mp4", "b_rot.mp4"):
        assert any(ln.startswith(f"note: {name}: frames turned upright as its rotation tag says") for ln in err), err
    frames, meta = _read(tmp_path / "f.mp4")
    assert len(frames) == 6 and meta["size"] == (32, 48)


def test_an_audio_track_that_is_not_copied_is_said(tmp_path, ab, capsys):
    a, b = ab
    _ffmpeg("-i", b, "-f", "lavfi", "-i", "sine=frequency=440:duration=0.6", "-c:v", "copy", "-c:a", "aac",
            "-shortest", tmp_path / "b_sound.mp4")
    rc, _, err = _run([a, tmp_path / "b_sound.mp4", "-o", tmp_path / "f.mp4", "--method", "average"], capsys)
    assert rc == 0, err
    assert "note: b_sound.mp4: its audio track (aac) is not copied; the output has no sound" in err, err
    assert not any(ln.startswith("note: a.mp4") for ln in err), err
    rc, _, err = _run([a, tmp_path / "b_sound.mp4", "-o", tmp_path / "g.mp4", "--method", "average", "-q"], capsys)
    assert rc == 0 and err == []  # -q: nothing on success


def test_a_variable_frame_rate_pair_is_read_at_a_constant_rate_and_says_so(tmp_path, ab, capsys):
    """6 frames at 0, 0.1, 0.2, 0.9, 1.2, 1.5 s are read by ffmpeg at a constant 10 fps (17
    frames: frames repeated to fill the gaps). The output's 17 frames were reported as if the
    inputs had 17, with no word of the repeats."""
    vfr = []
    for src in ab:
        dst = tmp_path / f"{src.stem}_vfr.mkv"
        _ffmpeg("-i", src, "-vf", "setpts='if(lt(N,3),N*0.1,N*0.3)/TB'", "-fps_mode", "passthrough",
                "-c:v", "libx264", "-crf", "0", "-pix_fmt", "yuv444p", dst)
        vfr.append(dst)
    rc, out, err = _run([*vfr, "-o", tmp_path / "f.mp4", "--method", "average"], capsys)
    assert rc == 0, err
    frames, meta = _read(tmp_path / "f.mp4")
    assert "17 frames at 10 fps" in out and len(frames) == 17, (out, len(frames))
    for v in vfr:
        assert (f"note: {v.name}: not at a constant frame rate: read at 10 fps by repeating 11 and dropping 0 of "
                "its frames") in "\n".join(err), err


def test_a_colour_video_that_starts_on_a_black_frame_stays_colour(tmp_path, ab, capsys):
    """Gray or colour was decided on the first frame only: a visible video fading in from black
    was fused as gray to its end, exit 0."""
    a = ab[0]
    b = _video(tmp_path / "vis.mp4", 6, 32, 48, 3, colour=True, first=np.zeros((32, 48, 3), np.uint8))
    rc, _, err = _run([a, b, "-o", tmp_path / "f.mp4", "--method", "average", "--batch", "2", "-q"], capsys)
    assert rc == 0, err
    frames, _ = _read(tmp_path / "f.mp4")
    spread = [int(np.abs(f[..., 0].astype(int) - f[..., 1]).max()) for f in frames]
    assert spread[0] <= 2 and min(spread[1:]) > 50, spread  # measured: [0, 157, 157, 151, 151, 162]; before: all 0


def test_different_lengths_are_refused_once_counted_not_after_the_whole_video(tmp_path):
    """A video one frame shorter at its end was found out when its last frame was reached: an
    hour of fusing for an hour of video, then an error and no output. Both are now counted by a
    second ffmpeg while the frames are fused, and the run stops once both counts are known."""
    from mutualfuse import Fuser
    from mutualfuse.errors import InputError
    from mutualfuse.video import fuse_video

    a = _video(tmp_path / "a.mp4", 300, 16, 16, 0)
    b = _video(tmp_path / "b.mp4", 299, 16, 16, 1)
    done = []

    def slow(n, total):  # a slow method: 10 ms a frame
        done.append(n)
        time.sleep(0.01)

    with pytest.raises(InputError) as e:
        fuse_video(Fuser("average", device="cpu"), a, b, tmp_path / "f.mp4", batch=1, progress=slow)
    assert "b.mp4: frame count mismatch: it has 299 frames, " in str(e.value) and "a.mp4 has 300" in str(e.value)
    assert max(done, default=0) < 200, max(done)  # counting 300 16x16 frames takes about 0.1 s
    assert not (tmp_path / "f.mp4").exists() and sorted(p.name for p in tmp_path.iterdir()) == ["a.mp4", "b.mp4"]


def test_frames_too_small_for_the_network_or_the_method_are_one_line_naming_the_files(tmp_path, capsys):
    """6x4 frames gave "image is 6x4, smaller than 8x8" and lp's "levels=4 is too deep for a 8x8
    image" without a file name, after the progress bar had appeared."""
    t = [_video(tmp_path / f"t{i}.mp4", 3, 4, 6, i) for i in (0, 1)]
    rc, _, err = _run([*t, "-o", tmp_path / "f.mp4", "--method", "average"], capsys)
    assert rc == 2 and err == ["mutualfuse: error: " + f"{t[0]}: frames are 6x4, smaller than 8x8"], err
    s = [_video(tmp_path / f"s{i}.mp4", 3, 8, 8, i) for i in (0, 1)]
    rc, _, err = _run([*s, "-o", tmp_path / "f.mp4", "--method", "lp"], capsys)
    assert rc == 2 and len(err) == 1, err  # no progress bar before it
    assert f"{s[0]}, {s[1]}: frames 1-3: method 'lp': levels=4 is too deep for a 8x8 image" in err[0], err
    assert not (tmp_path / "f.mp4").exists()


def test_a_one_frame_video_and_the_umask(tmp_path, capsys):
    a, b = (_video(tmp_path / f"{n}.mp4", 1, 32, 48, i) for i, n in enumerate("ab"))
    old = os.umask(0o077)
    try:
        rc, out, err = _run([a, b, "-o", tmp_path / "f.mkv", "--method", "max"], capsys)
    finally:
        os.umask(old)
    assert rc == 0, err
    assert "(1 frame at 10 fps, 48x32" in out, out  # was "1 frames"
    assert len(_read(tmp_path / "f.mkv")[0]) == 1
    assert (tmp_path / "f.mkv").stat().st_mode & 0o777 == 0o600


def _ffmpeg_children_of(path):
    """Live ffmpeg processes with an argument that names ``path`` (or a file in it)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
        except OSError:
            continue
        if cmd and b"ffmpeg" in os.path.basename(cmd[0]) and any(str(path).encode() in arg for arg in cmd):
            found.append(int(pid))
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process groups and /proc")
def test_ctrl_c_to_the_whole_process_group_leaves_no_output_and_no_ffmpeg(tmp_path, lively_weights):
    """A terminal's Ctrl+C reaches every process of the foreground group, ffmpeg's included:
    exit 130, one line, no output or temporary, no ffmpeg left running (the readers, the
    background frame counters, the encoder)."""
    a = _video(tmp_path / "a.mp4", 400, 64, 96, 0)
    b = _video(tmp_path / "b.mp4", 400, 64, 96, 1)
    out_dir = tmp_path / "o"
    out_dir.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "mutualfuse", "fuse-video", str(a), str(b), "-o",
                             str(out_dir / "f.mp4"), "--weights", str(lively_weights), "--batch", "1", "-q"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 120
    while not any(out_dir.iterdir()) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)  # until the temporary output exists: the run is writing
    assert proc.poll() is None, "finished before it could be interrupted: make the video longer"
    time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert err.strip() == "mutualfuse: interrupted", err
    assert list(out_dir.iterdir()) == []
    time.sleep(0.5)
    assert _ffmpeg_children_of(a) == [] and _ffmpeg_children_of(b) == [] and _ffmpeg_children_of(out_dir) == []


def test_a_damaged_file_is_fused_with_a_note_counting_ffmpegs_decoding_errors(tmp_path, capsys):
    """Bytes overwritten in the middle of an MP4: ffmpeg conceals what it cannot decode and
    repeats frames to keep the rate, and the run said nothing (exit 0, frames silently repeated)."""
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (64, 96), dtype=np.uint8)
    paths = []
    for name in ("a.mp4", "b.mp4"):
        wr = iio.get_writer(str(tmp_path / name), format="FFMPEG", fps=10, codec="libx264", pixelformat="yuv420p",
                            ffmpeg_log_level="error", output_params=["-crf", "20"])
        for i in range(60):
            wr.append_data(np.repeat(np.roll(base, 2 * i, axis=1)[..., None], 3, -1))
        wr.close()
        paths.append(tmp_path / name)
    data = bytearray(paths[1].read_bytes())
    mid = len(data) // 2
    data[mid:mid + len(data) // 10] = rng.integers(0, 256, len(data) // 10, dtype=np.uint8).tobytes()
    paths[1].write_bytes(bytes(data))
    rc, out, err = _run([*paths, "-o", tmp_path / "f.mp4", "--method", "average"], capsys)
    assert rc == 0, err
    notes = [ln for ln in err if ln.startswith("note: b.mp4: ffmpeg reported ")]
    assert len(notes) == 1 and "errors while decoding it (a damaged file?)" in notes[0], err
    assert not any(ln.startswith("note: a.mp4") for ln in err), err
    assert "60 frames at 10 fps" in out and len(_read(tmp_path / "f.mp4")[0]) == 60
