"""The benchmark's on-disk cache of fused images and metric values.

A fused image is stored under the sha256 of its *recipe*: the method (registered name, or the
row id of a folder of fused images / a user callable), its parameters, the sha256 of the weights
file (networks) or of the callable's source (user callables), the sha256 of both input files,
the digest of the code the fusion goes through (the Fuser, the colour path, the model) and
:data:`CACHE_VERSION`. Changing any of these gives a new key, so only that method is
recomputed; an unchanged method is read back. Metric values are stored per fused image (keyed
by the fused file's sha256, both inputs' sha256 and the digest of the metrics' code) and per
metric key, so adding a metric computes only that metric.

Every write goes to a temporary file in the same folder and is renamed into place
(``os.replace``), so a ``kill -9`` leaves either the old state or the new one: at most the image
in flight is lost. Files are created with the process umask.

Layout::

    <cache>/fused/<k[:2]>/<k>.png       k = recipe key
    <cache>/metrics/<s[:2]>/<s>.json    s = key of (fused sha256, a sha256, b sha256)
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

#: bump when the meaning of a cached entry changes (invalidates every entry)
CACHE_VERSION = 1


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


from ..io.digest import sha256_file  # noqa: F401  (re-exported for jobs/runner)


def recipe_key(method: str, params: dict[str, Any] | None, weights_sha256: str | None,
               a_sha256: str, b_sha256: str, code_sha256: str | None = None, device: str | None = None) -> str:
    """The key of a fused image: sha256 of the canonical JSON of everything that determines it.
    ``code_sha256``: the digest of the code the fusion goes through besides the method
    (:func:`mutualfuse.benchmark.sources.fusion_code_sha`: the Fuser, the colour path, the model).
    ``device``: the kind of device a network image is computed on when it is not the CPU
    (``"cuda"``; ``None`` for the CPU and for classical methods, which run on the CPU whatever
    ``--device`` says), so a GPU's images and timings are never reused by a CPU run, nor the
    other way round; CPU keys are the same as without it."""
    doc = {"v": CACHE_VERSION, "method": method, "params": params or {}, "weights": weights_sha256,
           "a": a_sha256, "b": b_sha256}
    if code_sha256 is not None:
        doc["code"] = code_sha256
    if device is not None:
        doc["device"] = device
    return sha256_bytes(json.dumps(doc, sort_keys=True, default=repr).encode())


def metrics_key(fused_sha256: str, a_sha256: str, b_sha256: str, code_sha256: str | None = None) -> str:
    """The key of one fused image's metric values; ``code_sha256``: the digest of the metrics' code
    (:data:`mutualfuse.benchmark.sources.METRICS_CODE`), so a fixed metric is computed again."""
    doc = {"v": CACHE_VERSION, "f": fused_sha256, "a": a_sha256, "b": b_sha256}
    if code_sha256 is not None:
        doc["code"] = code_sha256
    return sha256_bytes(json.dumps(doc, sort_keys=True).encode())


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:  # an error or Ctrl+C: no temporary file left in the cache
        tmp.unlink(missing_ok=True)
        raise


class Cache:
    """Fused images (PNG, 8-bit gray or RGB) and metric values under one folder."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.hits = 0
        self.misses = 0

    def fused_path(self, key: str) -> Path:
        return self.root / "fused" / key[:2] / f"{key}.png"

    def get_fused(self, key: str) -> Path | None:
        p = self.fused_path(key)
        if p.is_file():
            self.hits += 1
            return p
        self.misses += 1
        return None

    def put_fused(self, key: str, image: np.ndarray) -> Path:
        """Store a uint8 (H, W) or (H, W, 3) image as PNG; returns its path."""
        from PIL import Image

        if image.dtype != np.uint8:
            raise TypeError(f"cached fused images are uint8, got {image.dtype}")
        buf = _png_bytes(Image.fromarray(image))
        p = self.fused_path(key)
        _atomic_write(p, buf)
        return p

    def _metrics_path(self, key: str) -> Path:
        return self.root / "metrics" / key[:2] / f"{key}.json"

    def get_metrics(self, key: str) -> dict[str, float]:
        p = self._metrics_path(key)
        try:
            doc = json.loads(p.read_text(encoding="utf-8"))
            # a damaged file (valid JSON of another shape: a list, null, a non-number value) counts
            # as missing, so its values are computed again and the file rewritten; it used to fail
            # its pair ('AttributeError: ...') on this and every later run
            return {str(k): float(v) for k, v in doc.items()} if isinstance(doc, dict) else {}
        except (FileNotFoundError, IsADirectoryError, ValueError, TypeError):
            return {}

    def put_metrics(self, key: str, values: dict[str, float]) -> None:
        """Merge ``values`` into the stored metric values of one fused image."""
        merged = self.get_metrics(key)
        merged.update({k: float(v) for k, v in values.items()})
        _atomic_write(self._metrics_path(key), (json.dumps(merged, sort_keys=True) + "\n").encode())


def _png_bytes(im) -> bytes:
    import io

    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()
