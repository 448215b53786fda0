"""Fusing two registered videos frame by frame (optional extra: ``pip install mutualfuse[video]``).

Frames are decoded by imageio's ffmpeg plugin (imageio-ffmpeg ships the ffmpeg binary), read
from both videos in lockstep in batches of ``batch`` frames, fused as a batch by
:meth:`mutualfuse.Fuser.fuse_arrays` (gray or colour as for still images) and encoded with
libx264 at the first video's frame rate. A stream of more than 8 bits a sample (``gray16le``,
``yuv420p10le``) is decoded at 16 bits and each frame is scaled as a 16-bit still is
(``normalize``: percentiles by default); 8-bit frames as 8-bit stills (``v/255``). Where
percentiles apply, one mapping serves the whole video (``frame_mapping="video"``, the default:
the percentiles of all its frames' samples, from a first decoding pass), so that a thermal
stream does not flicker as each frame is stretched on its own (``frame_mapping="frame"``).
The output is 8-bit H.264 with the same frame count, rate and size as the inputs; odd sizes
are encoded as 4:4:4 (4:2:0 needs even sides). A video whose frames are gray in RGB form
(R = G = B, the usual ffmpeg decode of an IR stream) is fused as gray.

The output is written to a temporary file in the target folder and renamed at the end, so a
failure (frame-count mismatch, decode error, interruption) leaves no partial output.
"""
from __future__ import annotations

import math
import os
import sys
from pathlib import Path
from typing import Callable

import numpy as np

from .color import output_is_colour
from .errors import InputError

VIDEO_SUFFIXES = {".mp4", ".mkv", ".avi", ".mov", ".m4v", ".webm"}
#: containers the output is written in: libx264 cannot go into WebM, and imageio's ffmpeg plugin
#: takes no .m4v; both were accepted, the WebM run ended with a broken file and exit 0
OUTPUT_SUFFIXES = {".mp4", ".mkv", ".avi", ".mov"}
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
    progressive)`` → 16, ``yuv420p10le`` → 10, ``p010le`` → 10, ``rgb48le`` → 16, ``yuv420p`` → 8)."""
    import re

    name = (pix_fmt or "").split("(")[0].strip().lower()
    m = re.search(r"(\d+)(?:le|be)$", name)
    if not m:
        return 8
    bits = int(m.group(1))
    if name.startswith(("rgb", "bgr")) and bits in (48, 64):  # bits of the whole pixel
        bits = 16
    return bits if 8 < bits <= 16 else 8


def _open_reader(iio, path: Path):
    if not path.exists():
        raise InputError(f"{path}: file not found")
    if path.is_dir():
        raise InputError(f"{path}: is a directory, expected a video file")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty")
    try:
        r = iio.get_reader(str(path), format="FFMPEG")
        meta = r.get_meta_data()
        if stream_bits(str(meta.get("pix_fmt", ""))) > 8:
            # more than 8 bits a sample (a 14-bit thermal stream in gray16le, 10-bit HDR): the default
            # rgb24 decode kept the top 8 bits only, and the run fused a few grey levels, exit 0
            r.close()
            r = iio.get_reader(str(path), format="FFMPEG", dtype="uint16")
            meta = r.get_meta_data()
    except Exception as e:  # noqa: BLE001 - imageio raises OSError/RuntimeError/IndexError
        raise InputError(f"{path}: not a readable video ({' '.join(str(e).split())[:160]})") from None
    return r, meta


def _ffmpeg_first_line(text: str) -> str:
    """ffmpeg's first error line without its ``[muxer @ 0x...]`` prefix."""
    import re

    for line in text.splitlines():
        line = re.sub(r"^\[[^\]]*\]\s*", "", line.strip())
        if line:
            return line[:160]
    return "no message"


class _Encoder:
    """libx264 by the ffmpeg binary of imageio-ffmpeg, fed raw RGB frames on its stdin.

    imageio's writer neither checks ffmpeg's exit status nor keeps its messages: an encoder that
    failed (a container that cannot hold H.264, a full disk) left a broken file that was renamed
    into place with exit 0, and ffmpeg's lines went to the terminal. Here ffmpeg's stderr goes to
    a temporary file and :meth:`close` raises :class:`InputError` (naming ``shown``) unless
    ffmpeg exited with 0. ffmpeg runs in its own session, so a Ctrl+C reaches only Python, which
    kills it (:meth:`abort`) before the temporary output is removed."""

    def __init__(self, path: Path, shown: Path, w: int, h: int, fps: float, pixfmt: str, crf: int):
        import subprocess
        import tempfile

        import imageio_ffmpeg

        self.shown, self.frames = shown, 0
        self._err = tempfile.TemporaryFile()
        cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostats", "-loglevel", "error", "-y",
               "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-r", format(fps, ".12g"), "-i", "pipe:0",
               "-an", "-c:v", "libx264", "-pix_fmt", pixfmt, "-crf", str(int(crf)), str(path)]
        self._p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._err,
                                   start_new_session=True)

    def _failed(self, what: str) -> InputError:
        self._err.seek(0)
        msg = _ffmpeg_first_line(self._err.read().decode("utf-8", "replace"))
        return InputError(f"{self.shown}: {what} after {self.frames} frames (ffmpeg: {msg})")

    def write(self, frame: np.ndarray) -> None:
        try:
            self._p.stdin.write(np.ascontiguousarray(frame, dtype=np.uint8).tobytes())
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
    f = frame.astype(np.int32)
    tol = 2 if frame.dtype == np.uint8 else 2 * 257  # codec rounding, in the samples' units
    return int(np.abs(f[..., 0] - f[..., 1]).max()) <= tol and int(np.abs(f[..., 1] - f[..., 2]).max()) <= tol


FRAME_MAPPINGS = ("video", "frame")


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


def video_range(iio, path: Path, percentiles=(0.1, 99.9)) -> tuple[tuple[float, float] | None, int]:
    """The (lo, hi) percentiles of every sample of every frame of a video (channels together, in
    the decoded units: 0–255 or 0–65535), from one decoding pass; None when that range is flat.
    Also returns the frame count."""
    r, _ = _open_reader(iio, Path(path))
    hist = np.zeros(65536, dtype=np.int64)
    n = 0
    try:
        for f in r:
            f = np.asarray(f)
            if f.ndim == 3 and f.shape[-1] == 4:
                f = f[..., :3]
            hist += np.bincount(f.ravel(), minlength=65536)
            n += 1
    except Exception as e:  # noqa: BLE001 - imageio raises OSError/RuntimeError/IndexError
        raise InputError(f"{path}: video decode failed after {n} frames ({' '.join(str(e).split())[:160]})") from None
    finally:
        r.close()
    if n == 0:
        raise InputError(f"{path}: video has no frames")
    lo, hi = _hist_percentiles(hist, percentiles)
    return ((lo, hi) if hi > lo else None), n


def _to_float(frames: list[np.ndarray], gray: bool, normalize: str = "auto",
              percentiles=(0.1, 99.9), path="", fixed: tuple[float, float] | None = None) -> np.ndarray:
    """Decoded frames (uint8, or uint16 for a stream of more than 8 bits) → float64 in [0, 1], each
    frame scaled as a still image of that bit depth is (``--normalize``, ``--percentiles``), or,
    with ``fixed`` = (lo, hi) in the decoded units, all by that one mapping (the whole video's
    percentiles, :func:`video_range`)."""
    from .io.samples import normalize_samples

    out = []
    for f in frames:
        if f.ndim == 3 and f.shape[-1] == 4:
            f = f[..., :3]
        depth = 8 if f.dtype == np.uint8 else 16
        if fixed is not None:
            x = np.clip((f.astype(np.float64) - fixed[0]) / (fixed[1] - fixed[0]), 0.0, 1.0)
        else:
            x, _ = normalize_samples(f, depth, normalize, percentiles, path)
        if gray and x.ndim == 3:
            x = x[..., 0] * 0.299 + x[..., 1] * 0.587 + x[..., 2] * 0.114
        out.append(x)
    return np.stack(out)


def fuse_video(fuser, a_path: str | os.PathLike, b_path: str | os.PathLike, out_path: str | os.PathLike,
               batch: int = 8, crf: int = 17, progress: Callable[[int, int | None], None] | None = None,
               frame_mapping: str = "video") -> dict:
    """Fuse two registered videos into ``out_path``; returns frame count, fps and size.

    ``progress(done, total)`` is called after every batch (total may be None when unknown).
    ``frame_mapping``: where frames are scaled by percentiles (16-bit streams under the fuser's
    ``normalize`` "auto", any stream under "percentile"), ``"video"`` scales every frame of a
    video by the percentiles of the whole video (one extra decoding pass of that video; no
    flicker), ``"frame"`` each frame by its own, as a still.
    """
    if frame_mapping not in FRAME_MAPPINGS:
        raise InputError(f"frame_mapping must be one of {', '.join(FRAME_MAPPINGS)}, got {frame_mapping!r}")
    iio = _imageio()
    a_path, b_path, out = Path(a_path), Path(b_path), Path(out_path)
    if iio is None:
        raise InputError(f"{a_path}: {EXTRA_HINT}")
    from .image_io import check_writable

    check_writable(out, inputs=(a_path, b_path), formats=OUTPUT_SUFFIXES)
    parent = out.parent if str(out.parent) else Path(".")
    if batch < 1:
        raise InputError(f"batch must be >= 1, got {batch}")
    ra, ma = _open_reader(iio, a_path)
    rb, mb = _open_reader(iio, b_path)
    fps_a, fps_b = float(ma.get("fps", 0) or 0), float(mb.get("fps", 0) or 0)
    size_a, size_b = tuple(ma.get("size", ())), tuple(mb.get("size", ()))
    if size_a != size_b:
        ra.close(), rb.close()
        raise InputError(f"{b_path}: size mismatch: {a_path} is {size_a[0]}x{size_a[1]}, {b_path} is "
                         f"{size_b[0]}x{size_b[1]} (the videos must be registered)")
    if fps_a <= 0:
        ra.close(), rb.close()
        raise InputError(f"{a_path}: video has no frame rate")
    if abs(fps_a - fps_b) > 1e-3 * fps_a:
        ra.close(), rb.close()
        raise InputError(f"{b_path}: frame rate mismatch: {a_path} has {fps_a:g} fps, {b_path} has {fps_b:g} fps")
    w, h = size_a
    total = None
    n_meta = ma.get("nframes")
    if isinstance(n_meta, (int, float)) and math.isfinite(n_meta) and n_meta > 0:
        total = int(n_meta)
    else:
        dur = ma.get("duration")
        if isinstance(dur, (int, float)) and dur > 0:
            total = int(round(dur * fps_a))
    from .io.atomic import atomic_write, remove_stale_parts

    norm = getattr(fuser, "normalize", "auto"), tuple(getattr(fuser, "percentiles", (0.1, 99.9)))
    fixed: dict = {}  # path → (lo, hi) of the whole video, where one mapping serves it
    mapping_notes = []
    if frame_mapping == "video":
        for path, meta in ((a_path, ma), (b_path, mb)):
            bits = stream_bits(str(meta.get("pix_fmt", "")))
            if uses_percentiles(np.uint8 if bits <= 8 else np.uint16, norm[0]):
                rng, _ = video_range(iio, path, norm[1])
                if rng is not None:
                    fixed[path] = rng
                    mapping_notes.append(f"{path.name}: one intensity mapping for all frames, the {norm[1][0]:g}-"
                                         f"{norm[1][1]:g} percentiles of the whole video ({rng[0]:.6g}-{rng[1]:.6g} "
                                         "of the decoded samples); --frame-mapping frame scales each frame alone")
    remove_stale_parts(parent, out.name)
    writer = None
    n = 0
    gray_a = gray_b = None
    task = task_note = None
    try:
        with atomic_write(out) as tmp:
            try:
                pixfmt = "yuv420p" if w % 2 == 0 and h % 2 == 0 else "yuv444p"
                it_a, it_b = iter(ra), iter(rb)
                if progress:  # the inputs passed their checks: the bar may appear
                    progress(0, total)
                while True:
                    fa, fb = [], []
                    for _ in range(batch):
                        xa = next(it_a, None)
                        xb = next(it_b, None)
                        if xa is None or xb is None:
                            if xa is not None or xb is not None:
                                longer, shorter = (a_path, b_path) if xa is not None else (b_path, a_path)
                                raise InputError(f"{shorter}: frame count mismatch: it ends after {n + len(fa)} frames, "
                                                 f"{longer} has more")
                            break
                        fa.append(np.asarray(xa))
                        fb.append(np.asarray(xb))
                    if not fa:
                        break
                    if gray_a is None:
                        gray_a, gray_b = _is_gray(fa[0]), _is_gray(fb[0])
                    xa = _to_float(fa, gray_a, *norm, a_path, fixed=fixed.get(a_path))
                    xb = _to_float(fb, gray_b, *norm, b_path, fixed=fixed.get(b_path))
                    if n == 0:  # task mode "auto": one task for the whole video, from its first frames
                        guess = fuser.detect_tasks(xa[:1], xb[:1])
                        task = guess[0].task if guess else None
                        task_note = (f"task: {task}, detected on the first frame pair ({guess[0].describe()}); "
                                     "--task chooses another") if guess else None
                    fused = fuser.fuse_arrays(xa, xb, task=task)
                    del xa, xb
                    frames = np.round(np.clip(fused, 0, 1) * 255).astype(np.uint8)
                    if frames.ndim == 3:
                        frames = np.repeat(frames[..., None], 3, axis=-1)
                    if writer is None:
                        writer = _Encoder(tmp, out, w, h, fps_a, pixfmt, crf)
                    for f in frames:
                        writer.write(f)
                    n += len(frames)
                    if progress:
                        progress(n, total)
                if n == 0:
                    raise InputError(f"{a_path}: video has no frames")
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
    return {"out": str(out), "frames": n, "fps": fps_a, "size": (w, h),
            "gray": not output_is_colour(not gray_a, not gray_b, fuser.chroma),
            "task": getattr(fuser.report, "task", None), "task_note": task_note, "mapping_notes": mapping_notes}


def progress_bar(total: int | None):
    from tqdm import tqdm

    bar = tqdm(total=total, desc="frames", unit="frame", file=sys.stderr)

    def update(done: int, tot: int | None) -> None:
        bar.n = done
        bar.refresh()

    return bar, update
