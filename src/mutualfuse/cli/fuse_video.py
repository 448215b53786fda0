"""``mutualfuse fuse-video A.mp4 B.mp4 -o OUT.mp4``: fuse two registered videos frame by frame."""
from __future__ import annotations

import argparse
import time


def add_parser(sub) -> None:
    from .fuse import add_common

    p = sub.add_parser("fuse-video", help="fuse two registered videos frame by frame",
                       description="Fuse two registered videos (same size, frame rate and frame count) into OUT; "
                                   "same frame count and rate out. Frames are read as ffmpeg shows them (turned by "
                                   "a rotation tag, a variable frame rate read at its nominal constant one; "
                                   "notes say so; non-square pixels kept); "
                                   "audio is not copied. Needs the video extra (imageio, imageio-ffmpeg).")
    from .common import non_empty

    p.add_argument("a", type=non_empty, help="first source video (e.g. infrared)")
    p.add_argument("b", type=non_empty, help="second source video (e.g. visible)")
    p.add_argument("-o", "--out", required=True, type=non_empty, help="output video (.mp4, .mkv, .avi, .mov, .nut)")
    from .common import add_quiet, int_at_least, int_in

    p.add_argument("--batch", type=int_at_least(1), default=8, help="frames fused per batch (default %(default)s)")
    p.add_argument("--crf", type=int_in(0, 51), default=17,
                   help="x264 quality 0..51, 0 = lossless (default %(default)s; 8-bit output only)")
    p.add_argument("--bit-depth", type=int, choices=(8, 16), default=None,
                   help="output depth: 8 = H.264 (libx264, --crf), 16 = lossless FFV1 (gray16le where the result is "
                        "gray: two gray videos, gray stored as YUV included, or --chroma gray; else gbrp16le; .mkv, "
                        ".nut, .avi, .mov). Default: 16 where "
                        "either input has more than 8 bits a sample (gray16le, gray12le, yuv420p10le, float) and "
                        "the output is .mkv or .nut, else 8 (a note says when a deeper input is written at 8 bits)")
    p.add_argument("--frame-mapping", choices=("video", "frame"), default="video",
                   help="where frames are scaled by percentiles (16-bit streams under --normalize auto, any "
                        "under percentile): video = one mapping from the whole video's percentiles (default; "
                        "one extra decoding pass, no flicker), frame = each frame by its own, as a still")
    add_common(p)
    from .common import add_import

    add_import(p)
    add_quiet(p)
    p.set_defaults(func=run)


#: seconds between two progress lines where stderr is not a terminal (a log file, a pipe)
LOG_EVERY_S = 30.0
#: the gray-or-colour pass (fuse_video's ``checking``): seconds before its first line (not at a
#: terminal) or its bar (at one) shows; most passes take less
CHECK_EVERY_S = 30.0
CHECK_BAR_DELAY_S = 2.0


def plain_progress(command: str, what: str):
    """Progress lines for stderr that is not a terminal (a log file, a pipe, a batch job), as
    ``progress(done, total)``: ``fuse-stack: 7/19 fusions (31 s)``, the first once LOG_EVERY_S
    have passed since this was made, then one at most every LOG_EVERY_S (a short run says
    nothing). fuse-stack and fuse-volume drew a bar at a terminal only: a volume or a stack
    fused by the network for many minutes under nohup said nothing until it was done."""
    import sys

    start = last = time.perf_counter()

    def progress(done: int, total: int | None) -> None:
        nonlocal last
        now = time.perf_counter()
        if now - last >= LOG_EVERY_S:
            last = now
            print(f"{command}: {done}{f'/{total}' if total else ''} {what} ({now - start:.0f} s)", file=sys.stderr,
                  flush=True)

    return progress


def run(args: argparse.Namespace) -> int:
    import sys

    from ..video import fuse_video, progress_bar
    from .common import apply_imports
    from .fuse import make_fuser

    apply_imports(args)  # a method of one's own (--import): registered before --method is looked up
    from .common import refuse_in_the_way

    refuse_in_the_way(args.out)  # `-o afile/x.mp4`: said as every command says it
    fuser = make_fuser(args)
    shown: list = []  # the bar, made at the first frame: a bad input's one-line error comes alone
    t = time.perf_counter()

    reading_bars: dict = {}  # path → the bar of its percentile pass (--frame-mapping video), at a terminal

    def close_reading_bars() -> None:
        for bar in reading_bars.values():
            bar.close()
        reading_bars.clear()

    def progress(done: int, total: int | None) -> None:
        if not shown:
            close_reading_bars()
            shown.extend(progress_bar(total))
            shown[0].leave = False  # cleared when closed, as fuse-stack's and fuse-volume's bars (it stayed)
        shown[0].total = total
        shown[1](done, total)

    def reading(path, done: int, total: int | None) -> None:
        # the pass that finds a video's percentiles decodes it whole before any frame is fused:
        # 600 frames of 640x480 gray16le took 21 s on a 2-core CPU (2026-12-07), and nothing was shown
        bar = reading_bars.get(path)
        if bar is None:
            close_reading_bars()  # the other video's pass is over
            from tqdm import tqdm

            bar = reading_bars[path] = tqdm(total=total, desc=f"{path.name}: percentiles", unit="frame",
                                            file=sys.stderr, leave=False)
        bar.update(done - bar.n)

    def checking(path, done: int, total: int | None) -> None:
        # the pass that decides gray or colour for a video no percentile pass reads (a gray IR stream in
        # H.264 is decoded whole before fusing; a colour video stops at its first colour frame): a bar
        # only where it lasts (tqdm's delay), so the short passes of most runs show nothing
        bar = reading_bars.get(path)
        if bar is None:
            close_reading_bars()
            from tqdm import tqdm

            bar = reading_bars[path] = tqdm(total=total, desc=f"{path.name}: gray or colour", unit="frame",
                                            file=sys.stderr, leave=False, delay=CHECK_BAR_DELAY_S)
        bar.update(done - bar.n)

    said: dict = {}  # what → when its last progress line was written, where stderr is no terminal

    def line(what: str, text: str, at_once: bool, every: float | None = None) -> None:
        # `fuse-video ... 2>log` (nohup, a batch job): the bar redrawn after every batch wrote a
        # carriage-return frame per batch into the log (an hour of 30 fps video: 13500 of them).
        # Not at a terminal, plain lines: one at the first step where ``at_once``, then one at most
        # every LOG_EVERY_S.
        now = time.perf_counter()
        every = LOG_EVERY_S if every is None else every
        if what not in said and not at_once:
            said[what] = now
        if what not in said or now - said[what] >= every:
            said[what] = now
            print(f"fuse-video: {text} ({now - t:.0f} s)", file=sys.stderr, flush=True)

    def progress_lines(done: int, total: int | None) -> None:
        line("fused", f"{done}{f'/{total}' if total else ''} frames fused", at_once=True)

    def reading_lines(path, done: int, total: int | None) -> None:
        # the first line after LOG_EVERY_S only: the pass also checks a float stream (a NaN frame
        # is refused in it), and a short run's one-line error came after a progress line
        line(str(path), f"{path.name}: {done}{f'/{total}' if total else ''} frames read for its percentiles",
             at_once=False)

    def checking_lines(path, done: int, total: int | None) -> None:
        # the first line after CHECK_EVERY_S only (a pass of a few seconds says nothing)
        line("check " + str(path), f"{path.name}: {done}{f'/{total}' if total else ''} frames read to decide gray "
             "or colour", at_once=False, every=CHECK_EVERY_S)

    tty = sys.stderr.isatty()
    try:
        info = fuse_video(fuser, args.a, args.b, args.out, batch=args.batch, crf=args.crf,
                          progress=None if args.quiet else progress if tty else progress_lines,
                          frame_mapping=args.frame_mapping, bit_depth=args.bit_depth,
                          reading=None if args.quiet else reading if tty else reading_lines,
                          checking=None if args.quiet else checking if tty else checking_lines,
                          max_pixels=args.max_pixels)
    finally:
        close_reading_bars()
        if shown:
            shown[0].close()
    if not args.quiet:  # -q: nothing on success (notes included); errors are still printed
        from types import SimpleNamespace

        from ..image_io import _one_line_path  # a name's line break or escape shown escaped, as errors show it
        from .fuse import chroma_unused, percentiles_unused, tile_overlap_note

        # --percentiles given under auto on videos none of which was scaled by percentiles (8-bit, float
        # in [0, 1]): said as fuse says it of a pair (it changed nothing, without a word)
        scaled = set(info.get("percentile_scaled", ()))
        unused = percentiles_unused(fuser, [SimpleNamespace(normalization="percentile" if str(p) in scaled else "")
                                            for p in (args.a, args.b)])
        # a --chroma given that changed nothing (both videos gray, or one of them colour): as fuse says it
        chroma = chroma_unused(fuser.chroma, getattr(fuser, "_chroma_given", False), info.get("colour", []))
        reduced = tile_overlap_note(args)  # --tile-overlap above half of --tile
        for n in (([reduced] if reduced else []) + info.get("notes", []) + info.get("mapping_notes", []) + fuser.report.notes
                  + ([info["task_note"]] if info.get("task_note") else []) + ([unused] if unused else [])
                  + ([chroma] if chroma else [])):
            print(f"note: {_one_line_path(n)}", file=sys.stderr)
        frames = f"{info['frames']} frame{'' if info['frames'] == 1 else 's'}"
        depth = ", 16-bit FFV1" if info.get("bit_depth") == 16 else ""
        rate = info.get("rate") or format(info["fps"], "g")  # 23.976 (24000/1001), not ffmpeg's 23.98
        print(f"{_one_line_path(args.out)}  ({frames} at {rate} fps, {info['size'][0]}x{info['size'][1]}{depth}, "
              f"{time.perf_counter() - t:.1f} s)")
    return 0
