"""fuse-video's output with real-world inputs (session 25, Q2).

* A 16-bit output of two gray videos stored as YUV (yuv420p / yuv444p with flat chroma, as
  thermal cameras and ffmpeg conversions store gray) was written as gbrp16le, three equal planes:
  the pixel format followed the inputs' pixel formats, not the gray-or-colour decision made for
  each video before fusing. Now gray16le where the fused result is gray.
* Non-square pixels (an anamorphic stream, SAR 4:3) were written as square ones: the output was
  shown squeezed. Now the sample aspect ratio is kept (where the inputs differ, the non-square
  one's, with a note).
* A phone clip whose rotation tag turns its frames to a size the other video does not have was
  refused without saying how to fuse its frames as stored; the line now gives the ffmpeg command
  that drops the tag (the test runs it and fuses the result).
* A variable-frame-rate phone MP4 (30 fps nominal, 29 fps average) was taken at imageio's average
  rate while ffmpeg reads it at 30: refused beside a 30 fps video ("frame rate mismatch"), and
  fused alone, written at 29 fps (longer than the input). Now the rate ffmpeg reads at is used.
"""
from __future__ import annotations

import re
import subprocess

import numpy as np
import pytest

pytest.importorskip("imageio.v2")
pytest.importorskip("imageio_ffmpeg")

from one_line_error import assert_one_line_error  # noqa: E402
from test_s24_video_helpers import ffmpeg  # noqa: E402

from mutualfuse.cli import main  # noqa: E402

N, H, W = 6, 48, 64


def _gray_frames(seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    base = rng.integers(20, 236, (H, W), dtype=np.uint8)
    return [np.roll(base, 2 * i, axis=1) for i in range(N)]


def _encode(path, frames, src_fmt: str, args: list[str], rate: int = 10):
    h, w = frames[0].shape[:2]
    subprocess.run([ffmpeg(), "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", src_fmt, "-s", f"{w}x{h}",
                    "-r", str(rate), "-i", "-", *args, str(path)],
                   input=b"".join(f.tobytes() for f in frames), check=True)
    return path


def _stream_line(path) -> str:
    err = subprocess.run([ffmpeg(), "-hide_banner", "-nostdin", "-i", str(path)], capture_output=True).stderr.decode()
    m = re.search(r"Stream #0:\d+\S*: Video: (.*)", err)
    assert m, err
    return m.group(1)


def _decoded(path, **kw) -> np.ndarray:
    import imageio.v2 as iio

    r = iio.get_reader(str(path), **kw)
    try:
        return np.stack([np.asarray(f) for f in r])
    finally:
        r.close()


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    d = tmp_path_factory.mktemp("s25vout")
    ga, gb = _gray_frames(1), _gray_frames(2)
    rng = np.random.default_rng(3)
    colour = [rng.integers(0, 256, (H, W, 3), dtype=np.uint8) for _ in range(N)]
    x264 = ["-c:v", "libx264", "-crf", "0"]
    return {
        # gray stored as YUV: 4:2:0 (a thermal camera's H.264) and 4:4:4 (an ffmpeg conversion)
        "ir420": _encode(d / "ir420.mp4", ga, "gray", x264 + ["-pix_fmt", "yuv420p"]),
        "vis444": _encode(d / "vis444.mp4", gb, "gray", x264 + ["-pix_fmt", "yuv444p"]),
        "colour": _encode(d / "colour.mp4", colour, "rgb24", x264 + ["-pix_fmt", "yuv444p"]),
        # anamorphic: stored 64x48, pixels 4:3 wide (shown 85x48)
        "ir_sar": _encode(d / "ir_sar.mp4", ga, "gray", x264 + ["-pix_fmt", "yuv420p", "-vf", "setsar=4/3"]),
        "vis_sar": _encode(d / "vis_sar.mp4", gb, "gray", x264 + ["-pix_fmt", "yuv420p", "-vf", "setsar=4/3"]),
        "dir": d,
    }


def _run(capsys, a, b, out, *extra) -> str:
    rc = main(["fuse-video", str(a), str(b), "-o", str(out), "--method", "average", *extra])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    return captured.err


def test_two_gray_yuv_videos_give_a_gray16le_output(clips, capsys):
    out = clips["dir"] / "gray16.mkv"
    err = _run(capsys, clips["ir420"], clips["vis444"], out, "--bit-depth", "16")
    line = _stream_line(out)
    assert "ffv1" in line and "gray16le" in line and "gbrp16le" not in line, line
    assert "FFV1 (gray16le)" in err, err
    # the frames are the fused gray result: the average of the two decoded videos' gray frames
    a = _decoded(clips["ir420"]).astype(np.float64)
    b = _decoded(clips["vis444"]).astype(np.float64)
    for x in (a, b):  # decoded as R = G = B (gray stored as YUV with flat chroma)
        assert np.abs(x[..., 0] - x[..., 1]).max() <= 2 and np.abs(x[..., 1] - x[..., 2]).max() <= 2
    luma = [(x[..., 0] * 0.299 + x[..., 1] * 0.587 + x[..., 2] * 0.114) / 255 for x in (a, b)]
    expected = np.round((luma[0] + luma[1]) / 2 * 65535)
    got = _decoded(out, dtype="uint16")
    assert got.shape == (N, H, W, 3)  # imageio reads it as RGB: its three channels are the gray plane
    # integer outputs of a float64 computation rounded once: at most one level of 65535 apart
    assert np.abs(got[..., 0].astype(np.float64) - expected).max() <= 1


def test_a_colour_video_still_gives_gbrp16le(clips, capsys):
    out = clips["dir"] / "colour16.mkv"
    err = _run(capsys, clips["ir420"], clips["colour"], out, "--bit-depth", "16")
    assert "gbrp16le" in _stream_line(out) and "FFV1 (gbrp16le)" in err


def test_a_colour_video_under_chroma_gray_gives_gray16le(clips, capsys):
    out = clips["dir"] / "colour_gray16.mkv"
    _run(capsys, clips["ir420"], clips["colour"], out, "--bit-depth", "16", "--chroma", "gray")
    assert "gray16le" in _stream_line(out)


@pytest.mark.parametrize("suffix, extra", [(".mp4", ()), (".mkv", ("--bit-depth", "16"))])
def test_anamorphic_videos_keep_their_sample_aspect_ratio(clips, capsys, suffix, extra):
    out = clips["dir"] / f"sar{suffix}"
    err = _run(capsys, clips["ir_sar"], clips["vis_sar"], out, *extra)
    line = _stream_line(out)
    assert "64x48" in line and re.search(r"SAR 4:3 DAR 16:9", line), line  # was square pixels: shown 64x48
    assert "SAR" not in err  # the inputs agree: nothing to say


def test_one_anamorphic_video_gives_its_aspect_ratio_with_a_note(clips, capsys):
    out = clips["dir"] / "sar_one.mp4"
    err = _run(capsys, clips["ir420"], clips["vis_sar"], out)
    assert re.search(r"SAR 4:3 DAR 16:9", _stream_line(out))
    assert "note: ir420.mp4 has square pixels, vis_sar.mp4 SAR 4:3: frames are fused pixel by pixel as stored " \
           "(64x48), and the output has vis_sar.mp4's SAR 4:3 (shown 85x48)" in err, err


def test_a_rotation_tag_size_mismatch_says_how_to_fuse_the_stored_frames(clips, capsys):
    d = clips["dir"]
    phone = d / "phone.mp4"  # stored 64x48 like the IR video, with a display matrix of 90 degrees
    subprocess.run([ffmpeg(), "-v", "error", "-y", "-display_rotation", "90", "-i", str(clips["vis444"]), "-c", "copy",
                    str(phone)], check=True)
    out = d / "rot.mp4"
    err = assert_one_line_error(capsys, ["fuse-video", str(clips["ir420"]), str(phone), "-o", str(out),
                                         "--method", "average"],
                                f"{phone}: size mismatch", "48x64 (stored 64x48, turned by its rotation tag)",
                                f"ffmpeg -display_rotation 0 -i {phone} -c copy {d / 'phone_stored.mp4'}")
    assert not out.exists() and not list(d.glob("*rot.mp4*")), err
    # the command it gives works: the copy has no tag, and fuses with the IR video at 64x48
    cmd = err.split("drop the tag from a copy first: ", 1)[1].split(" (no re-encoding)")[0].split()
    assert cmd[0] == "ffmpeg"
    subprocess.run([ffmpeg(), "-v", "error", "-y", *cmd[1:]], check=True)
    _run(capsys, clips["ir420"], d / "phone_stored.mp4", out)
    assert "64x48" in _stream_line(out)


@pytest.fixture(scope="module")
def vfr(clips):
    """A phone's variable-frame-rate MP4: 30 frames at a nominal 30 fps with frame 10 missing (its
    time left empty): ffmpeg says 29 fps (the average; a lavfi-made one 29.03), 30 tbr, and reads it at 30 fps, 30
    frames (one repeated to fill the gap); and an IR video of 30 frames at 30 fps."""
    d = clips["dir"]
    rng = np.random.default_rng(5)
    base = rng.integers(20, 236, (H, W), dtype=np.uint8)
    frames = [np.roll(base, i, axis=1) for i in range(30)]
    phone = d / "phone_vfr.mp4"
    subprocess.run([ffmpeg(), "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "gray", "-s", f"{W}x{H}", "-r", "30",
                    "-i", "-", "-vf", "select='not(eq(n,10))'", "-fps_mode", "vfr",
                    "-c:v", "libx264", "-crf", "0", "-pix_fmt", "yuv420p", str(phone)],
                   input=b"".join(f.tobytes() for f in frames[:30]), check=True)
    line = _stream_line(phone)
    assert re.search(r" 29(\.\d+)? fps, 30 tbr", line), line  # the case: an average below the nominal rate
    ir = _encode(d / "ir30.mp4", frames[:30], "gray", ["-c:v", "libx264", "-crf", "0", "-pix_fmt", "yuv420p"], 30)
    return phone, ir


def test_a_variable_frame_rate_phone_clip_is_written_at_the_rate_it_is_read_at(clips, vfr, capsys):
    phone, _ = vfr
    out = clips["dir"] / "vfr_self.mp4"
    err = _run(capsys, phone, phone, out)
    line = _stream_line(out)
    # read at 30 fps (30 frames, one repeated); was written at its average 29 fps: 1.03 s of a 1 s clip
    assert "30 fps" in line, line
    assert len(_decoded(out)) == 30
    assert "read at 30 fps by repeating 1 and dropping 0 of its frames" in err, err


def test_a_variable_frame_rate_phone_clip_pairs_with_a_video_at_its_nominal_rate(clips, vfr, capsys):
    phone, ir = vfr
    out = clips["dir"] / "vfr_ir.mp4"
    rc = main(["fuse-video", str(ir), str(phone), "-o", str(out), "--method", "average"])
    captured = capsys.readouterr()
    # was: "frame rate mismatch: ir30.mp4 has 30 fps, phone_vfr.mp4 has 29 fps", with a hint to bring
    # the 30 fps video down to 29
    assert rc == 0, captured.err
    assert "30 frames at 30 fps" in captured.out, captured.out
