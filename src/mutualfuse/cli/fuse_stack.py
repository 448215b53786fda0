"""``mutualfuse fuse-stack IMAGE IMAGE [IMAGE ...] -o OUT``: fuse a focus stack (N ≥ 2 registered
images, or one folder of them) into one image by pairwise fusions (:meth:`mutualfuse.Fuser.fuse_stack`).

A stack is a focus stack (microscopy, macro photography): with the network the task is
``multi-focus`` unless ``--task`` says otherwise. ``--order tree`` (default) is a balanced tree:
the stack halved, each half reduced so, the two results fused (neighbours first; each image
goes through about log2 N fusions); ``--order spread``, the same tree over the planes in
bit-reversed order (planes far apart fused first: with the network closer to a known truth,
docs/inputs.md "Stacks"); ``--order sequential`` fuses
((1, 2), 3), … . A folder argument stands for its images in name order, numbers by value
(z2 before z10); a quoted pattern ('z*.tif') for the files it matches, in that order (DICOM
slices of one orientation: by their position along the slice normal, with a note); the
output and earlier fuse-stack outputs among them are left out (a note names them). One
multi-page TIFF (an ImageJ or OME-TIFF z-stack) stands for its planes. Images scaled by
percentiles (16-bit, float outside [0, 1]) share one mapping, the stack's joint percentiles;
so do DICOM slices of differing rescale, on their modality values; DICOM slices of differing
windows share one, the median of theirs.
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .common import naming_the_file
from ..wording import counted


def add_parser(sub) -> None:
    from .fuse import _bit_depth, add_common

    p = sub.add_parser("fuse-stack", help="fuse a focus stack of N registered images into one",
                       description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("images", nargs="+",
                   help="the stack: two or more images, one folder of them (name order, numbers by value: "
                        "z2 before z10), or one multi-page TIFF (ImageJ / OME-TIFF z-stack)")
    from .common import non_empty  # -o "" (an unset shell variable): one line from argparse

    p.add_argument("-o", "--out", required=True, type=non_empty, help="output image (.png, .tif, .jpg, .bmp, .dcm)")
    p.add_argument("--order", default="tree", choices=["tree", "spread", "sequential"],
                   help="how the pairwise fusions are chained (default %(default)s: a balanced tree, halves "
                        "of the stack fused, neighbours first; spread: the same tree fusing planes far apart "
                        "first, closer to a known truth with the network; docs/inputs.md 'Stacks')")
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
    DIR/edf.png`` found the previous result among the planes and stopped). An argument that is
    no file but a pattern (``'z*.tif'``, quoted, or from a shell that does not expand it) stands
    for the files it matches, in name order with numbers by value, the output left out. A file
    given more than once is fused as often as given, and ``notes`` says so."""
    files = _stack_files(_expand_patterns(items, out, notes), notes, out)
    if notes is not None and len(files) > 1:
        notes.extend(_repeated(files))
    return files


#: the extended attribute that marks a file as written by ``fuse-stack`` (where the file system
#: has them): an existing output inside the stack's folder (or matched by a pattern) is left out
#: of the stack as an earlier result only with it; an image without it is a plane, and the output
#: path naming it is refused (until 2026-12-07 such a plane was left out and overwritten)
STACK_XATTR = "user.mutualfuse.fuse-stack"


def _mark_output(path: str | os.PathLike) -> None:
    """Mark ``path`` as a ``fuse-stack`` output (:data:`STACK_XATTR`), where the platform can."""
    setx = getattr(os, "setxattr", None)
    if setx is not None:
        with contextlib.suppress(OSError):
            setx(path, STACK_XATTR, b"1")


def _unmarked_image(path: Path) -> bool:
    """Whether ``path`` is known not to be a ``fuse-stack`` output: the file system keeps extended
    attributes and ``path`` has no :data:`STACK_XATTR`. False where it cannot be told (no
    extended attributes on this platform or file system): such a file is taken as an earlier output."""
    import errno

    getx = getattr(os, "getxattr", None)
    if getx is None:
        return False
    try:
        getx(path, STACK_XATTR)
    except OSError as e:
        return e.errno == getattr(errno, "ENODATA", None)
    return False


def _marked_output(path: Path) -> bool:
    """Whether ``path`` carries :data:`STACK_XATTR`: a file ``fuse-stack`` wrote (an earlier result)."""
    getx = getattr(os, "getxattr", None)
    if getx is None:
        return False
    try:
        getx(path, STACK_XATTR)
    except OSError:
        return False
    return True


def _refuse_plane_as_output(plane: Path, out: str) -> None:
    from ..errors import InputError

    if _unmarked_image(plane):
        raise InputError(f"{out}: output path is the same file as the stack's image {plane}, which fuse-stack "
                         "did not write: choose another -o (or delete it, if it is an earlier result)")


def _planar_colour_tiff(path: str) -> int:
    """The samples of a one-page TIFF written by tifffile with its shape metadata whose page holds
    3 or 4 samples a pixel stored as separate planes (RGB / RGBA): what ``tifffile.imwrite(path,
    stack)`` writes for a ``(3, H, W)`` or ``(4, H, W)`` array, which ``tifffile.imread`` gives
    back as that array (so :meth:`Fuser.fuse_stack` fuses it as 3 or 4 planes) while the file
    says it is one colour image; else 0."""
    try:
        import tifffile

        with tifffile.TiffFile(path) as tf:
            if len(tf.pages) != 1 or not tf.is_shaped:
                return 0
            page = tf.pages[0]
            if page.planarconfig == 2 and page.samplesperpixel in (3, 4) and len(page.shape) == 3:
                return int(page.samplesperpixel)
    except Exception:  # noqa: BLE001 - not a TIFF, or unreadable: the general message
        return 0
    return 0


def _earlier_outputs(found: list, where: str, notes: list[str] | None) -> list:
    """``found`` (a folder's images, a pattern's matches) less the earlier ``fuse-stack`` outputs
    among them (marked :data:`STACK_XATTR`: ``-o zs/edf.png``, then ``-o zs/edf_lp.png`` to
    compare), with a note; all of them where every one is such an output (a folder of results,
    fused in turn). They were fused as one more plane of the stack without a word."""
    earlier = [p for p in found if _marked_output(Path(p))]
    if not earlier or len(earlier) == len(found):
        return found
    if notes is not None:
        notes.append(f"{where}: {counted(len(earlier), 'earlier fuse-stack output')} left out, not read as planes "
                     f"of the stack ({', '.join(Path(p).name for p in earlier[:3])}{', ...' if len(earlier) > 3 else ''}: "
                     f"written by fuse-stack, marked {STACK_XATTR}); give the files by name to fuse them too")
    return [p for p in found if p not in earlier]


def _expand_patterns(items: list[str], out: str | None, notes: list[str] | None = None) -> list[str]:
    """``items`` with each argument that names no file or folder but is a glob pattern replaced by
    the files it matches (name order, numbers by value; the output path and earlier outputs left
    out, :func:`_earlier_outputs`); a pattern that matches no file is refused with one line."""
    import glob

    from ..errors import InputError
    from ..image_io import _same_file

    expanded: list[str] = []
    for it in items:
        if Path(it).exists() or Path(it).is_symlink() or not glob.has_magic(it):
            expanded.append(it)
            continue
        found = [m for m in glob.glob(it) if Path(m).is_file()]
        if out is not None:
            for m in found:
                if _same_file(Path(m), Path(out)):
                    _refuse_plane_as_output(Path(m), out)
            found = [m for m in found if not _same_file(Path(m), Path(out))]
        if not found:
            raise InputError(f"{it}: no file matches this pattern")
        found = _earlier_outputs(found, it, notes)
        found = sorted(found, key=lambda m: [natural_key(Path(part)) for part in Path(m).parts])
        expanded += _by_position(found, it, notes)
    return expanded


def _by_position(files: list, where: str, notes: list[str] | None) -> list:
    """A folder's or pattern's ``files`` (in name order) in the order of their positions along
    the slice normal where they are all DICOM slices of one orientation (as fuse-volume orders a
    series), with a note where that is not their name order: DICOM files are often named by
    UID or in acquisition order (interleaved), and the tree fuses neighbours first. Else as given."""
    if len(files) < 2:
        return files
    try:
        from ..dicom import positions_along_normal

        along = positions_along_normal(files)
    except ImportError:  # pragma: no cover - no pydicom: the reading says so
        along = None
    if along is None:
        return files
    order = sorted(range(len(files)), key=lambda i: along[i])  # stable: one position keeps name order
    if order == list(range(len(files))):
        return files
    if notes is not None:
        notes.append(f"{where}: the {len(files)} DICOM slices fused in the order of their positions along the slice "
                     "normal (ImagePositionPatient), not their names' (give the files by name for another order)")
    return [files[i] for i in order]


def _repeated(files: list[str]) -> list[str]:
    """A note for each file that is in the stack more than once (the same file by another path
    too): fused as often as it is given, which weighs it more (a pattern and a file name that
    overlap, ``z*.png z1.png``)."""
    import os

    seen: dict[tuple, list[int]] = {}
    for i, f in enumerate(files):
        try:
            st = os.stat(f)
            key: tuple = (st.st_dev, st.st_ino)
        except OSError:
            key = (str(Path(f).resolve()),)
        seen.setdefault(key, []).append(i)
    return [f"{files[ix[0]]}: in the stack {len(ix)} times (images {', '.join(str(i + 1) for i in ix)}), "
            "fused as often" for ix in seen.values() if len(ix) > 1]


def _stack_files(items: list[str], notes: list[str] | None = None, out: str | None = None) -> list[str]:
    """:func:`stack_files` for the arguments once patterns are expanded."""
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
            for p in own:
                _refuse_plane_as_output(p, out)
            if own and notes is not None:
                notes.append(f"{own[0]}: the output, in the stack's folder; not read as a plane of the stack")
            found = [p for p in found if p not in own]
        kept = _earlier_outputs(found, str(folder), notes)  # earlier results under other names: not planes
        earlier = [p for p in found if p not in kept]
        found = _by_position(kept, str(folder), notes)
        files = [str(p) for p in found]
        if len(files) < 2:
            raise InputError(f"{items[0]}: a stack needs at least 2 images, found {len(files)}")
        others = [p for p in folder.iterdir()
                  if p not in found and p not in own and p not in earlier and not p.name.startswith(".")]
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
        planar = _planar_colour_tiff(items[0])
        if planar:  # tifffile.imwrite(path, stack) of 3 or 4 planes: one planar RGB(A) image, not a stack
            raise InputError(f"{items[0]}: one image, not a stack: a TIFF page of {planar} colour samples stored "
                             f"as planes, as tifffile.imwrite(path, array) stores a ({planar}, H, W) array; for a "
                             f"stack of {planar} planes write it with tifffile.imwrite(path, array, "
                             "photometric='minisblack')")
        raise InputError(f"{items[0]}: a stack needs at least 2 images (or one folder of them, or one multi-page "
                         "TIFF)")
    return items


def read_tiff_planes(fuser, path: str, max_pixels: int | None = None):
    """The planes of a focus stack held in one TIFF (multi-page, ImageJ or OME-TIFF z-stack:
    :func:`mutualfuse.image_io.read_tiff_stack`) → (infos, colour, size, plane, full): each plane's
    :class:`~mutualfuse.io.samples.ImageInfo` (its ``path`` reads ``FILE (plane N)``), whether
    each is colour, their (height, width), ``plane(i)``, plane i as a float array in [0, 1] by the fuser's normalisation, and
    ``full(i)``, plane i on its type's full range (for the stack's joint percentiles). The
    decoded samples are held (1 or 2 bytes a pixel for 8- or 16-bit planes); each plane is made a
    float array (8 bytes a pixel) only when it is asked for. The memory check and size rules are
    :func:`read_registered`'s."""
    from ..errors import InputError
    import numpy as np

    from ..image_io import MAX_PIXELS, ImageInfo, normalize_samples, read_tiff_stack, tiff_plane_count
    from ..methods import MIN_SIDE
    from ..runner import available_memory
    from .fuse import check_fits

    max_pixels = MAX_PIXELS if max_pixels is None else max_pixels
    n = tiff_plane_count(path) or 2
    # held at once: the decoded planes (counted as a quarter image each: 2 bytes a pixel at most
    # against check_fits' 8) and the tree's ⌈log2 N⌉ + 2 float images
    check_fits(fuser, [path], max_pixels, "stack", count=min(n, -(-n // 4) + held_images(n)),
               colour=colour_held(fuser, [path], n))
    raw, depth = read_tiff_stack(path, max_pixels, max_bytes=available_memory())
    infos, colour = [], []
    for i, x in enumerate(raw):
        label = f"{path} (plane {i + 1})"
        if min(x.shape[:2]) < MIN_SIDE:
            raise InputError(f"{path}: planes are {x.shape[1]}x{x.shape[0]}, smaller than {MIN_SIDE}x{MIN_SIDE}")
        detail: list[str] = []
        arr, how = normalize_samples(x, depth, fuser.normalize, fuser.percentiles, label, detail)
        infos.append(ImageInfo(label, "RGB" if arr.ndim == 3 else "L", depth, "tiff", how, "".join(detail)))
        colour.append(arr.ndim == 3)
        del arr  # made again when the plane is fused

    def plane(i: int):
        return normalize_samples(raw[i], depth, fuser.normalize, fuser.percentiles, infos[i].path)[0]

    def full(i: int):
        if depth == 32:  # float planes: their own values (the joint float mapping's linear scale)
            return raw[i].astype(np.float64)
        return normalize_samples(raw[i], depth, "full", fuser.percentiles, infos[i].path)[0]

    return infos, colour, raw[0].shape[:2], plane, full


def colour_held(fuser, paths: list[str], planes: int = 1) -> int:
    """How many RGB images the memory check before reading a stack counts at the peak
    (:func:`~mutualfuse.cli.fuse.check_fits`' ``colour``), from the headers
    (:func:`mutualfuse.cli.fuse.header_is_colour`; ``planes``: the planes of one TIFF, all of its
    kind). Every fusion of the stack fuses two of its images or results; when two or more are RGB
    and the chroma rule keeps colour, a fusion of two RGB ones comes (an RGB image makes every
    result it enters RGB), else at most one is RGB. The other images the tree holds are still
    counted gray (8 bytes a pixel, not 24), so the bound stays a lower bound."""
    from ..image_io import quiet_decoders
    from .fuse import header_is_colour

    with quiet_decoders():
        rgb = sum(header_is_colour(p) for p in paths) * planes
    return min(rgb, 1 if fuser.chroma == "gray" else 2)


def held_images(count: int) -> int:
    """How many float images a stack of ``count`` holds at most while it is fused
    (:func:`mutualfuse.api.reduce_stack`: ⌈log2 N⌉ results of the tree, the image read, the
    fusion's result), for the memory check before reading."""
    return min(count, max(2, (count - 1).bit_length() + 2))


def read_stack_files(fuser, files: list[str], max_pixels: int | None = None):
    """The stack's files, read once to check them (size, smallest side, what each is) before
    anything is fused → (infos, colour, size, plane, full): each file's
    :class:`~mutualfuse.io.samples.ImageInfo`, whether each is colour, their (height, width),
    ``plane(i)``, file i read again as a float array in [0, 1] by the fuser's normalisation,
    and ``full(i)``, file i on its type's full range. A stack of N images held N float images
    (8 bytes a pixel each) at once, so its peak memory grew with N; now the fusions read each
    file when they need it (:func:`held_images`): each file is decoded twice, and a file
    changed in between is refused by its size. The files of a joint percentile mapping (two or
    more that the policy scales by percentiles: 16-bit under "auto") keep their decoded
    samples instead (2 bytes a pixel, 1 for 8-bit), as before: they are decoded once and
    ``full(i)`` is made from them."""
    from ..errors import InputError
    import numpy as np

    from ..image_io import (MAX_PIXELS, header_size, normalize_samples, quiet_decoders, read_image, read_samples,
                            turned_note)
    from ..methods import MIN_SIDE
    from .fuse import check_fits

    max_pixels = MAX_PIXELS if max_pixels is None else max_pixels
    with quiet_decoders():  # a size that differs, from the headers: refused before decoding all
        sizes = [header_size(p) for p in files]
    first = next(((p, s) for p, s in zip(files, sizes) if s is not None), None)
    for p, s in zip(files, sizes):
        if first is not None and s is not None and s != first[1]:
            raise InputError(f"{p}: size mismatch: {first[0]} is {first[1][0]}x{first[1][1]}{turned_note(first[0])}, "
                             f"{p} is {s[0]}x{s[1]}{turned_note(p)} (the stack must be registered)")
    check_fits(fuser, files, max_pixels, "stack", count=held_images(len(files)), colour=colour_held(fuser, files))
    kw = dict(max_pixels=max_pixels, normalize=fuser.normalize, percentiles=fuser.percentiles)
    infos, colour, shape = [], [], None
    samples: list = []  # read_image's: (samples, bits) of an image scaled by its percentiles, else None
    for p in files:
        x, info = read_image(p, **kw, percentile_samples=samples)
        if shape is None:
            shape = x.shape[:2]
        elif x.shape[:2] != shape:
            raise InputError(f"{p}: size mismatch: {files[0]} is {shape[1]}x{shape[0]}{turned_note(files[0])}, "
                             f"{p} is {x.shape[1]}x{x.shape[0]}{turned_note(p)} (the stack must be registered)")
        if min(x.shape[:2]) < MIN_SIDE:
            raise InputError(f"{p}: image is {x.shape[1]}x{x.shape[0]}, smaller than {MIN_SIDE}x{MIN_SIDE}")
        infos.append(info)
        colour.append(x.ndim == 3)
        del x

    if sum(s is not None for s in samples) < 2:  # no joint mapping: nothing kept
        samples = [None] * len(files)

    def again(i: int, normalize: str):
        if normalize == "full" and samples[i] is not None:  # what read_image(normalize="full") gives
            raw, bits = samples[i]
            return normalize_samples(raw, bits, "full", fuser.percentiles, files[i])[0]
        if normalize == "full" and infos[i].bit_depth == 32:  # a float file: its own values (joint float mapping)
            x = read_samples(files[i], max_pixels)[0].astype(np.float64)
        else:
            x = read_image(files[i], max_pixels=max_pixels, normalize=normalize, percentiles=fuser.percentiles)[0]
        if x.shape[:2] != shape:
            raise InputError(f"{files[i]}: changed while the stack was fused (now {x.shape[1]}x{x.shape[0]}, "
                             f"was {shape[1]}x{shape[0]})")
        return x

    return infos, colour, shape, (lambda i: again(i, fuser.normalize)), (lambda i: again(i, "full"))


def _dicom_rescales_differ(files: list[str], infos: list, joint: list[int], max_pixels: int | None):
    """Where the images ``joint`` of a stack (two or more scaled by percentiles) are all DICOM
    files whose rescale (``RescaleSlope``/``RescaleIntercept``, or a Modality LUT) differs, or
    of which one declares pixel padding:
    ``values(i)``, file i's modality values and whether it is MONOCHROME1
    (:func:`mutualfuse.dicom.read_dicom_values`); else None (one rescale: the stored values are
    on one scale, mapped jointly as any 16-bit images)."""
    if len(joint) < 2 or len(files) < 2 or any(infos[i].source != "dicom" for i in joint):
        return None
    from ..dicom import declares_padding, read_dicom_values, rescale_of
    from ..image_io import MAX_PIXELS

    # padding (a CT's outside of the scan circle) takes no part in fuse's percentiles: it took
    # part in the stored-value mapping (as black), which then began at it
    if len({rescale_of(files[i]) for i in joint}) < 2 and not any(declares_padding(files[i]) for i in joint):
        return None
    limit = MAX_PIXELS if max_pixels is None else max_pixels
    return lambda i: read_dicom_values(files[i], limit)


def _dicom_windows_differ(files: list[str], infos: list, max_pixels: int | None):
    """The DICOM images of a stack (two or more files) that ``auto`` scaled by a window of their
    own (``WindowCenter``/``WindowWidth`` or a VOI LUT) where those windows differ → (their
    indices, ``values(i)`` as :func:`_dicom_rescales_differ`'s, the window for all: (centre,
    width, VOILUTFunction), the median of their centres and of their widths, their function
    where they share one, else LINEAR; None where a slice has a VOI LUT: then the joint
    percentiles of their values); else ([], None, None)."""
    wjoint = [i for i, info in enumerate(infos) if info.normalization == "window" and info.source == "dicom"]
    if len(files) < 2 or len(wjoint) < 2:
        return [], None, None
    from ..dicom import read_dicom_values, window_of
    from ..image_io import MAX_PIXELS

    keys = [window_of(files[i]) for i in wjoint]
    if len(set(keys)) < 2:
        return [], None, None
    limit = MAX_PIXELS if max_pixels is None else max_pixels
    window = None
    if all(k[0] != "lut" and k[0] is not None and k[1] is not None for k in keys):
        import numpy as np

        from ..dicom import _voi_window

        fns = {k[2] for k in keys}
        window = (float(np.median([k[0] for k in keys])), float(np.median([k[1] for k in keys])),
                  fns.pop() if len(fns) == 1 else "LINEAR")
        if _voi_window(np.zeros(1), *window) is None:  # a width the function cannot use
            window = None
    return wjoint, (lambda i: read_dicom_values(files[i], limit)), window


def stack_calibration(files: list[str], notes: list[str] | None = None) -> dict | None:
    """The pixel size the stack's TIFF (or DICOM) files declare, where every file declares the same one:
    ``{"resolution": (x, y), "resolutionunit": 1|2|3, "unit": str | None}`` (XResolution and
    YResolution, pixels a unit; ResolutionUnit NONE, INCH or CENTIMETER; ImageJ's ``unit``, the
    unit of an ImageJ stack whose ResolutionUnit is NONE: ``micron``, ``um``, ``nm``; an OME-TIFF's
    PhysicalSizeX/Y, :func:`_ome_pixel_size`; a DICOM image's ``PixelSpacing``, rows then columns in
    mm, as pixels a centimetre: :func:`mutualfuse.dicom.pixel_spacing_mm`). None where
    a file is no TIFF nor DICOM, declares none (no tags, or 1 x 1 a unit without one), or they differ.
    One multi-page TIFF: its first page's. ``notes``: where given, files that declare different
    pixel sizes are said there (another objective or binning: no one stack, fused pixel for pixel)."""
    try:
        import tifffile
    except ImportError:
        return None
    from ..image_io import _is_dicom

    found = set()
    dicom = False
    for f in dict.fromkeys(files):
        if _is_dicom(Path(f)):  # a DICOM slice's PixelSpacing (row, column spacing in mm): pixels a centimetre
            from ..dicom import pixel_spacing_mm

            spacing = pixel_spacing_mm(f)
            if spacing is None:
                return None
            found.add((round(10.0 / spacing[1], 9), round(10.0 / spacing[0], 9), 3, None))
            dicom = True
            continue
        try:
            with tifffile.TiffFile(f) as tf:
                page = tf.pages[0]
                tags = page.tags
                if "XResolution" not in tags or "YResolution" not in tags:
                    return None
                x, y = (tags[k].value for k in ("XResolution", "YResolution"))
                x, y = (v[0] / v[1] if isinstance(v, tuple) and v[1] else float(v) for v in (x, y))
                unit_code = int(tags["ResolutionUnit"].value) if "ResolutionUnit" in tags else 2  # TIFF's default: inch
                ij = tf.imagej_metadata or {}
                unit = str(ij.get("unit")) if ij.get("unit") not in (None, "") else None
                if unit_code == 1 and unit is None and x == y == 1 and tf.is_ome:
                    x, y, unit = _ome_pixel_size(tf.ome_metadata) or (x, y, unit)
        except Exception:  # noqa: BLE001 - no TIFF (a PNG plane), or an unreadable tag: no calibration
            return None
        if not (x > 0 and y > 0) or (unit_code == 1 and unit is None and x == y == 1):
            return None
        found.add((round(x, 9), round(y, 9), unit_code, unit))
    if len(found) > 1 and notes is not None and not dicom:  # DICOM: dicom.stack_mismatch_note names PixelSpacing
        sizes = sorted(calibration_words({"resolution": (x, y), "resolutionunit": c, "unit": u})
                       for x, y, c, u in found)
        notes.append(f"the stack's TIFF files declare {len(found)} pixel sizes ({'; '.join(sizes[:3])}"
                     f"{'; ...' if len(sizes) > 3 else ''}): they are fused pixel for pixel as one registered stack, "
                     "and the output gets none")
    if len(found) != 1:
        return None
    x, y, code, unit = found.pop()
    return {"resolution": (x, y), "resolutionunit": code, "unit": unit}


def _ome_pixel_size(xml: str | None) -> tuple[float, float, str] | None:
    """(pixels a unit across, down, the unit) from an OME-TIFF's first ``Pixels`` element
    (``PhysicalSizeX``/``PhysicalSizeY``, their unit µm by default; written as ImageJ's
    ``micron``); OME-TIFF writers (tifffile, Bio-Formats) leave the resolution tags at 1 x 1."""
    import xml.etree.ElementTree as ET

    if not xml:
        return None
    root = ET.fromstring(xml)
    px = next((e for e in root.iter() if e.tag.rsplit("}", 1)[-1] == "Pixels"), None)
    if px is None or "PhysicalSizeX" not in px.attrib:
        return None
    sx = float(px.attrib["PhysicalSizeX"])
    sy = float(px.attrib.get("PhysicalSizeY", sx))
    ux = px.attrib.get("PhysicalSizeXUnit", "µm")
    if px.attrib.get("PhysicalSizeYUnit", ux) != ux or not (sx > 0 and sy > 0):
        return None
    return 1 / sx, 1 / sy, {"µm": "micron", "um": "micron"}.get(ux, ux)


def calibration_words(cal: dict) -> str:
    """A calibration (:func:`stack_calibration`) as a pixel size: '0.5 x 0.5 micron a pixel'."""
    unit = cal["unit"] or {2: "inch", 3: "cm"}.get(cal["resolutionunit"], "unit")
    x, y = cal["resolution"]
    return f"{1 / x:.6g} x {1 / y:.6g} {unit} a pixel"


def float_joint_bounds(full: Callable, idx: list[int], percentiles) -> tuple[float, float] | None:
    """The joint (lo, hi) percentiles of the float images ``idx`` of a stack (``full(i)``: image i's
    own float values), in their units: two passes, their minimum and maximum, then a histogram of
    65536 bins over that range (:func:`mutualfuse.api.joint_percentile_bounds`; exact to within
    1/65535 of the range, as a float video's mapping), one image at a time. None where the joint
    range is flat (each image then keeps its own mapping)."""
    from ..api import joint_percentile_bounds

    import numpy as np

    def known(x):  # NaN marks samples that take no part (a DICOM image's padding)
        return x[~np.isnan(x)] if np.isnan(x).any() else x

    mn, mx = float("inf"), float("-inf")
    for i in idx:
        x = known(full(i))
        if x.size:
            mn, mx = min(mn, float(x.min())), max(mx, float(x.max()))
    if not mx > mn:
        return None
    span = mx - mn
    got = joint_percentile_bounds(((known(full(i)) - mn) / span for i in idx), *percentiles)
    if got is None:
        return None
    a, b = mn + got[0] * span, mn + got[1] * span
    return (a, b) if b > a else None


def natural_key(p: Path) -> tuple:
    """Sort key of a folder's images: numbers by value, so that ``z2`` comes before ``z10``
    (microscopes and cameras often number planes without zero padding); zero-padded names keep
    their plain name order."""
    parts = re.split(r"(\d+)", p.name)  # the odd parts are the runs of decimal digits
    return tuple((0, int(t), t) if i % 2 else (1, 0, t) for i, t in enumerate(parts) if t), p.name


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
    #: whether each image (or plane) of the stack was read as colour
    colour_in: list[bool] = field(default_factory=list)

    def summary(self) -> str:
        """The line ``fuse-stack`` prints on success."""
        return (f"{self.out}  ({self.count} {'planes' if self.one_file else 'images'}, "
                f"{counted(self.fusions, 'fusion')}, "
                f"{self.seconds:.2f} s, {'float' if self.depth == 32 else f'{self.depth}-bit'} "
                f"{'colour' if self.colour else 'gray'})")


def run(args: argparse.Namespace) -> int:
    from .common import apply_imports

    apply_imports(args)  # a method of one's own (--import): registered before --method is looked up
    from .common import refuse_in_the_way

    refuse_in_the_way(args.out)  # `-o afile/x.png`: said as every command says it
    progress = None
    if not args.quiet and not sys.stderr.isatty():  # a log, a pipe: plain lines (a terminal gets a bar)
        from .fuse_video import plain_progress

        progress = plain_progress("fuse-stack", "fusions")
    done = fuse_stack_files(args, progress=progress)
    if not args.quiet:
        from .fuse import DEFAULT_CHROMA, chroma_unused, tile_overlap_note

        # here, not in fuse_stack_files' notes: the web page passes its chroma menu's value as --chroma
        chroma = getattr(args, "chroma", None)
        unused = chroma_unused(chroma or DEFAULT_CHROMA, chroma is not None, done.colour_in, stack=True)
        from ..image_io import _one_line_path  # a name's line break or escape shown escaped, as errors show it

        reduced = tile_overlap_note(args)  # --tile-overlap above half of --tile
        for n in ([reduced] if reduced else []) + done.notes + ([unused] if unused else []):
            print(f"note: {_one_line_path(n)}", file=sys.stderr)
        print(_one_line_path(done.summary()))
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
    after the joint percentile mapping); read-only. It holds all N images for the whole stack:
    the web page no longer uses it (its previews are written as each image is read,
    ``mutualfuse.web.core._previewing``, so it holds ⌈log2 N⌉ + 2 as this command does)."""
    from ..image_io import check_output_size, check_writable, embedded_profile_note, output_depth, write_image
    from .fuse import fuse_setting, make_fuser

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
    # read once to check; each image is read again (or made a float array from the samples kept:
    # a TIFF's planes, a joint mapping's files) only when the fusions need it: a stack holds
    # ⌈log2 N⌉ + 2 float images at a time, not N
    if len(files) == 1:  # one TIFF holding the planes (stack_files let only that through)
        infos, colour_in, (h, w), plane, full_scale = read_tiff_planes(fuser, files[0], args.max_pixels)
    else:
        infos, colour_in, (h, w), plane, full_scale = read_stack_files(fuser, files, args.max_pixels)
    count = len(infos)
    # the files the policy scaled by their own percentiles (16-bit, or DICOM without a window)
    # get one mapping, the stack's joint percentiles (Fuser.fuse_stack does the same for arrays)
    joint = [i for i, info in enumerate(infos) if info.normalization == "percentile" and info.bit_depth in (8, 16)]
    joint_note, bounds = None, None
    # DICOM slices whose rescale differs (a PET series: a RescaleSlope per slice; some CT): their
    # stored values are on different scales, so the joint mapping is taken on their modality
    # values (slope · stored + intercept), what fuse and fuse-dir scale each DICOM image's
    # percentiles on; it was taken on the stored values, so slices were compared on numbers
    # that mean other activities or densities
    dicom_values, dbounds = _dicom_rescales_differ(files, infos, joint, args.max_pixels), None
    if dicom_values is not None:
        from .. import dicom as d

        dbounds = float_joint_bounds(lambda i: dicom_values(i)[0], joint, fuser.percentiles)
        if dbounds is not None:
            lo, hi = fuser.percentiles
            why = "with pixel padding" if len({d.rescale_of(files[i]) for i in joint}) < 2 else \
                "of differing RescaleSlope/RescaleIntercept"
            joint_note = (f"{len(joint)} of {count} images (DICOM {why}) scaled "
                          f"by the joint {lo:g}-{hi:g} percentiles of their modality values ({dbounds[0]:.6g} → 0, "
                          f"{dbounds[1]:.6g} → 1, clipped; one mapping for all, to within 1/65535 of the stack's "
                          "range)")
    dshared = set(joint) if dbounds is not None else set()
    if dicom_values is not None:  # not the stored-value mapping below (a flat joint range: each keeps its own)
        joint = []
    # DICOM slices each shown by a window of its own (an MR series' automatic window per image, a
    # PET slice's from its maximum): the windows stretched each slice alone, as percentiles each
    # image alone did; they share one window instead (the median of theirs), as a viewer shows
    # a series by one; slices with VOI LUTs share the joint mapping of their modality values
    wjoint, wvalues, window = _dicom_windows_differ(files, infos, args.max_pixels)
    wbounds = None
    if window is not None:  # one window for all, the median of theirs (what a viewer does: one for the series)
        joint_note = ((joint_note + "; ") if joint_note else "") + (
            f"{len(wjoint)} of {count} images (DICOM of differing windows) scaled by one window, the median of "
            f"theirs (WindowCenter {window[0]:g}, WindowWidth {window[1]:g}"
            f"{'' if window[2] == 'LINEAR' else ', ' + window[2]}) instead of a window each")
    elif wvalues is not None:  # VOI LUTs, or a window no function takes: the joint percentiles
        wbounds = float_joint_bounds(lambda i: wvalues(i)[0], wjoint, fuser.percentiles)
        if wbounds is not None:
            lo, hi = fuser.percentiles
            joint_note = ((joint_note + "; ") if joint_note else "") + (
                f"{len(wjoint)} of {count} images (DICOM of differing windows, WindowCenter/WindowWidth) scaled by the "
                f"joint {lo:g}-{hi:g} percentiles of their modality values ({wbounds[0]:.6g} → 0, {wbounds[1]:.6g} → 1, "
                "clipped; one mapping for all instead of a window each)")
    wshared = set(wjoint) if wbounds is not None or window is not None else set()
    if len(joint) >= 2:
        from ..api import joint_percentile_bounds

        # those images on their linear full scale, one at a time (a histogram of their samples)
        bounds = joint_percentile_bounds((full_scale(i) for i in joint), *fuser.percentiles)
        if bounds is not None:
            lo, hi = fuser.percentiles
            kind = "planes" if len(files) == 1 else "images"
            joint_note = (f"{len(joint)} of {count} {kind} ({infos[joint[0]].bit_depth}-bit) scaled by the joint "
                          f"{lo:g}-{hi:g} percentiles of the stack (one mapping for all; --normalize full for the "
                          "type's full range)")
        else:
            joint = []
    shared = set(joint) if bounds is not None else set()  # one 16-bit image among 8-bit ones: its own
    # float images scaled by percentiles (samples outside [0, 1] under auto, any under percentile:
    # a deconvolved or background-subtracted z-stack) share one mapping too: each was stretched by
    # its own percentiles, so a dim focal plane came out as bright as the brightest
    fjoint = [i for i, info in enumerate(infos) if info.normalization == "percentile" and info.bit_depth == 32]
    fbounds = float_joint_bounds(full_scale, fjoint, fuser.percentiles) if len(fjoint) >= 2 else None
    fshared = set(fjoint) if fbounds is not None else set()
    if fbounds is not None:
        lo, hi = fuser.percentiles
        kind = "planes" if len(files) == 1 else "images"
        joint_note = ((joint_note + "; ") if joint_note else "") + (
            f"{len(fjoint)} of {count} {kind} (float) scaled by the joint {lo:g}-{hi:g} percentiles of the stack "
            f"({fbounds[0]:.6g} → 0, {fbounds[1]:.6g} → 1, clipped; one mapping for all, to within 1/65535 of the "
            "stack's range)")

    def get(i: int):
        """Image i of the stack as it is fused: (1, H, W) or (1, H, W, 3) floats in [0, 1]."""
        if i in shared:
            from ..api import joint_percentile_apply

            return joint_percentile_apply(full_scale(i), bounds)[None]
        if i in fshared:
            import numpy as np

            a, b = fbounds
            return np.clip((full_scale(i) - a) / (b - a), 0.0, 1.0)[None]
        if i in dshared or i in wshared:
            import numpy as np

            x, monochrome1 = (dicom_values if i in dshared else wvalues)(i)
            pad = np.isnan(x)
            if i in wshared and window is not None:
                from ..dicom import _voi_window

                y = _voi_window(np.where(pad, window[0], x), *window)
            else:
                a, b = dbounds if i in dshared else wbounds
                y = np.clip((np.where(pad, a, x) - a) / (b - a), 0.0, 1.0)
            if monochrome1:  # white = 0: inverted after the mapping, as read_dicom does
                y = 1.0 - y
            y[pad] = 0.0  # padding is black, as read_dicom makes it
            return y[None]
        return plane(i)[None]

    from ..color import output_is_colour

    colour = output_is_colour(any(colour_in), any(colour_in), fuser.chroma)
    depth, depth_note = output_depth(args.out, [i.bit_depth for i in infos], colour, args.bit_depth)
    check_output_size(args.out, w, h, 3 if colour else 1)  # a JPEG over 65500 px: before fusing, not after
    if planes is not None:  # every image at once, for the caller: it holds them all
        held = [get(i) for i in range(count)]
        planes([x[0] for x in held])
        get = held.__getitem__  # noqa: F811
    # a copy of the fuser, never a change to the fuser itself: the web page's fuser is shared by
    # threads. The copy shares the network and the lock of the original (one call at a time on
    # that network; held for the whole stack); its report is its own, read below. The images are
    # given as they are fused (normalised above, joint percentiles applied), one at a time.
    stacker = copy.copy(fuser)
    lock = getattr(fuser, "_lock", None)
    if lock is not None:
        stacker._lock = lock
    bar = None
    if not args.quiet and count > 2 and sys.stderr.isatty():  # at a terminal: a long stack takes minutes
        from tqdm import tqdm

        bar = tqdm(total=count - 1, desc="fuse-stack", unit="fusion", file=sys.stderr, leave=False,
                   dynamic_ncols=True)

    def step(done: int, total: int) -> None:
        if bar is not None:
            bar.update(1)
        if progress is not None:
            progress(done, total)

    try:
        with lock if lock is not None else contextlib.nullcontext(), naming_the_file(files[0], files):
            import numpy as np

            fused = np.clip(stacker._reduce_stack(count, get, args.order, stack_task, step, []), 0.0, 1.0)[0]
    finally:
        if bar is not None:
            bar.close()
    notes = folder_notes + list(stacker.report.notes) + ([depth_note] if depth_note else [])
    if len(files) > 1 and any(info.source == "dicom" for info in infos):
        from ..dicom import stack_mismatch_note

        mismatch = stack_mismatch_note(files)  # a localizer in the series' folder: fused as a plane
        if mismatch:
            notes.append(mismatch)
    if joint_note:
        notes.append(joint_note)
    notes += [n for n in (embedded_profile_note(q) for q in dict.fromkeys(files)) if n]  # no colour management
    for i, info in enumerate(infos):
        if getattr(info, "reduced", ""):  # a file Pillow decodes at fewer bits than it holds: said
            notes.append(f"{info.path}: {info.reduced}")
        if i in shared or i in fshared or i in dshared or i in wshared:  # a lone 16-bit image among 8-bit ones is scaled by its own percentiles: said
            continue
        if info.normalization in ("percentile", "window"):
            notes.append(f"{info.path}: {info.input_words()} {info.scaled_how()} ({info.full_hint()})")
    suffix = Path(args.out).suffix.lower()
    cal = stack_calibration(files, notes) if suffix not in (".dcm", ".dicom") else None
    # a TIFF output keeps it; other formats cannot hold a microscope's calibration (centimetres, or
    # an ImageJ unit): said, not dropped without a word; a photograph's dots per inch are not
    if cal is not None and suffix not in (".tif", ".tiff") and (cal["resolutionunit"] == 3 or cal["unit"]):
        notes.append(f"{args.out}: the stack's pixel size ({calibration_words(cal)}) is not written to the output "
                     "(write a .tif to keep it): set it again to measure in its units (Fiji: Image > Properties)")
    from .fuse import percentiles_unused

    unused = percentiles_unused(fuser, infos)  # --percentiles under auto on 8-bit planes: said as fuse says it
    if unused:
        notes.append(unused)
    from .. import __version__

    what = (f"the network, weights {Path(fuser.weights_spec).name}" if fuser.weights_spec is not None
            else f"method {fuser.method}")
    planes = f"planes of {Path(files[0]).name}" if len(files) == 1 else "images"
    write_image(args.out, fused, bit_depth=depth, sources=tuple(files),
                description=f"mutualfuse {__version__}: a stack of {count} {planes} fused by {what}, "
                            f"{args.order} order",
                setting=f"stack {args.order} {stack_task} {fuse_setting(fuser)}",
                resolution=cal if suffix in (".tif", ".tiff") else None)
    _mark_output(args.out)  # a rerun into the stack's folder leaves it out as an earlier result
    return StackDone(out=str(args.out), count=count, one_file=len(files) == 1, fusions=stacker.report.fusions,
                     seconds=time.perf_counter() - t, depth=depth, colour=fused.ndim == 3, notes=notes,
                     colour_in=list(colour_in))
