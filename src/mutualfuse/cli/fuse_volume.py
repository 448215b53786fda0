"""``mutualfuse fuse-volume A.nii.gz B.nii.gz -o OUT.nii.gz``: fuse two registered 3-D volumes
(NIfTI; ``pip install 'mutualfuse[nifti]'``) slice by slice along one voxel axis.

A folder is read as one DICOM series (its slice files; also ``pip install 'mutualfuse[dicom]'``):
slices ordered by position along the slice normal, each slice's rescale applied, the affine
from the DICOM (LPS) geometry to NIfTI's RAS; the window is not used (one mapping for the
volume, as below). Two series, or a series and a NIfTI file, must be on one grid, compared as
two NIfTI files are.

The output is NIfTI (OUT.nii or OUT.nii.gz: float32), or, where -o names a folder (OUT_DIR/,
with the trailing '/', or an existing empty folder; a non-empty one is refused), a DICOM series
there: IM0001.dcm ... one Secondary Capture file a slice (ImageType DERIVED\\SECONDARY), 16-bit
samples 0 ... 65535 = fused 0 ... 1 (RescaleSlope 1, RescaleIntercept 0), the first input's grid
as position/orientation/spacing tags, the patient, study and frame of reference of the first
input that is a series, a new series UID; written atomically (needs pydicom).

One intensity mapping per volume (its percentiles, not each slice's), one task for the volume
(the network in task mode auto: detected on the central slice pair), the same grid required
(shapes and affines, in one coordinate space by the headers' sform/qform codes; nothing is
resampled; one grid stored in another voxel order, e.g. RAS against LPS, is reordered exactly).
The output is in [0, 1] on the first volume's grid (a NIfTI: its header too)
(docs/inputs.md, "Volumes").
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def add_parser(sub) -> None:
    from .common import int_at_least
    from .fuse import add_common

    p = sub.add_parser("fuse-volume",
                       help="fuse two registered 3-D volumes (NIfTI, or DICOM series folders) slice by slice",
                       description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    from .common import non_empty

    p.add_argument("a", type=non_empty, help="first volume (.nii or .nii.gz, or a folder holding one DICOM series; "
                                              "e.g. CT, PET)")
    p.add_argument("b", type=non_empty, help="second volume on the same grid (e.g. MR; a file or a series folder)")
    p.add_argument("-o", "--out", required=True, type=non_empty,
                   help="output volume (.nii or .nii.gz), or a folder OUT_DIR/ (trailing '/', or an existing empty "
                        "folder) to write a DICOM series of 16-bit slice files there")
    p.add_argument("--axis", type=int, default=2, choices=[0, 1, 2],
                   help="voxel axis the slices are taken across (default %(default)s: axial for RAS-ordered data; for a "
                        "DICOM series, across its own slices)")
    p.add_argument("--batch", type=int_at_least(1), default=8, help="slices fused at once (default %(default)s)")
    p.add_argument("--ignore-xform-codes", action="store_true",
                   help="fuse volumes whose equal affines the headers put in two coordinate spaces (their "
                        "sform_code or qform_code: 1 scanner against 4 MNI152, say), which are refused without it; "
                        "for ANTs/ITK outputs, whose code is 1 even when warped to a template")
    add_common(p)
    from ..volume import MAX_VOXELS

    for action in p._actions:  # fuse's options, said of volumes
        if action.dest == "max_pixels":
            action.default = MAX_VOXELS
            action.help = ("refuse a volume with more voxels (decompression-bomb guard, checked on the header; "
                           "default %(default)s)")
        elif action.dest == "chroma":  # a volume has one value a voxel: refused in run() where given
            action.default, action.help = None, argparse.SUPPRESS
        elif action.dest == "task" and action.help and "auto = the task detected per pair" in action.help:
            action.help = action.help.replace("auto = the task detected per pair",
                                              "auto = one task for the volume, detected on its central slice pair")
        elif action.dest == "normalize":
            action.help = ("intensity scaling of each volume, one mapping for all its slices: auto and percentile "
                           "(the volume's percentiles); full: an unsigned integer type's range (a DICOM "
                           "series: 0 to 2**BitsStored-1 of unsigned samples without rescale), or float voxels "
                           "already in [0, 1]; a DICOM series' window is not used; default: auto, or the policy the "
                           "weights were trained with where they record it (mutualfuse train)")
    from .common import add_import, add_quiet

    add_import(p)
    add_quiet(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .. import __version__
    from ..errors import InputError
    from ..image_io import check_writable
    from ..dicom_series import check_series_target, is_series_output
    from ..volume import fuse_volume, is_volume_path
    from .fuse import make_fuser

    from ..errors import ParameterError
    from .common import apply_imports

    apply_imports(args)  # a method of one's own (--import): registered before --method is looked up
    if getattr(args, "chroma", None) is not None:  # it was accepted and did nothing
        raise ParameterError(f"--chroma {args.chroma}: a volume has one value a voxel (gray); --chroma is the colour "
                             "rule of `fuse` for two colour images")
    args.chroma = "saturation"
    out = Path(args.out)
    if args.out == "-" and not out.exists():  # said as every command says it (was "must be a NIfTI file")
        check_writable(args.out, formats={".nii.gz": "NIfTI"}, hint=True)
    from .common import refuse_in_the_way

    refuse_in_the_way(args.out)  # `-o afile/x.nii.gz`, `-o afile/series/`: said as every command says it
    series_out = is_series_output(args.out)
    if not series_out and not is_volume_path(out):
        raise InputError(f"{out}: the output of a volume must be a NIfTI file (.nii or .nii.gz), or a folder "
                         "named with a trailing '/' for a DICOM series")
    # the checks of every writer (same file as an input, a folder, a dangling link, a folder
    # that cannot take a new file; a series: a non-empty folder), before any work; ".gz" here is always ".nii.gz"
    if series_out:
        check_series_target(args.out)
    else:
        check_writable(args.out, inputs=(args.a, args.b), formats={".nii": "NIfTI", ".gz": "NIfTI"})
    fuser = make_fuser(args, progress=False)
    t = time.perf_counter()
    what = (f"network {Path(fuser.weights_spec).name}" if fuser.weights_spec is not None else f"method {fuser.method}")
    bar = None
    if not args.quiet and sys.stderr.isatty():  # at a terminal: a volume through the network takes minutes
        from tqdm import tqdm

        bar = tqdm(desc="fuse-volume", unit="slice", file=sys.stderr, leave=False, dynamic_ncols=True)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    lines = None
    if not args.quiet and bar is None:  # a log, a pipe: plain lines, the first after LOG_EVERY_S
        from .fuse_video import plain_progress

        lines = plain_progress("fuse-volume", "slices fused")
    try:
        info = fuse_volume(fuser, args.a, args.b, args.out if series_out else out, axis=args.axis, batch=args.batch,
                           description=f"mutualfuse {__version__} fuse-volume {what} axis {args.axis}",
                           max_voxels=args.max_pixels, progress=lines if bar is None else progress,
                           check_xform_codes=not args.ignore_xform_codes)
    finally:
        if bar is not None:
            bar.close()
    if not args.quiet:
        from ..image_io import _one_line_path  # a name's line break or escape shown escaped, as errors show it

        from .fuse import tile_overlap_note

        reduced = tile_overlap_note(args)  # --tile-overlap above half of --tile
        for n in ([reduced] if reduced else []) + info["notes"]:
            print(f"note: {_one_line_path(n)}", file=sys.stderr)
        slices = f"{info['slices']} slice{'s' if info['slices'] != 1 else ''}"
        kind = (f"DICOM series of {info['shape'][2]} 16-bit file{'s' if info['shape'][2] != 1 else ''}"
                if series_out else "float32")
        print(f"{_one_line_path(args.out if series_out else out)}  ({'x'.join(map(str, info['shape']))}, {slices} across axis "
              f"{args.axis}, {time.perf_counter() - t:.2f} s, {kind})")
    return 0
