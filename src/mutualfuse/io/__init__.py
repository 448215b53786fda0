"""Input and output helpers shared by every reader and writer.

* :mod:`.atomic`: :func:`atomic_write` (temp file + rename, permissions as ``open()`` gives
  them under the umask) and the clean-up of temporaries left by killed runs;
* :mod:`.samples`: the intensity normalisation policy and the pixel-count guard
  (:func:`normalize_samples`, :func:`percentile_scale`, :func:`check_pixels`, :class:`ImageInfo`);
* :mod:`.pil_modes`: the one table from Pillow modes to samples (:func:`pil_samples`).

The readers and writers themselves are :mod:`mutualfuse.image_io`, :mod:`mutualfuse.dicom`
and :mod:`mutualfuse.video`.
"""
from __future__ import annotations

from .atomic import atomic_write, current_umask, default_mode, probe_writable, remove_stale_parts
from .pil_modes import palette_is_colour, pil_samples
from .samples import (DEFAULT_PERCENTILES, MAX_PIXELS, NORMALIZE_MODES, ImageInfo, check_pixels, normalize_samples,
                      percentile_scale)

__all__ = ["atomic_write", "current_umask", "default_mode", "probe_writable", "remove_stale_parts",
           "palette_is_colour", "pil_samples", "DEFAULT_PERCENTILES", "MAX_PIXELS", "NORMALIZE_MODES", "ImageInfo",
           "check_pixels", "normalize_samples", "percentile_scale"]
