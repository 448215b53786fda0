"""ONNX export of the fusion network with dynamic batch, height and width.

The exported graph takes two ``float32`` tensors ``a``, ``b`` of shape ``(B, 1, H, W)`` in
[0, 1] (luminance; do colour conversion outside, as :mod:`mutualfuse.color` does) and returns
``fused`` of the same shape, clipped to [0, 1]. Padding to the network's multiple and cropping
back are inside the graph, so any H×W ≥ 8 works.

The mutual mapping in the graph is **exact** by default (``pool=1``): the token budget of the
PyTorch path picks its pooling per input size, which a static graph cannot do. ONNX has no
fused attention kernel in the default opsets, so onnxruntime builds the N×N matrix
(N = H·W/16): about 4·N² bytes per direction, 1.5 GB at 640×480. For larger inputs export with
a fixed ``pool`` (the mapping runs on a ``pool``× average-pooled grid and its maps are
upsampled, as the PyTorch token budget does), or use the PyTorch path. Weights that store a
``map_min_pool`` (``default``: 2) are run by ``fuse`` on that pooled grid at every size up to the
token budget: only an export with ``pool=map_min_pool`` computes what ``fuse`` does (the CLI says
so when the pool is smaller; :func:`stored_min_pool`). The output's declared shape is the
inputs' ``(B, 1, H, W)``. The graph's metadata (:data:`METADATA_KEYS`; onnxruntime's
``InferenceSession.get_modelmeta().custom_metadata_map``) and its description say what the file
holds: the weights (shipped name or file name, never the folder) and their sha256, the mutualfuse
version, the mapping pool (``none`` for a network without a mutual mapping, which refuses a
``pool`` other than 1), the task, the inference settings it computes with and the inputs'
layout and range.
"""
from __future__ import annotations

import numbers
import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .errors import FuseError, InputError, ParameterError


from .validation import MAX_OPSET, MIN_OPSET  # noqa: E402,F401  (re-exported; defined without torch)


class ExportWrapper(nn.Module):
    """Pads to the multiple (replicate), runs the network, crops back; no shape-dependent branches."""

    def __init__(self, net, pool: int = 1):
        super().__init__()
        self.net = net
        self.pool = int(pool)
        # the mapping runs on a fixed pool (1 = exact), never the shape-dependent token budget
        self.has_mapping = hasattr(getattr(net, "fusion", None), "pooled_maps")

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        m = self.net.cfg.multiple
        h, w = a.shape[-2], a.shape[-1]
        ph = (m - h % m) % m
        pw = (m - w % m) % m
        a = F.pad(a, (0, pw, 0, ph), mode="replicate")
        b = F.pad(b, (0, pw, 0, ph), mode="replicate")
        if self.has_mapping:
            fx, fy = self.net.encode(a, b)
            maps = self.net.fusion.pooled_maps(fx[-1], fy[-1], self.pool)
            out = self.net.decode(self.net.fuse(fx, fy, maps=maps), a, b)
        else:
            out = self.net._forward(a, b)
        return out[:, :, :h, :w].clamp(0.0, 1.0)


#: why ``task="auto"`` (``fuse``'s default for weights with per-task settings) is refused: one
#: line, raised before anything is loaded or written
AUTO_TASK_REFUSAL = ("task 'auto' detects the task per pair, which a graph cannot (it has one setting): export "
                     "one graph per task (--task ir-vis, multi-focus or medical) and pick it with "
                     "mutualfuse.tasks.detect_task, or --task stored (docs/inputs.md, ONNX)")


def graph_task(task: str | None) -> str | None:
    """``task`` as an export takes it: ``None`` or ``"stored"`` (the weights' stored settings,
    as ``fuse --task stored``) is ``None``; a task name is itself; ``"auto"`` is a one-line
    :class:`ParameterError` (:data:`AUTO_TASK_REFUSAL`). ``"stored"`` was "unknown task" and
    ``"auto"`` "unknown task 'auto'", though ``fuse`` takes both."""
    if task is None or task == "stored":
        return None
    if task == "auto":
        raise ParameterError(AUTO_TASK_REFUSAL)
    return task


def export_onnx(out_path: str | os.PathLike, weights: str | os.PathLike = "default", pool: int = 1,
                opset: int = 17, task: str | None = None, check=None, *,
                model: str | os.PathLike | None = None) -> Path:
    """Export the network of ``weights`` (shipped name or weights file, as ``--weights``) to
    ``out_path`` (atomic), at ``task``'s settings (:func:`mutualfuse.weights.task_settings`) when
    given, else the stored ones (``"stored"`` too; ``"auto"`` is refused: :func:`graph_task`).
    ``model=`` is the argument's former name (until 2026-12-07 it was ``model``, while
    docs/inputs.md and the command say ``weights``, so the documented call was a ``TypeError``).

    ``check``: called with the path of the exported temporary file *before* it is renamed to
    ``out_path``; when it raises (or the run is interrupted) the temporary file is removed and an
    existing ``out_path`` is left as it was, so a failed check never leaves (or destroys) a file."""
    from .weights import load_model, task_settings

    if model is not None:
        if str(weights) != "default":
            raise ParameterError(f"give the weights once: weights={weights!r} or model={model!r} (its former name)")
        weights = model
    model = weights
    task = graph_task(task)
    for name, v in (("pool", pool), ("opset", opset)):  # 2.5 was exported as pool 2, True as 1; opset 17.0
        if isinstance(v, bool) or not isinstance(v, numbers.Integral):  # failed with pages of IR
            raise ParameterError(f"{name} must be an integer, got {v!r}")
    pool, opset = int(pool), int(opset)
    out = Path(out_path)
    from .image_io import check_writable

    from .weights import SHIPPED

    # a weights file of one's own (any name) must not be the output: it was overwritten, exit 0
    inputs = (model,) if str(model) not in SHIPPED and os.path.exists(model) else ()
    if inputs and os.path.isfile(model):
        from .errors import WeightsError
        from .weights import _why_not_safetensors

        # what is wrong with the weights first: `--weights m.onnx m.onnx` (the graph given as its
        # own weights) said "output path is the same file as input", not that a graph is no weights
        why = _why_not_safetensors(Path(model))
        if why:
            raise WeightsError(f"{model}: {why}")
    check_writable(out, inputs=inputs, formats={".onnx"})
    if pool < 1:
        raise ParameterError(f"pool must be >= 1, got {pool}")
    if not MIN_OPSET <= opset <= MAX_OPSET:
        raise ParameterError(f"opset {opset} is not supported: the network exports with opsets "
                             f"{MIN_OPSET}..{MAX_OPSET}")
    try:
        import onnx  # noqa: F401
    except ImportError:
        raise ParameterError("export-onnx needs onnx: pip install 'mutualfuse[onnx]'") from None
    overrides = task_settings(str(model), task) if task is not None else {}
    net, meta = load_model(model, **overrides)
    net = net.float().eval()
    wrapper = ExportWrapper(net, pool).eval()
    if not wrapper.has_mapping and pool != 1:  # was recorded as "mapping_pool 3" of a graph without one
        raise ParameterError(f"pool {pool}: weights {weights_identity(model)[0]} have no mutual mapping (fusion "
                             f"{getattr(net.cfg, 'fusion', '?')!r}, architecture {net.cfg.arch!r}): nothing to "
                             "pool; export with pool 1")
    m = net.cfg.multiple
    # trace at a size that needs padding so the (runtime-sized) pad is in the graph
    h, w = 8 * m + 1, 10 * m + (m - 1 if m > 1 else 1)
    a = torch.rand(1, 1, h, w)
    b = torch.rand(1, 1, h, w)
    import io
    import warnings

    from .io.atomic import atomic_write

    try:
        with atomic_write(out) as tmp, warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            # exported into memory and written here: the exporter refuses a file name that is not
            # UTF-8 (a TypeError of its C++ binding), which the temporary's name of such an output is
            buf = io.BytesIO()
            torch.onnx.export(
                wrapper, (a, b), buf, input_names=["a", "b"], output_names=["fused"],
                dynamic_axes={k: {0: "batch", 2: "height", 3: "width"} for k in ("a", "b", "fused")},
                opset_version=opset, dynamo=False, do_constant_folding=True)
            tmp.write_bytes(_finish_graph(buf.getvalue(), model, pool if wrapper.has_mapping else None, task,
                                          baked_settings(net), inputs_note(meta)))
            if check is not None:
                check(tmp)
    except FuseError:  # the check's own one-line verdict (InputError is a ValueError too)
        raise
    except OSError as e:
        raise InputError(f"{out}: cannot write ({e.strerror or e})") from None
    except (RuntimeError, ValueError, TypeError) as e:  # the exporter's errors carry pages of IR
        first = str(e).strip().splitlines()[0][:160] if str(e).strip() else type(e).__name__
        raise ParameterError(f"{out}: ONNX export failed ({type(e).__name__}: {first})") from None
    return out


#: what an exported graph's metadata records (keys of ``metadata_props``)
METADATA_KEYS = ("mutualfuse.version", "mutualfuse.weights", "mutualfuse.weights_sha256",
                 "mutualfuse.mapping_pool", "mutualfuse.task", "mutualfuse.settings", "mutualfuse.inputs",
                 "mutualfuse.output")
#: the network's inference settings an exported graph computes with (the weights' stored values,
#: or ``--task``'s): recorded as ``mutualfuse.settings``
SETTING_KEYS = ("blend_temperature", "base_temperature", "detail_gain", "detail_activity", "base_brightness")


def baked_settings(net) -> str:
    """``key=value`` of :data:`SETTING_KEYS` on ``net``'s config, space-separated: what a graph of
    ``net`` computes with (``task`` alone named them only through this version's tables)."""
    return " ".join(f"{k}={float(getattr(net.cfg, k))!r}" for k in SETTING_KEYS)


#: the inputs and the output of every exported graph, as recorded in its metadata
INPUTS_NOTE = ("a, b: float32 (B, 1, H, W), H and W >= 8, registered, in [0, 1]: gray, or the BT.601 "
               "luminance Y = 0.299 R + 0.587 G + 0.114 B of colour; 8-bit samples / 255 (mutualfuse "
               "fuse scales 16-bit by percentiles; docs/inputs.md, ONNX)")


def inputs_note(meta: dict) -> str:
    """:data:`INPUTS_NOTE`, or for weights whose training recorded how it read its images
    (``train_data``: ``mutualfuse train`` since 2026-12-07) the policy the graph's inputs must be
    read with, as ``fuse`` reads them for those weights (:func:`mutualfuse.io.samples.training_policy`)."""
    from .io.samples import DEFAULT_PERCENTILES, training_policy

    norm, pct = training_policy(meta)
    if norm is None and pct is None:
        return INPUTS_NOTE
    norm, pct = norm or "auto", pct or DEFAULT_PERCENTILES
    how = f"--normalize {norm}" + ("" if norm == "full" else f" --percentiles {pct[0]:g} {pct[1]:g}")
    return ("a, b: float32 (B, 1, H, W), H and W >= 8, registered, in [0, 1]: gray, or the BT.601 luminance "
            "Y = 0.299 R + 0.587 G + 0.114 B of colour; read as the weights' training read its images, "
            f"mutualfuse fuse {how} (their train_data; docs/inputs.md, ONNX)")
OUTPUT_NOTE = "fused: float32 (B, 1, H, W) in [0, 1], the fused luminance"


def weights_identity(model: str | os.PathLike) -> tuple[str, str]:
    """(name, sha256) of the weights ``model``: a shipped name (also for a shipped file given by
    its path), else the file's name without its folder (a path put the exporter's folders, home
    directory included, into a file made to be handed on, and said nothing of its content), and
    the sha256 of the file. A name that is not UTF-8 (Latin-1 bytes) is written with its bytes
    escaped (``w\\xe9.safetensors``): ONNX metadata is UTF-8 text, and the export failed with
    UnicodeEncodeError."""
    from .weights import SHIPPED, _shipped_name, file_sha256, resolve_weights

    name = _shipped_name(model)
    if name in SHIPPED:
        return name, SHIPPED[name].sha256
    path, _ = resolve_weights(model)
    name = os.fsencode(Path(path).name).decode("utf-8", "backslashreplace")
    return name, file_sha256(path)


def _finish_graph(graph: bytes, model, pool: int | None, task: str | None, settings: str = "",
                  inputs: str = INPUTS_NOTE) -> bytes:
    """The exported ``graph`` (the bytes of its ModelProto) finished, as bytes. The exporter
    names the output's channel axis ``Clipfused_dim_1`` (a symbolic size after the clamp) where
    the inputs say 1: fix it to 1, as documented ("the same shape"), so that runtimes that build
    static engines from the declared shapes see one channel. Record what the graph computes and
    takes (:data:`METADATA_KEYS`) in its metadata and its description."""
    import onnx

    from . import __version__

    m = onnx.load_model_from_string(graph)
    dims = m.graph.output[0].type.tensor_type.shape.dim
    if len(dims) == 4:
        dims[1].Clear()
        dims[1].dim_value = 1
    name, digest = weights_identity(model)
    values = (__version__, name, digest, "none" if pool is None else str(int(pool)), task or "stored", settings,
              inputs, OUTPUT_NOTE)
    for k, v in zip(METADATA_KEYS, values):
        e = m.metadata_props.add()
        e.key, e.value = k, v
    mapping = ("no mutual mapping" if pool is None else "mutual mapping exact" if pool == 1
               else f"mutual mapping on a {int(pool)}x pooled grid")
    m.doc_string = (f"mutualfuse {__version__} fusion network: weights {name} (sha256 {digest}), "
                    f"{mapping}, task settings {task or 'stored'} ({settings}). Inputs {inputs}. "
                    f"Output {OUTPUT_NOTE}.")
    return m.SerializeToString()  # what onnx.save writes


def stored_min_pool(model: str | os.PathLike = "default", task: str | None = None) -> int:
    """The pool ``fuse`` uses at every size up to the token budget for ``model`` (its
    ``map_min_pool``; 1 without a budget or a mapping)."""
    from .weights import load_model, task_settings

    task = graph_task(task)
    net, _ = load_model(model, **(task_settings(str(model), task) if task else {}))
    if not hasattr(getattr(net, "fusion", None), "pooled_maps") or not net.cfg.token_budget:
        return 1
    return int(net.cfg.map_min_pool)


def fuse_pool_range(model: str | os.PathLike = "default", task: str | None = None,
                    pool: int = 1) -> tuple[int, int | None, int] | None:
    """Where ``fuse`` (at ``task``'s settings, else the stored ones) runs the mutual mapping of
    ``model`` on the same ``pool`` as a graph exported with it: ``(lo, hi, stride)``: fuse's
    pool is ``pool`` on deepest grids of N tokens with ``lo < N <= hi`` (``hi`` None: no upper
    end; ``hi`` 0: never, a pool below the weights' ``map_min_pool`` or a pooled graph of
    weights without a budget), the grid being the image's sides padded to the network's
    multiple, divided by ``stride``. ``None`` for a network without a mapping.
    :func:`mutualfuse.model.mutual_mapping.pool_for` decides fuse's pool."""
    from .weights import load_model, task_settings

    task = graph_task(task)
    net, _ = load_model(model, **(task_settings(str(model), task) if task else {}))
    if not hasattr(getattr(net, "fusion", None), "pooled_maps"):
        return None
    cfg = net.cfg
    side = 2 * cfg.multiple
    with torch.no_grad():
        fx, _ = net.encode(torch.zeros(1, 1, side, side), torch.zeros(1, 1, side, side))
    stride = side // int(fx[-1].shape[-1])
    budget, floor, p = int(cfg.token_budget or 0), int(cfg.map_min_pool), int(pool)
    if not budget:  # always exact
        return 0, (None if p == 1 else 0), stride
    if p < floor:
        return 0, 0, stride
    lo = 0 if p == floor else (p - 1) ** 2 * budget
    return lo, p * p * budget, stride


def _session(ort, path: str | os.PathLike):
    """An onnxruntime session (CPU) of the graph at ``path``, exported by ``mutualfuse export-onnx``
    (inputs ``a``, ``b``, output ``fused``); else a one-line :class:`InputError` naming the file:
    a missing file, a folder, a file onnxruntime cannot load (a ``.safetensors`` weights file
    given for its graph) or another graph. These were onnxruntime's own exception types
    (``NoSuchFile``, ``InvalidProtobuf``: no ``FuseError``, no ``ValueError``) and, for another
    graph's inputs, an ``InvalidArgument`` from ``run``."""
    p = Path(os.fsdecode(path) if isinstance(path, bytes) else path)
    if not p.exists():
        raise InputError(f"{p}: no such ONNX file")
    if p.is_dir():
        raise InputError(f"{p}: is a directory, expected an .onnx graph (mutualfuse export-onnx -o OUT.onnx)")
    name = str(p)
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # a file name that is not UTF-8: onnxruntime's binding refuses it, so the bytes
        with open(p, "rb") as fh:
            name = fh.read()
    try:
        sess = ort.InferenceSession(name, providers=["CPUExecutionProvider"])
    except Exception as e:  # noqa: BLE001 - onnxruntime's own types (NoSuchFile, InvalidProtobuf, Fail, ...)
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:160]
        hint = ("; a weights file: export it first, mutualfuse export-onnx --weights FILE -o OUT.onnx"
                if p.suffix.lower() == ".safetensors" else "")
        raise InputError(f"{p}: onnxruntime cannot load it as an ONNX graph ({type(e).__name__}: {first}){hint}") \
            from None
    ins, outs = sorted(i.name for i in sess.get_inputs()), [o.name for o in sess.get_outputs()]
    if ins != ["a", "b"] or "fused" not in outs:
        raise InputError(f"{p}: not a graph of mutualfuse export-onnx (inputs {', '.join(ins) or 'none'}, outputs "
                         f"{', '.join(outs) or 'none'}; expected inputs a, b and output fused)")
    return sess


def run_onnx(path: str | os.PathLike, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Run an exported model with onnxruntime on (H, W) or (B, H, W) float arrays in [0, 1] of
    the same shape, sides at least 8; else a one-line :class:`InputError` (``b`` of another
    shape with as many pixels, e.g. transposed, was reshaped to ``a``'s and fused as garbage;
    uint8 or 0..255 samples were fed as they were). A ``path`` that is no such graph (missing, a
    folder, not loadable, another graph) is a one-line :class:`InputError` naming it too."""
    from .validation import MIN_SIDE

    a, b = np.asarray(a), np.asarray(b)
    for x, n in ((a, "a"), (b, "b")):
        if x.ndim not in (2, 3):
            raise InputError(f"{n}: expected an (H, W) or (B, H, W) gray array, got shape {x.shape}")
    if a.shape != b.shape:
        raise InputError(f"shape mismatch: a is {a.shape}, b is {b.shape}")
    if min(a.shape[-2:]) < MIN_SIDE:
        raise InputError(f"image is {a.shape[-1]}x{a.shape[-2]}, smaller than {MIN_SIDE}x{MIN_SIDE}")
    from .convert import check_unit_float

    # uint8 samples (0..255) were fed to the graph as they were: a near-white image without a word
    hints = dict(dtype_hint=" (8-bit data: x / 255; 16-bit: docs/inputs.md, ONNX)",
                 range_hint="; the graph takes [0, 1] (8-bit data: x / 255)")
    a, b = check_unit_float(a, "a", **hints), check_unit_float(b, "b", **hints)
    try:
        import onnxruntime as ort
    except ImportError:
        raise ParameterError("running ONNX needs onnxruntime: pip install 'mutualfuse[onnx]'") from None
    single = a.ndim == 2
    a4 = np.asarray(a, np.float32).reshape((1,) * (4 - a.ndim) + a.shape) if single else np.asarray(a, np.float32)[:, None]
    b4 = np.asarray(b, np.float32).reshape(a4.shape)
    sess = _session(ort, path)
    out = sess.run(["fused"], {"a": a4, "b": b4})[0]
    return out[0, 0] if single else out[:, 0]
