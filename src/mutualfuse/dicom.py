"""DICOM input (optional extra: ``pip install mutualfuse[dicom]``, which installs pydicom).

A single-frame DICOM image is read as follows:

1. ``pixel_array`` (pydicom decodes uncompressed and, with its plugins, compressed syntaxes);
2. the modality LUT / rescale (``RescaleSlope``, ``RescaleIntercept``: CT in Hounsfield units);
3. intensity normalisation to [0, 1] (``normalize``): ``"auto"`` uses the file's VOI window
   (``WindowCenter``/``WindowWidth``, first value) when present, else per-image percentiles;
   ``"percentile"`` always uses percentiles; ``"full"`` maps the stored range
   ``0 … 2**BitsStored − 1`` (after rescale) to [0, 1];
4. ``MONOCHROME1`` (white = 0) is inverted so that bright means high signal, as in
   ``MONOCHROME2``; ``RGB`` and ``YBR_*`` colour images (colour PET/SPECT maps) come back as
   RGB and go through the colour path (fuse luminance, keep chroma).

Multi-frame files (volumes, cine) are refused with a one-line error: pick a slice first.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import InputError

EXTRA_HINT = "reading DICOM needs pydicom: pip install 'mutualfuse[dicom]'"


def _pydicom():
    try:
        import pydicom
    except ImportError:
        return None
    return pydicom


def read_dicom(path, max_pixels: int | None = None, normalize: str = "auto",
               percentiles: tuple[float, float] = (0.1, 99.9)):
    """→ (float64 array in [0, 1], :class:`~mutualfuse.io.samples.ImageInfo`)."""
    from .io.samples import ImageInfo, check_pixels, normalize_samples, percentile_scale

    p = Path(path)
    pydicom = _pydicom()
    if pydicom is None:
        raise InputError(f"{p}: {EXTRA_HINT}")
    try:
        ds = pydicom.dcmread(str(p))
    except Exception as e:  # noqa: BLE001 - pydicom raises many types for broken files
        raise InputError(f"{p}: not a readable DICOM file ({str(e).splitlines()[0][:160] if str(e) else type(e).__name__})") from None
    if "PixelData" not in ds:
        raise InputError(f"{p}: DICOM file has no pixel data")
    rows, cols = int(getattr(ds, "Rows", 0) or 0), int(getattr(ds, "Columns", 0) or 0)
    check_pixels(p, rows, cols, max_pixels)
    frames = int(getattr(ds, "NumberOfFrames", 1) or 1)
    if frames > 1:
        raise InputError(f"{p}: multi-frame DICOM ({frames} frames) is not supported; export one slice")
    try:
        arr = ds.pixel_array
    except Exception as e:  # noqa: BLE001
        raise InputError(f"{p}: cannot decode DICOM pixel data ({str(e).splitlines()[0][:160] if str(e) else type(e).__name__})") from None
    photometric = str(getattr(ds, "PhotometricInterpretation", "MONOCHROME2")).upper()
    spp = int(getattr(ds, "SamplesPerPixel", 1) or 1)
    bits = int(getattr(ds, "BitsStored", 8 * arr.dtype.itemsize) or 8)
    if spp == 3 or arr.ndim == 3:
        if arr.ndim != 3 or arr.shape[-1] != 3:
            raise InputError(f"{p}: unsupported DICOM pixel layout {arr.shape}")
        if photometric.startswith("YBR"):
            from pydicom.pixels import convert_color_space

            arr = convert_color_space(arr, photometric, "RGB")
        if photometric == "PALETTE COLOR":
            raise InputError(f"{p}: PALETTE COLOR DICOM is not supported")
        data, how = normalize_samples(arr.astype(np.float64) if arr.dtype != np.uint8 else arr, 8 if arr.dtype == np.uint8 else 16,
                                      "full" if normalize == "auto" and arr.dtype == np.uint8 else normalize, percentiles, p)
        return data, ImageInfo(str(p), "RGB", 8, "dicom", how)
    if spp != 1:
        raise InputError(f"{p}: unsupported channel count {spp} in DICOM")
    if photometric == "PALETTE COLOR":
        raise InputError(f"{p}: PALETTE COLOR DICOM is not supported")
    x = arr.astype(np.float64)
    slope = float(getattr(ds, "RescaleSlope", 1) or 1)
    intercept = float(getattr(ds, "RescaleIntercept", 0) or 0)
    x = x * slope + intercept
    if not np.isfinite(x).all():
        raise InputError(f"{p}: DICOM pixel data contains NaN or infinite values")
    how = None
    if normalize == "auto" and "WindowCenter" in ds and "WindowWidth" in ds:
        wc, ww = ds.WindowCenter, ds.WindowWidth
        wc = float(wc[0] if isinstance(wc, pydicom.multival.MultiValue) else wc)
        ww = float(ww[0] if isinstance(ww, pydicom.multival.MultiValue) else ww)
        if ww > 1:
            lo = wc - 0.5 - (ww - 1) / 2
            data = np.clip((x - lo) / (ww - 1), 0.0, 1.0)  # linear VOI function, DICOM PS3.3 C.11.2.1.2
            how = "window"
    if how is None:
        # a flat slice (one value everywhere) has no percentile range: like a flat 16-bit PNG it
        # keeps its value, in the stored range (was clipped to 1.0, white, for any value > 1)
        flat = normalize in ("auto", "percentile") and x.size and float(x.min()) == float(x.max())
        if normalize == "full" or flat:
            lo = intercept if slope > 0 else intercept + slope * (2 ** bits - 1)
            rng = abs(slope) * (2 ** bits - 1)
            data = np.clip((x - lo) / rng, 0.0, 1.0) if rng > 0 else np.zeros_like(x)
            how = "full"
        elif normalize in ("auto", "percentile"):
            data = percentile_scale(x, *percentiles)
            how = "percentile"
        else:
            data, how = normalize_samples(x, 16, normalize, percentiles, p)
    if photometric == "MONOCHROME1":
        data = 1.0 - data
    return data, ImageInfo(str(p), "L", 16 if bits > 8 else 8, "dicom", how)
