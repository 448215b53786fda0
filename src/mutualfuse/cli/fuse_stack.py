"""``mutualfuse fuse-stack IMAGE IMAGE [IMAGE ...] -o OUT``: fuse a focus stack (N ≥ 2 registered
images, or one folder of them) into one image by pairwise fusions (:meth:`mutualfuse.Fuser.fuse_stack`).

A stack is a focus stack (microscopy, macro photography): with the network the task is
``multi-focus`` unless ``--task`` says otherwise. ``--order tree`` (default) fuses neighbours,
then their results, so each image goes through ⌈log2 N⌉ fusions; ``--order sequential`` fuses
((1, 2), 3), … . A folder argument stands for its images in name order, numbers by value
(z2 before z10).
"""
from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path


def add_parser(sub) -> None:
    from .fuse import _bit_depth, add_common

    p = sub.add_parser("fuse-stack", help="fuse a focus stack of N registered images into one",
                       description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("images", nargs="+",
                   help="the stack: two or more images, or one folder of them (name order, numbers by value: "
                        "z2 before z10)")
    p.add_argument("-o", "--out", required=True, help="output image (.png, .tif, .jpg, .bmp, .dcm)")
    p.add_argument("--order", default="tree", choices=["tree", "sequential"],
                   help="how the pairwise fusions are chained (default %(default)s: neighbours, then their "
                        "results; docs/inputs.md 'Stacks')")
    add_common(p)
    p.add_argument("--bit-depth", type=_bit_depth, default=None,
                   help="output bit depth 8, 16 or float (default: follow the inputs)")
    from .common import add_quiet

    add_quiet(p)
    p.set_defaults(func=run)


def stack_files(items: list[str], notes: list[str] | None = None, out: str | None = None) -> list[str]:
    """The stack's files: the arguments, or the images of one folder argument in name order
    (what else the folder holds, subfolders and other files, is said in ``notes``). ``out``: the
    output path; inside the folder it is not part of the stack (a rerun of ``fuse-stack DIR -o
    DIR/edf.png`` found the previous result among the planes and stopped)."""
    from ..errors import InputError
    from ..image_io import _same_file
    from ..io.pairing import image_files, refuse_broken_links

    if len(items) == 1 and Path(items[0]).is_dir():
        folder = Path(items[0])
        refuse_broken_links(folder)  # a plane named in the folder but unreadable: the stack would miss it
        found = sorted(image_files(folder), key=natural_key)
        own: list[Path] = []
        if out is not None:
            own = [p for p in found if _same_file(p, Path(out))]
            if own and notes is not None:
                notes.append(f"{own[0]}: the output, in the stack's folder; not read as a plane of the stack")
            found = [p for p in found if p not in own]
        files = [str(p) for p in found]
        if len(files) < 2:
            raise InputError(f"{items[0]}: a stack needs at least 2 images, found {len(files)}")
        others = [p for p in folder.iterdir() if p not in found and p not in own and not p.name.startswith(".")]
        subs = sum(p.is_dir() for p in others)
        if others and notes is not None:
            what = [f"{subs} subfolder{'s' if subs != 1 else ''}" if subs else "",
                    f"{len(others) - subs} other file{'s' if len(others) - subs != 1 else ''}"
                    if len(others) > subs else ""]
            notes.append(f"{folder}: {' and '.join(w for w in what if w)} ignored (not read: the stack is the "
                         f"{len(files)} images directly in the folder)")
        return files
    for it in items:
        if Path(it).is_dir():
            raise InputError(f"{it}: a folder, among other arguments: give one folder or the image files")
    if len(items) < 2:
        if not Path(items[0]).exists():
            raise InputError(f"{items[0]}: no such file or folder")
        raise InputError(f"{items[0]}: a stack needs at least 2 images (or one folder of them)")
    return items


def natural_key(p: Path) -> tuple:
    """Sort key of a folder's images: numbers by value, so that ``z2`` comes before ``z10``
    (microscopes and cameras often number planes without zero padding); zero-padded names keep
    their plain name order."""
    parts = re.split(r"(\d+)", p.name)
    return tuple((0, int(t), t) if t.isdigit() else (1, 0, t) for t in parts if t), p.name


def run(args: argparse.Namespace) -> int:
    from ..image_io import MAX_PIXELS, check_output_size, check_writable, output_depth, read_image, write_image
    from .fuse import fuse_setting, make_fuser, read_registered

    folder_notes: list[str] = []
    files = stack_files(args.images, folder_notes, out=args.out)
    check_writable(args.out, inputs=tuple(files))  # before loading anything
    if args.bit_depth is not None:
        output_depth(args.out, [], False, args.bit_depth)
    fuser = make_fuser(args, progress=False)
    # a stack is a focus stack: in task mode auto (weights that record per-task settings, no
    # --task) every fusion takes the multi-focus settings, or with an explicit --task auto the
    # task detected per pair; weights without per-task settings fuse at their stored ones
    stack_task = None if args.task == "auto" else "multi-focus"
    t = time.perf_counter()
    arrays, infos = read_registered(fuser, files, args.max_pixels, what="stack")
    # the files the policy scaled by their own percentiles (16-bit, or DICOM without a window)
    # get one mapping, the stack's joint percentiles (Fuser.fuse_stack does the same for arrays)
    joint = [i for i, info in enumerate(infos) if info.normalization == "percentile" and info.bit_depth in (8, 16)]
    joint_note = None
    if len(joint) >= 2:
        from ..io.samples import joint_percentile_scale

        # re-read those files on their linear full scale (only they: the joint mapping needs it)
        full = [read_image(files[i], max_pixels=MAX_PIXELS if args.max_pixels is None else args.max_pixels,
                           normalize="full")[0] for i in joint]
        scaled = joint_percentile_scale(full, *fuser.percentiles)
        if scaled is not None:
            for i, x in zip(joint, scaled):
                arrays[i] = x
            lo, hi = fuser.percentiles
            joint_note = (f"{len(joint)} of {len(files)} images ({infos[joint[0]].bit_depth}-bit) scaled by the joint "
                          f"{lo:g}-{hi:g} percentiles of the stack (one mapping for all; --normalize full for the "
                          "type's full range)")
        else:
            joint = []
    colour_in = [x.ndim == 3 for x in arrays]
    from ..color import output_is_colour

    colour = output_is_colour(any(colour_in), any(colour_in), fuser.chroma)
    depth, depth_note = output_depth(args.out, [i.bit_depth for i in infos], colour, args.bit_depth)
    h, w = arrays[0].shape[:2]
    check_output_size(args.out, w, h, 3 if colour else 1)  # a JPEG over 65500 px: before fusing, not after
    # the arrays are [0, 1] floats already normalised above (per file, joint percentiles): the
    # API must take them as they are ("auto" keeps [0, 1] floats); under "percentile" it scaled
    # every array again by its own percentiles, undoing the joint mapping
    policy, fuser.normalize = fuser.normalize, "auto"
    try:
        fused = fuser.fuse_stack(arrays, order=args.order, task=stack_task)
    finally:
        fuser.normalize = policy
    notes = folder_notes + list(fuser.report.notes) + ([depth_note] if depth_note else [])
    if joint_note:
        notes.append(joint_note)
    for i, info in enumerate(infos):
        if i in joint:
            continue
        if info.normalization in ("percentile", "window"):
            notes.append(f"{info.path}: {info.bit_depth}-bit input {info.scaled_how()} "
                         "(--normalize full for the type's full range)")
    from .. import __version__

    what = (f"the network, weights {Path(fuser.weights_spec).name}" if fuser.weights_spec is not None
            else f"method {fuser.method}")
    write_image(args.out, fused, bit_depth=depth, sources=tuple(files),
                description=f"mutualfuse {__version__}: a stack of {len(files)} images fused by {what}, "
                            f"{args.order} order",
                setting=f"stack {args.order} {stack_task} {fuse_setting(fuser)}")
    if not args.quiet:
        for n in notes:
            print(f"note: {n}", file=sys.stderr)
        print(f"{args.out}  ({len(files)} images, {fuser.report.fusions} fusions, {time.perf_counter() - t:.2f} s, "
              f"{'float' if depth == 32 else f'{depth}-bit'} {'colour' if fused.ndim == 3 else 'gray'})")
    return 0
