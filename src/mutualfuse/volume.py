"""Registered 3-D volumes (NIfTI-1/2, ``.nii`` / ``.nii.gz``; optional extra ``pip install
'mutualfuse[nifti]'``, which installs nibabel): ``mutualfuse fuse-volume`` and
:func:`fuse_volume`.

Medical volumes registered to one grid (CT/MR, PET/MR, MR contrasts after ANTs/FSL/SPM) are
fused slice by slice along one voxel axis (default 2, axial for RAS-ordered data). Choices:

* **DICOM series**: a folder argument is one DICOM series (:mod:`mutualfuse.dicom_series`:
  slices by position along the normal, per-slice rescale, its LPS geometry as a RAS affine in
  scanner space), then treated as a NIfTI volume of those values.
* **DICOM series output**: an output path ending in ``/`` (or an existing empty folder) is
  written as a DICOM series (:func:`mutualfuse.dicom_series.write_series`: one 16-bit Secondary
  Capture file a slice, stored 0 … 65535 = fused 0 … 1, the first volume's grid as image-plane
  tags, the patient, study and frame of reference of the first input that is a series),
  atomically.
* **Shapes**: 3-D; X x Y x Z x 1 is 3-D, a 2-D file one slice (written 2-D). 4-D series,
  colour (RGB) and complex voxels are refused.
* **One intensity mapping per volume**, not per slice: the ``normalize`` policy of ``fuse``
  applied to the whole volume (``auto`` and ``percentile``: its 0.1–99.9 percentiles after the
  file's ``scl_slope``/``scl_inter``, the values mapped said in a note; ``full``: the integer
  type's range, unsigned types only; float data must then be in [0, 1]), so that slices keep
  their relative brightness.
* **One task for the volume** (the network in task mode ``auto``): detected once on the
  central slice pair, as ``fuse-video`` does on its first frames.
* **The same grid or nothing**: shapes and affines (to 1e-4 of the voxel size) must agree; a
  volume is not resampled (say how the grids differ, and which tool resamples, rather than fuse
  misaligned voxels); one grid stored in another voxel order (RAS against LPS storage, axes
  permuted) is reordered onto the first volume's, exactly (:func:`reorientation`); and the
  same coordinate space: the ``sform_code`` (else ``qform_code``) that
  says what the affine's coordinates are must agree where both say (scanner against MNI152 is
  refused, ``--ignore-xform-codes`` to take them as one; 0, no space, and 2, aligned to another
  file, are taken on trust with a note).
* **Output**: float32 in [0, 1] on the first volume's grid and header (affine, qform/sform,
  units), ``scl_slope`` 1, ``scl_inter`` 0, ``cal_min`` 0 / ``cal_max`` 1 (the data's range, not the
  first volume's display window), no intent, no header extensions (they describe the first
  volume's voxels), a ``descrip`` saying how it was made (never the first volume's); written
  atomically, gzip-compressed when the name ends in ``.gz``.
"""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from .errors import InputError, ParameterError, PolicyRefusalError

EXTRA_HINT = "NIfTI volumes need nibabel: pip install 'mutualfuse[nifti]'"
SUFFIXES = (".nii", ".nii.gz")
#: the default limit on the voxels of one volume (``fuse-volume --max-pixels``), checked on the header
MAX_VOXELS = 2**31


def is_volume_path(p) -> bool:
    n = str(p).lower()
    return n.endswith(".nii") or n.endswith(".nii.gz")


def _nib():
    try:
        import nibabel
    except ImportError:
        return None
    return nibabel


def read_volume(path, max_voxels: int = MAX_VOXELS):
    """→ (float64 array (X, Y, Z) as stored after scaling, the nibabel image). One-line errors.
    A folder is read as one DICOM series (:mod:`mutualfuse.dicom_series`; the image: the
    series' grid, its data a placeholder)."""
    img, shape, series = open_input(path, max_voxels)
    return (series.read() if series is not None else volume_data(path, img, shape)), img


def open_input(path, max_voxels: int = MAX_VOXELS):
    """A volume input's header checks, before any voxel is read → (nibabel image, shape, the
    :class:`~mutualfuse.dicom_series.DicomSeries` where ``path`` is a folder, else None)."""
    p = Path(path)
    if p.is_dir():
        if _nib() is None:
            raise InputError(f"{p}: {EXTRA_HINT}")
        from .dicom_series import open_series

        series = open_series(p, max_voxels)
        return series.img, series.shape, series
    img, shape = open_volume(path, max_voxels)
    return img, shape, None


def open_volume(path, max_voxels: int = MAX_VOXELS):
    """The header checks of :func:`read_volume`, before any voxel is read → (the nibabel image,
    its shape as read: 3-D, or (X, Y, 1) for a 2-D image)."""
    p = Path(path)
    nib = _nib()
    if nib is None:
        raise InputError(f"{p}: {EXTRA_HINT}")
    if p.is_dir():
        raise InputError(f"{p}: a folder, not a NIfTI volume (fuse-volume and read_volume read a folder as a "
                         "DICOM series)")
    if not p.is_file():
        from .image_io import not_a_regular_file

        special = not_a_regular_file(p)  # a FIFO or /dev/fd/63 was "no such file"
        raise InputError(f"{p}: {special}" if special else f"{p}: no such file")
    if p.stat().st_size == 0:  # nibabel said "Empty file: 'a.nii.gz'" inside "not a readable NIfTI file (...)"
        raise InputError(f"{p}: file is empty (0 bytes)")
    from .dicom import _looks_dicom

    if _looks_dicom(p):
        raise InputError(f"{p}: a DICOM file, not a NIfTI volume (give the folder of its series, or convert the "
                         "series to NIfTI first, e.g. with dcm2niix; fuse fuses one DICOM slice pair)")
    try:
        img = nib.load(str(p))
    except Exception as e:  # noqa: BLE001 - nibabel raises many types for broken files
        misnamed = _compression_misnamed(p)
        if misnamed:
            raise InputError(f"{p}: {misnamed}") from None
        raise InputError(f"{p}: not a readable NIfTI file ({str(e).splitlines()[0][:160] if str(e) else type(e).__name__})") from None
    dt = np.dtype(img.get_data_dtype())
    if dt.fields is not None:  # NIfTI RGB24 / RGBA32: numpy said "VoidDType ... no common DType"
        raise InputError(f"{p}: colour (RGB) voxels; fuse-volume takes one value a voxel (convert the volume to "
                         "gray first)")
    if dt.kind == "c":  # the imaginary part was dropped, with a numpy ComplexWarning
        raise InputError(f"{p}: complex voxels ({dt}); fuse-volume takes real values (take the magnitude first)")
    shape = volume_shape(img)
    if len(shape) == 2:  # one slice: fused as a volume of one slice across axis 2, written 2-D
        shape = (*shape, 1)
    if len(shape) != 3:
        split = " (split a 4-D series into volumes first, e.g. with fslsplit)" if len(shape) == 4 else ""
        raise InputError(f"{p}: a {len(shape)}-D image {'x'.join(map(str, img.shape))}; fuse-volume takes 3-D "
                         f"volumes{split}")
    if int(np.prod(shape)) > max_voxels:
        raise InputError(f"{p}: {'x'.join(map(str, shape))} = {int(np.prod(shape))} voxels, more than the limit of "
                         f"{max_voxels} (decompression bomb guard; raise it with --max-pixels)")
    return img, shape


def _compression_misnamed(p: Path) -> str | None:
    """Why nibabel could not read a NIfTI file whose name says the wrong compression: a plain
    ``.nii`` named ``.nii.gz`` (a browser that undid the server's gzip encoding on download keeps
    the name), or a gzip-compressed one named ``.nii``; None otherwise."""
    try:
        with open(p, "rb") as f:
            head = f.read(348)
    except OSError:
        return None
    gz = head[:2] == b"\x1f\x8b"
    from .image_io import is_nifti_header

    plain = is_nifti_header(head)
    if str(p).lower().endswith(".gz") and plain:
        return ("a NIfTI file that is not gzip-compressed although named .gz (a browser may have decompressed it on "
                "download); rename it to .nii")
    if str(p).lower().endswith(".nii") and gz:
        return "a gzip-compressed file although named .nii; rename it to .nii.gz"
    return None


def volume_data(path, img, shape) -> np.ndarray:
    """The voxels of an image :func:`open_volume` checked, as float64 after the header's scaling."""
    p = Path(path)
    try:
        data = np.asarray(img.dataobj, dtype=np.float64).reshape(shape)
    except Exception as e:  # noqa: BLE001 - truncated data, unsupported dtypes
        raise InputError(f"{p}: cannot read the voxel data ({str(e).splitlines()[0][:160] if str(e) else type(e).__name__})") from None
    bad = int(data.size - np.count_nonzero(np.isfinite(data)))
    if bad:
        raise InputError(f"{p}: {bad} of its {data.size} voxels {'is' if bad == 1 else 'are'} NaN or infinite "
                         "(e.g. outside the field of view after resampling); replace them first, e.g. with "
                         "fslmaths IN -nan OUT")
    return data


def volume_shape(img) -> tuple:
    """The image's shape less trailing axes of length 1 past the third (a 3-D volume that a
    converter stored as X x Y x Z x 1); 2-D images stay 2-D."""
    shape = tuple(int(s) for s in img.shape)
    while len(shape) > 3 and shape[-1] == 1:
        shape = shape[:-1]
    return shape


def normalize_volume(data: np.ndarray, img, normalize: str, percentiles, path) -> tuple[np.ndarray, str]:
    """The volume in [0, 1] by one mapping for all its voxels (module docstring), and how:
    ``"full"``, ``"percentile: <lo> → 0, <hi> → 1"`` (the voxel values mapped), or where the
    percentile mapping fell back, ``"minmax: …"`` / ``"flat: …"`` with the phrase the notes print."""
    from .io.samples import NORMALIZE_MODES, percentile_scale

    if normalize not in NORMALIZE_MODES:
        raise ParameterError(f"normalize must be one of {NORMALIZE_MODES}, got {normalize!r}")
    lo, hi = percentiles
    if not 0 <= lo < hi <= 100:
        raise ParameterError(f"percentiles must satisfy 0 <= lo < hi <= 100, got {percentiles}")
    if normalize == "full":
        dt = np.dtype(img.get_data_dtype())
        scaled = img.header.get_slope_inter() not in ((None, None), (1.0, 0.0))
        if dt.kind == "u" and not scaled:
            return np.clip(data / float(np.iinfo(dt).max), 0.0, 1.0), "full"
        if dt.kind == "f":
            if data.min() < -1e-3 or data.max() > 1 + 1e-3:
                raise PolicyRefusalError(f"{path}: float voxels are in [{data.min():.4g}, {data.max():.4g}], "
                                         "not [0, 1] (use --normalize auto or percentile)", normalize="full")
            return np.clip(data, 0.0, 1.0), "full"
        raise PolicyRefusalError(f"{path}: --normalize full needs unsigned integer voxels without scaling or float "
                                 f"voxels in [0, 1]; this volume is {dt} (use --normalize auto or percentile)",
                                 normalize="full")
    top = 1.0 if data.max() <= 1 else float(data.max())  # a flat volume: v / its own maximum, or v in [0, 1]
    detail: list[str] = []
    mapped: list = []
    out = percentile_scale(data, lo, hi, top, detail, mapped)
    if not detail:  # the note says the voxel values mapped
        a, b = mapped[0]
        return out, f"percentile: {a:.6g} → 0, {b:.6g} → 1"
    if not data.max() > data.min():  # flat: v / v (its own maximum) or v in [0, 1]
        return out, f"flat: is flat (every voxel {float(data.flat[0]):g}): mapped to {float(out.flat[0]):g}, not stretched"
    a, b = mapped[0]
    return out, f"minmax: scaled by its minimum and maximum ({a:g} → 0, {b:g} → 1; its {lo:g}-{hi:g} percentiles are equal)"


def grid_tolerance(affine) -> float:
    """The tolerance two affines of one grid are compared to: 1e-4 of the smallest voxel size."""
    a = np.asarray(affine, float)
    return 1e-4 * (float(np.min(np.abs(np.linalg.svd(a[:3, :3], compute_uv=False)))) or 1.0)


def reorientation(img_a, img_b, shape_a, shape_b):
    """How the second volume's voxels lie on the first one's grid when the two grids are one set
    of voxel centres stored in another voxel order (axes permuted or reversed: RAS against LPS
    storage of one grid, a DICOM series against the NIfTI ``dcm2niix`` made of it): ``(perm,
    flips)`` such that ``np.flip(np.transpose(vb, perm), flips)`` is on the first grid, exactly
    (no resampling); None where no such exact reordering exists (or none is needed).
    ``shape_a``/``shape_b``: the 3-D shapes (a 2-D image as X x Y x 1)."""
    a, b = np.asarray(img_a.affine, float), np.asarray(img_b.affine, float)
    if len(shape_a) != 3 or len(shape_b) != 3:
        return None
    try:
        t = np.linalg.inv(a) @ b  # B's voxel index -> A's
    except np.linalg.LinAlgError:
        return None
    m = np.rint(t[:3, :3])
    if not np.allclose(t[:3, :3], m, rtol=0, atol=1e-3) or not (
            (np.abs(m).sum(axis=0) == 1).all() and (np.abs(m).sum(axis=1) == 1).all()):
        return None
    perm = [int(np.flatnonzero(m[i])[0]) for i in range(3)]  # A's axis i is B's axis perm[i]
    sign = [int(m[i, perm[i]]) for i in range(3)]
    if perm == [0, 1, 2] and sign == [1, 1, 1]:
        return None
    if [int(shape_b[j]) for j in perm] != [int(x) for x in shape_a]:
        return None
    # A's index i = sign * B's index + (0, or n - 1 where reversed): B's affine on A's voxel order
    p = np.zeros((4, 4))
    p[3, 3] = 1.0
    for i in range(3):
        off = 0 if sign[i] > 0 else int(shape_a[i]) - 1
        p[perm[i], i] = sign[i]
        p[perm[i], 3] = -sign[i] * off
    if not np.allclose(a, b @ p, rtol=0, atol=grid_tolerance(a)):
        return None
    return perm, tuple(i for i in range(3) if sign[i] < 0)


def check_same_grid(img_a, img_b, path_a, path_b, shape_a, shape_b) -> None:
    """Refuse volumes not on one voxel grid: shapes, then affines to 1e-4 of the voxel size; the
    message says how they differ (orientation, voxel size, or position)."""
    if shape_a != shape_b:
        raise InputError(f"{path_b}: volume is {'x'.join(map(str, shape_b))}, {path_a} is "
                         f"{'x'.join(map(str, shape_a))}: the volumes must be registered to one grid "
                         "(resample one onto the other first, e.g. with ANTs or FSL flirt -applyxfm)")
    a, b = np.asarray(img_a.affine, float), np.asarray(img_b.affine, float)
    vox = float(np.min(np.abs(np.linalg.svd(a[:3, :3], compute_uv=False)))) or 1.0
    tol = 1e-4 * vox
    if np.allclose(a, b, rtol=0, atol=tol):
        return
    from nibabel.orientations import aff2axcodes

    def codes(m):
        try:
            return "".join(str(c) for c in aff2axcodes(m))
        except Exception:  # noqa: BLE001 - a singular affine has no orientation
            return "?"

    def sizes(m):
        return "x".join(f"{z:.4g}" for z in np.sqrt((m[:3, :3] ** 2).sum(axis=0)))

    za, zb = np.sqrt((a[:3, :3] ** 2).sum(axis=0)), np.sqrt((b[:3, :3] ** 2).sum(axis=0))
    if codes(a) != codes(b):
        how = (f"its voxel axes point to {codes(b)}, {path_a}'s to {codes(a)} (another orientation or a flipped "
               "axis)")
    elif not np.allclose(za, zb, rtol=0, atol=tol):
        how = f"its voxels are {sizes(b)} mm, {path_a}'s {sizes(a)} mm"
    elif not np.allclose(a[:3, :3], b[:3, :3], rtol=0, atol=tol):
        how = f"its voxel axes are rotated against {path_a}'s (affines differ by up to {np.abs(a - b).max():.4g})"
    else:
        how = f"its origin is {np.linalg.norm(a[:3, 3] - b[:3, 3]):.4g} mm from {path_a}'s"
    for img, path in ((img_a, path_a), (img_b, path_b)):
        h = getattr(img, "header", None)
        if h is not None and "qform_code" in h and int(h["qform_code"]) == 0 and int(h["sform_code"]) == 0:
            how += f"; {path} has no orientation (qform_code and sform_code 0: its voxel size only)"
    raise InputError(f"{path_b}: not on {path_a}'s voxel grid: {how}; the volumes must be registered to one "
                     "grid (resample one onto the other first, e.g. with ANTs or FSL flirt -applyxfm; "
                     "nothing is resampled here)")


#: what a NIfTI ``sform_code`` / ``qform_code`` says the affine's coordinates are (NIfTI-1 and the
#: 2019 NIfTI-2 amendment that added 5)
XFORM_SPACES = {1: "in scanner space", 2: "aligned to another file", 3: "in Talairach space", 4: "in MNI152 space",
                5: "in another template's space"}


def xform_code(img) -> tuple[str, int] | None:
    """Which of the header's codes says what ``img.affine`` is, and that code, as nibabel chose the
    affine: ``("sform_code", c)`` where the sform_code is not 0, else ``("qform_code", c)``, else
    ``("sform_code and qform_code", 0)``; None for a format without these codes (MGH)."""
    h = getattr(img, "header", None)
    if h is None or "sform_code" not in h or "qform_code" not in h:
        return None
    s, q = int(h["sform_code"]), int(h["qform_code"])
    if s != 0:
        return "sform_code", s
    if q != 0:
        return "qform_code", q
    return "sform_code and qform_code", 0


def _space(code: tuple[str, int]) -> str:
    name, c = code
    what = XFORM_SPACES.get(c, "under a code the NIfTI standard does not define")
    return f"{what} ({name} {c})"


def spatial_unit(img) -> str | None:
    """The unit of a NIfTI header's voxel sizes and affine (``xyzt_units``: "mm", "micron",
    "meter"); None where the header says none ("unknown") or has no such field."""
    h = getattr(img, "header", None)
    try:
        unit = h.get_xyzt_units()[0]
    except Exception:  # noqa: BLE001 - MGH and other headers without it
        return None
    return None if unit in (None, "unknown") else str(unit)


#: millimetres a unit of ``xyzt_units`` is (DICOM's positions and spacings are in mm)
UNIT_MM = {"mm": 1.0, "micron": 1e-3, "meter": 1e3}


def affine_mm(img) -> tuple[np.ndarray, str | None]:
    """``img.affine`` in millimetres (a DICOM series output's unit): scaled by the header's
    spatial unit (micron, meter); a header whose unit is mm or unknown is taken as mm (the NIfTI
    convention). → (the affine, the unit it was converted from, or None where none was)."""
    unit = spatial_unit(img)
    f = UNIT_MM.get(unit or "mm", 1.0)
    a = np.array(img.affine, dtype=float)
    if f == 1.0:
        return a, None
    a[:3, :] *= f
    return a, unit


def xform_disagreement(img, path) -> str | None:
    """A note where a NIfTI header holds a qform and an sform (both codes above 0) that place
    the voxels differently (by more than 1e-3 of the voxel size): the affine nibabel took, and
    this project's grid comparison, is the sform, as nibabel, FSL and SPM read it; software that
    reads the qform puts the volume elsewhere. None where they agree or one is absent."""
    h = getattr(img, "header", None)
    if h is None or "qform_code" not in h or "sform_code" not in h:
        return None
    q_code, s_code = int(h["qform_code"]), int(h["sform_code"])
    if q_code <= 0 or s_code <= 0:
        return None
    try:
        q, s = np.asarray(h.get_qform(), float), np.asarray(h.get_sform(), float)
    except Exception:  # noqa: BLE001 - a broken quaternion: nibabel took the sform
        return None
    vox = float(np.min(np.abs(np.linalg.svd(s[:3, :3], compute_uv=False)))) or 1.0
    diff = float(np.abs(q[:3] - s[:3]).max())
    if diff <= 1e-3 * vox:
        return None
    apart = float(np.linalg.norm(q[:3, 3] - s[:3, 3]))
    return (f"{path}: its qform and sform disagree (qform_code {q_code}, sform_code {s_code}; affines differ by up "
            f"to {diff:.4g}, origins {apart:.4g} apart): the grids are compared by the sform (as nibabel, FSL and "
            "SPM read it); software that reads the qform places this volume elsewhere")


def check_same_space(img_a, img_b, path_a, path_b, check: bool = True) -> list[str]:
    """Refuse a pair whose affines agree (:func:`check_same_grid` passed) but whose headers put
    them in two coordinate spaces, or in two spatial units (``xyzt_units``: mm against micron,
    refused whatever ``check`` says): equal numbers in scanner space and in MNI152 space are not one
    grid (a header copied from a template, a volume never registered). Returns notes for what
    was taken on trust: a volume whose codes are both 0 (no space: its grid taken as the other's),
    one "aligned to another file" (code 2: nibabel's default for an image made from an array and
    an affine), or, with ``check`` False (``--ignore-xform-codes``), two spaces taken
    as one."""
    ua, ub = spatial_unit(img_a), spatial_unit(img_b)
    if ua and ub and ua != ub:  # 0.5 mm and 0.5 micron voxels have equal affine numbers
        raise InputError(f"{path_b}: its voxel sizes and origin are in {ub}, {path_a}'s in {ua} (the headers' "
                         "xyzt_units): equal affine numbers in two units are not one grid (resample one volume "
                         "onto the other first)")
    ca, cb = xform_code(img_a), xform_code(img_b)
    if ca is None or cb is None or ca[1] == cb[1]:
        return []
    for (p, c), (q, d) in (((path_b, cb), (path_a, ca)), ((path_a, ca), (path_b, cb))):
        if c[1] == 0:
            return [f"{p}: no coordinate space (sform_code and qform_code 0: an affine from its voxel sizes "
                    f"alone); taken as on {q}'s grid, {_space(d)}, as the affines agree"]
    for (p, c), (q, d) in (((path_b, cb), (path_a, ca)), ((path_a, ca), (path_b, cb))):
        if c[1] == 2:
            return [f"{p}: its affine is {_space(c)}, {q}'s {_space(d)}: taken as one space, as the affines agree"]
    if not check:
        return [f"{path_b}: its affine is {_space(cb)}, {path_a}'s {_space(ca)}: taken as one space "
                f"(--ignore-xform-codes); the output keeps {path_a}'s header"]
    raise InputError(f"{path_b}: its affine is {_space(cb)}, {path_a}'s {_space(ca)}: equal affines in two "
                     "coordinate spaces are not one grid (register one volume to the other first); if both are in "
                     "fact in one space (ANTs and ITK write code 1 on every output, even one warped to a template), "
                     "pass --ignore-xform-codes")


#: bytes a voxel that fusing a volume pair holds at least: both volumes as read (float64) and
#: normalised (float64), and the float32 result (measured peaks: docs/inputs.md, "Volumes")
VOLUME_BYTES_PER_VOXEL = 2 * (8 + 8) + 4


def volume_min_memory(fuser, shape, axis: int = 2, batch: int = 8) -> int:
    """A lower bound, in bytes, of what :func:`fuse_volume` holds at its peak for a pair of
    volumes of ``shape``: :data:`VOLUME_BYTES_PER_VOXEL` a voxel, and one batch of slices
    through the fuser (:meth:`Fuser.min_memory <mutualfuse.api.Fuser.min_memory>`; the network
    runs as many slices at once as its window allows, each counted as the runner counts it)."""
    n = int(np.prod(shape, dtype=np.int64))
    h, w = [s for i, s in enumerate(shape) if i != axis][::-1]
    b = min(batch, shape[axis])
    need = VOLUME_BYTES_PER_VOXEL * n + fuser.min_memory(h, w, 2 * b)
    runner = getattr(fuser, "runner", None)
    if runner is not None and not (fuser.tile and (h > fuser.tile or w > fuser.tile)):
        at_once = min(b, max(1, runner.max_window_pixels // max(1, h * w)))
        need += (at_once - 1) * runner.min_bytes(h, w)  # min_memory counted one slice's network memory
    return need


def check_volume_memory(fuser, shape, axis: int, batch: int, path) -> None:
    """Refuse (one-line :class:`InputError` naming ``path``) a volume pair whose
    :func:`volume_min_memory` exceeds the memory available now."""
    from .runner import check_memory

    check_memory(volume_min_memory(fuser, shape, axis, batch),
                 f"{path}: fusing this {'x'.join(map(str, shape))} volume pair",
                 "; free memory, use a machine with more, or crop the volumes")


def fuse_volume(fuser, a_path, b_path, out_path, axis: int = 2, batch: int = 8, description: str = "",
                max_voxels: int = MAX_VOXELS, progress=None, check_xform_codes: bool = True) -> dict:
    """Read, check, fuse slice by slice and atomically write one volume pair; returns what was done.
    ``max_voxels``: refuse a volume with more voxels (checked on the header, before its data).
    ``progress``: called as ``progress(done, total)`` slices after each batch.
    ``check_xform_codes``: refuse two volumes whose equal affines are in two coordinate spaces
    (:func:`check_same_space`); False takes them as one, with a note.
    An output path that is one of the inputs is refused before any work (from Python, the input
    was overwritten by the fused volume). ``out_path`` ending in ``/`` (or an existing empty
    folder): written as a DICOM series there (module docstring); a non-empty folder is refused."""
    from .image_io import check_writable
    from .io.atomic import atomic_write, remove_stale_parts, write_target
    from .validation import MIN_SIDE

    if axis not in (0, 1, 2):
        raise ParameterError(f"axis must be 0, 1 or 2, got {axis}")
    if batch < 1:
        raise ParameterError(f"batch must be at least 1, got {batch}")
    from .dicom_series import check_series_target, is_series_output, series_geometry, write_series

    series_out = is_series_output(out_path)  # a folder: a DICOM series (docs/inputs.md, "Volumes")
    if not series_out and not is_volume_path(out_path):
        raise InputError(f"{out_path}: the output of a volume must be a NIfTI file (.nii or .nii.gz), or a folder "
                         "named with a trailing '/' for a DICOM series")
    if series_out:  # a non-empty folder (an input series among them), a file, no pydicom: before any work
        check_series_target(out_path)
    else:  # same file as an input, a folder, a missing folder: before any work ("gz" is always ".nii.gz" here)
        check_writable(out_path, inputs=(a_path, b_path), formats={".nii": "NIfTI", ".gz": "NIfTI"})
    img_a, shape_a, ser_a = open_input(a_path, max_voxels)
    img_b, shape_b, ser_b = open_input(b_path, max_voxels)
    # one grid stored in two voxel orders (RAS and LPS storage, a series and its dcm2niix NIfTI):
    # the second volume's voxels reordered onto the first's, exactly; any other grid is refused
    reorder = reorientation(img_a, img_b, shape_a, shape_b)
    if reorder is None:
        check_same_grid(img_a, img_b, a_path, b_path, volume_shape(img_a), volume_shape(img_b))
    space_notes = check_same_space(img_a, img_b, a_path, b_path, check_xform_codes)
    # a series output's positions and spacings are in mm: a header in micron or meter converted
    aff_out, unit_from = affine_mm(img_a) if series_out else (img_a.affine, None)
    geo = series_geometry(aff_out, shape_a, a_path) if series_out else None  # a grid a series can hold
    sl = [s for i, s in enumerate(shape_a) if i != axis]
    if min(sl) < MIN_SIDE:
        raise InputError(f"{a_path}: slices across axis {axis} are {sl[1]}x{sl[0]}, smaller than {MIN_SIDE}x{MIN_SIDE}")
    check_volume_memory(fuser, shape_a, axis, batch, a_path)  # before reading: not an OOM kill halfway
    va = ser_a.read() if ser_a is not None else volume_data(a_path, img_a, shape_a)
    vb = ser_b.read() if ser_b is not None else volume_data(b_path, img_b, shape_b)
    na, how_a = (ser_a.normalize(va, fuser.normalize, fuser.percentiles) if ser_a is not None
                 else normalize_volume(va, img_a, fuser.normalize, fuser.percentiles, a_path))
    nb, how_b = (ser_b.normalize(vb, fuser.normalize, fuser.percentiles) if ser_b is not None
                 else normalize_volume(vb, img_b, fuser.normalize, fuser.percentiles, b_path))
    del va, vb  # the series' or the files' values: the normalised ones are fused
    if reorder is not None:  # onto the first volume's voxel order (a view: no copy, no resampling)
        nb = np.flip(np.transpose(nb, reorder[0]), reorder[1]) if reorder[1] else np.transpose(nb, reorder[0])
    xa, xb = np.moveaxis(na, axis, 0), np.moveaxis(nb, axis, 0)  # (slices, H, W)
    task = None
    if fuser.task_mode == "auto":  # one task for the volume, from the central slice pair
        mid = xa.shape[0] // 2
        task = fuser.detect_tasks(xa[mid:mid + 1], xb[mid:mid + 1])[0].task
    out = np.empty(xa.shape, dtype=np.float32)
    notes: list[str] = []
    for ser in (ser_a, ser_b):  # the files a series folder skipped
        notes += [n for n in (ser.notes if ser is not None else []) if n not in notes]
    notes += space_notes
    if reorder is not None:
        from nibabel.orientations import aff2axcodes

        codes = ["".join(str(c) for c in aff2axcodes(i.affine)) for i in (img_a, img_b)]
        moved = [(f"axis {i} reversed" if j == i else f"axis {i} is its axis {j}"
                  + (" reversed" if i in reorder[1] else "")) for i, j in enumerate(reorder[0])
                 if j != i or i in reorder[1]]
        notes.append(f"{b_path}: the same voxel grid as {a_path} stored in another voxel order ({codes[1]} against "
                     f"{codes[0]}): its voxels reordered onto {a_path}'s ({', '.join(moved)}; exact, no "
                     "resampling)")
    if ser_a is not None and ser_b is not None:  # one frame of reference, one patient (as fuse notes)
        from .dicom_series import series_pair_note

        pair = series_pair_note(ser_a, ser_b, a_path, b_path)
        if pair:
            notes.append(pair)
    for p, img, ser in ((a_path, img_a, ser_a), (b_path, img_b, ser_b)):
        qs = None if ser is not None else xform_disagreement(img, p)
        if qs and not any(n.startswith(qs) for n in notes):  # a volume fused with itself: one note
            tail = ("" if p != a_path else "; the DICOM series output is placed by the sform" if series_out
                    else "; the output keeps both, as this file does")
            notes.append(qs + tail)
    code_a = xform_code(img_a) if ser_a is None else None
    if series_out and code_a is not None and code_a[1] == 0:  # the series' place is made up
        notes.append(f"{a_path}: no orientation (sform_code and qform_code 0): the DICOM series' positions and "
                     "orientation are nibabel's stand-in affine (its voxel sizes about the volume's centre, x "
                     "reversed), not a place in the patient; a viewer will show it, not overlay it on the scan")
    if unit_from:
        notes.append(f"{a_path}: its voxel sizes and origin are in {unit_from} (xyzt_units): the DICOM series "
                     "gives them in mm, DICOM's unit")
    for s in range(0, xa.shape[0], batch):
        try:
            out[s:s + batch] = fuser.fuse_arrays(xa[s:s + batch], xb[s:s + batch], task=task)
        except (InputError, ParameterError) as e:  # e.g. a method's decomposition deeper than the slices
            msg = f"{a_path}, {b_path}: slices {xa.shape[2]}x{xa.shape[1]} across axis {axis}: {e}"
            raise (ParameterError(msg) if isinstance(e, ParameterError) else InputError(msg)) from None
        notes += [n for n in fuser.report.notes if n not in notes]
        if progress is not None:
            progress(min(s + batch, xa.shape[0]), xa.shape[0])
    if not description:  # the first volume's descrip (scanner, protocol, even a patient name) is not the output's
        from . import __version__

        what = (f"network {Path(str(fuser.weights_spec)).name}" if getattr(fuser, "weights_spec", None) is not None
                else f"method {fuser.method}")
        description = f"mutualfuse {__version__} fuse-volume {what} axis {axis}"
    extensions: list[str] = []
    if series_out:
        fused = np.moveaxis(out, 0, axis)  # (columns, rows, slices); a 2-D input is one slice
        # the patient, study and frame of reference of the first input that is a series: the
        # second's where the first is a NIfTI file (its grid is the output's, so is its frame)
        lender = ser_a if ser_a is not None else ser_b
        write_series(out_path, fused, aff_out, lender, description,
                     own_thickness=ser_a is not None or reorder is None or reorder[0][2] == 2)
        if ser_a is None and ser_b is not None:
            notes.append(f"{out_path}: patient, study and frame of reference from {b_path} ({a_path}, a NIfTI "
                         "file, has none)")
        if not geo["right_handed"]:
            notes.append(f"{out_path}: the volume's slice axis runs against the DICOM slice normal (row x column "
                         "direction): a DICOM reader orders its slices the other way (the same voxels at the same "
                         "places, the slice axis reversed)")
    else:
        fused = np.moveaxis(out, 0, axis).reshape(volume_shape(img_a))  # a 2-D input stays 2-D
        nib = _nib()
        hdr = img_a.header.copy()
        hdr.set_data_dtype(np.float32)
        # header extensions (AFNI attributes, a DICOM header, CIFTI ...) describe the first volume's
        # voxels (its statistics, labels, scaling, patient data): not the fused ones
        extensions = [str(getattr(e, "get_code", lambda: "?")()) for e in getattr(hdr, "extensions", [])]
        if extensions:
            del hdr.extensions[:]
        cls = type(img_a) if isinstance(img_a, (nib.Nifti1Image, nib.Nifti2Image)) else nib.Nifti1Image
        res = cls(fused, img_a.affine, hdr)
        res.header.set_slope_inter(1.0, 0.0)
        # the first volume's display range (cal_min/cal_max: a CT window in HU) and intent (a
        # statistic) describe its voxels, not the fused [0, 1] ones: a viewer showed the fused
        # volume through the CT's window, all one grey
        res.header["cal_min"], res.header["cal_max"] = 0.0, 1.0
        res.header.set_intent("none", (), "")
        res.header["descrip"] = description.encode("ascii", "replace")[:79]
        data = res.to_bytes()
        if str(out_path).lower().endswith(".gz"):
            data = gzip.compress(data, compresslevel=6, mtime=0)
        # the temporaries of writes of this output killed halfway (kill -9): removed where their
        # writer is gone, as every other writer removes them (a series: write_series)
        remove_stale_parts(write_target(out_path).parent, write_target(out_path).name)
        with atomic_write(out_path) as tmp:
            Path(tmp).write_bytes(data)
    for p, how, img in ((a_path, how_a, img_a), (b_path, how_b, img_b)):
        if how.startswith("percentile: "):
            lo, hi = fuser.percentiles
            dt = np.dtype(img.get_data_dtype())
            unscaled = img.header.get_slope_inter() in ((None, None), (1.0, 0.0))
            hint = (f"; --normalize full: its type's range, 0 to {np.iinfo(dt).max}" if dt.kind == "u" and unscaled
                    else "")
            note = (f"{p}: volume scaled by its {lo:g}-{hi:g} percentiles ({how.split(': ', 1)[1]}, clipped; "
                    f"one mapping for all slices{hint})")
        elif how.startswith(("flat: ", "minmax: ")):  # the percentile mapping's fallbacks, and how
            note = f"{p}: volume {how.split(': ', 1)[1]}"
        else:
            continue
        if note not in notes:  # a volume fused with itself: one note
            notes.append(note)
    for ser in (ser_a, ser_b):  # padding, MONOCHROME1
        notes += [n for n in (ser.extra_notes()[len(ser.notes):] if ser is not None else []) if n not in notes]
    if extensions:
        notes.append(f"{a_path}: its {len(extensions)} NIfTI header extension{'s' if len(extensions) != 1 else ''} "
                     f"(code {', '.join(extensions)}) not copied: they describe its voxels, not the fused ones")
    if task is not None:
        notes.append(f"task: {task}, detected on the central slice pair (--task chooses another)")
    return {"out": str(out_path), "shape": fused.shape, "slices": int(xa.shape[0]), "axis": axis, "task": task,
            "notes": notes, "format": "DICOM series" if series_out else "NIfTI"}
