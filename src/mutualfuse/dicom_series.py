"""A DICOM series (a folder of single-frame slice files, as a scanner or PACS exports a CT, MR or
PET volume) read as a 3-D volume for ``mutualfuse fuse-volume`` (needs both optional extras:
pydicom to read it, nibabel for the volume's grid and a NIfTI output).

* **Files**: the regular files directly in the folder (subfolders are not searched) that are
  DICOM (the ``DICM`` marker at byte 128, or a ``.dcm``/``.dicom`` name) and hold an image
  (``Rows``/``Columns``); a DICOMDIR, other DICOM objects (reports, presentation states) and
  non-DICOM files are skipped, with a note saying how many and naming one.
* **One series**: exactly one ``SeriesInstanceUID``; several are refused in one line naming each
  (``SeriesDescription`` or number, and its file count).
* **Order**: by the position along the slice normal, ``d = ImagePositionPatient · (r × c)``
  where r and c are the row and column direction cosines of ``ImageOrientationPatient``; not by
  file name or ``InstanceNumber``.
* **One grid**: one ``ImageOrientationPatient`` (to 1e-4), ``PixelSpacing`` (to 1e-4 relative),
  ``Rows``/``Columns`` and photometric interpretation for all slices (else refused, naming a file
  that differs); slice positions on a uniform grid along the normal: every position within
  :data:`SPACING_TOL` of the spacing from ``first + k * spacing``, and no in-plane shift from one
  slice to the next (a gantry tilt), else refused naming the positions (a gap, a duplicate).
* **Values**: each slice's own ``RescaleSlope``/``RescaleIntercept`` (or Modality LUT) applied
  (they may differ from slice to slice); ``PixelPaddingValue`` voxels take no part in the
  intensity mapping and come out 0; a ``MONOCHROME1`` series is inverted after the mapping. The
  window (``WindowCenter``/``WindowWidth``, a VOI LUT) is not used: it is a per-slice display
  setting (slices of one series may carry different ones, or several), and a volume takes one
  mapping for all its voxels, the same as the NIfTI that dcm2niix would make of the series.
* **Affine** (the ITK/SimpleITK voxel order: i = column, j = row, k = slice in the order
  above): with ``P0`` the first slice's position, ``(Δr, Δc)`` = ``PixelSpacing`` (between rows,
  between columns), and ``s`` = (last position - first) / (n - 1) (the mean step; for one slice,
  ``SpacingBetweenSlices``, else ``SliceThickness``, else 1 mm, along the normal),
  ``LPS = [c·Δc | r·Δr | s | P0]`` and ``RAS = diag(-1, -1, 1, 1) · LPS`` (DICOM's patient
  coordinates are LPS, NIfTI's RAS; nibabel's ``nicom`` and dcm2niix make the same flip), with
  ``sform_code`` and ``qform_code`` 1 (scanner) and millimetres.
* Multi-frame files (an enhanced image of several frames), colour samples and a compressed
  transfer syntax without an installed decoder are refused in one line, as for single files.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from .errors import InputError, PolicyRefusalError

SERIES_HINT = "reading a DICOM series needs pydicom: pip install 'mutualfuse[dicom]'"
#: a slice position may lie this fraction of the slice spacing off the uniform grid
SPACING_TOL = 0.01
#: orientation cosines equal to this, pixel spacings to this relative
ORIENT_TOL = 1e-4


def _num(ds, keyword, n=None):
    """The numbers of ``keyword`` in ``ds`` (a list), or None where absent or not numbers."""
    try:
        v = ds[keyword].value
    except KeyError:
        return None
    try:
        vals = [float(x) for x in v] if hasattr(v, "__len__") and not isinstance(v, (str, bytes)) else [float(v)]
    except (TypeError, ValueError):
        return None
    if n is not None and len(vals) != n:
        return None
    return vals if all(np.isfinite(vals)) else None


def _fmt(v) -> str:
    return "\\".join(f"{x:g}" for x in v)


class DicomSeries:
    """One DICOM series folder, its headers checked (:func:`open_series`); :meth:`read` reads
    the voxels. ``img``: a nibabel image of the series' grid (its affine and header; its data a
    placeholder), ``shape``: (columns, rows, slices)."""

    def __init__(self, folder: Path, files: list, headers: list, affine: np.ndarray, notes: list[str],
                 max_voxels: int):
        import nibabel as nib

        self.folder, self.files, self.headers, self.notes = folder, files, headers, notes
        self.max_voxels = max_voxels
        first = headers[0]
        self.rows, self.cols = int(first.Rows), int(first.Columns)
        self.shape = (self.cols, self.rows, len(files))
        self.affine = affine
        self.photometric = str(getattr(first, "PhotometricInterpretation", "MONOCHROME2")).strip().upper()
        self.modality = str(getattr(first, "Modality", "") or "")
        # the header of a NIfTI of this series (as dcm2niix writes it: scanner space, mm); the
        # data is a zero-stride placeholder until read()
        img = nib.Nifti1Image(np.broadcast_to(np.float64(0), self.shape), affine)
        img.header.set_sform(affine, 1)
        img.header.set_qform(affine, 1)
        img.header.set_xyzt_units("mm", "sec")
        self.img = img
        self.pad = None  # padding voxels, after read()
        self.full_ok = None  # why --normalize full cannot map it, or None where it can (after read())
        self.bits = 16

    def read(self) -> np.ndarray:
        """The voxels (float64, ``shape``) after each slice's rescale; one-line errors."""
        from .dicom import _decode, _decode_error, _frame_groups, _padding_mask, headerless_dicom, read_dataset
        from .image_io import quiet_decoders

        data = np.empty(self.shape, dtype=np.float64)
        pad = None
        unsigned_plain, bits = True, 1
        for k, p in enumerate(self.files):
            with quiet_decoders():
                ds = read_dataset(p, self.max_voxels, force=headerless_dicom(p))
                try:
                    arr, _ = _decode(ds)
                except Exception as e:  # noqa: BLE001
                    raise _decode_error(p, ds, e) from None
            if arr.shape != (self.rows, self.cols):
                raise InputError(f"{p}: decoded pixel data is {'x'.join(map(str, arr.shape))}, not the "
                                 f"{self.rows}x{self.cols} its header says")
            _frame_groups(ds)
            m = _padding_mask(ds, arr)
            if "ModalityLUTSequence" in ds:
                try:
                    from pydicom.pixels import apply_modality_lut

                    x = np.asarray(apply_modality_lut(arr, ds), dtype=np.float64)
                except Exception as e:  # noqa: BLE001 - a malformed LUT
                    raise InputError(f"{p}: cannot apply the DICOM Modality LUT Sequence ({_first_line(e)})") from None
                unsigned_plain = False
            else:
                from .dicom import _first_number

                slope, inter = _first_number(ds, "RescaleSlope"), _first_number(ds, "RescaleIntercept")
                for kw, v in (("RescaleSlope", slope), ("RescaleIntercept", inter)):
                    if v is None and kw in ds and not ds[kw].is_empty:
                        raise InputError(f"{p}: DICOM {kw} is not a number")
                slope, inter = (1.0 if slope is None else slope), (0.0 if inter is None else inter)
                if slope == 0:
                    raise InputError(f"{p}: DICOM RescaleSlope is 0")
                x = arr.astype(np.float64) * slope + inter
                if (slope, inter) != (1.0, 0.0) or int(getattr(ds, "PixelRepresentation", 0) or 0) == 1:
                    unsigned_plain = False
            bits = max(bits, int(getattr(ds, "BitsStored", 8 * arr.dtype.itemsize) or 8 * arr.dtype.itemsize))
            if not np.isfinite(x).all():
                raise InputError(f"{p}: DICOM pixel data contains NaN or infinite values")
            data[:, :, k] = x.T  # (rows, columns) → (i = column, j = row)
            if m is not None:
                if pad is None:
                    pad = np.zeros(self.shape, dtype=bool)
                pad[:, :, k] = m.T
        self.pad = pad
        self.bits = bits
        self.full_ok = None if unsigned_plain else (
            "its samples are signed or rescaled (RescaleSlope/Intercept or a Modality LUT: a CT in HU has no "
            "meaningful full range)")
        return data

    def normalize(self, data: np.ndarray, normalize: str, percentiles) -> tuple[np.ndarray, str]:
        """The series in [0, 1] by one mapping (:func:`mutualfuse.volume.normalize_volume`'s
        policy; ``full``: the stored range ``0 … 2**BitsStored - 1`` of unsigned samples without
        rescale); padding voxels take no part and come out 0; MONOCHROME1 inverted."""
        from .errors import ParameterError
        from .io.samples import NORMALIZE_MODES
        from .volume import normalize_volume

        if normalize not in NORMALIZE_MODES:
            raise ParameterError(f"normalize must be one of {NORMALIZE_MODES}, got {normalize!r}")
        pad = self.pad
        if pad is not None and pad.all():
            return np.zeros_like(data), "padding: every voxel is padding (PixelPaddingValue): black"
        sub = data if pad is None else data[~pad]
        if normalize == "full":
            if self.full_ok is not None:
                raise PolicyRefusalError(f"{self.folder}: --normalize full needs unsigned samples without rescale; "
                                         f"{self.full_ok} (use --normalize auto or percentile)", normalize="full")
            out, how = np.clip(sub / float(2 ** self.bits - 1), 0.0, 1.0), "full"
        else:
            out, how = normalize_volume(sub, None, normalize, percentiles, self.folder)
        if self.photometric == "MONOCHROME1":
            out = 1.0 - out
        if pad is None:
            return out, how
        res = np.zeros_like(data)
        res[~pad] = out
        return res, how

    def extra_notes(self) -> list[str]:
        notes = list(self.notes)
        if self.pad is not None and self.pad.any():
            notes.append(f"{self.folder}: its {int(self.pad.sum())} padding voxels (PixelPaddingValue) take no part "
                         "in the intensity mapping and are black")
        if self.photometric == "MONOCHROME1":
            notes.append(f"{self.folder}: MONOCHROME1 (white = 0): inverted so that bright means high signal")
        return notes


def _first_line(e: Exception) -> str:
    s = " ".join(str(e).split())
    return s[:160] if s else type(e).__name__


def _is_dicom_name_or_magic(p: Path) -> bool:
    from .dicom import headerless_dicom
    from .image_io import _is_dicom

    # files without the preamble and DICM marker (an older scanner's or PACS's export, often with
    # no name extension) too: the folder was refused as holding "no DICOM image files"
    return _is_dicom(p) or headerless_dicom(p)


def open_series(folder, max_voxels: int) -> DicomSeries:
    """Read and check the headers of the DICOM series in ``folder`` (module docstring); no voxel
    is read. One-line :class:`InputError` for anything refused."""
    from .dicom import MEDIA_DIRECTORY, _GEOMETRY_GROUPS, _frame_groups, _pydicom, headerless_dicom, read_dataset
    from .image_io import quiet_decoders

    folder = Path(folder)
    if _pydicom() is None:
        raise InputError(f"{folder}: a folder (read as a DICOM series): {SERIES_HINT}")
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as e:
        raise InputError(f"{folder}: cannot list the folder ({e.strerror or e})") from None
    headers, files = [], []
    skipped: dict[str, list[str]] = {"non-DICOM": [], "DICOMDIR": [], "non-image DICOM": [], "subfolder": []}
    for e in entries:
        p = Path(e.path)
        if e.name.startswith("."):
            # hidden files are no slices, as fuse-dir and fuse-stack leave them out: macOS writes an
            # AppleDouble "._IM0001.dcm" beside each file copied to a FAT or exFAT stick, and one
            # such file refused the whole series as "not a readable DICOM file"
            continue
        try:
            if e.is_dir():
                skipped["subfolder"].append(e.name)
                continue
            if not e.is_file():
                skipped["non-DICOM"].append(e.name)
                continue
        except OSError:
            skipped["non-DICOM"].append(e.name)
            continue
        if not _is_dicom_name_or_magic(p):
            skipped["non-DICOM"].append(e.name)
            continue
        headerless = headerless_dicom(p)
        try:
            with quiet_decoders():
                ds = read_dataset(p, max_voxels, stop_before_pixels=True, force=headerless)
        except InputError:
            if headerless and p.suffix.lower() not in (".dcm", ".dicom"):  # only its first bytes looked like DICOM
                skipped["non-DICOM"].append(e.name)
                continue
            raise
        sop = str(getattr(getattr(ds, "file_meta", None), "MediaStorageSOPClassUID", "")
                  or getattr(ds, "SOPClassUID", ""))
        if sop == MEDIA_DIRECTORY or "DirectoryRecordSequence" in ds:
            skipped["DICOMDIR"].append(e.name)
            continue
        if "Rows" not in ds or "Columns" not in ds:
            skipped["non-image DICOM"].append(e.name)
            continue
        headers.append(ds)
        files.append(p)
    notes = []
    for what, names in skipped.items():
        if names:
            n = len(names)
            label = {"non-DICOM": "non-DICOM file", "DICOMDIR": "DICOMDIR", "non-image DICOM":
                     "DICOM file without an image", "subfolder": "subfolder"}[what]
            tail = " (not searched)" if what == "subfolder" else ""
            notes.append(f"{folder}: {n} {label}{'s' if n != 1 else ''} skipped{tail}, e.g. {names[0]}")
    if not headers:
        subs = skipped["subfolder"]
        hint = (f"; it holds {len(subs)} subfolder{'s' if len(subs) != 1 else ''} ({', '.join(subs[:3])}"
                f"{', …' if len(subs) > 3 else ''}): give the one of the series" if subs else "")
        raise InputError(f"{folder}: a folder with no DICOM image files; a folder given to fuse-volume is one DICOM "
                         f"series (its slice files directly in it){hint}")
    # one series
    groups: dict[str, list[int]] = {}
    for i, ds in enumerate(headers):
        groups.setdefault(str(getattr(ds, "SeriesInstanceUID", "") or ""), []).append(i)
    if len(groups) > 1:
        parts = []
        for uid, idx in groups.items():
            ds = headers[idx[0]]
            name = str(getattr(ds, "SeriesDescription", "") or "").strip()
            num = str(getattr(ds, "SeriesNumber", "") or "").strip()
            label = f"'{name}'" if name else (f"series number {num}" if num else f"UID {uid or '(none)'}")
            parts.append(f"{label} ({len(idx)} file{'s' if len(idx) != 1 else ''})")
        raise InputError(f"{folder}: holds {len(groups)} DICOM series: {', '.join(parts)}; give a folder of one "
                         "series (put each in its own folder)")
    first = headers[0]
    for ds in headers:
        _frame_groups(ds, _GEOMETRY_GROUPS)  # an enhanced single-frame image keeps its place there
    # what the volume cannot be made of
    for p, ds in zip(files, headers):
        frames = int(getattr(ds, "NumberOfFrames", 1) or 1)
        if frames > 1:
            raise InputError(f"{p}: multi-frame DICOM ({frames} frames) is not supported in a series folder; "
                             "convert it to NIfTI first (e.g. with dcm2niix)")
        spp = int(getattr(ds, "SamplesPerPixel", 1) or 1)
        photometric = str(getattr(ds, "PhotometricInterpretation", "MONOCHROME2")).strip().upper()
        if spp != 1 or photometric not in ("MONOCHROME1", "MONOCHROME2"):
            raise InputError(f"{p}: colour DICOM ({photometric}, {spp} samples a pixel); fuse-volume takes one value "
                             "a voxel (convert the series to gray first)")
        if "FloatPixelData" in ds or "DoubleFloatPixelData" in ds:
            raise InputError(f"{p}: DICOM float pixel data is not supported; export the series with integer Pixel Data")
    # one grid in the plane
    iop0, ps0 = _num(first, "ImageOrientationPatient", 6), _num(first, "PixelSpacing", 2)
    for p, ds in zip(files, headers):
        iop, ps = _num(ds, "ImageOrientationPatient", 6), _num(ds, "PixelSpacing", 2)
        if iop is None or _num(ds, "ImagePositionPatient", 3) is None:
            raise InputError(f"{p}: no ImageOrientationPatient/ImagePositionPatient (or not numbers): the slice's place "
                             "is unknown, so the series cannot be stacked into a volume")
        if ps is None or min(ps) <= 0:
            raise InputError(f"{p}: no PixelSpacing, or not two positive numbers: the voxel size is unknown")
        if (int(ds.Rows), int(ds.Columns)) != (int(first.Rows), int(first.Columns)):
            raise InputError(f"{p}: {int(ds.Rows)}x{int(ds.Columns)} pixels (Rows x Columns), {files[0].name} "
                             f"{int(first.Rows)}x{int(first.Columns)}: the slices of a series must be one size")
        if not np.allclose(iop, iop0, rtol=0, atol=ORIENT_TOL):
            raise InputError(f"{p}: ImageOrientationPatient {_fmt(iop)}, {files[0].name} {_fmt(iop0)}: the slices of "
                             "a volume must share one orientation")
        if not np.allclose(ps, ps0, rtol=ORIENT_TOL, atol=0):
            raise InputError(f"{p}: PixelSpacing {_fmt(ps)}, {files[0].name} {_fmt(ps0)}: the slices of a volume "
                             "must share one pixel spacing")
        ph = str(getattr(ds, "PhotometricInterpretation", "MONOCHROME2")).strip().upper()
        ph0 = str(getattr(first, "PhotometricInterpretation", "MONOCHROME2")).strip().upper()
        if ph != ph0:
            raise InputError(f"{p}: {ph}, {files[0].name} {ph0}: the slices of a volume must share one photometric "
                             "interpretation")
    rows, cols = int(first.Rows), int(first.Columns)
    n = len(files)
    if rows * cols * n > max_voxels:
        raise InputError(f"{folder}: {cols}x{rows}x{n} = {rows * cols * n} voxels, more than the limit of {max_voxels} "
                         "(decompression bomb guard; raise it with --max-pixels)")
    r_dir, c_dir = np.array(iop0[:3]), np.array(iop0[3:])  # along a row (column index), along a column (row index)
    for v, what in ((r_dir, "row"), (c_dir, "column")):
        if abs(np.linalg.norm(v) - 1) > 1e-3:
            raise InputError(f"{files[0]}: ImageOrientationPatient {_fmt(iop0)}: its {what} direction is not a unit "
                             "vector")
    if abs(float(r_dir @ c_dir)) > 1e-3:
        raise InputError(f"{files[0]}: ImageOrientationPatient {_fmt(iop0)}: its row and column directions are not "
                         "perpendicular")
    normal = np.cross(r_dir, c_dir)
    normal /= np.linalg.norm(normal)
    pos = np.array([_num(ds, "ImagePositionPatient", 3) for ds in headers])
    d = pos @ normal
    order = np.argsort(d, kind="stable")
    files = [files[i] for i in order]
    headers = [headers[i] for i in order]
    pos, d = pos[order], d[order]
    if n > 1:
        steps = np.diff(d)
        dup = np.flatnonzero(steps <= 1e-3)  # mm: positions are written to about 1e-5 mm
        if dup.size:
            i = int(dup[0])
            raise InputError(f"{folder}: two slices at one position ({d[i]:.4g} mm along the slice normal: "
                             f"{files[i].name} and {files[i + 1].name}); a series of one volume has one slice a "
                             "position (two acquisitions or echoes in one folder? split them)")
        step = (d[-1] - d[0]) / (n - 1)
        med = float(np.median(steps))
        off = np.abs(steps - med) > SPACING_TOL * med
        if off.any():
            i = int(np.flatnonzero(off)[0])
            raise InputError(f"{folder}: slice positions are not evenly spaced: {d[i]:.4g} to {d[i + 1]:.4g} mm along "
                             f"the slice normal ({files[i].name} to {files[i + 1].name}) is {steps[i]:.4g} mm, the "
                             f"others {med:.4g} mm (a missing slice?); a volume needs one slice spacing")
        grid = d[0] + step * np.arange(n)
        if np.abs(d - grid).max() > SPACING_TOL * step:
            i = int(np.argmax(np.abs(d - grid)))
            raise InputError(f"{folder}: slice positions are not evenly spaced: {files[i].name} at {d[i]:.4g} mm along "
                             f"the slice normal, {grid[i]:.4g} on a uniform grid of {step:.4g} mm")
        s_vec = (pos[-1] - pos[0]) / (n - 1)
        shift = pos - (pos[0] + np.outer(np.arange(n), s_vec))
        inplane = s_vec - (s_vec @ normal) * normal
        if np.linalg.norm(inplane) > SPACING_TOL * step or np.abs(shift).max() > SPACING_TOL * step:
            # a gantry-tilted CT: its voxels lie on a sheared grid, which a qform, this project's
            # grid comparison and a DICOM series output cannot hold (docs/inputs.md, "Volumes")
            tilt = float(np.degrees(np.arctan2(np.linalg.norm(inplane), abs(float(s_vec @ normal)))))
            raise InputError(f"{folder}: the slices are shifted in their plane from one to the next "
                             f"({np.linalg.norm(inplane):.4g} mm a slice, as from a gantry tilt of {tilt:.3g} degrees"
                             f"{_tilt_tag(first)}), so its voxels are not on a rectangular grid; "
                             "convert the series to NIfTI with dcm2niix, which resamples a gantry-tilted CT onto an "
                             "untilted grid, and fuse that file (with the other volume resampled onto its grid)")
    else:
        # the first of these that is a positive number (a SpacingBetweenSlices of 0, as some
        # writers leave it, gave 1 mm where the file's SliceThickness said 3)
        sp = next((v for v in (_num(first, "SpacingBetweenSlices", 1), _num(first, "SliceThickness", 1))
                   if v and abs(v[0]) > 0), [1.0])
        s_vec = normal * abs(sp[0])
    ps_r, ps_c = ps0  # between rows, between columns
    lps = np.eye(4)
    lps[:3, 0] = r_dir * ps_c  # i: the column index, along a row
    lps[:3, 1] = c_dir * ps_r  # j: the row index, down a column
    lps[:3, 2] = s_vec
    lps[:3, 3] = pos[0]
    affine = lps_to_ras(lps)
    return DicomSeries(folder, files, headers, affine, notes, max_voxels)


def _tilt_tag(ds) -> str:
    """", GantryDetectorTilt <value>" where ``ds`` has that tag, else ""."""
    v = _num(ds, "GantryDetectorTilt", 1)
    return f", GantryDetectorTilt {v[0]:g}" if v is not None else ""


#: tags the two series of a fused pair are expected to share (one frame of reference: the
#: positions of both in one patient coordinate system; one patient), compared as text
SERIES_PAIR_TAGS = ("FrameOfReferenceUID", "PatientID")


def series_pair_note(ser_a: "DicomSeries", ser_b: "DicomSeries", path_a, path_b) -> str | None:
    """A note where two series whose grids agree (their affines were compared) differ in
    :data:`SERIES_PAIR_TAGS` (both present and not empty, in their first slices): positions in
    two frames of reference (two sessions, two scanners, the patient moved) are equal numbers in
    two coordinate systems, not one place; two PatientIDs are two patients (not printed). As
    ``fuse``'s :func:`mutualfuse.dicom.pair_mismatch_note` for two DICOM files. None where they
    agree."""
    differ = []
    for kw in SERIES_PAIR_TAGS:
        va = str(getattr(ser_a.headers[0], kw, "") or "").strip()
        vb = str(getattr(ser_b.headers[0], kw, "") or "").strip()
        if va and vb and va != vb:
            differ.append(kw)
    if not differ:
        return None
    why = []
    if "FrameOfReferenceUID" in differ:
        why.append("their positions are in two frames of reference (two sessions or scanners: equal numbers, "
                   "not necessarily one place)")
    if "PatientID" in differ:
        why.append("two patient IDs")
    return (f"{path_a} and {path_b} differ in {', '.join(differ)}: {'; '.join(why)}; fused voxel for voxel as one "
            f"grid because their geometry agrees: check that they are registered (a DICOM output carries "
            f"{Path(str(path_a)).name}'s)")


def lps_to_ras(lps: np.ndarray) -> np.ndarray:
    """DICOM patient coordinates (LPS) to NIfTI's (RAS): negate x and y."""
    return np.diag([-1.0, -1.0, 1.0, 1.0]) @ np.asarray(lps, float)


# --------------------------------------------------------------------------------------------
# writing: ``fuse-volume A B -o OUT_DIR/`` (docs/inputs.md, "Volumes", "DICOM series output")

#: the stored 16-bit samples of a written series: 0 … SERIES_MAX stand for fused 0 … 1
SERIES_MAX = 65535
#: the slice files of a written series (``IM0001.dcm`` …): the only entries a stale temporary
#: folder of a series write may hold to be removed (:func:`mutualfuse.io.atomic.remove_stale_partdirs`)
_SLICE_NAME = re.compile(r"IM\d{4,}\.dcm")
#: fault injection for the stale-folder test: SIGKILL the writing process right after it has
#: written this slice (1-based) into its temporary folder; unset or 0: never
FAULT_KILL_AT_SLICE = "MUTUALFUSE_FAULT_KILL_AT_SLICE"


def is_series_output(path) -> bool:
    """Whether an output path names a folder, written as a DICOM series: it ends with ``/`` (or
    the platform's separator), or it is an existing folder (which must then be empty). A NIfTI
    name (``fused.nii.gz/``, ``fused.nii/``) is not: a slash typed after a file name is refused
    as every writer refuses it, not taken as a folder of that name."""
    s = str(path)
    seps = tuple(x for x in (os.sep, os.altsep, "/") if x)
    stripped = s.rstrip("".join(seps))
    if not stripped or stripped.lower().endswith((".nii", ".nii.gz")):
        return False
    return s.endswith(seps) or Path(s).is_dir()


def _target(path) -> Path:
    """The folder a series write lands in (a symbolic link to a folder is written through)."""
    p = Path(str(path).rstrip("/" + os.sep) or str(path))
    return Path(os.path.realpath(p)) if p.is_symlink() else p


def check_series_target(path) -> Path:
    """Refuse, before any work, an output folder a series cannot be written to: a non-empty
    folder (its files are not mixed with the new series'), a file of that name, a missing or
    read-only parent folder, no pydicom. One-line :class:`InputError`; returns the target."""
    from .dicom import WRITE_HINT, _pydicom
    from .io.atomic import probe_writable

    shown = Path(str(path))
    if _pydicom() is None:
        raise InputError(f"{shown}: a folder output (a DICOM series): {WRITE_HINT}")
    p = _target(path)
    if p.name in ("", ".", ".."):  # the folder the temporary one would be made in
        raise InputError(f"{shown}: name a new or empty folder for the DICOM series (e.g. {shown / 'fused'}/), "
                         "not '.' or '..'")
    if p.is_symlink() and not p.exists():
        raise InputError(f"{shown}: output folder is a broken or looping symbolic link")
    if p.exists():
        if not p.is_dir():
            raise InputError(f"{shown}: output path ends in '/' (a DICOM series folder) but {p} is a file")
        try:
            with os.scandir(p) as it:
                first = next(iter(it), None)
        except OSError as e:
            raise InputError(f"{shown}: cannot list the output folder ({e.strerror or e})") from None
        if first is not None:
            raise InputError(f"{shown}: output folder is not empty (e.g. {first.name}); a DICOM series is written "
                             "only to a new or empty folder, never mixed with other files")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"{shown}: output folder's parent {parent} does not exist")
    probe_writable(p)  # a file can be made beside it (a read-only mount, no permission)
    return p


def series_geometry(affine, shape, where) -> dict:
    """The DICOM image-plane values of a volume of ``shape`` (i column, j row, k slice) and RAS
    ``affine``, the inverse of :func:`open_series`'s formula: LPS = diag(-1, -1, 1, 1) · RAS,
    column 0 = r·Δc, column 1 = c·Δr, column 2 = the slice step, column 3 = the first slice's
    position. A grid a series cannot hold (voxel axes not perpendicular, slices shifted in their
    plane from one to the next) is refused in one line naming ``where``."""
    lps = lps_to_ras(np.asarray(affine, float))  # the flip is its own inverse
    col_c, col_r, step = lps[:3, 0], lps[:3, 1], lps[:3, 2]
    dc, dr, ds = (float(np.linalg.norm(v)) for v in (col_c, col_r, step))
    if min(dc, dr, ds) <= 0:
        raise InputError(f"{where}: its affine has a zero voxel size; a DICOM series cannot be written of it")
    r, c = col_c / dc, col_r / dr
    normal = np.cross(r, c)
    if abs(float(r @ c)) > 1e-4 or np.linalg.norm(np.cross(step / ds, normal)) > 1e-4:
        raise InputError(f"{where}: its voxel axes are not perpendicular (a sheared or gantry-tilted grid); a DICOM "
                         "series has slices perpendicular to its rows and columns: write NIfTI (.nii.gz) instead")
    n = int(shape[2])
    return {"iop": np.concatenate([r, c]), "spacing": (dr, dc), "step": step, "thickness": ds,
            "positions": lps[:3, 3] + np.outer(np.arange(n), step), "right_handed": float(step @ normal) > 0}


def _ds_str(v: float) -> str:
    """A DS value (at most 16 characters) of ``v`` to about 1e-6 relative, or 1e-6 mm."""
    for digits in range(10, 4, -1):
        s = f"{v:.{digits}g}"
        if len(s) <= 16:
            return s
    return f"{v:.4g}"


def write_series(path, volume: np.ndarray, affine, first_series: "DicomSeries | None", description: str,
                 own_thickness: bool = True) -> dict:
    """Write a fused volume (float, [0, 1], shape (columns, rows, slices)) as a DICOM series of
    one Secondary Capture file a slice (``IM0001.dcm`` …, InstanceNumber 1 … N in the volume's
    slice order) in the folder ``path``, atomically: into a temporary folder beside it, renamed
    at the end; on any failure (Ctrl+C too) nothing is left. ``first_series``: the input series
    on this grid that lends its patient, study and frame of reference (the first input where it
    is one, else the second); ``own_thickness``: its ``SliceThickness`` is the thickness of the
    volume's slices (False where its slices lie along another voxel axis: the slice step is
    written). Returns what was written."""
    from .dicom import _pydicom, WRITE_HINT
    from .image_io import quiet_decoders

    if _pydicom() is None:
        raise InputError(f"{path}: {WRITE_HINT}")
    with quiet_decoders():
        return _write_series(path, volume, affine, first_series, description, own_thickness)


def _write_series(path, volume, affine, first_series, description, own_thickness=True) -> dict:
    import errno
    import shutil
    import stat
    import tempfile

    from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    from .dicom import _COPIED, _TYPE2, SECONDARY_CAPTURE, _copy_tag, declared_text
    from .image_io import to_uint
    from .io.atomic import current_umask, part_prefix, remove_stale_partdirs, write_failure

    shown = Path(str(path))
    target = check_series_target(path)
    geo = series_geometry(affine, volume.shape, shown)
    volume = np.asarray(volume)
    n = volume.shape[2]
    ref = first_series.headers[0] if first_series is not None else None
    study = str(getattr(ref, "StudyInstanceUID", "") or "") if ref is not None else ""
    frame = str(getattr(ref, "FrameOfReferenceUID", "") or "") if ref is not None else ""
    series_uid = generate_uid()
    study = study or generate_uid()
    frame = frame or generate_uid()
    thickness = geo["thickness"]
    if ref is not None and own_thickness:
        t = _num(ref, "SliceThickness", 1)
        thickness = t[0] if t and t[0] > 0 else thickness
    # the stored range (to_uint is monotonic: the stored samples of the volume's extremes), slice
    # by slice below: no whole-volume copy beside the fused one
    lo, hi = (int(v) for v in to_uint(np.array([float(np.nanmin(volume)), float(np.nanmax(volume))]), 16))
    width = max(hi - lo + 1, 2)  # LINEAR: [lo, hi] spans the display range (a width of 1 is a threshold)
    centre = lo + width / 2
    geometric = {"PixelSpacing", "ImagePositionPatient", "ImageOrientationPatient", "SliceThickness",
                 "SliceLocation", "InstanceNumber", "StudyInstanceUID", "FrameOfReferenceUID"}
    parent = target.parent if str(target.parent) else Path(".")
    # the temporary folders of series writes killed halfway (kill -9) into this parent: removed
    # where their writer is gone, as every writer removes its stale temporary files
    remove_stale_partdirs(parent, _SLICE_NAME)
    kill_at = int(os.environ.get(FAULT_KILL_AT_SLICE, "0") or 0)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=part_prefix(target), suffix=".partdir", dir=str(parent)))
    except OSError as e:
        raise InputError(f"{shown}: cannot write in {parent} ({write_failure(e)})") from None
    try:
        normal = np.cross(geo["iop"][:3], geo["iop"][3:])
        for k in range(n):
            meta = FileMetaDataset()
            meta.MediaStorageSOPClassUID = SECONDARY_CAPTURE
            meta.MediaStorageSOPInstanceUID = generate_uid()
            meta.TransferSyntaxUID = ExplicitVRLittleEndian
            name = f"IM{k + 1:0{max(4, len(str(n)))}d}.dcm"
            ds = FileDataset(name, Dataset(), file_meta=meta, preamble=b"\0" * 128)
            if ref is not None:  # patient and study modules, the character set their text is in
                for kw in ("SpecificCharacterSet",) + _COPIED:
                    if kw not in geometric:
                        _copy_tag(ds, ref, kw)
            for kw in _TYPE2:  # present, empty, where the first input does not lend them
                if kw not in ds:
                    setattr(ds, kw, None)
            ds.SOPClassUID, ds.SOPInstanceUID = SECONDARY_CAPTURE, meta.MediaStorageSOPInstanceUID
            ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series_uid, frame
            ds.Modality = "OT"
            ds.ConversionType = "WSD"  # workstation: made by software
            ds.ImageType = ["DERIVED", "SECONDARY"]
            # in the files' character set (a description of one's own, a weights file's name: 'modèle')
            ds.SeriesDescription = declared_text(ds, description[:64])
            ds.DerivationDescription = declared_text(ds, f"{description}; stored 0-{SERIES_MAX} = fused 0-1"[:1024])
            ds.Manufacturer = "mutualfuse"
            ds.InstanceNumber = k + 1
            ds.ImageOrientationPatient = [_ds_str(v) for v in geo["iop"]]
            ds.ImagePositionPatient = [_ds_str(v) for v in geo["positions"][k]]
            ds.SliceLocation = _ds_str(float(geo["positions"][k] @ normal))
            ds.PixelSpacing = [_ds_str(v) for v in geo["spacing"]]
            ds.SliceThickness = _ds_str(thickness)
            ds.SpacingBetweenSlices = _ds_str(geo["thickness"])
            ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
            ds.Rows, ds.Columns = int(volume.shape[1]), int(volume.shape[0])
            ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
            ds.RescaleSlope, ds.RescaleIntercept, ds.RescaleType = "1", "0", "US"
            ds.WindowCenter, ds.WindowWidth = _ds_str(centre), _ds_str(width)
            # round(v * 65535), as a 16-bit PNG stores it; (i, j) → rows x columns
            ds.PixelData = np.ascontiguousarray(to_uint(volume[:, :, k].astype(np.float64), 16).T).tobytes()
            ds.save_as(str(tmp / name), enforce_file_format=True)
            if kill_at and k + 1 == kill_at:  # fault injection (tests): die as kill -9 would
                import signal

                os.kill(os.getpid(), signal.SIGKILL)
        os.chmod(tmp, 0o777 & ~current_umask())  # mkdtemp made it 0o700
        if target.is_dir():  # an empty folder: replaced by the new one (rename(2) replaces an empty folder)
            os.chmod(tmp, stat.S_IMODE(os.stat(target).st_mode))
            if os.name == "nt":  # Windows renames over no folder, not even an empty one
                os.rmdir(target)
        os.replace(tmp, target)
    except BaseException as e:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(e, OSError):
            if e.errno == errno.ENOTEMPTY:  # the empty folder was filled meanwhile
                raise InputError(f"{shown}: output folder is no longer empty; nothing written") from None
            raise InputError(f"{shown}: cannot write the DICOM series ({write_failure(e)})") from None
        raise
    return {"files": n, "series_uid": series_uid, "study_uid": study, "frame_uid": frame,
            "right_handed": geo["right_handed"]}
