"""Registered 3-D volumes (NIfTI-1/2, ``.nii`` / ``.nii.gz``; optional extra ``pip install
'mutualfuse[nifti]'``, which installs nibabel): ``mutualfuse fuse-volume`` and
:func:`fuse_volume`.

Medical volumes registered to one grid (CT/MR, PET/MR, MR contrasts after ANTs/FSL/SPM) are
fused slice by slice along one voxel axis (default 2, axial for RAS-ordered data). Choices:

* **One intensity mapping per volume**, not per slice: the ``normalize`` policy of ``fuse``
  applied to the whole volume (``auto`` and ``percentile``: its 0.1–99.9 percentiles after the
  file's ``scl_slope``/``scl_inter``; ``full``: the integer type's range, unsigned types only;
  float data must then be in [0, 1]), so that slices keep their relative brightness.
* **One task for the volume** (the network in task mode ``auto``): detected once on the
  central slice pair, as ``fuse-video`` does on its first frames.
* **The same grid or nothing**: shapes and affines (to 1e-4 of the voxel size) must agree; a
  volume is not resampled (say so, and which tool does it, rather than fuse misaligned voxels).
* **Output**: float32 in [0, 1] on the first volume's grid and header (affine, qform/sform,
  units), ``scl_slope`` 1, ``scl_inter`` 0, ``cal_min`` 0 / ``cal_max`` 1 (the data's range, not the
  first volume's display window), no intent, no header extensions (they describe the first
  volume's voxels), a ``descrip`` saying how it was made; written
  atomically, gzip-compressed when the name ends in ``.gz``.
"""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from .errors import InputError, ParameterError

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
    """→ (float64 array (X, Y, Z) as stored after scaling, the nibabel image). One-line errors."""
    p = Path(path)
    nib = _nib()
    if nib is None:
        raise InputError(f"{p}: {EXTRA_HINT}")
    if p.is_dir():
        raise InputError(f"{p}: a folder, not a NIfTI volume (a DICOM series: convert it to NIfTI first, "
                         "e.g. with dcm2niix)")
    if not p.is_file():
        raise InputError(f"{p}: no such file")
    from .dicom import _looks_dicom

    if _looks_dicom(p):
        raise InputError(f"{p}: a DICOM file, not a NIfTI volume (convert the series to NIfTI first, e.g. with "
                         "dcm2niix; fuse fuses one DICOM slice pair)")
    try:
        img = nib.load(str(p))
    except Exception as e:  # noqa: BLE001 - nibabel raises many types for broken files
        raise InputError(f"{p}: not a readable NIfTI file ({str(e).splitlines()[0][:160] if str(e) else type(e).__name__})") from None
    shape = tuple(int(s) for s in img.shape)
    while len(shape) > 3 and shape[-1] == 1:
        shape = shape[:-1]
    if len(shape) != 3:
        raise InputError(f"{p}: a {len(shape)}-D image {'x'.join(map(str, img.shape))}; fuse-volume takes 3-D "
                         "volumes (split a 4-D series into volumes first)")
    if int(np.prod(shape)) > max_voxels:
        raise InputError(f"{p}: {'x'.join(map(str, shape))} = {int(np.prod(shape))} voxels, more than the limit of "
                         f"{max_voxels} (decompression bomb guard; raise it with --max-pixels)")
    try:
        data = np.asarray(img.dataobj, dtype=np.float64).reshape(shape)
    except Exception as e:  # noqa: BLE001 - truncated data, unsupported dtypes
        raise InputError(f"{p}: cannot read the voxel data ({str(e).splitlines()[0][:160] if str(e) else type(e).__name__})") from None
    if not np.isfinite(data).all():
        raise InputError(f"{p}: volume contains NaN or infinite values")
    return data, img


def normalize_volume(data: np.ndarray, img, normalize: str, percentiles, path) -> tuple[np.ndarray, str]:
    """The volume in [0, 1] by one mapping for all its voxels (module docstring), and how:
    ``"full"``, ``"percentile"``, or where the percentile mapping fell back, ``"minmax: …"`` /
    ``"flat: …"`` with the phrase the notes print."""
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
                raise InputError(f"{path}: float voxels are in [{data.min():.4g}, {data.max():.4g}], not [0, 1] "
                                 "(use --normalize auto or percentile)")
            return np.clip(data, 0.0, 1.0), "full"
        raise InputError(f"{path}: --normalize full needs unsigned integer voxels without scaling or float voxels "
                         f"in [0, 1]; this volume is {dt} (use --normalize auto or percentile)")
    top = 1.0 if data.max() <= 1 else float(data.max())
    detail: list[str] = []
    out = percentile_scale(data, lo, hi, top, detail)
    if detail and not data.max() > data.min():  # flat: v / v (its own maximum) or v in [0, 1]
        return out, f"flat: is flat (every voxel {float(data.flat[0]):g}): mapped to {float(out.flat[0]):g}, not stretched"
    if detail:
        return out, f"minmax: scaled by its minimum and maximum ({float(data.min()):g} → 0, {float(data.max()):g} → 1; its " \
                    f"{lo:g}-{hi:g} percentiles are equal)"
    return out, "percentile"


def check_same_grid(img_a, img_b, path_a, path_b, shape_a, shape_b) -> None:
    if shape_a != shape_b:
        raise InputError(f"{path_b}: volume is {'x'.join(map(str, shape_b))}, {path_a} is "
                         f"{'x'.join(map(str, shape_a))}: the volumes must be registered to one grid "
                         "(resample one onto the other first, e.g. with ANTs or FSL flirt -applyxfm)")
    a, b = np.asarray(img_a.affine, float), np.asarray(img_b.affine, float)
    vox = float(np.min(np.abs(np.linalg.svd(a[:3, :3], compute_uv=False)))) or 1.0
    if not np.allclose(a, b, rtol=0, atol=1e-4 * vox):
        raise InputError(f"{path_b}: its affine (voxel-to-world) differs from {path_a}'s by up to "
                         f"{np.abs(a - b).max():.4g} mm: the volumes must be registered to one grid "
                         "(resample one onto the other first)")


def fuse_volume(fuser, a_path, b_path, out_path, axis: int = 2, batch: int = 8, description: str = "",
                max_voxels: int = MAX_VOXELS) -> dict:
    """Read, check, fuse slice by slice and atomically write one volume pair; returns what was done.
    ``max_voxels``: refuse a volume with more voxels (checked on the header, before its data)."""
    from .io.atomic import atomic_write
    from .validation import MIN_SIDE

    if axis not in (0, 1, 2):
        raise ParameterError(f"axis must be 0, 1 or 2, got {axis}")
    if batch < 1:
        raise ParameterError(f"batch must be at least 1, got {batch}")
    if not is_volume_path(out_path):
        raise InputError(f"{out_path}: the output of a volume must be a NIfTI file (.nii or .nii.gz)")
    va, img_a = read_volume(a_path, max_voxels)
    vb, img_b = read_volume(b_path, max_voxels)
    check_same_grid(img_a, img_b, a_path, b_path, va.shape, vb.shape)
    sl = [s for i, s in enumerate(va.shape) if i != axis]
    if min(sl) < MIN_SIDE:
        raise InputError(f"{a_path}: slices across axis {axis} are {sl[1]}x{sl[0]}, smaller than {MIN_SIDE}x{MIN_SIDE}")
    na, how_a = normalize_volume(va, img_a, fuser.normalize, fuser.percentiles, a_path)
    nb, how_b = normalize_volume(vb, img_b, fuser.normalize, fuser.percentiles, b_path)
    xa, xb = np.moveaxis(na, axis, 0), np.moveaxis(nb, axis, 0)  # (slices, H, W)
    task = None
    if fuser.task_mode == "auto":  # one task for the volume, from the central slice pair
        mid = xa.shape[0] // 2
        task = fuser.detect_tasks(xa[mid:mid + 1], xb[mid:mid + 1])[0].task
    out = np.empty(xa.shape, dtype=np.float32)
    notes: list[str] = []
    for s in range(0, xa.shape[0], batch):
        out[s:s + batch] = fuser.fuse_arrays(xa[s:s + batch], xb[s:s + batch], task=task)
        notes += [n for n in fuser.report.notes if n not in notes]
    fused = np.moveaxis(out, 0, axis)
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
    if description:
        res.header["descrip"] = description.encode("ascii", "replace")[:79]
    data = res.to_bytes()
    if str(out_path).lower().endswith(".gz"):
        data = gzip.compress(data, compresslevel=6, mtime=0)
    with atomic_write(out_path) as tmp:
        Path(tmp).write_bytes(data)
    for p, how in ((a_path, how_a), (b_path, how_b)):
        if how == "percentile":
            lo, hi = fuser.percentiles
            notes.append(f"{p}: volume scaled by its {lo:g}-{hi:g} percentiles (one mapping for all slices; "
                         "--normalize full: an unsigned integer type's range)")
        elif how.startswith(("flat: ", "minmax: ")):  # the percentile mapping's fallbacks, and how
            notes.append(f"{p}: volume {how.split(': ', 1)[1]}")
    if extensions:
        notes.append(f"{a_path}: its {len(extensions)} NIfTI header extension{'s' if len(extensions) != 1 else ''} "
                     f"(code {', '.join(extensions)}) not copied: they describe its voxels, not the fused ones")
    if task is not None:
        notes.append(f"task: {task}, detected on the central slice pair (--task chooses another)")
    return {"out": str(out_path), "shape": fused.shape, "slices": int(xa.shape[0]), "axis": axis, "task": task,
            "notes": notes}
