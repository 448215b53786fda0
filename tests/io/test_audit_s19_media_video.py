"""fuse-video audit (s19): files named as videos that are not, and videos named as imageio did
not expect.

Before: a PNG (JPEG, TIFF ...) named ``.mp4`` was read by ffmpeg's image demuxer as a video of
one frame and "fused" into a one-frame video, exit 0; a NIfTI volume was "not a readable video"
with ffmpeg's words; and real videos named ``.m4v`` (Apple), ``.ts`` (drones, recorders),
``.y4m`` / ``.nut`` (16-bit gray, as thermal pipelines write them) or raw ``.mjpeg`` were
refused as "not a file imageio's ffmpeg reader takes" before ffmpeg saw them.
"""
from __future__ import annotations

import os
import subprocess

import numpy as np
import pytest
from one_line_error import assert_one_line_error  # tests/ is on sys.path

iio = pytest.importorskip("imageio.v2")
imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")

from mutualfuse.cli import main  # noqa: E402

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
H, W, N = 32, 48, 4


def _ffmpeg(*args, data: bytes | None = None):
    subprocess.run([FFMPEG, "-y", "-v", "error", *map(str, args)], input=data, check=True,
                   stdin=None if data is not None else subprocess.DEVNULL)


def _raw(path, fmt, frames: np.ndarray, *out_args):
    """Frames (N, H, W) of pixel format ``fmt`` encoded into ``path`` with ``out_args``."""
    _ffmpeg("-f", "rawvideo", "-pix_fmt", fmt, "-s", f"{W}x{H}", "-r", "10", "-i", "pipe:0", *out_args, path,
            data=frames.tobytes())
    return path


def _gray8(seed):
    rng = np.random.default_rng(seed)
    return np.stack([np.roll(rng.integers(0, 256, (H, W), dtype=np.uint8), 2 * i, axis=1) for i in range(N)])


def _thermal(seed):
    """14-bit counts in 16-bit samples, as a thermal core gives them."""
    rng = np.random.default_rng(seed)
    return (7000 + rng.integers(0, 2000, (N, H, W))).astype("<u2")


def _mp4(path, seed):
    return _raw(path, "gray", _gray8(seed), "-c:v", "libx264", "-pix_fmt", "yuv444p", "-crf", "0", "-f", "mp4")


def _frames(path):
    r = iio.get_reader(str(path), format="FFMPEG")
    try:
        return len([f for f in r])
    finally:
        r.close()


@pytest.mark.parametrize("fmt,what", [("PNG", "a PNG image"), ("JPEG", "a JPEG image"), ("TIFF", "a TIFF image"),
                                      ("BMP", "a BMP image"), ("PPM", "a PNM (PBM/PGM/PPM) image")])
def test_a_still_image_named_as_a_video_is_named_by_its_content(tmp_path, capsys, fmt, what):
    from PIL import Image

    a = _mp4(tmp_path / "a.mp4", 0)
    Image.fromarray(_gray8(1)[0]).save(tmp_path / "b.mp4", format=fmt)
    before = sorted(os.listdir(tmp_path))
    err = assert_one_line_error(capsys, ["fuse-video", str(a), str(tmp_path / "b.mp4"), "-o", str(tmp_path / "f.mp4"),
                                         "--method", "average"], f"b.mp4: {what}, not a video", "`mutualfuse fuse`")
    assert "ffmpeg" not in err
    assert sorted(os.listdir(tmp_path)) == before  # no output, no temporary file


def test_two_stills_named_as_videos_make_no_one_frame_video(tmp_path, capsys):
    """The reported case: a PNG and a JPEG, both named .mp4, were fused into a one-frame video at
    ffmpeg's 25 fps for stills, exit 0."""
    from PIL import Image

    Image.fromarray(_gray8(0)[0]).save(tmp_path / "a.mp4", format="PNG")
    Image.fromarray(_gray8(1)[0]).save(tmp_path / "b.mp4", format="JPEG")
    assert_one_line_error(capsys, ["fuse-video", str(tmp_path / "a.mp4"), str(tmp_path / "b.mp4"), "-o",
                                   str(tmp_path / "f.mp4"), "--method", "average"], "a.mp4: a PNG image, not a video")
    assert not (tmp_path / "f.mp4").exists()


def test_a_16_bit_png_named_mkv_in_either_place_is_refused(tmp_path, capsys):
    from PIL import Image

    Image.fromarray(_thermal(0)[0]).save(tmp_path / "frame.mkv", format="PNG")  # a 16-bit gray PNG
    b = _mp4(tmp_path / "b.mp4", 1)
    assert_one_line_error(capsys, ["fuse-video", str(tmp_path / "frame.mkv"), str(b), "-o", str(tmp_path / "f.mp4"),
                                   "--method", "average"], "frame.mkv: a PNG image, not a video")
    assert not (tmp_path / "f.mp4").exists()


def test_a_volume_given_to_fuse_video_points_to_fuse_volume(tmp_path, capsys):
    nib = pytest.importorskip("nibabel")
    nib.save(nib.Nifti1Image(np.zeros((H, W, 3), np.float32), np.eye(4)), str(tmp_path / "ct.nii.gz"))
    nib.save(nib.Nifti1Image(np.zeros((H, W, 3), np.float32), np.eye(4)), str(tmp_path / "mr.nii"))
    a = _mp4(tmp_path / "a.mp4", 0)
    for name in ("ct.nii.gz", "mr.nii"):
        assert_one_line_error(capsys, ["fuse-video", str(a), str(tmp_path / name), "-o", str(tmp_path / "f.mp4"),
                                       "--method", "average"], f"{name}: a NIfTI volume, not a video",
                              "`mutualfuse fuse-volume` two volumes")


def test_videos_named_as_imageio_does_not_list_are_read(tmp_path, capsys):
    """.m4v and .ts: ffmpeg reads them by content; imageio refused the names."""
    src_a, src_b = _mp4(tmp_path / "sa.mp4", 0), _mp4(tmp_path / "sb.mp4", 1)
    _ffmpeg("-i", src_a, "-c", "copy", "-f", "ipod", tmp_path / "a.m4v")
    _ffmpeg("-i", src_b, "-c", "copy", "-f", "mpegts", tmp_path / "b.ts")
    out = tmp_path / "f.mp4"
    assert main(["fuse-video", str(tmp_path / "a.m4v"), str(tmp_path / "b.ts"), "-o", str(out), "--method", "average",
                 "-q"]) == 0, capsys.readouterr().err
    assert _frames(out) == N


def test_16_bit_thermal_streams_in_y4m_and_nut_are_read_at_16_bits(tmp_path, capsys):
    a = _raw(tmp_path / "ir.nut", "gray16le", _thermal(0), "-c:v", "rawvideo")
    b = _raw(tmp_path / "ir2.y4m", "gray16le", _thermal(1), "-strict", "-1")
    out = tmp_path / "f.mkv"
    assert main(["fuse-video", str(a), str(b), "-o", str(out), "--method", "average"]) == 0
    err = capsys.readouterr().err
    for name in ("ir.nut", "ir2.y4m"):  # 16-bit counts, not the top 8 bits
        assert f"note: {name}: one intensity mapping for all frames" in err and "(700" in err, err
    assert _frames(out) == N


def test_a_raw_mjpeg_stream_is_a_video_and_one_jpeg_is_not(tmp_path, capsys):
    """A raw MJPEG stream (an IP or thermal camera's .mjpeg) starts like a JPEG: it is read as the
    video it is (N frames at ffmpeg's 25 fps), while a single JPEG is named as an image."""
    from PIL import Image

    for name, seed in (("a.mjpeg", 0), ("b.mjpeg", 1)):
        _raw(tmp_path / name, "gray", _gray8(seed), "-c:v", "mjpeg", "-f", "mjpeg")
        assert (tmp_path / name).read_bytes()[:3] == b"\xff\xd8\xff"
    out = tmp_path / "f.mp4"
    assert main(["fuse-video", str(tmp_path / "a.mjpeg"), str(tmp_path / "b.mjpeg"), "-o", str(out),
                 "--method", "average", "-q"]) == 0, capsys.readouterr().err
    assert _frames(out) == N
    Image.fromarray(_gray8(2)[0]).save(tmp_path / "one.mjpeg", format="JPEG")
    assert_one_line_error(capsys, ["fuse-video", str(tmp_path / "a.mjpeg"), str(tmp_path / "one.mjpeg"), "-o",
                                   str(tmp_path / "g.mp4"), "--method", "average"],
                          "one.mjpeg: a JPEG image, not a video")


def test_a_file_of_two_video_streams_is_read_by_its_first_with_a_note(tmp_path, capsys):
    """An IR stream (48x32, 10 fps) muxed with a visible one (96x64, 30 fps), as a lab's recorder
    writes both cameras into one file: ffmpeg decoded its largest stream, the visible one, while
    imageio reported the first stream's frame rate, so the run fused the visible frames at 10 fps
    (3x slow motion) and said they were "turned upright as its rotation tag says (0 degrees)"."""
    ir = _mp4(tmp_path / "ir.mp4", 0)
    vis = tmp_path / "vis.mp4"
    big = np.random.default_rng(5).integers(0, 256, (3 * N, 2 * H, 2 * W), dtype=np.uint8)
    _ffmpeg("-f", "rawvideo", "-pix_fmt", "gray", "-s", f"{2 * W}x{2 * H}", "-r", "30", "-i", "pipe:0",
            "-c:v", "libx264", "-pix_fmt", "yuv444p", vis, data=big.tobytes())
    _ffmpeg("-i", ir, "-i", vis, "-map", "0:v", "-map", "1:v", "-c", "copy", tmp_path / "both.mkv")
    out = tmp_path / "f.mp4"
    assert main(["fuse-video", str(tmp_path / "both.mkv"), str(_mp4(tmp_path / "b.mp4", 1)), "-o", str(out),
                 "--method", "average"]) == 0
    cap = capsys.readouterr()
    assert f"({N} frames at 10 fps, {W}x{H}," in cap.out, cap.out
    assert f"note: both.mkv: 2 video streams ({W}x{H}, {2 * W}x{2 * H}); its first is read" in cap.err, cap.err
    assert "rotation" not in cap.err, cap.err
    assert _frames(out) == N
