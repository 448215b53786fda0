"""``mutualfuse fuse-stack IMAGE IMAGE [IMAGE ...] -o OUT``: fuse a focus stack (N ≥ 2 registered
images, or one folder of them) into one image by pairwise fusions (:meth:`mutualfuse.Fuser.fuse_stack`).

A stack is a focus stack (microscopy, macro photography): with the network the task is
``multi-focus`` unless ``--task`` says otherwise. ``--order tree`` (default) fuses neighbours,
then their results, so each image goes through ⌈log2 N⌉ fusions; ``--order sequential`` fuses
((1, 2), 3), … . A folder argument stands for its images in name order, numbers by value
(z2 before z10). One multi-page TIFF (an ImageJ or OME-TIFF z-stack) stands for its planes.
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .common import naming_the_file


def add_parser(sub) -> None:
    from .fuse import _bit_depth, add_common

    p = sub.add_parser("fuse-stack", help="fuse a focus stack of N registered images into one",
                       description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("images", nargs="+",
                   help="the stack: two or more images, one folder of them (name order, numbers by value: "
                        "z2 before z10), or one multi-page TIFF (ImageJ / OME-TIFF z-stack)")
    p.add_argument("-o", "--out", required=True, help="output image (.png, .tif, .jpg, .bmp, .dcm)")
    p.add_argument("--order", default="tree", choices=["tree", "sequential"],
                   help="how the pairwise fusions are chained (default %(default)s: neighbours, then their "
                        "results; docs/inputs.md 'Stacks')")
    add_common(p)
    p.add_argument("--bit-depth", type=_bit_depth, default=None,
                   help="output bit depth 8, 16 or float (default: follow the inputs)")
    from .common import add_import, add_quiet

    add_import(p)
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
        from ..image_io import tiff_plane_count

        if (tiff_plane_count(items[0]) or 1) > 1:  # one TIFF holding the planes: read_tiff_planes
            return items
        raise InputError(f"{items[0]}: a stack needs at least 2 images (or one folder of them, or one multi-page "
                         "TIFF)")
    return items


def read_tiff_planes(fuser, path: str, max_pixels: int | None = None):
    """The planes of a focus stack held in one TIFF (multi-page, ImageJ or OME-TIFF z-stack:
    :func:`mutualfuse.image_io.read_tiff_stack`) → (arrays, infos, full): float arrays in [0, 1]
    by the fuser's normalisation, each plane's :class:`~mutualfuse.io.samples.ImageInfo` (its
    ``path`` reads ``FILE (plane N)``), and ``full(i)``, plane i on its type's full range (for the
    stack's joint percentiles). The memory check and size rules are :func:`read_registered`'s."""
    from ..errors import InputError
    from ..image_io import MAX_PIXELS, ImageInfo, normalize_samples, read_tiff_stack, tiff_plane_count
    from ..methods import MIN_SIDE
    from ..runner import available_memory
    from .fuse import check_fits

    max_pixels = MAX_PIXELS if max_pixels is None else max_pixels
    check_fits(fuser, [path], max_pixels, "stack", count=tiff_plane_count(path))
    raw, depth = read_tiff_stack(path, max_pixels, max_bytes=available_memory())
    arrays, infos = [], []
    for i, x in enumerate(raw):
        label = f"{path} (plane {i + 1})"
        if min(x.shape[:2]) < MIN_SIDE:
            raise InputError(f"{path}: planes are {x.shape[1]}x{x.shape[0]}, smaller than {MIN_SIDE}x{MIN_SIDE}")
        detail: list[str] = []
        arr, how = normalize_samples(x, depth, fuser.normalize, fuser.percentiles, label, detail)
        arrays.append(arr)
        infos.append(ImageInfo(label, "RGB" if arr.ndim == 3 else "L", depth, "tiff", how, "".join(detail)))

    def full(i: int):
        return normalize_samples(raw[i], depth, "full", fuser.percentiles, infos[i].path)[0]

    return arrays, infos, full


def natural_key(p: Path) -> tuple:
    """Sort key of a folder's images: numbers by value, so that ``z2`` comes before ``z10``
    (microscopes and cameras often number planes without zero padding); zero-padded names keep
    their plain name order."""
    parts = re.split(r"(\d+)", p.name)
    return tuple((0, int(t), t) if t.isdigit() else (1, 0, t) for t in parts if t), p.name


@dataclass
class StackDone:
    """What :func:`fuse_stack_files` did: the summary line's facts and the notes."""

    out: str
    count: int
    one_file: bool  # the planes of one multi-page TIFF
    fusions: int
    seconds: float
    depth: int
    colour: bool
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """The line ``fuse-stack`` prints on success."""
        return (f"{self.out}  ({self.count} {'planes' if self.one_file else 'images'}, {self.fusions} fusions, "
                f"{self.seconds:.2f} s, {'float' if self.depth == 32 else f'{self.depth}-bit'} "
                f"{'colour' if self.colour else 'gray'})")


def run(args: argparse.Namespace) -> int:
    from .common import apply_imports

    apply_imports(args)  # a method of one's own (--import): registered before --method is looked up
    done = fuse_stack_files(args)
    if not args.quiet:
        for n in done.notes:
            print(f"note: {n}", file=sys.stderr)
        print(done.summary())
    return 0


def fuse_stack_files(args: argparse.Namespace, fuser=None,
                     progress: Callable[[int, int], None] | None = None,
                     planes: Callable[[list], None] | None = None) -> StackDone:
    """Everything ``fuse-stack`` does but printing: read and check the stack ``args.images``,
    fuse it, write ``args.out``; returns the summary's facts and the notes (the web page's stack
    section shows them). ``fuser``: the Fuser built from ``args`` (``make_fuser``), when the caller
    keeps one (the page's cache); default: built here. ``progress``: called as
    ``progress(done, total)`` after each of the N − 1 pairwise fusions (the page's progress
    count; the terminal's bar is drawn as before). ``planes``: called once, before the fusions,
    with the stack's images in stack order as they are fused ([0, 1] floats, (H, W) or (H, W, 3),
    after the joint percentile mapping; the page's plane-vs-fused slider); read-only."""
    from ..image_io import (MAX_PIXELS, check_output_size, check_writable, normalize_samples, output_depth,
                            read_image, write_image)
    from .fuse import fuse_setting, make_fuser, read_registered

    folder_notes: list[str] = []
    files = stack_files(args.images, folder_notes, out=args.out)
    check_writable(args.out, inputs=tuple(files))  # before loading anything
    if args.bit_depth is not None:
        output_depth(args.out, [], False, args.bit_depth)
    if fuser is None:
        fuser = make_fuser(args, progress=False)
    # a stack is a focus stack: in task mode auto (weights that record per-task settings, no
    # --task) every fusion takes the multi-focus settings, or with an explicit --task auto the
    # task detected per pair; weights without per-task settings fuse at their stored ones
    stack_task = None if args.task == "auto" else "multi-focus"
    t = time.perf_counter()
    # the samples of the images scaled by their own percentiles, kept (1 or 2 bytes a pixel) for
    # the stack's joint mapping below: the files are not decoded a second time for it
    samples: list = []
    if len(files) == 1:  # one TIFF holding the planes (stack_files let only that through)
        arrays, infos, full_scale = read_tiff_planes(fuser, files[0], args.max_pixels)
    else:
        arrays, infos = read_registered(fuser, files, args.max_pixels, what="stack", percentile_samples=samples)

        def full_scale(i: int):
            if samples[i] is not None:  # what read_image(files[i], normalize="full") gives, from its samples
                raw, bits = samples[i]
                return normalize_samples(raw, bits, "full", fuser.percentiles, files[i])[0]
            return read_image(files[i], max_pixels=MAX_PIXELS if args.max_pixels is None else args.max_pixels,
                              normalize="full")[0]
    count = len(arrays)
    # the files the policy scaled by their own percentiles (16-bit, or DICOM without a window)
    # get one mapping, the stack's joint percentiles (Fuser.fuse_stack does the same for arrays)
    joint = [i for i, info in enumerate(infos) if info.normalization == "percentile" and info.bit_depth in (8, 16)]
    joint_note = None
    if len(joint) >= 2:
        from ..io.samples import joint_percentile_scale

        # those images on their linear full scale (only they: the joint mapping needs it)
        full = [full_scale(i) for i in joint]
        samples.clear()
        scaled = joint_percentile_scale(full, *fuser.percentiles)
        if scaled is not None:
            for i, x in zip(joint, scaled):
                arrays[i] = x
            lo, hi = fuser.percentiles
            kind = "planes" if len(files) == 1 else "images"
            joint_note = (f"{len(joint)} of {count} {kind} ({infos[joint[0]].bit_depth}-bit) scaled by the joint "
                          f"{lo:g}-{hi:g} percentiles of the stack (one mapping for all; --normalize full for the "
                          "type's full range)")
        else:
            joint = []
    samples.clear()  # not held while the stack is fused
    colour_in = [x.ndim == 3 for x in arrays]
    from ..color import output_is_colour

    colour = output_is_colour(any(colour_in), any(colour_in), fuser.chroma)
    depth, depth_note = output_depth(args.out, [i.bit_depth for i in infos], colour, args.bit_depth)
    h, w = arrays[0].shape[:2]
    check_output_size(args.out, w, h, 3 if colour else 1)  # a JPEG over 65500 px: before fusing, not after
    # the arrays are [0, 1] floats already normalised above (per file, joint percentiles): the
    # API must take them as they are ("auto" keeps [0, 1] floats); under "percentile" it scaled
    # every array again by its own percentiles, undoing the joint mapping
    if planes is not None:
        planes(arrays)
    # a copy of the fuser under policy "auto", never a change to the fuser itself: the web page's
    # fuser is shared by threads, and a pair or stack read by another thread while this stack
    # fused was read under "auto" instead of its own policy (fuse.read_pair reads fuser.normalize
    # outside the fuser's lock). The copy shares the network and the lock of the original (one
    # call at a time on that network; held for the whole stack); its report is its own, read below
    stacker = copy.copy(fuser)
    stacker.normalize = "auto"
    lock = getattr(fuser, "_lock", None)
    if lock is not None:
        stacker._lock = lock
    bar = None
    if not args.quiet and len(arrays) > 2 and sys.stderr.isatty():  # at a terminal: a long stack takes minutes
        from tqdm import tqdm

        bar = tqdm(total=len(arrays) - 1, desc="fuse-stack", unit="fusion", file=sys.stderr, leave=False,
                   dynamic_ncols=True)

    def step(done: int, total: int) -> None:
        if bar is not None:
            bar.update(1)
        if progress is not None:
            progress(done, total)

    try:
        with lock if lock is not None else contextlib.nullcontext(), naming_the_file(files[0], files):
            fused = stacker.fuse_stack(arrays, order=args.order, task=stack_task,
                                       progress=None if bar is None and progress is None else step)
    finally:
        if bar is not None:
            bar.close()
    notes = folder_notes + list(stacker.report.notes) + ([depth_note] if depth_note else [])
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
    planes = f"planes of {Path(files[0]).name}" if len(files) == 1 else "images"
    write_image(args.out, fused, bit_depth=depth, sources=tuple(files),
                description=f"mutualfuse {__version__}: a stack of {count} {planes} fused by {what}, "
                            f"{args.order} order",
                setting=f"stack {args.order} {stack_task} {fuse_setting(fuser)}")
    return StackDone(out=str(args.out), count=count, one_file=len(files) == 1, fusions=stacker.report.fusions,
                     seconds=time.perf_counter() - t, depth=depth, colour=fused.ndim == 3, notes=notes)
