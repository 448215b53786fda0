"""Atomic training checkpoints (model + optimiser + RNG + step) as safetensors with a digest.

A checkpoint is one safetensors file: every tensor of the state (model, optimiser moments,
RNG states) under a generated name, and in the metadata the state's structure as JSON (the
plain values — step, elapsed time, config text, learning rates — with references to those
tensors), ``format`` and ``tensors_sha256``: a sha256 of the structure and every tensor,
verified on load, so a corrupted or edited checkpoint is refused. Nothing is unpickled, ever:
the structure is JSON, the tensors are raw bytes. Checkpoints of mutualfuse before 2026-12-05
were PyTorch pickle files (``last.pt``); they are refused with a one-line error (their run
can be exported with an older mutualfuse, or restarted).

The structure encodes what JSON cannot hold directly: a tensor ``{"$t": NAME}``, a dict with
non-string keys (the optimiser's per-parameter state) ``{"$d": [[key, value], ...]}``, a tuple
``{"$tuple": [...]}``; float NaN/inf are written as JSON's ``NaN``/``Infinity`` (Python's
reader accepts them).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch

from ..errors import WeightsError

LAST = "last.ckpt"
#: the ``format`` of the checkpoints this version writes and reads
FORMAT = "mutualfuse-checkpoint-1"


def _encode(obj: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(obj, torch.Tensor):
        name = f"t{len(tensors):05d}"
        tensors[name] = obj.detach().to("cpu").contiguous().clone()  # no shared storage in the file
        return {"$t": name}
    if isinstance(obj, dict):
        if all(isinstance(k, str) and not k.startswith("$") for k in obj):
            return {k: _encode(v, tensors) for k, v in obj.items()}
        return {"$d": [[_encode(k, tensors), _encode(v, tensors)] for k, v in obj.items()]}
    if isinstance(obj, tuple):
        return {"$tuple": [_encode(v, tensors) for v in obj]}
    if isinstance(obj, list):
        return [_encode(v, tensors) for v in obj]
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"checkpoint state holds a {type(obj).__name__}, which a checkpoint cannot store")


def _decode(obj: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(obj, dict):
        if set(obj) == {"$t"}:
            return tensors[obj["$t"]]
        if set(obj) == {"$d"}:
            return {_decode(k, tensors): _decode(v, tensors) for k, v in obj["$d"]}
        if set(obj) == {"$tuple"}:
            return tuple(_decode(v, tensors) for v in obj["$tuple"])
        return {k: _decode(v, tensors) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode(v, tensors) for v in obj]
    return obj


def _digest(structure: str, tensors: dict[str, torch.Tensor]) -> str:
    """sha256 (hex) of the structure's JSON text, then every tensor in name order as
    ``name NUL dtype NUL shape NUL raw-bytes`` (as :func:`mutualfuse.weights.tensors_digest`)."""
    from ..weights import tensors_digest

    return tensors_digest(structure, tensors)


def write_reason(e: BaseException) -> str:
    """Why a write failed, in a few words (:func:`mutualfuse.io.atomic.write_failure`), also for
    the one-line :class:`~mutualfuse.errors.InputError` ("OUT: cannot write output (...)") that
    :func:`~mutualfuse.io.atomic.atomic_write` makes of a full disk inside its block: the
    ``OSError`` it stands for (its ``__context__``) says why, so that the message names the file
    and the reason once, not nested."""
    from ..errors import InputError
    from ..io.atomic import write_failure

    inner = e.__context__ if isinstance(e, InputError) else None
    return write_failure(inner if isinstance(inner, OSError) else e)


def _metadata(p: str | os.PathLike) -> dict[str, str]:
    """``safe_open(p).metadata()`` (a path that is not UTF-8 by its bytes: :mod:`..io.safetensors_names`)."""
    from safetensors import safe_open

    from ..io.safetensors_names import safetensors_name

    with safetensors_name(p) as name, safe_open(name, framework="pt") as f:
        return f.metadata() or {}


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> None:
    """Write ``state`` to a temp file in the same folder, fsync, then rename over ``path``.

    A write that fails (a full disk) is a one-line :class:`WeightsError` or
    :class:`~mutualfuse.errors.InputError` naming ``path``; ``path`` is then left as it was."""
    from safetensors.torch import save_file

    from ..io.atomic import atomic_write, remove_stale_parts, write_failure

    tensors: dict[str, torch.Tensor] = {}
    structure = json.dumps(_encode(state, tensors), sort_keys=True)
    meta = {"format": FORMAT, "structure": structure, "tensors_sha256": _digest(structure, tensors)}
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_parts(p.parent, p.name)
    from safetensors import SafetensorError

    with atomic_write(p) as tmp:  # fsync + rename, permissions as open() gives (umask)
        try:
            save_file(tensors, str(tmp), metadata=meta)
        except (SafetensorError, OSError) as e:  # a full disk: the temporary goes, the old file stays
            raise WeightsError(f"{p}: cannot write the checkpoint ({write_failure(e)})") from None


def _format_version(fmt: Any) -> int | None:
    """N of a ``mutualfuse-checkpoint-N`` format string; None for anything else."""
    prefix = FORMAT.rsplit("-", 1)[0] + "-"
    if isinstance(fmt, str) and fmt.startswith(prefix) and fmt[len(prefix):].isdigit():
        return int(fmt[len(prefix):])
    return None


#: the magic numbers of the compressors a checkpoint is commonly packed with for a copy, and the
#: command that unpacks it (RFC 1952; the xz, bzip2 and zstd file formats)
_COMPRESSED = {b"\x1f\x8b": ("gzip", "gunzip FILE"), b"\xfd7zXZ\x00": ("xz", "unxz FILE"),
               b"\x28\xb5\x2f\xfd": ("zstd", "unzstd FILE")}


def _other_kind(first: bytes) -> str | None:
    """What a file that is not a safetensors file is, from its first bytes, where that is plain (an
    image, text); ``None`` otherwise (then it is called corrupt)."""
    for magic, kind in ((b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"II*\x00", "a TIFF image"),
                        (b"MM\x00*", "a TIFF image")):
        if first.startswith(magic):
            return kind
    for magic, (fmt, tool) in _COMPRESSED.items():  # a checkpoint compressed for a copy: say so, not "corrupt"
        if first.startswith(magic):
            return f"a {fmt}-compressed file (decompress it first: {tool})"
    if first[:3] == b"BZh" and first[4:10] == b"1AY&SY":  # bzip2: "BZh", the block size, a block's magic
        return "a bzip2-compressed file (decompress it first: bunzip2 FILE)"
    if len(first) >= 8:
        try:
            text = first.decode("utf-8-sig")
        except UnicodeDecodeError:  # cut inside a character: judged on what decodes
            text = first[: first.rfind(b"\n") + 1 or len(first)].decode("utf-8", "replace")
        if text and all(c.isprintable() or c in "\t\r\n" for c in text):
            return "a text file (a config, log or JSON file?)"
    return None


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint`; its digest is verified.

    Raises :class:`WeightsError` (one line) for a missing, corrupt, edited or old-format file.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    p = Path(path)
    if p.is_dir():
        raise WeightsError(f"{p}: is a folder, not a checkpoint file")
    if not p.is_file():
        raise WeightsError(f"{p}: checkpoint not found")
    try:
        with open(p, "rb") as fh:
            first = fh.read(64)
        head = first[:9]
        size = p.stat().st_size
    except OSError as e:  # no read permission, an I/O error: one line, not an internal error
        raise WeightsError(f"{p}: cannot read the checkpoint ({e.strerror or e})") from None
    # a safetensors file starts with its header's length (8 bytes, little-endian) and the header's
    # "{": any low byte of that length is possible, 0x80 included, so it is recognised first
    n = int.from_bytes(head[:8], "little") if len(head) == 9 else 0
    safetensors_like = head[8:9] == b"{" and 0 < n < 1 << 32
    if safetensors_like and n > size - 8:  # cut short (a copy or disk that ran out): not a pickle
        raise WeightsError(f"{p}: truncated checkpoint (its header alone is {n} bytes, the file has {size})")
    if not safetensors_like and (head[:2] == b"PK" or head[:1] == b"\x80"):
        raise WeightsError(f"{p}: a PyTorch pickle checkpoint (mutualfuse before 2026-12-05); checkpoints are now "
                           "safetensors and pickles are never loaded: restart the run, or export its weights "
                           "with the mutualfuse version that wrote it")
    kind = None if safetensors_like else _other_kind(first)
    if kind:  # a file given by mistake (export-weights runs/x/config.json) is not called a corrupt checkpoint
        raise WeightsError(f"{p}: not a training checkpoint but {kind}; a checkpoint is the last.ckpt that "
                           f"mutualfuse train writes in its output folder")
    try:
        from safetensors import safe_open

        from ..io.safetensors_names import safetensors_name

        # (a path that is not UTF-8, which safetensors cannot take by name, was "Path ... is not
        # valid UTF-8", called a corrupt checkpoint)
        with safetensors_name(p) as name:
            with safe_open(name, framework="pt") as f:
                meta = f.metadata() or {}
            tensors = load_file(name)
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise WeightsError(f"{p}: corrupt checkpoint ({' '.join(str(e).split())[:160]})") from None
    if meta.get("format") != FORMAT:
        newer = _format_version(meta.get("format"))
        if newer is not None and newer > _format_version(FORMAT):
            raise WeightsError(f"{p}: checkpoint written by a newer mutualfuse (format {meta['format']!r}; this "
                               f"version reads {FORMAT!r}): resume or export it with the version that wrote it, "
                               f"or upgrade mutualfuse")
        if "model_config" in meta:  # final.safetensors copied over last.ckpt, say: weights, not a run's state
            raise WeightsError(f"{p}: a weights file (no optimiser state, no step), not a training checkpoint: a "
                               f"run's checkpoint is the {LAST} that mutualfuse train writes in its output folder "
                               f"(weights start a new run as its config's init_weights)")
        what = f"format {meta['format']!r}" if "format" in meta else "no checkpoint format"
        raise WeightsError(f"{p}: not a mutualfuse training checkpoint ({what}; want {FORMAT!r})")
    structure = meta.get("structure", "")
    if _digest(structure, tensors) != meta.get("tensors_sha256"):
        raise WeightsError(f"{p}: checkpoint digest mismatch (tensors_sha256): the file was changed or corrupted")
    try:
        return _decode(json.loads(structure), tensors)
    except (ValueError, KeyError, TypeError) as e:
        raise WeightsError(f"{p}: corrupt checkpoint structure ({type(e).__name__})") from None


def checkpoint_step(path: str | os.PathLike) -> int | None:
    """The step a checkpoint file holds, read from its metadata alone (no tensors, no digest):
    what an interrupted run names as its resume point. None where there is no such file or it
    cannot be read as one."""
    try:
        meta = _metadata(path)
        if meta.get("format") != FORMAT:
            return None
        step = json.loads(meta["structure"]).get("step")
    except Exception:  # noqa: BLE001 - missing, cut short, not a checkpoint: no resume point to name
        return None
    return step if isinstance(step, int) and not isinstance(step, bool) else None


def checkpoint_digest(path: str | os.PathLike) -> str | None:
    """The ``tensors_sha256`` of a checkpoint file, from its metadata alone (not verified): what the
    processes of a ``torchrun`` compare to know that they resume the same file. None where there
    is no such file or it cannot be read as one."""
    try:
        meta = _metadata(path)
    except Exception:  # noqa: BLE001 - missing or not a checkpoint
        return None
    digest = meta.get("tensors_sha256") if meta.get("format") == FORMAT else None
    return digest if isinstance(digest, str) else None
