"""``mutualfuse fuse A B -o OUT``: fuse one pair with the network or any registered method."""
from __future__ import annotations

import argparse
import sys
import time


def add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--method", default="mutualfuse",
                   help="registered method (see `mutualfuse methods`); default: the network")
    p.add_argument("--weights", help="weights: a shipped name (default) or a .safetensors file")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--dtype", default="float32", choices=["float32", "float16", "bfloat16"])
    p.add_argument("--token-budget", type=int, default=-1,
                   help="max tokens of the exact mutual mapping (0 = always exact; default: the model's)")


def add_parser(sub) -> None:
    p = sub.add_parser("fuse", help="fuse one registered pair of images",
                       description="Fuse two registered images (gray or colour, any size) into OUT.")
    p.add_argument("a", help="first source image (e.g. infrared, near focus, CT)")
    p.add_argument("b", help="second source image (e.g. visible, far focus, MR)")
    p.add_argument("-o", "--out", required=True, help="output image (.png, .tif, .jpg, .bmp)")
    add_common(p)
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=run)


def make_fuser(args: argparse.Namespace):
    from ..api import Fuser

    model = args.weights if args.weights else args.method
    if args.weights and args.method not in ("mutualfuse",):
        from ..errors import ParameterError

        raise ParameterError("--weights applies to the network; drop --method or --weights")
    return Fuser(model, device=args.device, dtype=args.dtype, token_budget=args.token_budget)


def fuse_files(fuser, a_path: str, b_path: str, out_path: str) -> dict:
    """Read, validate, fuse and atomically write one pair; returns what was done."""
    import numpy as np

    from ..errors import InputError
    from ..image_io import check_writable, read_image, write_image

    check_writable(out_path, inputs=(a_path, b_path))
    a, ia = read_image(a_path)
    b, ib = read_image(b_path)
    if a.shape[:2] != b.shape[:2]:
        raise InputError(f"size mismatch: {a_path} is {a.shape[1]}x{a.shape[0]}, {b_path} is {b.shape[1]}x{b.shape[0]}")
    if min(a.shape[:2]) < 8:
        raise InputError(f"{a_path}: image is {a.shape[1]}x{a.shape[0]}, smaller than 8x8")
    from ..color import fuse_color

    fused = fuse_color(a[None], b[None], fuser.fuse_gray_batch)[0]
    depth = 16 if 16 in (ia.bit_depth, ib.bit_depth) and fused.ndim == 2 else 8
    write_image(out_path, fused, bit_depth=depth)
    return {"out": out_path, "bit_depth": depth, "colour": fused.ndim == 3, "notes": list(fuser.report.notes)}


def run(args: argparse.Namespace) -> int:
    fuser = make_fuser(args)
    t = time.perf_counter()
    info = fuse_files(fuser, args.a, args.b, args.out)
    for n in info["notes"]:
        print(f"note: {n}", file=sys.stderr)
    if not args.quiet:
        print(f"{args.out}  ({time.perf_counter() - t:.2f} s)")
    return 0
