"""``fuse-video`` keeps the depth of deep streams (16/12/10-bit gray, 10-bit colour, float) in its
output, and refuses a video of zero frames in one line.

The inputs are decoded at 16 bits (``rgb48le``) since an earlier fix, but the output was always
8-bit H.264: detail below 1/255 of the range (a thermal scene's few counts of contrast under
``--normalize full``, or any 16-bit fused result) was rounded away, exit 0, silently. Now a deep
input fused into ``.mkv``/``.nut`` is written as 16-bit lossless FFV1 (``gray16le`` for two gray
streams, else ``gbrp16le``); ``--bit-depth 8|16`` chooses; an 8-bit output of deep inputs says
so in a note; 8-bit inputs give the same bytes as before. A Matroska/NUT/AVI/WebM file written
with ``-frames:v 0`` was refused with ffmpeg's reason ("End of file: Element at 0x67 ending at
0x80ec... exceeds containing master element"); now "video has no frames".

Every video here is made at run time by imageio-ffmpeg's bundled ffmpeg (64x48, 3 frames).
"""
from __future__ import annotations

import re
import subprocess

import numpy as np
import pytest

pytest.importorskip("imageio.v2")
imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")

from mutualfuse.cli import main  # noqa: E402

from one_line_error import assert_one_line_error  # noqa: E402  (tests/ is on sys.path)

W, H, N, FPS = 64, 48, 3, 5
FF = imageio_ffmpeg.get_ffmpeg_exe()
#: the encoder command fuse-video ran for every output before this change (video.py, _Encoder)
OLD_X264 = [FF, "-hide_banner", "-nostats", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24",
            "-s", f"{W}x{H}", "-r", "5", "-i", "pipe:0", "-an", "-c:v", "libx264", "-pix_fmt", "yuv420p",
            "-crf", "17"]


def _write(path, frames, fmt, *codec):
    """Frames (numpy, in ``fmt``'s layout) → a video by the bundled ffmpeg (lossless FFV1 by default)."""
    data = b"".join(np.ascontiguousarray(f).tobytes() for f in frames)
    subprocess.run([FF, "-y", "-v", "error", "-f", "rawvideo", "-pix_fmt", fmt, "-s", f"{W}x{H}", "-r", str(FPS),
                    "-i", "-", *(codec or ("-c:v", "ffv1")), str(path)], input=data, check=True)
    return path


def _read(path, fmt, dtype, channels=1):
    """Every frame of ``path`` as ffmpeg decodes it to ``fmt`` (planar when channels > 1)."""
    raw = subprocess.run([FF, "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", fmt, "-"],
                         capture_output=True, check=True).stdout
    x = np.frombuffer(raw, dtype=dtype)
    return x.reshape(-1, channels, H, W) if channels > 1 else x.reshape(-1, H, W)


def _stream(path) -> str:
    """ffmpeg's line for the first video stream: codec and pixel format (``ffv1, gray16le(pc...``)."""
    err = subprocess.run([FF, "-hide_banner", "-i", str(path)], capture_output=True, text=True).stderr
    m = re.search(r"Video: (.*)", err)
    assert m, err
    return m.group(1)


def _fine_pair(tmp_path, fmt="gray16le", ext="mkv"):
    """Two 16-bit gray videos around 30000 counts whose content differs only below 8-bit resolution
    (each sample within 0..200 counts of the base: less than one step of 257 at 8 bits)."""
    rng = np.random.default_rng(20)
    a = [(30000 + rng.integers(0, 200, (H, W))).astype("<u2") for _ in range(N)]
    b = [(30000 + rng.integers(0, 200, (H, W))).astype("<u2") for _ in range(N)]
    return _write(tmp_path / f"a.{ext}", a, fmt), _write(tmp_path / f"b.{ext}", b, fmt), a, b


def test_16_bit_detail_below_8_bit_resolution_reaches_the_output(tmp_path, capsys):
    """The average of two 16-bit streams under --normalize full is written exactly (16-bit FFV1):
    every sample within 1 count of round((a + b) / 2). Before, the output was 8-bit H.264: the
    fused frames held 1-2 grey levels and missed by up to ~130 counts."""
    a, b, fa, fb = _fine_pair(tmp_path)
    out = tmp_path / "f.mkv"
    assert main(["fuse-video", str(a), str(b), "-o", str(out), "--method", "average", "--normalize", "full"]) == 0
    cap = capsys.readouterr()
    got = _read(out, "gray16le", "<u2").astype(np.int64)
    want = np.stack([(x.astype(np.int64) + y) / 2 for x, y in zip(fa, fb)])
    assert got.shape == (N, H, W)
    assert np.unique(got).size > 150, np.unique(got).size  # the 200 counts of detail (8 bits: 1 or 2 levels)
    assert np.abs(got - want).max() <= 1, np.abs(got - want).max()
    assert _stream(out).startswith("ffv1, gray16le"), _stream(out)
    assert "16-bit FFV1" in cap.out, cap.out
    assert "note: the output is 16-bit lossless FFV1 (gray16le)" in cap.err, cap.err


@pytest.mark.parametrize("fmt", ["gray10le", "gray12le"])
def test_10_and_12_bit_gray_streams_give_a_16_bit_gray_output(tmp_path, capsys, fmt):
    """gray10le/gray12le counts (decoded by ffmpeg onto 16 bits) fused into a .nut: gray16le FFV1,
    with far more than 256 levels of the default percentile mapping."""
    top = (1 << int(fmt[4:6])) - 1
    ramp = np.linspace(0, top, W * H).reshape(H, W)
    a = _write(tmp_path / "a.mkv", [np.roll(ramp, i, 1).astype("<u2") for i in range(N)], fmt)
    b = _write(tmp_path / "b.mkv", [np.roll(ramp[::-1], i, 1).astype("<u2") for i in range(N)], fmt)
    out = tmp_path / "f.nut"
    assert main(["fuse-video", str(a), str(b), "-o", str(out), "--method", "max", "-q"]) == 0, capsys.readouterr().err
    assert _stream(out).startswith("ffv1") and "gray16le" in _stream(out), _stream(out)
    assert np.unique(_read(out, "gray16le", "<u2")).size > 300  # 8 bits: at most 256 (10-bit max here: 512)


def test_10_bit_colour_gives_a_16_bit_rgb_output(tmp_path, capsys):
    """A yuv444p10le colour stream with a gray16le one: gbrp16le FFV1 (RGB at 16 bits)."""
    rng = np.random.default_rng(3)
    yuv = [np.stack([rng.integers(64, 940, (H, W)), np.full((H, W), 300), np.full((H, W), 700)]).astype("<u2")
           for _ in range(N)]
    a = _write(tmp_path / "a.mkv", yuv, "yuv444p10le")
    b = _write(tmp_path / "b.mkv", [rng.integers(0, 65536, (H, W)).astype("<u2") for _ in range(N)], "gray16le")
    out = tmp_path / "f.mkv"
    assert main(["fuse-video", str(a), str(b), "-o", str(out), "--method", "average", "-q"]) == 0, \
        capsys.readouterr().err
    assert _stream(out).startswith("ffv1, gbrp16le"), _stream(out)
    g = _read(out, "gbrp16le", "<u2", channels=3)
    assert g.shape == (N, 3, H, W) and np.unique(g).size > 1000


FLOAT_FFV1 = ("-c:v", "ffv1", "-level", "4", "-strict", "experimental")  # FFV1 stores float as gbrpf32le


def _float_video(path, frames):
    """Gray float frames (H, W) → a gbrpf32le FFV1 video (R = G = B), stored exactly."""
    p = _write(path, [np.repeat(f.astype("<f4")[None], 3, 0) for f in frames], "gbrpf32le", *FLOAT_FFV1)
    assert np.array_equal(_read(p, "gbrpf32le", "<f4", channels=3)[:, 0], np.stack(frames).astype("<f4"))
    return p


def test_a_float_stream_in_0_1_is_read_as_floats_and_kept_as_it_is(tmp_path, capsys):
    """A gbrpf32le stream (values in [0, 1], steps of 1/20000) is read as floats and taken as a
    float still is under --normalize auto (as it is, not stretched); the average of two lands
    within 1 count of 65535 (a + b) / 2 at 16 bits. Before: read and written at 8 bits by
    ffmpeg's float conversion, off by 2630 counts (measured)."""
    rng = np.random.default_rng(5)
    fa = [rng.integers(0, 20001, (H, W)) / 20000 for _ in range(N)]
    fb = [rng.integers(0, 20001, (H, W)) / 20000 for _ in range(N)]
    a, b = _float_video(tmp_path / "a.mkv", fa), _float_video(tmp_path / "b.mkv", fb)
    out = tmp_path / "f.mkv"
    assert main(["fuse-video", str(a), str(b), "-o", str(out), "--method", "average"]) == 0
    err = capsys.readouterr().err
    got = _read(out, "gbrp16le", "<u2", channels=3).astype(np.float64)
    want = np.stack([(x.astype("<f4").astype(np.float64) + y.astype("<f4")) / 2 * 65535 for x, y in zip(fa, fb)])
    assert np.abs(got - want[:, None]).max() <= 1, np.abs(got - want[:, None]).max()
    assert "a.mkv: float samples (gbrpf32le) in [" in err and "used as they are" in err, err


def test_a_float_stream_in_kelvin_is_mapped_by_the_whole_videos_percentiles(tmp_path, capsys):
    """Temperatures (290-310 K) as floats: ffmpeg's conversion clipped them all to 1.0, a flat white
    video, exit 0. Now the 0.1/99.9 percentiles of all the video's samples map to 0 and 1, as for
    a float still outside [0, 1] (to within (max - min) / 65536: a 16-bit mapping's resolution);
    the output is within 2 counts of that mapping computed here with np.percentile. A NaN sample
    is one line naming the file, exit 2, nothing written."""
    rng = np.random.default_rng(6)
    fk = [290 + 20 * rng.random((H, W)) for _ in range(N)]
    k = _float_video(tmp_path / "k.mkv", fk)
    out = tmp_path / "f.mkv"
    assert main(["fuse-video", str(k), str(k), "-o", str(out), "--method", "average"]) == 0
    err = capsys.readouterr().err
    stored = np.stack(fk).astype("<f4").astype(np.float64)
    lo, hi = np.percentile(np.stack([stored] * 3), [0.1, 99.9])  # R, G and B samples together, as fuse-video
    want = np.clip((stored - lo) / (hi - lo), 0, 1) * 65535
    got = _read(out, "gbrp16le", "<u2", channels=3)[:, 0].astype(np.float64)
    assert np.abs(got - want).max() <= 2, np.abs(got - want).max()
    assert "k.mkv: float samples (gbrpf32le) in [290" in err and "percentiles of the whole video" in err, err
    fk[1][5, 7] = np.nan
    nan = _write(tmp_path / "nan.mkv", [np.repeat(f.astype("<f4")[None], 3, 0) for f in fk], "gbrpf32le", *FLOAT_FFV1)
    before = sorted(p.name for p in tmp_path.iterdir())
    assert_one_line_error(capsys, ["fuse-video", str(nan), str(k), "-o", str(tmp_path / "g.mkv"), "--method",
                                   "average"], f"{nan}: frame 2 holds 3 NaN or infinite samples")
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_an_8_bit_container_of_deep_inputs_says_so_and_bit_depth_chooses(tmp_path, capsys):
    """.mp4 (H.264) keeps 8 bits with a note naming the deeper inputs; --bit-depth 8 makes an .mkv
    8-bit H.264 too (the note says it was asked); --bit-depth 16 into .mp4 is one line, exit 2,
    nothing written (MP4 has no FFV1 mapping)."""
    a, b, _, _ = _fine_pair(tmp_path)
    out = tmp_path / "f.mp4"
    assert main(["fuse-video", str(a), str(b), "-o", str(out), "--method", "average"]) == 0
    cap = capsys.readouterr()
    assert "note: the output is 8-bit: a.mkv has 16-bit samples (gray16le), b.mkv has 16-bit samples" in cap.err
    # not "(or --bit-depth 16)": .mp4 cannot hold it (that is refused below)
    assert "written as 8-bit H.264; an .mkv or .nut output keeps 16 bits" in cap.err, cap.err
    assert "16-bit" not in cap.out and _stream(out).startswith("h264") and "yuv420p" in _stream(out)
    avi = tmp_path / "f.avi"  # 8 bits by default, 16 on request: the note offers it
    assert main(["fuse-video", str(a), str(b), "-o", str(avi), "--method", "average"]) == 0
    assert ".avi is written as 8-bit H.264; an .mkv or .nut output (or --bit-depth 16) keeps 16 bits" in \
        capsys.readouterr().err
    out8 = tmp_path / "f8.mkv"
    assert main(["fuse-video", str(a), str(b), "-o", str(out8), "--method", "average", "--bit-depth", "8"]) == 0
    assert "as --bit-depth 8 asks" in capsys.readouterr().err
    assert _stream(out8).startswith("h264") and "yuv420p" in _stream(out8)
    before = sorted(p.name for p in tmp_path.iterdir())
    assert_one_line_error(capsys, ["fuse-video", str(a), str(b), "-o", str(tmp_path / "g.mp4"), "--method",
                                   "average", "--bit-depth", "16"], "g.mp4: a 16-bit output is lossless FFV1")
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_8_bit_inputs_can_be_written_at_16_bits(tmp_path, capsys):
    """--bit-depth 16 on 8-bit gray inputs (into .avi): the fused floats at 16 bits, within 1 count
    of 65535 (a + b) / 2 / 255 (8 bits: up to 128 off)."""
    rng = np.random.default_rng(8)
    fa = [rng.integers(0, 256, (H, W)).astype(np.uint8) for _ in range(N)]
    fb = [rng.integers(0, 256, (H, W)).astype(np.uint8) for _ in range(N)]
    a, b = _write(tmp_path / "a.mkv", fa, "gray"), _write(tmp_path / "b.mkv", fb, "gray")
    out = tmp_path / "f.avi"
    assert main(["fuse-video", str(a), str(b), "-o", str(out), "--method", "average", "--bit-depth", "16",
                 "-q"]) == 0, capsys.readouterr().err
    got = _read(out, "gray16le", "<u2").astype(np.float64)
    want = np.stack([(x.astype(np.float64) + y) / 2 / 255 * 65535 for x, y in zip(fa, fb)])
    assert np.abs(got - want).max() <= 1, np.abs(got - want).max()  # rounding (0.5) + the method's float error
    assert _stream(out).startswith("ffv1") and "gray16le" in _stream(out), _stream(out)


def test_8_bit_inputs_give_the_same_bytes_as_before(tmp_path, capsys):
    """Guard: 8-bit inputs fused into .mp4 (default depth) are encoded exactly as before this
    change: the output file equals, byte for byte, the old encoder command fed the expected
    fused frames (the average of two gray streams of even samples: exact integers)."""
    rng = np.random.default_rng(11)
    fa = [(2 * rng.integers(0, 128, (H, W))).astype(np.uint8) for _ in range(N)]
    fb = [(2 * rng.integers(0, 128, (H, W))).astype(np.uint8) for _ in range(N)]
    a, b = _write(tmp_path / "a.mkv", fa, "gray"), _write(tmp_path / "b.mkv", fb, "gray")
    out = tmp_path / "f.mp4"
    assert main(["fuse-video", str(a), str(b), "-o", str(out), "--method", "average", "-q"]) == 0, \
        capsys.readouterr().err
    frames = [np.repeat((((x.astype(np.int64) + y) // 2).astype(np.uint8))[..., None], 3, -1) for x, y in zip(fa, fb)]
    ref = tmp_path / "ref.mp4"
    subprocess.run([*OLD_X264, str(ref)], input=b"".join(f.tobytes() for f in frames), check=True)
    assert out.read_bytes() == ref.read_bytes()


@pytest.mark.parametrize("ext,codec", [("mkv", "ffv1"), ("mkv", "libx264"), ("webm", "libvpx-vp9"),
                                       ("nut", "ffv1"), ("avi", "ffv1")])
def test_a_video_of_zero_frames_is_one_line_naming_it(tmp_path, capsys, ext, codec):
    """ffmpeg writes a file of zero frames (-frames:v 0) that it cannot open again (Matroska: "End
    of file: Element at 0x67 ending at 0x80ec... exceeds containing master element"; NUT: "EOF
    before video frames"; AVI: "Conversion failed!"): now "video has no frames", exit 2, nothing
    written, in either place."""
    zero = tmp_path / f"zero.{ext}"
    subprocess.run([FF, "-y", "-v", "error", "-f", "lavfi", "-i", f"testsrc2=s={W}x{H}:r={FPS}:d=1", "-frames:v",
                    "0", "-c:v", codec, str(zero)], check=True)
    good = _write(tmp_path / "good.mkv", [np.zeros((H, W), np.uint8)] * N, "gray")
    before = sorted(p.name for p in tmp_path.iterdir())
    for pair in ((zero, good), (good, zero)):
        err = assert_one_line_error(capsys, ["fuse-video", str(pair[0]), str(pair[1]), "-o", str(tmp_path / "f.mkv"),
                                             "--method", "average"], f"{zero}: video has no frames")
        assert "Element at" not in err and "Conversion failed" not in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == before
