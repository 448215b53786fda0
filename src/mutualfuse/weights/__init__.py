"""Shipped weights (safetensors, sha256 recorded here) and loading of user weights files.

Nothing is ever downloaded and nothing is unpickled: a weights file is a ``safetensors`` file
whose metadata holds the model config (``model_config``, JSON). Shipped files are verified
against the sha256 in :data:`SHIPPED` before use; a user's file is verified against a
``<file>.sha256`` sidecar when one exists (``mutualfuse train`` writes it).

Files written by :func:`save_weights` (format ``mutualfuse-weights-2``) also carry
``tensors_sha256`` in their metadata: a digest of the model config and every tensor
(:func:`tensors_digest`), checked at load, so a flipped byte is refused even without the
sidecar. A file of the older format ``mutualfuse-weights-1`` without a sidecar has nothing to be
checked against and is read unverified: :func:`unchecked_note` says so (its card, ``export-weights``). Before anything is allocated, the tensor names, dtypes and shapes in the file's
header are compared with the model its config describes (built on the ``meta`` device, which
allocates nothing), so a small file cannot make the loader allocate more than it holds;
weights with NaN or infinite values are refused.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import WeightsError
from ..registry import Registry

if TYPE_CHECKING:  # PyTorch and the model package are imported where tensors are read or written, so
    # that the shipped table (fuse/fuse-dir with a classical method, `mutualfuse methods`) does not load them
    import torch

    from ..model import ModelConfig
    from ..model.network import FusionNet

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class ShippedWeights:
    """One shipped weights file and its model card (:func:`mutualfuse.weights.card.model_card`).

    ``config``: the repository's training config that produced it; ``validation``: the
    validation metrics logged at its last step (``(name, value)`` pairs, from the run's
    ``log.csv``); ``group``: ``"ablation"`` for the variants of the paper's Tables 4–7;
    ``tasks``: per task of :data:`TASKS`, the inference settings chosen on that task's own
    validation columns (``(task, ((key, value), ...))``; an empty tuple of settings = the stored
    ones were chosen), applied by ``--task`` / ``Fuser(task=...)`` (:func:`task_settings`).
    """

    name: str
    file: str
    sha256: str
    description: str
    trained_on: str
    config: str = ""
    validation: tuple[tuple[str, float], ...] = ()
    group: str = ""
    tasks: tuple[tuple[str, tuple[tuple[str, float], ...]], ...] = ()


#: Named weights that ship inside the package. "default" is what ``mutualfuse fuse`` uses.
WEIGHTS: Registry[ShippedWeights] = Registry("shipped weights")
#: the same as a read-only ``{name: ShippedWeights}`` mapping (live view of :data:`WEIGHTS`)
SHIPPED = WEIGHTS.view()


from ..tasks import TASKS  # noqa: E402  (the fusion tasks that per-task settings are chosen for)
#: the model-config keys a per-task setting may hold (inference-time knobs only)
TASK_SETTING_KEYS = ("blend_temperature", "base_temperature", "detail_gain", "detail_activity")


def _register(w: ShippedWeights) -> None:
    for task, settings in w.tasks:
        if task not in TASKS or any(k not in TASK_SETTING_KEYS for k, _ in settings):
            raise ValueError(f"shipped weights {w.name!r}: bad per-task settings {task!r}: {settings!r}")
    if w.tasks and sorted(t for t, _ in w.tasks) != sorted(TASKS):  # task mode "auto" needs every task's
        raise ValueError(f"shipped weights {w.name!r}: per-task settings must cover all of {TASKS} or none")
    WEIGHTS.add(w.name, w, file=w.file, sha256=w.sha256)


def _shipped_name(spec: str | os.PathLike | None) -> str:
    """The shipped entry ``spec`` names: a shipped name, or a file whose sha256 is a shipped one's
    (else ``spec`` itself as a string)."""
    name = "default" if spec is None else str(spec)
    if name not in SHIPPED and os.path.isfile(name):  # a shipped file given by its path counts as that entry
        digest = file_sha256(name)
        name = next((n for n, w in SHIPPED.items() if w.sha256 == digest), name)
    return name


def recorded_tasks(spec: str | os.PathLike | None) -> tuple[str, ...]:
    """The tasks of :data:`TASKS` whose settings the weights ``spec`` record (all of them or
    none: shipped weights only; ``()`` for any other file or name)."""
    name = _shipped_name(spec)
    return tuple(t for t, _ in SHIPPED[name].tasks) if name in SHIPPED else ()


def task_mode(spec: str | os.PathLike | None, task: str | None) -> str:
    """The task mode ``--task`` names for the weights ``spec``: ``task`` itself when given, else
    (the default) ``"auto"`` for weights that record per-task settings and ``"stored"`` for others."""
    return task or ("auto" if recorded_tasks(spec) else "stored")


def mode_settings(spec: str | os.PathLike | None, mode: str) -> dict:
    """What fuses the weights ``spec`` in task mode ``mode`` besides their tensors, as a
    JSON-able dict for cache keys: ``{}`` for the stored settings of weights without per-task
    ones; ``{"task": "stored"}``; ``{"task": TASK, **its settings}``; for ``"auto"`` the
    detection rule and every task's settings."""
    if mode == "auto":
        from dataclasses import asdict

        from ..tasks import DEFAULT_RULE

        return {"task": "auto", "rule": asdict(DEFAULT_RULE),
                **{t: task_settings(spec, t) for t in recorded_tasks(spec)}}
    if mode == "stored":
        return {"task": "stored"} if recorded_tasks(spec) else {}
    return {"task": mode, **task_settings(spec, mode)}


def task_settings(spec: str | os.PathLike | None, task: str) -> dict[str, float]:
    """The inference settings that shipped weights ``spec`` record for ``task`` (one of :data:`TASKS`).

    Each was chosen by the mean rank over that task's validation columns only (docs/training.md,
    "Per-task settings"); ``{}`` means the weights' stored settings were the choice. Raises
    :class:`~mutualfuse.errors.ParameterError` for an unknown task, for a weights file that is
    not a shipped one (settings are recorded for shipped weights only; a shipped file given by
    its path is recognised by its sha256) and for shipped weights without settings for ``task``.
    """
    from ..errors import ParameterError

    if task not in TASKS:
        raise ParameterError(f"unknown task {task!r}; tasks: {', '.join(TASKS)}")
    name = _shipped_name(spec)
    if name not in SHIPPED:
        raise ParameterError(f"task {task!r}: per-task settings are recorded for shipped weights only, not for "
                             f"{name!r}; pass the settings themselves (e.g. --blend-temperature)")
    have = dict(SHIPPED[name].tasks)
    if task not in have:
        with_tasks = sorted(n for n, w in SHIPPED.items() if w.tasks)
        given = "default" if spec is None else str(spec)
        shown = repr(name) if given == name else f"{given!r} (the shipped {name!r}, by its sha256)"
        raise ParameterError(f"task {task!r}: weights {shown} record no per-task settings "
                             f"(weights that do: {', '.join(with_tasks) or 'none'})")
    return {k: float(v) for k, v in have[task]}


from ..io.digest import sha256_file  # noqa: F401  (public here too)


def file_sha256(path: str | os.PathLike) -> str:
    """:func:`sha256_file` of a weights file; one that cannot be read is a :class:`WeightsError`."""
    try:
        return sha256_file(path)
    except OSError as e:
        raise WeightsError(f"{path}: cannot read the weights file ({e.strerror or e})") from None


def shipped_path(name: str) -> Path:
    """The verified file of shipped weights ``name``: present, and its sha256 the recorded one
    (else a one-line :class:`WeightsError`)."""
    w = SHIPPED[name]
    path = HERE / w.file
    if not path.is_file():
        raise WeightsError(f"{path}: shipped weights file is missing from the installation")
    got = file_sha256(path)
    if got != w.sha256:
        raise WeightsError(f"{path}: sha256 mismatch (expected {w.sha256[:12]}…, got {got[:12]}…): "
                           "file is corrupt or was modified")
    return path


def _why_not_safetensors(path: Path) -> str | None:
    """What a file that safetensors refused is, where its first bytes tell: a pickle
    (``torch.save``) or a safetensors file cut short. None: no better words than safetensors'."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(9)
            n = int.from_bytes(head[:8], "little") if len(head) == 9 else 0
            # a safetensors file starts with its header's length (8 bytes, little-endian) and the
            # header's "{": any low byte of that length is possible, 0x80 included, so it comes first
            if head[8:9] == b"{" and 0 < n < 1 << 32:
                if n > size - 8:
                    return f"truncated: its header alone is {n} bytes, the file has {size} bytes"
                fh.seek(8)
                header = json.loads(fh.read(n))
                end = max((int(v["data_offsets"][1]) for k, v in header.items()
                           if k != "__metadata__" and isinstance(v, dict)), default=0)
                if 8 + n + end > size:
                    return f"truncated: its tensors end at byte {8 + n + end}, the file has {size} bytes"
                return None
    except (OSError, ValueError, TypeError, KeyError, IndexError, RecursionError):  # JSON nested too deep
        return None
    if size == 0:
        return "the file is empty (0 bytes), not safetensors weights"
    if head[:2] == b"PK" or head[:1] == b"\x80":
        return ("a PyTorch/pickle file (torch.save), not safetensors weights; pickles are never loaded "
                f"(they can run code): {CONVERT}")
    # an ONNX model (protobuf: field 1 ir_version, a varint, then field 2 producer_name), e.g. the
    # graph of `mutualfuse export-onnx` given to --weights: said as such (it was "header too large")
    if path.suffix.lower() == ".onnx" or (head[:1] == b"\x08" and head[2:3] == b"\x12"):
        return ("an ONNX graph (as `mutualfuse export-onnx` writes), not safetensors weights: run it with "
                "onnxruntime (docs/inputs.md, \"Running the graph\"); --weights takes the .safetensors "
                "weights it was exported from (the graph's mutualfuse.weights metadata names them)")
    return None


#: how a state dict of one's own becomes a weights file (the words of the errors for a pickle and
#: for a safetensors file without ``model_config``; README "Use", weights of one's own)
CONVERT = ("to convert a state dict you trust, load it into build_model(ModelConfig(...)) and write "
           "mutualfuse.weights.save_weights(OUT, model, cfg), or use weights written by `mutualfuse train` / "
           "`export-weights`")


#: metadata format of the files :func:`save_weights` writes (version 2 adds ``tensors_sha256``)
FORMAT = "mutualfuse-weights-2"
_FORMATS = ("mutualfuse-weights-1", FORMAT)


def tensors_digest(model_config: str, tensors: dict[str, torch.Tensor]) -> str:
    """sha256 (hex) of a weights file's content: the ``model_config`` JSON text, then every
    tensor in name order as ``name NUL dtype NUL shape NUL raw-bytes`` (shape as comma-separated
    sizes, bytes as stored by safetensors: C order, little-endian)."""
    import torch

    h = hashlib.sha256()
    h.update(model_config.encode("utf-8") + b"\0")
    for name in sorted(tensors):
        t = tensors[name].detach().to("cpu").contiguous()
        h.update(name.encode("utf-8") + b"\0" + str(t.dtype).removeprefix("torch.").encode() + b"\0"
                 + ",".join(str(int(d)) for d in t.shape).encode() + b"\0")
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def safetensors_bytes(tensors: dict[str, torch.Tensor], metadata: dict[str, str]) -> bytes:
    """The bytes of a safetensors file of ``tensors`` and ``metadata``, the same bytes for equal
    content: safetensors (0.8) writes the ``__metadata__`` keys in hash order, which differs from
    one process to the next, so its header is rewritten here with those keys sorted (the tensor
    entries, their offsets and the data are safetensors' own, unchanged). The header stays
    compact JSON, UTF-8 as safetensors writes it, padded with spaces to a multiple of 8 bytes."""
    from safetensors.torch import save

    raw = save(tensors, metadata=metadata)
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    if "__metadata__" in header:
        header["__metadata__"] = dict(sorted(header["__metadata__"].items()))
        header = {"__metadata__": header.pop("__metadata__"), **header}
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return len(text).to_bytes(8, "little") + text + raw[8 + n:]


def _check_meta(p: Path, md: dict) -> None:
    """Refuse (one line, naming the key) what safetensors' metadata cannot take: a key that is no
    ``str`` (was safetensors' ``TypeError: argument 'metadata': 'int' object is not an instance of
    'str'``), a key or value UTF-8 cannot encode (was an internal ``UnicodeEncodeError``)."""
    from ..errors import ParameterError

    for k, v in md.items():
        if not isinstance(k, str):
            raise ParameterError(f"{p}: save_weights: meta key {k!r} is of type {type(k).__name__}; metadata keys "
                                 "must be str")
        for what, text in (("key", k), ("value", v)):
            try:
                text.encode("utf-8")
            except UnicodeEncodeError as e:
                bad = text[e.start:e.end]
                raise ParameterError(
                    f"{p}: save_weights: meta[{k!r}]: the {what} holds {bad!r} at position {e.start}, which UTF-8 "
                    "cannot encode (a lone surrogate, e.g. from a file name that is not UTF-8); safetensors "
                    "metadata is UTF-8 text: decode or escape it first (e.g. json.dumps(value))") from None


def save_weights(path: str | os.PathLike, model: torch.nn.Module, cfg: ModelConfig,
                 meta: dict[str, str] | None = None) -> Path:
    """Write model weights + config as safetensors (atomic, umask respected) and a ``.sha256`` sidecar.

    The tensors are stored as float32; the metadata holds ``format``, ``model_config`` (JSON),
    ``tensors_sha256`` (:func:`tensors_digest`, verified by :func:`read_weights`) and ``meta``
    (its values as ``str(value)``; those three keys of ``meta`` are overwritten).
    Weights with NaN or infinite values are refused (:class:`WeightsError`). A ``meta`` key that is
    no ``str``, or a key or value that UTF-8 cannot hold (safetensors metadata is UTF-8 text; a lone
    surrogate, such as ``os.fsdecode`` makes of a file name that is not UTF-8), is a one-line
    :class:`~mutualfuse.errors.ParameterError` naming the key, before anything is written: the
    value is not changed behind the caller's back (escape it yourself, e.g. with ``json.dumps``,
    to keep such a name).
    """
    import torch

    from ..io.atomic import atomic_write

    p = Path(path)
    md = {k: str(v) for k, v in (meta or {}).items()}
    _check_meta(p, md)
    p.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in model.state_dict().items()}
    for k, v in tensors.items():
        if not torch.isfinite(v).all():
            raise WeightsError(f"{p}: refusing to write weights with NaN or infinite values (tensor {k})")
    mc = json.dumps(cfg.to_dict())
    md.update({"format": FORMAT, "model_config": mc, "tensors_sha256": tensors_digest(mc, tensors)})
    side = sidecar_path(p)
    for q in (p, side):  # before anything is written: never the weights without their sidecar
        if q.is_dir():
            raise WeightsError(f"{q}: is a directory; cannot write the weights{' sidecar' if q == side else ''} there")
    # both files are complete (as temporaries) before either is renamed into place, and the two
    # renames are not split by Ctrl+C/SIGTERM: never new weights beside an old sidecar (refused
    # at load as a sha256 mismatch) nor a sidecar without its weights
    from ..io.signals import interrupts_held

    with interrupts_held(now=False) as hold, atomic_write(p) as tmp, atomic_write(side) as tmp_side:
        tmp.write_bytes(safetensors_bytes(tensors, md))
        # the name's own bytes, as sha256sum writes them: a name that is not UTF-8 (a lone surrogate in
        # Python) was an internal error (UnicodeEncodeError) of export-weights -o $'w\xe9.safetensors'
        tmp_side.write_bytes(f"{sha256_file(tmp)}  {p.name}\n".encode("utf-8", "surrogateescape"))
        hold()  # from here until both renames are done (the with's exits run innermost first)
    return p


def sidecar_path(path: str | os.PathLike) -> Path:
    """The ``<file>.sha256`` sidecar of a weights file."""
    return Path(str(path) + ".sha256")


def unchecked_note(spec: str | os.PathLike | None, meta: dict[str, str]) -> str | None:
    """What to tell the user of weights ``spec`` (``meta``: their metadata, as :func:`read_weights`
    returns it) whose content nothing checked: a file of the older format ``mutualfuse-weights-1``
    (no ``tensors_sha256``) without a ``.sha256`` sidecar, which :func:`read_weights` reads
    unverified (a changed byte in a tensor goes unnoticed). None for every other file: shipped
    weights (their recorded sha256), a sidecar's file, the current format (its own digest)."""
    if spec is None or str(spec) in SHIPPED or meta.get("format", _FORMATS[0]) != _FORMATS[0]:
        return None
    if sidecar_path(spec).exists():
        return None
    return (f"{spec}: content not checked: an older weights file (format {_FORMATS[0]}, which records no digest "
            f"of its tensors) without its {Path(str(spec)).name}.sha256 sidecar, so a changed byte would go "
            f"unnoticed; put the sidecar that came with it beside it")


def file_identity(spec: str | os.PathLike | None) -> tuple | None:
    """What a cache of loaded models must key on besides ``spec``: for a path to an existing
    file, its resolved path, inode, size and modification time, and the same of its ``.sha256``
    sidecar (so a weights file overwritten in place, e.g. by a new ``export-weights``, is read
    again); ``None`` for a shipped name or anything that is not a file."""
    if spec is None or str(spec) in SHIPPED:
        return None

    def ident(p: Path) -> tuple | None:
        try:
            st = p.stat()
        except (OSError, ValueError):
            return None
        return (str(p.resolve()), st.st_ino, st.st_size, st.st_mtime_ns) if p.is_file() else None

    p = Path(spec)
    own = ident(p)
    return None if own is None else (own, ident(sidecar_path(p)))


def _near_file(p: Path) -> str:
    """For a weights path that does not exist: ``"; did you mean FOLDER/NAME?"`` for the files of
    its folder close to its name (``run1/final`` → ``run1/final.safetensors``, ``finall.safetensors``,
    ``final.safetensor``), or ``"; no folder FOLDER"`` where its folder is missing; ``""`` else."""
    from ..registry import close_names

    folder = p.parent
    try:
        if not folder.is_dir():
            return f"; no folder {folder}" if str(folder) not in ("", ".") else ""
        names = sorted(q.name for q in folder.iterdir() if q.suffix.lower() == ".safetensors")
    except OSError:  # an unreadable folder: nothing to suggest
        return ""
    want = [n for n in names if n.lower() in (p.name.lower() + ".safetensors",)]
    close = want or close_names(p.name, names)
    return f"; did you mean {', '.join(str(folder / n) for n in close)}?" if close else ""


def folder_weights_hint(p: Path) -> str:
    """For a folder given as weights (``Fuser("out/run1")``, ``--weights out/run1``): the weights in
    it to give instead, ``final.safetensors`` of a finished ``mutualfuse train`` run first, else
    the newest ``.safetensors`` file; for a training folder without any (a run stopped before its
    end), how to export its checkpoint's weights; ``""`` for any other folder."""
    final = p / "final.safetensors"
    if final.is_file():
        return f"; it holds the final weights of a training run: give {final}"
    try:
        found = []
        for q in p.glob("*.safetensors"):
            try:
                if q.is_file():
                    found.append((q.stat().st_mtime_ns, q.name, q))
            except OSError:  # a file that went away meanwhile, a link to nowhere: not offered
                continue
    except OSError:  # an unreadable folder: nothing to suggest
        found = []
    if found:
        newest = max(found)[2]
        more = f" (the newest of {len(found)})" if len(found) > 1 else ""
        return f"; give a weights file in it, e.g. {newest}{more}"
    last = p / "last.ckpt"  # mutualfuse.train.checkpoint.LAST (not imported: it loads the training package)
    if last.is_file():
        return (f"; it is a training output folder without final.safetensors (a run stopped before its end): "
                f"`mutualfuse export-weights {last} -o WEIGHTS.safetensors` writes the weights of its last checkpoint")
    return ""


def resolve_weights(spec: str | os.PathLike | None) -> tuple[Path, str | None]:
    """A shipped name (``"default"``) or a path → (file, expected sha256 or None)."""
    spec = "default" if spec is None else spec
    if str(spec) in SHIPPED:
        w = SHIPPED[str(spec)]
        return HERE / w.file, w.sha256
    p = Path(spec)
    if not p.exists():
        from ..registry import did_you_mean

        names = ", ".join(SHIPPED) or "none"
        hint = did_you_mean(str(spec), list(SHIPPED)) or _near_file(p)
        raise WeightsError(f"{p}: weights file not found{hint} (shipped weights: {names})")
    if p.is_dir():
        raise WeightsError(f"{p}: is a directory, expected a .safetensors weights file{folder_weights_hint(p)}")
    if not p.is_file():
        raise WeightsError(f"{p}: not a regular file (a device, FIFO or socket), expected a .safetensors weights file")
    side = Path(str(p) + ".sha256")
    expected = None
    if side.exists():
        try:
            words = side.read_text(errors="replace").split()
        except OSError as e:
            raise WeightsError(f"{side}: cannot read the sha256 sidecar ({e.strerror or e})") from None
        if not words or not re.fullmatch(r"[0-9a-fA-F]{64}", words[0]):
            raise WeightsError(f"{side}: sha256 sidecar is empty or malformed (expected 64 hex digits); "
                               "remove it or restore it")
        expected = words[0].lower()
    return p, expected


def _expected_shapes(path: Path, cfg: ModelConfig) -> dict[str, tuple[int, ...]]:
    """Parameter shapes of the model ``cfg`` describes, built on the meta device (no memory)."""
    import torch

    from ..model import MODELS, build_model

    if cfg.arch not in MODELS:
        raise WeightsError(f"{path}: unknown architecture {cfg.arch!r} in model_config "
                           f"(known: {', '.join(MODELS.names())})")
    bad = [w for w in cfg.widths if w <= 0]
    if bad:
        raise WeightsError(f"{path}: model_config widths must be positive, got {list(cfg.widths)}")
    try:
        with torch.device("meta"):
            net = build_model(cfg)
    except (ValueError, TypeError, RuntimeError, KeyError) as e:
        raise WeightsError(f"{path}: model_config does not describe a buildable model ({_first(e)})") from None
    return {k: tuple(v.shape) for k, v in net.state_dict().items()}


def _first(e: BaseException) -> str:
    s = str(e.args[0] if isinstance(e, KeyError) and e.args else e).strip()
    return (s.splitlines()[0] if s else type(e).__name__)[:150]


def read_weights(spec: str | os.PathLike | None) -> tuple[dict[str, torch.Tensor], ModelConfig, dict[str, str]]:
    """Verify and read a weights file → (state dict, model config, metadata).

    Checks, in order, before a tensor is materialised: the sha256 (shipped table or sidecar),
    the safetensors header, the ``model_config`` metadata, and that the header's tensor names,
    dtypes and shapes are exactly those of the model the config describes. Then the tensors
    are read, the ``tensors_sha256`` digest is verified (format 2) and non-finite values are
    refused. Every failure is a one-line :class:`WeightsError` naming the file.
    """
    import torch
    from safetensors import SafetensorError, safe_open

    from ..io.safetensors_names import safetensors_name
    from ..model import ModelConfig

    path, expected = resolve_weights(spec)
    if not path.is_file():
        raise WeightsError(f"{path}: shipped weights file is missing from the installation")
    if expected is not None:
        got = file_sha256(path)
        if got != expected:
            raise WeightsError(f"{path}: sha256 mismatch (expected {expected[:12]}…, got {got[:12]}…): file is corrupt or was modified")
    try:
        with open(path, "rb"):  # its own words for a file that cannot be read (safetensors' are wrong)
            pass
    except OSError as e:
        raise WeightsError(f"{path}: cannot read the weights file ({e.strerror or e})") from None
    try:
        with safetensors_name(path) as name, safe_open(name, framework="pt") as fh:
            meta = dict(fh.metadata() or {})
            header = {k: (tuple(fh.get_slice(k).get_shape()), str(fh.get_slice(k).get_dtype())) for k in fh.keys()}
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        why = _why_not_safetensors(path)
        if why:
            raise WeightsError(f"{path}: {why}") from None
        raise WeightsError(f"{path}: not a valid safetensors weights file ({_first(e)[:120]})") from None
    if "model_config" not in meta:
        if str(meta.get("format", "")).startswith("mutualfuse-checkpoint"):
            raise WeightsError(f"{path}: is a training checkpoint, not a weights file; turn it into weights with "
                               f"`mutualfuse export-weights {path} -o WEIGHTS.safetensors`")
        raise WeightsError(f"{path}: safetensors file has no mutualfuse model_config metadata (a bare state "
                           f"dict?); {CONVERT}")
    fmt = meta.get("format", "mutualfuse-weights-1")
    if fmt not in _FORMATS:
        raise WeightsError(f"{path}: unknown weights format {fmt!r} (this version reads {', '.join(_FORMATS)})")
    try:
        d = json.loads(meta["model_config"])
        if not isinstance(d, dict):
            raise ValueError("not a JSON object")
        cfg = ModelConfig.from_dict(d)
    except RecursionError:  # "[[[[…": json gives up past ~1000 levels (was an internal error, exit 1)
        raise WeightsError(f"{path}: bad model_config metadata (JSON nested too deep)") from None
    except (ValueError, TypeError) as e:
        raise WeightsError(f"{path}: bad model_config metadata ({_first(e)})") from None
    want = _expected_shapes(path, cfg)
    missing = sorted(set(want) - set(header))
    extra = sorted(set(header) - set(want))
    if missing or extra:
        what = (f"missing {missing[:3]}" if missing else "") + ("; " if missing and extra else "") \
            + (f"unexpected {extra[:3]}" if extra else "")
        raise WeightsError(f"{path}: weights do not fit the {cfg.arch} model of their model_config ({what})")
    for k, shape in want.items():
        got_shape, dtype = header[k]
        if got_shape != shape:
            raise WeightsError(f"{path}: tensor {k} has shape {list(got_shape)}, the model_config's {cfg.arch} "
                               f"model needs {list(shape)}")
        if dtype.upper() not in ("F32", "F16", "BF16", "F64"):
            raise WeightsError(f"{path}: tensor {k} has dtype {dtype}, expected a float type")
    from safetensors.torch import load_file

    try:
        with safetensors_name(path) as name:
            state = load_file(name)
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise WeightsError(f"{path}: not a valid safetensors weights file ({_first(e)[:120]})") from None
    if fmt != "mutualfuse-weights-1":
        digest = meta.get("tensors_sha256", "")
        if not digest:
            raise WeightsError(f"{path}: no tensors_sha256 in the metadata of a {fmt} file (its digest): the file "
                               "was modified, or not written by mutualfuse")
        if digest != tensors_digest(meta["model_config"], state):
            raise WeightsError(f"{path}: tensor digest mismatch (tensors_sha256 in the file's metadata): "
                               "file is corrupt or was modified")
    for k, v in state.items():
        if not torch.isfinite(v).all():
            n = int((~torch.isfinite(v)).sum())
            raise WeightsError(f"{path}: tensor {k} has {n} NaN or infinite values; refusing to use these weights")
    return state, cfg, meta


def load_model(spec: str | os.PathLike | None = None, **overrides: Any) -> tuple[FusionNet, dict[str, str]]:
    """Build the network of a weights file and load it (eval mode, CPU, float32).

    ``overrides`` change inference-only config fields (``token_budget``, ``map_min_pool``,
    ``blend_temperature``, ``detail_gain``).
    """
    from ..model import build_model

    state, cfg, meta = read_weights(spec)
    allowed = {"token_budget", "map_min_pool", "blend_temperature", "detail_gain", "base_brightness", "detail_activity", "base_temperature"}
    bad = set(overrides) - allowed
    if bad:
        raise WeightsError(f"cannot override {sorted(bad)} at load time (only {sorted(allowed)})")
    if overrides:  # through the dataclass, so that each value is validated
        from dataclasses import replace

        try:
            cfg = replace(cfg, **overrides)
        except ValueError as e:
            raise WeightsError(f"override {overrides}: {e}") from None
    model = build_model(cfg)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        path, _ = resolve_weights(spec)
        raise WeightsError(f"{path}: weights do not fit the {cfg.arch} model ({str(e).splitlines()[0][:150]})") from None
    model.eval()
    return model, meta


def __getattr__(name: str) -> Any:
    """``torch``, ``ModelConfig``, ``build_model`` and ``FusionNet``, once imported here at the
    top, still resolve (importing them on first use)."""
    if name == "torch":
        import torch

        return torch
    if name in ("ModelConfig", "build_model"):
        from .. import model

        return getattr(model, name)
    if name == "FusionNet":
        from ..model.network import FusionNet

        return FusionNet
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


from . import shipped  # noqa: E402,F401  (registers the shipped weights)
from . import ablations  # noqa: E402,F401  (registers the ablation variants, issue 11)
