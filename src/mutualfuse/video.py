"""Fusing two registered videos frame by frame (optional extra: ``pip install mutualfuse[video]``).

Frames are decoded by imageio's ffmpeg plugin (imageio-ffmpeg ships the ffmpeg binary), read
from both videos in lockstep in batches of ``batch`` frames, fused as a batch by
:meth:`mutualfuse.Fuser.fuse_arrays` (gray or colour as for still images) and encoded at the
first video's frame rate. A stream of more than 8 bits a sample (``gray16le``, ``gray12le``,
``yuv420p10le``) is decoded at 16 bits and each frame is scaled as a 16-bit still is
(``normalize``: percentiles by default); 8-bit frames as 8-bit stills (``v/255``); a float stream
(``gbrpf32le``, ``grayf16le``: FFV1 stores them) is read as 32-bit floats by ffmpeg itself
(:class:`_FloatReader`) and scaled as a float still is (as it is where it lies in [0, 1] under
``auto``, else by percentiles). Where percentiles apply, one mapping serves the whole video
(``frame_mapping="video"``, the default: the percentiles of all its frames' samples, from a first
decoding pass), so that a thermal stream does not flicker as each frame is stretched on its own
(``frame_mapping="frame"``).
The output has the same frame count, rate and size as the inputs. Its depth (``bit_depth``):
8-bit H.264 (libx264, ``crf``; odd sizes as 4:4:4, 4:2:0 needs even sides) or 16-bit lossless
FFV1 (``gray16le`` where the fused result is gray: both videos gray, as decided below, or the
fuser's chroma "gray"; else ``gbrp16le``)
in ``.mkv``, ``.nut``, ``.avi`` or ``.mov``; by default 16 bits where either input has more than
8 bits a sample and the output is ``.mkv`` or ``.nut`` (FFV1's own containers), else 8 bits with
a note saying so. A video whose frames are gray in RGB form (R = G = B, the usual ffmpeg decode
of an IR stream) is fused as gray.

Any container ffmpeg recognises by its content is read whatever its name (``.m4v``, ``.ts``,
``.y4m``, ``.nut`` ...), by its first video stream that is not a cover picture; a still image or
a volume is refused by its content, whatever its name (a PNG named ``.mp4``: :func:`still_kind`).

Gray or colour is decided once per video, before fusing (:func:`_video_colour`; a gray stream with
chroma noise in some frames switched between the two from batch to batch).
Frames are read as ffmpeg decodes them for display: turned by a rotation tag, a variable-frame-
rate file read at its nominal constant rate by repeated or dropped frames (the rate the output is
written at: :func:`reading_rate`, not imageio's average); notes say so, and that audio is not
copied. Non-square pixels (an anamorphic stream) are fused as stored and the output keeps their
sample aspect ratio (:func:`sample_aspect`). A second ffmpeg counts both videos' frames in the
background while they are fused (:class:`_FrameCounter`), so different lengths are refused once
counted, not at the end.

The output is written to a temporary file in the target folder and renamed at the end, so a
failure (frame-count mismatch, decode error, interruption) leaves no partial output.
"""
from __future__ import annotations

import math
import os
import sys
from fractions import Fraction
from pathlib import Path
from typing import Callable

import numpy as np

from .color import output_is_colour
from .errors import InputError, ParameterError
from .image_io import HEIF_BRANDS, IMAGE_SUFFIXES, is_nifti_header, quiet_decoders  # a still given to fuse-video is named as such

VIDEO_SUFFIXES = {".mp4", ".mkv", ".avi", ".mov", ".m4v", ".webm"}
#: containers the output is written in: libx264 cannot go into WebM, and imageio's ffmpeg plugin
#: takes no .m4v; both were accepted, the WebM run ended with a broken file and exit 0
OUTPUT_SUFFIXES = {".mp4", ".mkv", ".avi", ".mov", ".nut"}
#: containers a 16-bit (FFV1) output is written in: by default (``bit_depth=None``) where an input
#: has more than 8 bits a sample; the others on ``bit_depth=16`` only (MP4 has no FFV1 mapping)
DEEP_DEFAULT_SUFFIXES = {".mkv", ".nut"}
DEEP_SUFFIXES = {".mkv", ".nut", ".avi", ".mov"}
BIT_DEPTHS = (8, 16)
EXTRA_HINT = "video needs imageio and imageio-ffmpeg: pip install 'mutualfuse[video]'"


def _imageio():
    try:
        import imageio.v2 as iio
        import imageio_ffmpeg  # noqa: F401
    except ImportError:
        return None
    return iio


def stream_bits(pix_fmt: str) -> int:
    """Bits per sample of an ffmpeg pixel format name as imageio reports it (``gray16le(pc,
    progressive)`` → 16, ``yuv420p10le`` → 10, ``p010le`` → 10, ``rgb48le`` → 16, ``yuv420p`` → 8).
    Float formats (``grayf32le``, ``gbrpf32le``, ``grayf16le``) → 16: deeper than 8 (they are read
    as floats, :class:`_FloatReader`; at 8 bits they kept 256 levels of [0, 1], the rest clipped)."""
    import re

    name = (pix_fmt or "").split("(")[0].strip().lower()
    if is_float_format(name):
        return 16
    m = re.search(r"(\d+)(?:le|be)$", name)
    if not m:
        return 8
    bits = int(m.group(1))
    if name.startswith(("rgb", "bgr")) and bits in (48, 64):  # bits of the whole pixel
        bits = 16
    return bits if 8 < bits <= 16 else 8


def is_float_format(pix_fmt: str) -> bool:
    """Whether an ffmpeg pixel format holds float samples (``grayf32le``, ``gbrpf32le``, ``yaf16le``)."""
    import re

    return bool(re.search(r"f(16|32)(le|be)$", (pix_fmt or "").split("(")[0].strip().lower()))


def is_gray_format(pix_fmt: str) -> bool:
    """Whether an ffmpeg pixel format is gray (``gray``, ``gray16le``, ``grayf32le``, ``ya16le``)."""
    name = (pix_fmt or "").split("(")[0].strip().lower()
    return name.startswith(("gray", "ya")) or name in ("monow", "monob")


def _no_frames(path: Path, text: str) -> bool:
    """Whether ffmpeg failed on ``path`` because its video stream holds no frame (a file written with
    ``-frames:v 0``): ffmpeg cannot open such a Matroska/WebM file ("End of file: Element at 0x67
    ending at ... exceeds containing master element"), says "EOF before video frames" for NUT,
    and "received no packets" for AVI. A Matroska file counts as frameless when it has a Tracks
    element and no Cluster (the element that holds frames) anywhere in it."""
    if "EOF before video frames" in text or "streams received no packets" in text:
        return True
    try:
        with open(path, "rb") as f:
            head = f.read(4)
            if head != b"\x1a\x45\xdf\xa3" or os.fstat(f.fileno()).st_size > (64 << 20):
                return False
            f.seek(0)
            data = f.read()
    except OSError:
        return False
    return b"\x16\x54\xae\x6b" in data and b"\x1f\x43\xb6\x75" not in data


def _ffmpeg_reason(text: str) -> str:
    """The reason in an ffmpeg log (imageio's "Could not load meta information === stderr ===
    <banner>..."), without ffmpeg's banner: "no video stream" where ffmpeg found none (an audio
    file, an MP4 of zero frames), else the reason ffmpeg gave for not opening the file, with its
    last demuxer message ("Invalid data found when processing input: moov atom not found", a
    truncated MP4)."""
    import re

    if "does not contain any stream" in text or "matches no streams" in text:
        return "it has no video stream"
    lines = [re.sub(r"^\[[^\]]*\]\s*", "", ln.strip()) for ln in text.splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith(("ffmpeg version", "built with", "configuration:", "lib",
                                                              "Could not load meta", "=== stderr"))]
    lines = [ln for ln in lines if "misdetection possible" not in ln]
    for i, ln in enumerate(lines):
        if ln.startswith("Error opening input:"):
            reason = ln.split(":", 1)[1].strip()
            return (f"{reason}: {lines[i - 1]}" if i else reason)[:160]
    return (lines[-1] if lines else "ffmpeg gave no reason")[:160]


#: the first bytes of still-image (and volume) files that ffmpeg would read as a video of one frame
#: (its image demuxers probe the content, whatever the name): (offset, bytes, what the file is)
_STILL_MAGIC = (
    (0, b"\x89PNG\r\n\x1a\n", "a PNG image"), (0, b"\xff\xd8\xff", "a JPEG image"), (0, b"GIF87a", "a GIF image"),
    (0, b"GIF89a", "a GIF image"), (0, b"II*\x00", "a TIFF image"), (0, b"MM\x00*", "a TIFF image"),
    (0, b"II+\x00", "a TIFF image"), (0, b"MM\x00+", "a TIFF image"),
    (0, b"\x00\x00\x00\x0cjP  \r\n\x87\n", "a JPEG 2000 image"), (0, b"\xffO\xffQ", "a JPEG 2000 image"),
    (0, b"\x00\x00\x00\x0cJXL \r\n\x87\n", "a JPEG XL image"), (0, b"\xff\x0a", "a JPEG XL image"),
    (0, b"v/1\x01", "an OpenEXR image"), (0, b"SIMPLE  =", "a FITS image"), (0, b"SDPX", "a DPX image"),
    (0, b"XPDS", "a DPX image"), (0, b"qoif", "a QOI image"), (0, b"8BPS", "a Photoshop image"),
    (128, b"DICM", "a DICOM file"),
)


def still_kind(path: Path) -> str | None:
    """What a still image (or a volume) is by its first bytes ("a PNG image"), whatever its name;
    None for anything else, videos included."""
    import re

    if str(path).lower().endswith((".nii", ".nii.gz")):
        return "a NIfTI volume"
    try:
        with open(path, "rb") as f:
            head = f.read(352)
    except OSError:
        return None
    for at, magic, what in _STILL_MAGIC:
        if head[at:at + len(magic)] == magic:
            return None if what == "a JPEG image" and _jpegs_follow(path) else what
    if is_nifti_header(head):
        return "a NIfTI volume"
    if head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS:  # ISO files of one image
        return "a HEIF image" if head[8:12] != b"avif" else "an AVIF image"
    if head[8:12] == b"WEBP" and head[:4] == b"RIFF":
        return "a WebP image"
    if head[:2] == b"BM" and len(head) >= 18 and int.from_bytes(head[14:18], "little") in (12, 16, 40, 52, 56, 64,
                                                                                            108, 124):
        return "a BMP image"
    if re.match(rb"P[1-7]\s", head):
        return "a PNM (PBM/PGM/PPM) image"
    return None


def _jpegs_follow(path: Path, chunk: int = 1 << 20) -> bool:
    """Whether a file that starts as a JPEG has a second one right after the first (an end-of-image
    marker followed by a start-of-image one): a raw MJPEG stream (an IP or thermal camera's
    ``.mjpeg``), a video; one JPEG (an EXIF thumbnail inside it included) has none."""
    tail = b""
    with open(path, "rb") as f:
        while True:
            block = f.read(chunk)
            if not block:
                return False
            if b"\xff\xd9\xff\xd8" in tail + block:
                return True
            tail = block[-3:]


#: the stream read from a file of several video streams: its first one that is not a cover picture.
#: ffmpeg's own choice was the largest, while imageio took the size and frame rate it reports from
#: the first: a 48x32 IR stream muxed with a 96x64 visible one was read as the visible one, said
#: to be "turned by its rotation tag", at the IR stream's frame rate
MAP_VIDEO = ("-map", "0:V:0")


def _get_reader(iio, path: Path, **kwargs):
    """imageio's ffmpeg reader for ``path`` whatever its extension (ffmpeg finds the container from
    the content, but imageio refused names it does not list before ffmpeg saw them: .m4v, .ts,
    .mts, .m2ts, .y4m, .nut, .3gp, .flv, .mxf ...: "not a file imageio's ffmpeg reader takes"),
    reading its first video stream (:data:`MAP_VIDEO`)."""
    kwargs["output_params"] = list(MAP_VIDEO)
    try:
        from imageio.v3 import imopen
    except ImportError:  # pragma: no cover - imageio older than the extra's bound
        return iio.get_reader(str(path), format="FFMPEG", **kwargs)
    return imopen(str(path), "r?", plugin="FFMPEG", extension=".mp4", legacy_mode=True).legacy_get_reader(**kwargs)


def _frames_folder_hint(path: Path, look: int = 1000) -> str:
    """Where a folder given as a video holds image files (a thermal camera's 16-bit TIFF frames, an
    export of PNG frames): how to fuse them, else "". The first image file (by name) of its first
    ``look`` entries names the suffix of the ffmpeg command that makes a lossless video of them
    (FFV1 keeps 16-bit gray; the frame rate is the user's: frames carry none)."""
    try:
        with os.scandir(path) as it:
            names = sorted(e.name for _, e in zip(range(look), it)
                           if Path(e.name).suffix.lower() in IMAGE_SUFFIXES and not e.name.startswith("."))
    except OSError:
        return ""
    if not names:
        return ""
    suffix = Path(names[0]).suffix
    return (f" (it holds image files, e.g. {names[0]}: make a video of each folder first, e.g. ffmpeg "
            f"-framerate FPS -pattern_type glob -i '{path}/*{suffix}' -c:v ffv1 {path.name or 'frames'}.mkv, "
            "which keeps 16-bit frames; or fuse the two folders frame by frame as stills with `mutualfuse "
            "fuse-dir`)")


def _open_reader(iio, path: Path):
    if not path.exists():
        raise InputError(f"{path}: file not found")
    if path.is_dir():
        raise InputError(f"{path}: is a directory, expected a video file{_frames_folder_hint(path)}")
    from .image_io import not_a_regular_file

    special = not_a_regular_file(path)  # a pipe was "file is empty"; a video is decoded more than once
    if special:
        raise InputError(f"{path}: {special}")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty")
    kind = still_kind(path)
    if kind is not None or path.suffix.lower() in IMAGE_SUFFIXES:
        # a PNG named .mp4 was read by ffmpeg's image demuxer as a video of one frame, and "fused", exit 0
        what = "an image" if path.suffix.lower() in IMAGE_SUFFIXES or kind is None else kind
        other = ("`mutualfuse fuse-volume` two volumes" if kind == "a NIfTI volume" else
                 "`mutualfuse fuse` two images")
        raise InputError(f"{path}: {what}, not a video (fuse-video takes two videos; {other})")
    try:
        with quiet_decoders():  # imageio-ffmpeg's rotation warning: this module reports the rotation
            r = _get_reader(iio, path)
            meta = r.get_meta_data()
            if is_float_format(str(meta.get("pix_fmt", ""))):
                # float samples (an FFV1 gbrpf32le stream): read as floats; imageio reads 8 or 16 bits,
                # ffmpeg's conversion clipped them to [0, 1] (temperatures in kelvin: a flat frame)
                r.close()
                r = _FloatReader(path, meta)
            elif stream_bits(str(meta.get("pix_fmt", ""))) > 8:
                # more than 8 bits a sample (a 14-bit thermal stream in gray16le, 10-bit HDR): the default
                # rgb24 decode kept the top 8 bits only, and the run fused a few grey levels, exit 0
                r.close()
                r = _get_reader(iio, path, dtype="uint16")
                meta = r.get_meta_data()
    except Exception as e:  # noqa: BLE001 - imageio raises OSError/RuntimeError/IndexError/ValueError
        if _no_frames(path, str(e)):  # was ffmpeg's reason: "End of file: Element at 0x67 ending at ..."
            raise InputError(f"{path}: video has no frames (its video stream holds none: written with zero frames, "
                             "or cut before the first)") from None
        raise InputError(f"{path}: not a readable video ({_ffmpeg_reason(str(e))})") from None
    return r, meta


class _FloatReader:
    """The frames of a float stream as ffmpeg decodes them, as float32: ``(H, W)`` for a gray format
    (read as ``grayf32le``), else ``(H, W, 3)`` RGB (read as ``gbrpf32le``), with imageio's reading
    otherwise (the first video stream, :data:`MAP_VIDEO`; turned by a rotation tag; at a constant
    rate: the options of imageio's reader, so :class:`_FrameCounter` counts the same frames).
    Iterating raises :class:`RuntimeError` with ffmpeg's first message when ffmpeg fails."""

    def __init__(self, path: Path, meta: dict):
        self.path, self.meta = path, meta
        self.w, self.h = (int(v) for v in meta["size"])
        fmt = str(meta.get("pix_fmt", ""))
        self.channels, self.pix_fmt = (1, "grayf32le") if is_gray_format(fmt) else (3, "gbrpf32le")
        self._p = self._err = None

    def _start(self):
        import subprocess
        import tempfile

        import imageio_ffmpeg

        self.close()
        self._err = tempfile.TemporaryFile()
        cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error",
               "-i", ffmpeg_input(self.path), *MAP_VIDEO, "-an", "-sn", "-dn", "-f", "image2pipe", "-pix_fmt", self.pix_fmt,
               "-vcodec", "rawvideo", "-"]
        self._p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._err,
                                   start_new_session=True)  # Ctrl+C reaches Python only, which stops it

    def __iter__(self):
        self._start()
        size = self.w * self.h * self.channels * 4
        while True:
            buf = self._p.stdout.read(size)
            if len(buf) < size:
                rc = self._p.wait()
                if buf or rc != 0:
                    self._err.seek(0)
                    msg = _ffmpeg_first_line(self._err.read().decode("utf-8", "replace"))
                    raise RuntimeError(f"ffmpeg: {msg}" if rc != 0 else "a frame cut short")
                return
            x = np.frombuffer(buf, dtype="<f4").reshape(self.channels, self.h, self.w)
            # gbrp planes: G, B, R
            yield x[0].copy() if self.channels == 1 else np.ascontiguousarray(np.moveaxis(x[[2, 0, 1]], 0, -1))

    def count_frames(self) -> int:
        return sum(1 for _ in self)

    def get_meta_data(self) -> dict:
        return self.meta

    def close(self) -> None:
        if self._p is not None:
            if self._p.poll() is None:
                self._p.kill()
            self._p.wait()
            self._p.stdout.close()
            self._p = None
        if self._err is not None:
            self._err.close()
            self._err = None


def ffmpeg_input(path) -> str:
    """``path`` as an ffmpeg ``-i`` argument that is always read as a file: absolute. A relative
    name with a colon (``vis:cam.mp4``, ``f:32.nut``: a time of day in a recorder's file name)
    was read as a protocol (``vis:``), "Protocol not found": a float stream could not be read at
    all, and for the others the frame count, the reading rate and the decoding errors came from
    that failure (a "damaged file?" note on an intact video). imageio opens files by their
    absolute path already."""
    return os.path.abspath(os.fspath(path))


def _ffmpeg_first_line(text: str) -> str:
    """ffmpeg's first error line without its ``[muxer @ 0x...]`` prefix."""
    import re

    for line in text.splitlines():
        line = re.sub(r"^\[[^\]]*\]\s*", "", line.strip())
        if line:
            return line[:160]
    return "no message"


class _Encoder:
    """libx264 by the ffmpeg binary of imageio-ffmpeg, fed raw RGB frames on its stdin; with
    ``depth=16``, lossless FFV1 fed 16-bit frames (``gray16le`` when ``gray``, else ``rgb48le``
    stored as ``gbrp16le``; ``pixfmt`` and ``crf`` do not apply). ``sar``: the sample aspect ratio
    written (non-square pixels, an anamorphic input's), else square.

    imageio's writer neither checks ffmpeg's exit status nor keeps its messages: an encoder that
    failed (a container that cannot hold H.264, a full disk) left a broken file that was renamed
    into place with exit 0, and ffmpeg's lines went to the terminal. Here ffmpeg's stderr goes to
    a temporary file and :meth:`close` raises :class:`InputError` (naming ``shown``) unless
    ffmpeg exited with 0. ffmpeg runs in its own session, so a Ctrl+C reaches only Python, which
    kills it (:meth:`abort`) before the temporary output is removed."""

    def __init__(self, path: Path, shown: Path, w: int, h: int, fps: float, pixfmt: str, crf: int,
                 depth: int = 8, gray: bool = False, sar: tuple[int, int] | None = None):
        import subprocess
        import tempfile

        import imageio_ffmpeg

        self.shown, self.frames = shown, 0
        self.depth, self.gray = depth, gray and depth == 16
        self._err = tempfile.TemporaryFile()
        # an exact rate as a ratio (24000/1001): "23.976023976" was read as another ratio
        rate = f"{fps.numerator}/{fps.denominator}" if isinstance(fps, Fraction) else format(fps, ".12g")
        if depth == 16:
            src, codec = ("gray16le", "gray16le") if self.gray else ("rgb48le", "gbrp16le")
            enc = ["-c:v", "ffv1", "-level", "3", "-pix_fmt", codec]
        else:
            # the RGB frames become YUV by ffmpeg's default matrix, BT.601, limited range. Players guess
            # the matrix of an untagged stream by its size: BT.601 up to SD, BT.709 for HD (wider than
            # 1279 or taller than 576), so an HD output says BT.601 in the stream (it said nothing): a
            # 1280x720 test pattern decoded as BT.709 was 9.6 levels of 255 off on average, 54 at most,
            # against 0.8 and 39 (chroma subsampling) as BT.601. SD outputs: the same bytes as before
            src, enc = "rgb24", ["-c:v", "libx264", "-pix_fmt", pixfmt, "-crf", str(int(crf))]
            if w >= 1280 or h > 576:
                enc += ["-colorspace", "smpte170m", "-color_range", "tv"]
        cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostats", "-loglevel", "error", "-y",
               "-f", "rawvideo", "-pix_fmt", src, "-s", f"{w}x{h}", "-r", rate, "-i", "pipe:0",
               "-an", *(("-vf", f"setsar={sar[0]}/{sar[1]}") if sar else ()), *enc, str(path)]
        self._p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._err,
                                   start_new_session=True)

    def _failed(self, what: str) -> InputError:
        self._err.seek(0)
        msg = _ffmpeg_first_line(self._err.read().decode("utf-8", "replace"))
        return InputError(f"{self.shown}: {what} after {self.frames} frames (ffmpeg: {msg})")

    def write(self, frame: np.ndarray) -> None:
        """One frame: uint8 RGB (H, W, 3) at depth 8; at depth 16 uint16, (H, W) when ``gray``
        (a 3-channel frame is taken by its first channel), else (H, W, 3) (a gray one repeated)."""
        if self.depth == 16:
            if self.gray and frame.ndim == 3:
                frame = frame[..., 0]
            elif not self.gray and frame.ndim == 2:
                frame = np.repeat(frame[..., None], 3, axis=-1)
            data = np.ascontiguousarray(frame, dtype="<u2").tobytes()
        else:
            data = np.ascontiguousarray(frame, dtype=np.uint8).tobytes()
        try:
            self._p.stdin.write(data)
        except (BrokenPipeError, ValueError):  # ffmpeg is gone: its own message says why
            self._p.wait()
            raise self._failed("encoding failed") from None
        self.frames += 1

    def close(self) -> None:
        try:
            self._p.stdin.close()
        except BrokenPipeError:
            pass
        rc = self._p.wait()
        if rc != 0:
            raise self._failed(f"encoding failed (ffmpeg exit status {rc})")
        self._err.close()

    def abort(self) -> None:
        if self._p.poll() is None:
            self._p.kill()
        self._p.wait()
        self._err.close()


class _FrameCounter:
    """Counts the frames imageio will decode from ``path`` with a second ffmpeg in the background
    (the same ffmpeg and output options as imageio's reader, writing to the null device), while
    the frames are fused, so that two videos of different lengths are refused once both are
    counted, not after the shorter one's last frame (an hour of work for an hour of video).
    ffmpeg's own counts also tell whether it repeated or dropped frames to read the video at a
    constant rate (a variable-frame-rate file) and the rotation its tag asked for."""

    def __init__(self, path: Path):
        import subprocess
        import tempfile

        import imageio_ffmpeg

        self.path = path
        self.frames = self.dup = self.drop = None
        self.rotation, self.damage, self.streams = 0.0, 0, []
        self._out, self._err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
        cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-i", ffmpeg_input(path),
               *MAP_VIDEO, "-an", "-sn", "-dn", "-pix_fmt", "gray", "-vcodec", "rawvideo", "-f", "image2pipe",
               "-progress", "pipe:1", "-y", os.devnull]
        self._p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self._out, stderr=self._err,
                                   start_new_session=True)  # Ctrl+C reaches Python only, which stops it

    def done(self, wait: float | None = 0.0) -> bool:
        """Whether the count is known (``wait``: seconds to wait for it; None: until it is)."""
        import re
        import subprocess

        if self._p is None:
            return self.frames is not None
        try:
            rc = self._p.wait(wait) if wait != 0.0 else self._p.poll()
        except subprocess.TimeoutExpired:
            rc = None
        if rc is None:
            return False
        self._p = None
        self._out.seek(0)
        self._err.seek(0)
        out = self._out.read().decode("utf-8", "replace")
        err = self._err.read().decode("utf-8", "replace")
        self._out.close()
        self._err.close()
        vals = dict(re.findall(r"^(\w+)=\s*(\S*)\s*$", out, re.M))  # the last report's values
        if rc == 0 and vals.get("progress") == "end" and vals.get("frame", "").isdigit():
            self.frames = int(vals["frame"])
            self.dup, self.drop = int(vals.get("dup_frames") or 0), int(vals.get("drop_frames") or 0)
        m = re.search(r"rotation of (-?[\d.]+) degrees", err)
        if m:
            self.rotation = float(m.group(1))
        # the input's video streams, cover pictures left out: "Stream #0:1[0x2](und): Video: h264 ..., 96x64 ..."
        head = err.split("Stream mapping:", 1)[0]
        found = re.finditer(r"^\s*Stream #0:\d+\S*: Video: (?:.*?\s(\d+x\d+)\b)?.*$", head, re.M)
        self.streams = [m.group(1) or "?" for m in found if "(attached pic)" not in m.group(0)]
        # ffmpeg's complaints while decoding (after the header): "Invalid NAL unit size", "missing
        # picture in access unit", "Error while decoding stream", "concealing N errors"
        body = err.split("Stream mapping:", 1)[-1].lower()
        self.damage = sum(1 for ln in body.splitlines()
                          if any(w in ln for w in ("error", "invalid", "missing", "corrupt", "conceal", "damaged")))
        return self.frames is not None

    def stop(self) -> None:
        if self._p is not None:
            if self._p.poll() is None:
                self._p.kill()
            self._p.wait()
            self._p = None
            self._out.close()
            self._err.close()


def _check_counts(counters: dict, a_path: Path, b_path: Path, metas: dict | None = None) -> None:
    """Refuse two videos whose frame counts (known to both counters) differ. ``metas``: path →
    imageio's metadata, to say where the shorter one is shorter than its own header (:func:`_cut_short`)."""
    ca, cb = counters[a_path], counters[b_path]
    if ca.frames is not None and cb.frames is not None and ca.frames != cb.frames:
        (shorter, ns), (longer, nl) = sorted(((a_path, ca.frames), (b_path, cb.frames)), key=lambda t: t[1])
        cut = _cut_short((metas or {}).get(shorter, {}), ns)
        raise InputError(f"{shorter}: frame count mismatch: it has {ns} frames{cut}, {longer} has {nl} "
                         f"{_cut_longer(longer, ns)}")


def _cut_longer(longer: Path, frames: int) -> str:
    """How to cut the longer of two videos to the shorter one's ``frames`` (the two refusals of
    different lengths said "cut the longer one" or nothing)."""
    return (f"(the videos must be registered in time: cut the longer one where they match, e.g. to its first "
            f"{frames} frames: ffmpeg -i {longer} -frames:v {frames} -c:v ffv1 "
            f"{longer.with_name(f'{longer.stem}_{frames}.mkv')})")


def _cut_short(meta: dict, frames: int) -> str:
    """`` (its header declares 10 frames, 1 s at 10 fps: a truncated or damaged file?)`` where a
    video decoded to fewer frames than the duration its container declares (a recording cut
    short by a full card or a power loss, a copy broken off: ffmpeg decodes what is there, and
    the mismatch alone said "it has 2 frames" of a file that should hold 10), else ""."""
    dur, fps = meta.get("duration"), meta.get("fps")
    if not (isinstance(dur, (int, float)) and isinstance(fps, (int, float)) and math.isfinite(dur)
            and math.isfinite(fps) and dur > 0 and fps > 0):
        return ""
    declared = int(round(dur * fps))
    if declared <= frames + 1:  # a frame of rounding either way is no sign of damage
        return ""
    return f" (its header declares {declared} frames, {dur:g} s at {fps:g} fps: a truncated or damaged file?)"


def count_frames(path: str | os.PathLike) -> int:
    iio = _imageio()
    if iio is None:
        raise InputError(f"{path}: {EXTRA_HINT}")
    r, _ = _open_reader(iio, Path(path))
    try:
        return int(r.count_frames())
    finally:
        r.close()


def _is_gray(frame: np.ndarray) -> bool:
    if frame.ndim == 2:
        return True
    if np.issubdtype(frame.dtype, np.floating):  # a float stream's RGB planes: equal where it is gray
        f = frame.astype(np.float64)
        tol = 1e-6 * max(1.0, float(np.abs(f).max()))
        return bool(np.abs(f[..., 0] - f[..., 1]).max() <= tol and np.abs(f[..., 1] - f[..., 2]).max() <= tol)
    f = frame.astype(np.int32)
    tol = 2 if frame.dtype == np.uint8 else 2 * 257  # codec rounding, in the samples' units
    return int(np.abs(f[..., 0] - f[..., 1]).max()) <= tol and int(np.abs(f[..., 1] - f[..., 2]).max()) <= tol


#: a frame's chroma (the largest difference between R, G and B of any pixel, in levels of 255) up
#: to which the frame is gray: codec rounding of an R = G = B frame
GRAY_LEVELS = 2
#: the chroma above which a frame is clearly colour. A video none of whose frames goes above it is
#: gray, with chroma noise where some frames go above GRAY_LEVELS (a gray IR stream through an
#: H.264 4:2:0 encoder: 5-6 levels in a test); decided once per video (:func:`_video_colour`)
NOISE_LEVELS = 16


def _chroma_levels(frame: np.ndarray) -> float:
    """A decoded frame's chroma: the largest |R - G| or |G - B| of its pixels, in levels of 255
    (16-bit samples / 257); a float frame 0 where its planes are equal (:func:`_is_gray`), else inf."""
    if frame.ndim == 2:
        return 0.0
    if frame.shape[-1] == 4:
        frame = frame[..., :3]
    if np.issubdtype(frame.dtype, np.floating):
        return 0.0 if _is_gray(frame) else math.inf
    f = frame.astype(np.int32)
    d = max(int(np.abs(f[..., 0] - f[..., 1]).max()), int(np.abs(f[..., 1] - f[..., 2]).max()))
    return float(d) if frame.dtype == np.uint8 else d / 257.0


class _Chroma:
    """What a video's frames say of gray or colour, frame by frame (:meth:`add`): frames read,
    frames with chroma noise (above GRAY_LEVELS, not above NOISE_LEVELS), the first clearly colour
    frame (1-based, and the frame itself, for :func:`_palette_like`), the largest chroma."""

    def __init__(self):
        self.frames = self.noisy = 0
        self.peak = 0.0
        self.first_colour: int | None = None
        self.colour_frame: np.ndarray | None = None

    def add(self, frame: np.ndarray) -> None:
        lv = _chroma_levels(frame)
        self.frames += 1
        self.peak = max(self.peak, lv)
        if lv > NOISE_LEVELS:
            if self.first_colour is None:
                self.first_colour, self.colour_frame = self.frames, np.array(frame)
        elif lv > GRAY_LEVELS:
            self.noisy += 1

    @property
    def colour(self) -> bool:
        return self.first_colour is not None


def _video_colour(iio, path: Path, tick: Callable[[int], None] | None = None) -> _Chroma:
    """Whether a video is colour, from one decoding pass that stops at its first clearly colour
    frame (a visible camera's video: at once; a gray stream in a colour format: the whole video).
    ``tick(frames read)`` after every frame."""
    st = _Chroma()
    r, _ = _open_reader(iio, Path(path))
    try:
        for f in r:
            st.add(np.asarray(f))
            if tick is not None:
                tick(st.frames)
            if st.colour:
                break
    except InputError:
        raise
    except Exception as e:  # noqa: BLE001 - imageio raises OSError/RuntimeError/IndexError
        raise InputError(f"{path}: video decode failed after {st.frames} frames "
                         f"({' '.join(str(e).split())[:160]})") from None
    finally:
        r.close()
    if st.frames == 0:
        raise InputError(f"{path}: video has no frames")
    return st


def _colour_notes(path: Path, st: _Chroma) -> list[str]:
    """The notes on a video decided gray despite chroma noise, or colour from a frame after its first."""
    if not st.colour and st.noisy:
        return [f"{path.name}: fused as gray: {st.noisy} of its {st.frames} frames carry chroma noise (R, G and B "
                f"differ by up to {st.peak:.3g} levels of 255, never more than {NOISE_LEVELS}: a gray stream through "
                "a colour encoder, e.g. H.264 4:2:0); gray or colour is decided once for the whole video"]
    if st.colour and st.first_colour > 1:
        return [f"{path.name}: fused as colour: its frame {st.first_colour} is colour (R, G and B differ by more "
                f"than {NOISE_LEVELS} levels of 255); its {st.first_colour - 1} frames before it look gray and are "
                "fused as colour too (gray or colour is decided once for the whole video)"]
    return []


def _palette_like(frame: np.ndarray) -> bool:
    """Whether a colour frame's colours follow its brightness along one curve, as a thermal camera's
    colour palette (ironbow) does: the chroma (Cb, Cr) within each of 64 luma bins varies by less
    than a tenth of its variance over the frame (ironbow of MSRS and KAIST IR frames: 0.002-0.03;
    their visible frames: 0.6-0.85), and is strong (RMS over 0.04 of the range; those visible
    frames 0.025-0.057, ironbow 0.085-0.18). A palette whose luma is not monotonic (rainbow:
    0.09-0.24) is not detected; a tinted monochrome video (sepia) is."""
    x = frame[..., :3].astype(np.float64)
    x /= 255.0 if frame.dtype == np.uint8 else 65535.0 if frame.dtype == np.uint16 else 1.0
    y = x @ np.array([0.299, 0.587, 0.114])
    c = np.stack([x[..., 2] - y, x[..., 0] - y], -1).reshape(-1, 2)
    total = float(c.var(0).sum())
    if not total > 0.04 ** 2:
        return False
    bins = np.clip((y.ravel() * 64).astype(np.int64), 0, 63)
    n = np.bincount(bins, minlength=64).astype(np.float64)
    m = n > 0
    within = 0.0
    for i in (0, 1):
        s1, s2 = np.bincount(bins, c[:, i], 64)[m], np.bincount(bins, c[:, i] ** 2, 64)[m]
        within += float((s2 - s1 ** 2 / n[m]).sum())
    return within / len(c) < 0.1 * total


FRAME_MAPPINGS = ("video", "frame")
#: the note where one mapping for the whole video was asked for but its percentiles are equal
_EQUAL_PERCENTILES = ("the {lo:g} and {hi:g} percentiles of the whole video are equal (nearly every sample has "
                      "one value): no mapping for all frames; each frame is scaled alone, as a still is (as "
                      "--frame-mapping frame does)")


def uses_percentiles(dtype, normalize: str) -> bool:
    """Whether frames of this decoded dtype are scaled by percentiles under ``normalize`` (as
    :func:`mutualfuse.io.samples.normalize_samples` scales stills: 16-bit under auto, any under
    percentile)."""
    return normalize == "percentile" or (normalize == "auto" and np.dtype(dtype) != np.uint8)


def _hist_percentiles(hist: np.ndarray, percentiles) -> tuple[float, float]:
    """``np.percentile`` (linear interpolation) of the samples counted by ``hist`` (bin v = value
    v), exactly, without holding the samples."""
    cum = np.cumsum(hist)
    n = int(cum[-1])

    def order_stat(k: int) -> float:  # the k-th smallest sample (0-based)
        return float(np.searchsorted(cum, k, side="right"))

    out = []
    for p in percentiles:
        pos = p / 100.0 * (n - 1)
        k0 = int(np.floor(pos))
        v0, v1 = order_stat(k0), order_stat(min(k0 + 1, n - 1))
        out.append(v0 + (v1 - v0) * (pos - k0))
    return out[0], out[1]


def video_range(iio, path: Path, percentiles=(0.1, 99.9),
                tick: Callable[[int], None] | None = None,
                chroma: _Chroma | None = None) -> tuple[tuple[float, float] | None, int]:
    """The (lo, hi) percentiles of every sample of every frame of a video (channels together, in
    the decoded units: 0–255 or 0–65535), from one decoding pass; None when that range is flat.
    Also returns the frame count. ``tick(frames read)`` after every frame (progress). ``chroma``:
    fed every frame (gray or colour, decided from the same pass)."""
    r, _ = _open_reader(iio, Path(path))
    hist = np.zeros(65536, dtype=np.int64)
    n = 0
    try:
        for f in r:
            f = np.asarray(f)
            if f.ndim == 3 and f.shape[-1] == 4:
                f = f[..., :3]
            if chroma is not None:
                chroma.add(f)
            hist += np.bincount(f.ravel(), minlength=65536)
            n += 1
            if tick is not None:
                tick(n)
    except Exception as e:  # noqa: BLE001 - imageio raises OSError/RuntimeError/IndexError
        raise InputError(f"{path}: video decode failed after {n} frames ({' '.join(str(e).split())[:160]})") from None
    finally:
        r.close()
    if n == 0:
        raise InputError(f"{path}: video has no frames")
    lo, hi = _hist_percentiles(hist, percentiles)
    return ((lo, hi) if hi > lo else None), n


def float_video_range(iio, path: Path, normalize: str, percentiles=(0.1, 99.9),
                      tick: Callable[[int], None] | None = None) -> tuple[tuple[float, float] | None, float, float]:
    """For a float stream: its samples' minimum and maximum (one decoding pass) and, where
    percentiles apply (``percentile``; ``auto`` where a sample lies outside [0, 1] by more than
    the float tolerance, as for a float still), the (lo, hi) percentiles of all its samples from
    a second pass: a histogram of 65536 bins over [min, max] (channels together, as for integer
    streams), so lo and hi are exact to within (max - min) / 65536 (a 16-bit stream's resolution).
    None where no percentiles apply or the range is flat. A NaN or infinite sample is an
    :class:`InputError`. ``tick(frames read)`` after every frame, counted over both passes."""
    from .io.samples import FLOAT_TOLERANCE

    def frames():
        r, _ = _open_reader(iio, Path(path))
        n = 0
        try:
            for f in r:
                yield np.asarray(f, dtype=np.float64)
                n += 1
        except (OSError, RuntimeError) as e:
            raise InputError(f"{path}: video decode failed after {n} frames "
                             f"({' '.join(str(e).split())[:160]})") from None
        finally:
            r.close()
        if n == 0:
            raise InputError(f"{path}: video has no frames")

    from contextlib import closing

    mn, mx, n = math.inf, -math.inf, 0
    with closing(frames()) as it:  # a NaN stops the pass: its ffmpeg is stopped at once
        for f in it:
            if not np.isfinite(f).all():
                raise InputError(f"{path}: frame {n + 1} holds {int((~np.isfinite(f)).sum())} NaN or infinite samples")
            mn, mx, n = min(mn, float(f.min())), max(mx, float(f.max())), n + 1
            if tick is not None:
                tick(n)
    inside = mn >= -FLOAT_TOLERANCE and mx <= 1 + FLOAT_TOLERANCE
    if normalize == "full" or (normalize == "auto" and inside) or not mx > mn:
        return None, mn, mx
    bins = 65536
    hist = np.zeros(bins, dtype=np.int64)
    for k, f in enumerate(frames(), 1):  # runs to its end
        idx = np.minimum(((f.ravel() - mn) / (mx - mn) * bins).astype(np.int64), bins - 1)
        hist += np.bincount(idx, minlength=bins)
        if tick is not None:
            tick(n + k)
    lo, hi = _hist_percentiles(hist, percentiles)  # in bins: bin k holds [mn + k·step, mn + (k+1)·step)
    step = (mx - mn) / bins
    lo, hi = (min(mx, max(mn, mn + (v + 0.5) * step)) for v in (lo, hi))  # a bin's samples at its centre
    return ((lo, hi) if hi > lo else None), mn, mx


def _to_float(frames: list[np.ndarray], gray: bool, normalize: str = "auto",
              percentiles=(0.1, 99.9), path="", fixed: tuple[float, float] | None = None,
              hows: dict | None = None) -> np.ndarray:
    """Decoded frames (uint8, or uint16 for a stream of more than 8 bits) → float64 in [0, 1], each
    frame scaled as a still image of that bit depth is (``--normalize``, ``--percentiles``), or,
    with ``fixed`` = (lo, hi) in the decoded units, all by that one mapping (the whole video's
    percentiles, :func:`video_range`). ``hows``: counts, per way a frame was mapped
    (:func:`~mutualfuse.io.samples.normalize_samples`' "percentile", "clipped", "full"; "fixed"),
    of the frames mapped here, for the run's notes (:func:`_frame_mapping_notes`)."""
    from .io.samples import normalize_samples

    out = []
    for f in frames:
        if f.ndim == 3 and f.shape[-1] == 4:
            f = f[..., :3]
        depth = 8 if f.dtype == np.uint8 else 32 if np.issubdtype(f.dtype, np.floating) else 16
        if fixed is not None:
            x, how = np.clip((f.astype(np.float64) - fixed[0]) / (fixed[1] - fixed[0]), 0.0, 1.0), "fixed"
        else:
            x, how = normalize_samples(f, depth, normalize, percentiles, path)
        if hows is not None:
            hows[how] = hows.get(how, 0) + 1
        if gray and x.ndim == 3:
            x = x[..., 0] * 0.299 + x[..., 1] * 0.587 + x[..., 2] * 0.114
        out.append(x)
    return np.stack(out)


def _input_hint(float_stream: bool, normalize: str) -> str:
    """What ``--normalize`` gives otherwise, as ``fuse`` says it in its note on an input scaled by
    percentile (:func:`mutualfuse.cli.fuse.fuse_files`)."""
    if not float_stream:
        return "--normalize full for the type's full range"
    if normalize == "auto":  # scaled because its samples are outside [0, 1]; full refuses them
        return "its samples are outside [0, 1]; --normalize full takes float data in [0, 1] only"
    return "--normalize auto keeps float samples already in [0, 1] as they are"


def _frame_mapping_notes(path: Path, fmt: str, hows: dict, frames: int, normalize: str,
                         percentiles) -> list[str]:
    """The notes on a video whose frames were each mapped alone, as stills are (``--frame-mapping
    frame``): how many were scaled by their own percentiles (they may flicker) or clipped, as
    ``fuse`` says of a still it scales or clips (it said nothing of them). ``hows``:
    :func:`_to_float`'s counts. None for 8-bit frames read as ``v/255`` (``fuse`` says nothing of
    those either)."""
    from .io.samples import FLOAT_TOLERANCE

    notes = []
    floats = is_float_format(fmt)
    kind = "float" if floats else f"{stream_bits(fmt)}-bit"
    k = hows.get("percentile", 0)
    if k:
        lo, hi = percentiles
        notes.append(f"{path.name}: {kind} samples ({fmt}) scaled by percentile frame by frame, as stills are "
                     f"(each frame's p{lo:g} → 0, p{hi:g} → 1, clipped; {k} of {frames} frames; --frame-mapping "
                     "frame): the brightness of a scene may change from frame to frame; --frame-mapping video maps "
                     f"all frames by the whole video's percentiles ({_input_hint(floats, normalize)})")
    k = hows.get("clipped", 0)
    if k:
        notes.append(f"{path.name}: float samples up to {FLOAT_TOLERANCE:g} outside [0, 1] clipped to [0, 1] "
                     f"({k} of {frames} frames)")
    return notes


def _meta_frames(meta: dict) -> int | None:
    """A video's frame count as its metadata gives it (frames, else duration × rate), or None."""
    n = meta.get("nframes")
    if isinstance(n, (int, float)) and math.isfinite(n) and n > 0:
        return int(n)
    dur, fps = meta.get("duration"), meta.get("fps")
    if isinstance(dur, (int, float)) and isinstance(fps, (int, float)) and dur > 0 and fps > 0 \
            and math.isfinite(dur * fps):
        return int(round(dur * fps))
    return None


def _reading_tick(reading, path: Path, total: int | None):
    """``reading`` bound to one video, as :func:`video_range`'s ``tick``; None without it."""
    if reading is None:
        return None
    return lambda done: reading(path, done, total)


def _read_as(path: Path) -> str:
    """How ffmpeg hands the frames of ``path`` over when they are read (imageio's reading: the first
    video stream, :data:`MAP_VIDEO`, turned by a rotation tag, at a constant rate), from its output
    stream's line for one decoded frame: ``Video: rawvideo (Y800 / 0x30303859), gray(pc,
    progressive), 48x64 [SAR 3:4 DAR 9:16], q=2-31, 245 kb/s, 30 fps, 30 tbn``, followed by
    `` [rate 30000/1001]``: the exact rate of the frames, from a ``showinfo`` filter, where ffmpeg
    gives it (the line's ``29.97 fps`` is rounded to two decimals); "" where ffmpeg gives no line
    (the reading itself then says why)."""
    import re
    import subprocess

    import imageio_ffmpeg

    try:
        err = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", ffmpeg_input(path), *MAP_VIDEO,
                              "-an", "-sn", "-dn", "-frames:v", "1", "-vf", "showinfo", "-pix_fmt", "gray",
                              "-vcodec", "rawvideo", "-f", "image2pipe", "-y", os.devnull],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             timeout=60).stderr.decode("utf-8", "replace")
    except (OSError, subprocess.SubprocessError):
        return ""
    m = re.search(r"^\s*Stream #0:\d+\S*: Video: (rawvideo.*)$", err.split("\nOutput #0", 1)[-1], re.M)
    if not (m and "\nOutput #0" in err):
        return ""
    exact = re.search(r"showinfo.*config in time_base: \S+, frame_rate: (\d+)/(\d+)", err)
    return m.group(1) + (f" [rate {exact.group(1)}/{exact.group(2)}]" if exact else "")


def sample_aspect(line: str) -> tuple[int, int] | None:
    """The sample (pixel) aspect ratio of the frames as read, from :func:`_read_as`'s line (``[SAR 4:3
    DAR 16:9]`` → (4, 3); ffmpeg inverts it where it turns the frames by a rotation tag); None for
    square pixels or none declared."""
    import re

    m = re.search(r"\bSAR (\d+):(\d+) DAR", line)
    if not m:
        return None
    n, d = int(m.group(1)), int(m.group(2))
    if n <= 0 or d <= 0 or n == d:
        return None
    g = math.gcd(n, d)
    return n // g, d // g


def _ffmpeg_fps(v: float) -> str:
    """A frame rate as ffmpeg's stream lines print it (``print_fps``: 23.98, 30, 1k)."""
    c = round(v * 100)
    if not c:
        return f"{v:1.4f}"
    if c % 100:
        return f"{v:3.2f}"
    if c % (100 * 1000):
        return f"{v:1.0f}"
    return f"{v / 1000:1.0f}k"


def reading_rate(line: str) -> Fraction | float | None:
    """The constant frame rate at which ffmpeg hands a video's frames over, from :func:`_read_as`'s
    line (``30 fps``), or None. For a variable-frame-rate file (a phone's MP4) this is its nominal
    rate (ffmpeg's "tbr", 30), while imageio reports its average (29.03 for a 30 fps clip missing a
    frame): such a clip was refused beside a 30 fps video (``frame rate mismatch``, with a hint to
    bring the 30 fps one to 29.03), and fused alone it was written at 29.03 fps while read at 30.

    The exact rate (a :class:`~fractions.Fraction`) where the line has it (``[rate 24000/1001]``) and
    it prints as the line's rate: ffmpeg prints 24000/1001 as ``23.98 fps``, and a 23.976 fps film
    was written at 23.98 fps (1199/50; 0.6 s an hour short of its source and its sound), two
    29.97 fps (30000/1001) videos at 2997/100. Else the printed rate, a float."""
    import re

    m = re.search(r"\b(\d+(?:\.\d+)?)(k?) fps\b", line)
    if not m:
        return None
    v = float(m.group(1)) * (1000 if m.group(2) else 1)
    if not (v > 0 and math.isfinite(v)):
        return None
    exact = re.search(r"\[rate (\d+)/(\d+)\]", line)
    if exact and int(exact.group(2)) > 0 and int(exact.group(1)) > 0:
        r = Fraction(int(exact.group(1)), int(exact.group(2)))
        if _ffmpeg_fps(float(r)) == m.group(1) + m.group(2):
            return r
    return v


def rate_text(fps) -> str:
    """A frame rate for people: ``30``, ``25``, ``29.97 (30000/1001)`` where the decimal is not exact."""
    text = f"{float(fps):g}"
    if isinstance(fps, Fraction) and fps.denominator != 1 and Fraction(text) != fps:
        text += f" ({fps.numerator}/{fps.denominator})"
    return text


def _rates_differ(a, b) -> bool:
    """Whether two reading rates do not pair frame by frame: exact rates (:class:`~fractions.Fraction`)
    more than 1e-5 apart relatively (30000/1001 against 2997/100, 1e-6, pairs: 4 ms an hour; 30
    against 29.97, 1e-3, does not: a frame every 33 s); a printed rate (two decimals) by more than its
    rounding (was 1e-3 relatively, which put 30 against 29.97 on the edge of float rounding)."""
    if isinstance(a, Fraction) and isinstance(b, Fraction):
        return abs(a - b) > Fraction(1, 100000) * a
    return abs(float(a) - float(b)) > 0.0101 + 1e-4 * float(a)


def _turned(meta: dict) -> str:
    """" (stored 48x32, turned by its rotation tag)" where ffmpeg turned the frames by a quarter."""
    src, size = tuple(meta.get("source_size", ())), tuple(meta.get("size", ()))
    if len(src) == 2 and len(size) == 2 and src != size and src == size[::-1]:  # a quarter turn, not another stream
        return f" (stored {src[0]}x{src[1]}, turned by its rotation tag)"
    return ""


def video_min_memory(fuser, h: int, w: int, batch: int) -> int:
    """A lower bound, in bytes, of what :func:`fuse_video` holds at its peak for frames of h×w:
    one batch of ``batch`` frame pairs as float64 images through the fuser
    (:meth:`Fuser.min_memory <mutualfuse.api.Fuser.min_memory>`, gray; the network runs as many
    frames at once as its window allows, each counted as the runner counts it), as
    :func:`mutualfuse.volume.volume_min_memory` counts a batch of slices."""
    need = fuser.min_memory(h, w, 2 * batch)
    runner = getattr(fuser, "runner", None)
    if runner is not None and not (fuser.tile and (h > fuser.tile or w > fuser.tile)):
        at_once = min(batch, max(1, runner.max_window_pixels // max(1, h * w)))
        need += (at_once - 1) * runner.min_bytes(h, w)  # min_memory counted one frame's network memory
    return need


def check_video_memory(fuser, h: int, w: int, batch: int, path) -> None:
    """Refuse (one-line :class:`InputError` naming ``path``) frames whose batch's
    :func:`video_min_memory` exceeds the memory available now; where one frame pair a batch
    fits, the line says ``--batch``. Only the network's part was checked before, at the first
    batch, after the decoding passes; a classical method's batch of float frames not at all."""
    from .runner import available_memory, check_memory

    if not hasattr(fuser, "min_memory"):
        return
    need = video_min_memory(fuser, h, w, batch)
    avail = available_memory()
    if avail is None or need <= avail:
        return
    fits = next((b for b in (4, 2, 1) if b < batch and video_min_memory(fuser, h, w, b) <= avail), None)
    advice = (f"; fuse fewer frames at once (--batch {fits}), or free memory" if fits
              else "; free memory or use a machine with more")
    check_memory(need, f"{path}: fusing {w}x{h} frames, {batch} at once,", advice)


def fuse_video(fuser, a_path: str | os.PathLike, b_path: str | os.PathLike, out_path: str | os.PathLike,
               batch: int = 8, crf: int = 17, progress: Callable[[int, int | None], None] | None = None,
               frame_mapping: str = "video", bit_depth: int | None = None,
               reading: Callable[[Path, int, int | None], None] | None = None,
               checking: Callable[[Path, int, int | None], None] | None = None,
               max_pixels: int | None = None) -> dict:
    """Fuse two registered videos into ``out_path``; returns frame count, fps and size.

    ``max_pixels``: refuse frames of more pixels (``--max-pixels``, the decompression-bomb guard
    of every reader; default :data:`mutualfuse.image_io.MAX_PIXELS`; 0: no limit), from the
    headers, before any frame is fused.

    ``progress(done, total)`` is called once the first batch is fused and after every batch
    (total may be None when unknown). ``frame_mapping``: where frames are scaled by percentiles
    (16-bit streams under the fuser's ``normalize`` "auto", any stream under "percentile"),
    ``"video"`` scales every frame of a video by the percentiles of the whole video (one extra
    decoding pass of that video; no flicker), ``"frame"`` each frame by its own, as a still.

    ``bit_depth``: 8 (H.264, ``crf``), 16 (lossless FFV1; ``.mkv``, ``.nut``, ``.avi``, ``.mov``)
    or None: 16 where either input stream has more than 8 bits a sample and ``out_path`` is
    ``.mkv`` or ``.nut``, else 8 (a note says when a deeper input is written at 8 bits).

    ``reading(path, frames read, total or None)`` is called after every frame of the decoding pass
    that finds a video's percentiles under ``frame_mapping="video"`` (before any frame is fused:
    minutes for a long video; the total is None for a float stream, read once or twice).

    Gray or colour is decided once per video, before any frame is fused: a video in a gray pixel
    format is gray; else from its frames (in the percentile pass where one runs, else in a pass of
    its own, ``checking(path, frames read, total or None)`` after every frame, which stops at the
    first clearly colour frame): colour where a frame's R, G and B differ by more than
    ``NOISE_LEVELS`` (16 levels of 255) somewhere, else gray; a note names a gray video with
    chroma noise (above ``GRAY_LEVELS``, 2) and a colour video whose first frames look gray. Where
    the task is ir-vis and a colour video's colours follow its brightness (a thermal palette such
    as ironbow, :func:`_palette_like`), a note says how to keep the other's colour or none;
    nothing is changed unless asked.

    Both videos are counted by a second ffmpeg in the background while the frames are fused
    (:class:`_FrameCounter`): different frame counts are refused as soon as both are known. The
    returned ``notes`` say what was done to the inputs: frames repeated or dropped to read a
    variable-frame-rate file at a constant rate, frames turned by a rotation tag, an audio track
    that is not copied.
    """
    if frame_mapping not in FRAME_MAPPINGS:
        raise InputError(f"frame_mapping must be one of {', '.join(FRAME_MAPPINGS)}, got {frame_mapping!r}")
    iio = _imageio()
    a_path, b_path, out = Path(a_path), Path(b_path), Path(out_path)
    if iio is None:
        raise InputError(f"{a_path}: {EXTRA_HINT}")
    from .image_io import check_writable
    from .io.samples import FLOAT_TOLERANCE
    from .validation import MIN_SIDE

    check_writable(out_path, inputs=(a_path, b_path), formats=OUTPUT_SUFFIXES)  # a str keeps a trailing /
    parent = out.parent if str(out.parent) else Path(".")
    if bit_depth not in (None, *BIT_DEPTHS):
        raise ParameterError(f"bit_depth must be 8, 16 or None, got {bit_depth!r}")
    if bit_depth == 16 and out.suffix.lower() not in DEEP_SUFFIXES:
        raise InputError(f"{out}: a 16-bit output is lossless FFV1, which {out.suffix.lower()} does not hold; "
                         f"write {', '.join(sorted(DEEP_SUFFIXES))}, or 8 bits (--bit-depth 8, H.264)")
    if batch < 1:
        raise InputError(f"batch must be >= 1, got {batch}")
    ra, ma = _open_reader(iio, a_path)
    try:
        rb, mb = _open_reader(iio, b_path)
    except BaseException:
        ra.close()
        raise
    # the rate the frames are read at (ffmpeg's constant-rate reading), where ffmpeg says it; imageio's
    # "fps" is a variable-frame-rate file's average rate, not the one its frames come at
    lines = {path: _read_as(path) for path in dict.fromkeys((a_path, b_path))}
    fps_a, fps_b = (reading_rate(lines[p]) or float(m.get("fps", 0) or 0) for p, m in ((a_path, ma), (b_path, mb)))
    size_a, size_b = tuple(ma.get("size", ())), tuple(mb.get("size", ()))
    from .image_io import MAX_PIXELS

    limit = MAX_PIXELS if max_pixels is None else max_pixels
    for path, size in ((a_path, size_a), (b_path, size_b)):
        # --max-pixels was accepted and did nothing: a 30000x30000 stream was decoded frame by frame
        if limit and len(size) == 2 and size[0] * size[1] > limit:
            ra.close(), rb.close()
            raise InputError(f"{path}: frames are {size[0]}x{size[1]} = {size[0] * size[1]} pixels, more than the "
                             f"limit of {limit} (decompression bomb guard; raise it with --max-pixels)")
    if size_a != size_b:
        ra.close(), rb.close()
        hint = ""
        for path, meta, other in ((a_path, ma, size_b), (b_path, mb, size_a)):
            if _turned(meta) and tuple(meta.get("source_size", ())) == other:
                # a phone clip's rotation tag turned frames that are stored at the other's size: said
                # what the tag did, not how to fuse the frames as stored
                hint = (f"; {path.name} is stored at the other's size: to fuse its frames as stored, drop the tag "
                        f"from a copy first: ffmpeg -display_rotation 0 -i {path} -c copy "
                        f"{path.with_name(f'{path.stem}_stored{path.suffix}')} (no re-encoding); or turn the other "
                        "video the same way")
                break
        raise InputError(f"{b_path}: size mismatch: {a_path} is {size_a[0]}x{size_a[1]}{_turned(ma)}, {b_path} is "
                         f"{size_b[0]}x{size_b[1]}{_turned(mb)} (the videos must be registered{hint})")
    if min(size_a) < MIN_SIDE:
        ra.close(), rb.close()
        raise InputError(f"{a_path}: frames are {size_a[0]}x{size_a[1]}, smaller than {MIN_SIDE}x{MIN_SIDE}")
    if fps_a <= 0:
        ra.close(), rb.close()
        raise InputError(f"{a_path}: video has no frame rate")
    try:  # before any decoding pass: a batch of large frames refused, not an out-of-memory kill halfway
        check_video_memory(fuser, size_a[1], size_a[0], batch, a_path)
    except InputError:
        ra.close(), rb.close()
        raise
    if _rates_differ(fps_a, fps_b):
        ra.close(), rb.close()
        # a thermal core's 9 or 30 fps beside a visible camera's 25: how to pair them was not said
        fast = b_path if fps_b > fps_a else a_path
        slow = min(fps_a, fps_b)
        # the exact rate in the command (fps=29.97 made 2997/100, not the other's 30000/1001)
        exact = (f"{slow.numerator}/{slow.denominator}" if isinstance(slow, Fraction) and slow.denominator != 1
                 else f"{float(slow):g}")
        raise InputError(f"{b_path}: frame rate mismatch: {a_path} has {rate_text(fps_a)} fps, {b_path} has "
                         f"{rate_text(fps_b)} fps (frames are fused pair by pair, not resampled; bring one to the "
                         f"other's rate first, e.g. ffmpeg -i {fast} -vf fps={exact} -c:v ffv1 "
                         f"{fast.with_name(f'{fast.stem}_{float(slow):g}fps.mkv')}, and check that both "
                         "start at the same moment)")
    rate_notes = []
    if fps_a != fps_b:  # within _rates_differ's tolerance, not equal: said, and which one is written
        rate_notes.append(f"{a_path.name} has {rate_text(fps_a)} fps, {b_path.name} {rate_text(fps_b)} fps: fused "
                          f"frame by frame, written at {a_path.name}'s rate")
    w, h = size_a
    # non-square pixels (an anamorphic stream: DV, broadcast, a camera's squeezed mode): the output was
    # written with square ones, so it showed the frames squeezed (64x48 at SAR 4:3, shown 85x48, came
    # out 64x48). Kept where the inputs agree; where they differ, the non-square one's (a tag lost by
    # the other video's conversion is the likelier case), with a note: frames are fused as stored
    sars = {path: sample_aspect(lines[path]) for path in (a_path, b_path)}
    sar = sars[a_path] or sars[b_path]
    sar_notes = []
    if sars[a_path] != sars[b_path]:
        def said(p):
            return f"SAR {sars[p][0]}:{sars[p][1]}" if sars[p] else "square pixels"

        took = a_path if sars[a_path] else b_path
        sar_notes.append(f"{a_path.name} has {said(a_path)}, {b_path.name} {said(b_path)}: frames are fused pixel by "
                         f"pixel as stored ({w}x{h}), and the output has {took.name}'s SAR {sar[0]}:{sar[1]} (shown "
                         f"{round(w * sar[0] / sar[1])}x{h}); the videos are registered only if their stored "
                         "pixels match")
    fmts = {path: str(meta.get("pix_fmt", "")).split("(")[0].strip() for path, meta in ((a_path, ma), (b_path, mb))}
    deep = [path for path in dict.fromkeys((a_path, b_path)) if stream_bits(fmts[path]) > 8]
    norm = getattr(fuser, "normalize", "auto"), tuple(getattr(fuser, "percentiles", (0.1, 99.9)))
    depth = bit_depth if bit_depth is not None else (16 if deep and out.suffix.lower() in DEEP_DEFAULT_SUFFIXES else 8)
    depth_notes = []
    if depth == 8 and deep:  # the depth the inputs had is not kept: say so
        why = ("as --bit-depth 8 asks" if bit_depth == 8 else
               f"{out.suffix.lower()} is written as 8-bit H.264; an .mkv or .nut output"
               + (" (or --bit-depth 16)" if out.suffix.lower() in DEEP_SUFFIXES else "")  # .mp4 cannot hold it
               + " keeps 16 bits, as lossless FFV1")
        deeper = ", ".join(f"{p.name} has " + ("float" if is_float_format(fmts[p]) else f"{stream_bits(fmts[p])}-bit")
                           + f" samples ({fmts[p]})" for p in deep)  # a float stream's were called "16-bit"
        depth_notes.append(f"the output is 8-bit: {deeper}; {why}")
    if depth == 8 and (w % 2 or h % 2):  # 4:2:0 needs even sides; 4:4:4 H.264 is High 4:4:4, which many
        # players do not decode: the file was written, exit 0, and would not play in a browser
        depth_notes.append(f"frames are {w}x{h}, an odd side: written as H.264 4:4:4 (yuv444p, High 4:4:4 "
                           "profile), which many players (web browsers, QuickTime, hardware decoders) do not "
                           "play; crop the inputs to even sides for the usual 4:2:0, e.g. ffmpeg -i IN -vf "
                           "'crop=trunc(iw/2)*2:trunc(ih/2)*2' OUT")
    total = None
    n_meta = ma.get("nframes")
    if isinstance(n_meta, (int, float)) and math.isfinite(n_meta) and n_meta > 0:
        total = int(n_meta)
    else:
        dur = ma.get("duration")
        if isinstance(dur, (int, float)) and dur > 0:
            total = int(round(dur * fps_a))
    from .io.atomic import atomic_write, remove_stale_parts

    counters = {path: _FrameCounter(path) for path in dict.fromkeys((a_path, b_path))}
    fixed: dict = {}  # path → (lo, hi) of the whole video, where one mapping serves it
    mapping_notes = []
    hows: dict = {a_path: {}, b_path: {}}  # path → how its frames were mapped (counts): the notes on it
    writer = None
    n = 0
    any_colour = {a_path: False, b_path: False}
    chromas: dict = {}  # path → _Chroma: gray or colour, decided once per video before fusing
    colour_notes: list = []
    task = task_note = None
    try:
        if frame_mapping == "video":  # one pass per file (a video fused with itself: one)
            for path, meta in ((a_path, ma),) + (((b_path, mb),) if b_path != a_path else ()):
                bits = stream_bits(str(meta.get("pix_fmt", "")))
                if is_float_format(fmts[path]):
                    rng, mn, mx = float_video_range(iio, path, norm[0], norm[1],
                                                    tick=_reading_tick(reading, path, None))
                    if rng is None and not mx > mn:  # flat: each frame kept at its value, clipped (a still's rule)
                        mapping_notes.append(f"{path.name}: float samples ({fmts[path]}) all {mn:.6g}: a flat video, "
                                             "not stretched, kept at that value"
                                             + (", clipped to [0, 1]" if not 0 <= mn <= 1 else "")
                                             + " (a flat float still's rule)")
                    elif rng is None and (norm[0] == "full" or (norm[0] == "auto" and mn >= -FLOAT_TOLERANCE
                                                                 and mx <= 1 + FLOAT_TOLERANCE)):
                        mapping_notes.append(f"{path.name}: float samples ({fmts[path]}) in [{mn:.6g}, {mx:.6g}], "
                                             "used as they are (a float still's rule)")
                    elif rng is None:  # percentiles apply, but the whole video's are equal (was: "used as they are")
                        mapping_notes.append(f"{path.name}: float samples ({fmts[path]}) in [{mn:.6g}, {mx:.6g}]: "
                                             f"{_EQUAL_PERCENTILES.format(lo=norm[1][0], hi=norm[1][1])}")
                    else:
                        fixed[path] = rng
                        mapping_notes.append(f"{path.name}: float samples ({fmts[path]}) in [{mn:.6g}, {mx:.6g}]: one "
                                             f"intensity mapping for all frames, the {norm[1][0]:g}-{norm[1][1]:g} "
                                             f"percentiles of the whole video ({rng[0]:.6g}-{rng[1]:.6g}, to "
                                             f"{(mx - mn) / 65536:.3g}); --frame-mapping frame scales each frame alone "
                                             f"({_input_hint(True, norm[0])})")
                elif uses_percentiles(np.uint8 if bits <= 8 else np.uint16, norm[0]):
                    st = None if is_gray_format(fmts[path]) else chromas.setdefault(path, _Chroma())
                    rng, _ = video_range(iio, path, norm[1], tick=_reading_tick(reading, path, _meta_frames(meta)),
                                         chroma=st)  # gray or colour from the same pass
                    if rng is None:  # was silent: the frames were scaled one by one
                        mapping_notes.append(f"{path.name}: {_EQUAL_PERCENTILES.format(lo=norm[1][0], hi=norm[1][1])}")
                    else:
                        fixed[path] = rng
                        mapping_notes.append(f"{path.name}: one intensity mapping for all frames, the {norm[1][0]:g}-"
                                             f"{norm[1][1]:g} percentiles of the whole video ({rng[0]:.6g}-"
                                             f"{rng[1]:.6g} of the decoded samples, scaled by percentile); "
                                             f"--frame-mapping frame scales each frame alone "
                                             f"({_input_hint(False, norm[0])})")
        # gray or colour, once per video, before any frame is fused: decided per batch, a gray IR stream
        # whose decoded frames carry chroma noise in some frames (H.264 4:2:0) switched between gray and
        # colour from batch to batch (a flicker in the output); a gray pixel format needs no look
        for path, meta in ((a_path, ma),) + (((b_path, mb),) if b_path != a_path else ()):
            if is_gray_format(fmts[path]):
                continue
            if path not in chromas:  # no percentile pass read it: a pass of its own, stopped at a colour frame
                chromas[path] = _video_colour(iio, path, tick=_reading_tick(checking, path, _meta_frames(meta)))
            any_colour[path] = chromas[path].colour
            colour_notes.extend(_colour_notes(path, chromas[path]))
        # a 16-bit output's pixel format follows that decision: gray16le where the fused result is gray
        # (both videos gray, or --chroma gray). It followed the pixel formats only: two gray videos
        # stored as YUV (yuv420p/yuv444p with flat chroma, as thermal cameras and ffmpeg conversions
        # store gray) were written as gbrp16le, three equal planes; colour inputs under --chroma gray
        # likewise before that
        gray_out = not output_is_colour(any_colour[a_path], any_colour[b_path], getattr(fuser, "chroma", "saturation"))
        if depth == 16:
            depth_notes.append(f"the output is 16-bit lossless FFV1 ({'gray16le' if gray_out else 'gbrp16le'}); "
                               "--crf does not apply (--bit-depth 8 writes H.264)")
        remove_stale_parts(parent, out.name)
        with atomic_write(out) as tmp:
            try:
                pixfmt = "yuv420p" if w % 2 == 0 and h % 2 == 0 else "yuv444p"
                it_a, it_b = iter(ra), iter(rb)
                counted = False
                while True:
                    if not counted and all(c.done() for c in counters.values()):
                        counted = True
                        _check_counts(counters, a_path, b_path, {a_path: ma, b_path: mb})
                        total = counters[a_path].frames
                    fa, fb = [], []
                    for _ in range(batch):
                        xa = next(it_a, None)
                        xb = next(it_b, None)
                        if xa is None or xb is None:
                            if xa is not None or xb is not None:
                                longer, shorter = (a_path, b_path) if xa is not None else (b_path, a_path)
                                cut = _cut_short(ma if shorter == a_path else mb, n + len(fa))
                                raise InputError(f"{shorter}: frame count mismatch: it ends after {n + len(fa)} frames"
                                                 f"{cut}, {longer} has more {_cut_longer(longer, n + len(fa))}")
                            break
                        fa.append(np.asarray(xa))
                        fb.append(np.asarray(xb))
                    if not fa:
                        break
                    # gray or colour as decided for the whole video above (a colour video that starts
                    # on a black frame is colour from its first frame)
                    gray_a, gray_b = not any_colour[a_path], not any_colour[b_path]
                    xa = _to_float(fa, gray_a, *norm, a_path, fixed=fixed.get(a_path), hows=hows[a_path])
                    xb = _to_float(fb, gray_b, *norm, b_path, fixed=fixed.get(b_path),
                                   hows=hows[b_path] if b_path != a_path else {})
                    if n == 0:  # task mode "auto": one task for the whole video, from its first frames
                        guess = fuser.detect_tasks(xa[:1], xb[:1])
                        task = guess[0].task if guess else None
                        task_note = (f"task: {task}, detected on the first frame pair ({guess[0].describe()}); "
                                     "--task chooses another") if guess else None
                    try:
                        fused = fuser.fuse_arrays(xa, xb, task=task)
                    except (InputError, ParameterError) as e:  # e.g. a method's levels too deep for the frame size
                        raise InputError(f"{a_path}, {b_path}: frames {n + 1}-{n + len(fa)}: {e}") from None
                    del xa, xb
                    if depth == 16:  # the encoder makes gray or RGB of it
                        frames = np.round(np.clip(fused, 0, 1) * 65535).astype(np.uint16)
                    else:
                        frames = np.round(np.clip(fused, 0, 1) * 255).astype(np.uint8)
                        if frames.ndim == 3:
                            frames = np.repeat(frames[..., None], 3, axis=-1)
                    if writer is None:
                        writer = _Encoder(tmp, out, w, h, fps_a, pixfmt, crf, depth=depth, gray=gray_out,
                                          sar=sar)
                    for f in frames:
                        writer.write(f)
                    n += len(frames)
                    if progress:  # from the first fused batch on: an error of the inputs' comes alone
                        progress(n, total)
                if n == 0:
                    raise InputError(f"{a_path}: video has no frames")
                for c in counters.values():  # the same decoding as the one just finished: moments away
                    c.done(wait=30.0)
                writer.close()  # raises unless ffmpeg finished the file
                writer = None
            finally:  # stop ffmpeg before atomic_write removes the temporary (a late write recreates it)
                if writer is not None:
                    writer.abort()
                    writer = None
    except InputError:
        raise
    except (OSError, RuntimeError) as e:
        raise InputError(f"{out}: video decode/encode failed after {n} frames ({' '.join(str(e).split())[:160]})") from None
    finally:
        ra.close()
        rb.close()
        for c in counters.values():
            c.stop()
    if frame_mapping == "frame":  # frames mapped one by one, as stills: said as fuse says it of a still
        for path in dict.fromkeys((a_path, b_path)):  # (the one-mapping pass above said its own mapping)
            mapping_notes.extend(_frame_mapping_notes(path, fmts[path], hows[path], n, norm[0], norm[1]))
    notes = []
    for path, meta in ((a_path, ma),) + (((b_path, mb),) if b_path != a_path else ()):
        c = counters[path]
        if c.rotation or _turned(meta):
            notes.append(f"{path.name}: frames turned upright as its rotation tag says ({c.rotation:g} degrees); "
                         "the output holds them turned, with no tag")
        if c.damage:
            notes.append(f"{path.name}: ffmpeg reported {c.damage} errors while decoding it (a damaged file?); "
                         f"frames it could not decode are filled by repeating others ({c.dup or 0} repeated, "
                         f"{c.drop or 0} dropped to keep {float(fps_a):g} fps)")
        elif c.dup or c.drop:
            notes.append(f"{path.name}: not at a constant frame rate: read at {float(fps_a):g} fps by repeating {c.dup} and "
                         f"dropping {c.drop} of its frames (ffmpeg's constant-rate reading), so frames pair by time")
        if len(c.streams) > 1:
            notes.append(f"{path.name}: {len(c.streams)} video streams ({', '.join(c.streams)}); its first is read, "
                         f"the others not (ffmpeg -i {path.name} -map 0:V:1 -c copy OUT extracts the second)")
        if meta.get("audio_codec"):
            notes.append(f"{path.name}: its audio track ({meta['audio_codec']}) is not copied; the output has no sound")
    notes.extend(rate_notes)
    notes.extend(sar_notes)
    notes.extend(depth_notes)
    notes.extend(colour_notes)
    notes.extend(_palette_notes(fuser, a_path, b_path, chromas, any_colour))
    return {"out": str(out), "frames": n, "fps": float(fps_a), "rate": rate_text(fps_a), "size": (w, h),
            "bit_depth": depth,
            "gray": not output_is_colour(any_colour[a_path], any_colour[b_path], fuser.chroma),
            "task": getattr(fuser.report, "task", None), "task_note": task_note, "mapping_notes": mapping_notes,
            "notes": notes,
            # whether any frame of each video (a, b) was read as colour (for the --chroma note)
            "colour": [any_colour[a_path], any_colour[b_path]],
            # the videos whose frames were scaled by percentiles (the whole video's, or each frame's own)
            "percentile_scaled": [str(p) for p in dict.fromkeys((a_path, b_path))
                                  if hows[p].get("percentile") or hows[p].get("fixed")]}


def _palette_notes(fuser, a_path: Path, b_path: Path, chromas: dict, colour: dict) -> list[str]:
    """The advice on an IR video in a colour palette (ironbow): where the task was ir-vis, no
    --chroma was given, and a video's first clearly colour frame is :func:`_palette_like`."""
    if getattr(getattr(fuser, "report", None), "task", None) != "ir-vis" or getattr(fuser, "_chroma_given", False) \
            or a_path == b_path:
        return []
    notes = []
    for path, other, letter in ((a_path, b_path, "b"), (b_path, a_path, "a")):
        st = chromas.get(path)
        if st is None or st.colour_frame is None or not _palette_like(st.colour_frame):
            continue
        keep = (f"--chroma {letter} keeps {other.name}'s colours" if colour.get(other) else
                "--chroma gray writes a gray result")
        notes.append(f"{path.name}: its colours follow its brightness along one curve, as a thermal camera's colour "
                     f"palette (ironbow) does: fused as colour, so the palette's hues are in the output; {keep}; or "
                     f"fuse it as gray: record it with a gray (white-hot) palette, or convert it first, e.g. ffmpeg -i "
                     f"{path.name} -vf format=gray -c:v ffv1 {path.stem}_gray.mkv (its palette's brightness, not the "
                     "temperature)")
    return notes


def progress_bar(total: int | None):
    from tqdm import tqdm

    bar = tqdm(total=total, desc="frames", unit="frame", file=sys.stderr)

    def update(done: int, tot: int | None) -> None:
        bar.n = done
        bar.refresh()

    return bar, update
