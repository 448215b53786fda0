"""Memory layout of the decoder's widest step: NCHW vs channels-last, concatenation vs split convolution.

    python benchmarks/bench_layout.py [--size 640x480] [--threads 1] [--reps 5]
    python benchmarks/bench_layout.py --size 160x120 --reps 2      # quick (seconds)

Times, in one process and each best of ``--reps``, the operations of the full-resolution
aggregation node of the depth-3 network (16 + 32 + 64 channels → 16): the bilinear ×4
resize of the 64-channel deepest features, the ×2 resize of the 32-channel ones, their
concatenation, the 3×3 convolution of the 112-channel concatenation, and the same
convolution split per part (:func:`mutualfuse.model.blocks.conv_concat`), in both memory
layouts. It prints the largest difference between the split and the concatenated result.
This is the measurement behind running CPU inference channels-last with ``conv_concat``
(docs/architecture.md, "Speed"). Times are milliseconds; a last line gives each channels-last
time relative to the NCHW one of the same run (< 1: faster), and the first line names the
machine (CPU model, threads, torch version).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402


def main() -> None:
    ap = _common.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="640x480")
    ap.add_argument("--threads", type=_common.positive, default=1)
    ap.add_argument("--reps", type=_common.positive, default=5)
    args = ap.parse_args()
    try:
        W, H = map(int, args.size.lower().split("x"))
        if W < 4 or H < 4:
            raise ValueError
    except ValueError:
        ap.error(f"--size {args.size!r}: expected WxH (at least 4x4), e.g. 640x480")
    import torch
    import torch.nn.functional as F

    from mutualfuse.model.blocks import conv_concat

    torch.set_num_threads(args.threads)

    def best(fn) -> float:
        fn()
        ts = []
        for _ in range(args.reps):
            t = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t)
        return 1000 * min(ts)

    torch.manual_seed(0)
    conv = torch.nn.Conv2d(112, 16, 3, padding=1)
    print(_common.machine(args.threads))
    print(f"# bench_layout  {W}x{H}  threads={args.threads}  best of {args.reps}, ms")
    cols = ("up64 x4", "up32 x2", "cat", "conv112", "cat+conv", "split")
    times = {}
    print(f"{'layout':>14} {'up64 x4':>8} {'up32 x2':>8} {'cat':>7} {'conv112':>8} {'cat+conv':>9} {'split':>7}  max|split-cat|")
    for name, fmt in (("NCHW", torch.contiguous_format), ("channels-last", torch.channels_last)):
        x64 = torch.rand(1, 64, H // 4, W // 4).contiguous(memory_format=fmt)
        x32 = torch.rand(1, 32, H // 2, W // 2).contiguous(memory_format=fmt)
        f0 = torch.rand(1, 16, H, W).contiguous(memory_format=fmt)
        conv = conv.to(memory_format=fmt)
        with torch.inference_mode():
            def up4():
                return F.interpolate(x64, size=(H, W), mode="bilinear", align_corners=False)

            def up2():
                return F.interpolate(x32, size=(H, W), mode="bilinear", align_corners=False)

            parts = [f0, up2(), up4()]
            cat = torch.cat(parts, 1)
            t_up4, t_up2 = best(up4), best(up2)
            t_cat = best(lambda: torch.cat(parts, 1))
            t_conv = best(lambda: conv(cat))
            t_both = best(lambda: conv(torch.cat(parts, 1)))
            t_split = best(lambda: conv_concat(conv, parts))
            diff = float((conv_concat(conv, parts) - conv(cat)).abs().max())
        times[name] = (t_up4, t_up2, t_cat, t_conv, t_both, t_split)
        print(f"{name:>14} {t_up4:8.1f} {t_up2:8.1f} {t_cat:7.1f} {t_conv:8.1f} {t_both:9.1f} {t_split:7.1f}  {diff:.2e}",
              flush=True)
    print("# channels-last / NCHW, same run (< 1: channels-last faster): "
          + ", ".join(f"{c} {cl / nc:.2f}x" for c, cl, nc in zip(cols, times["channels-last"], times["NCHW"])))


if __name__ == "__main__":
    main()
