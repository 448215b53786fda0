"""Typed training configuration, loadable from YAML or TOML.

A run is reproducible from its config plus ``seed``: crops and the pair order are pure
functions of (seed, epoch, index), so a resumed or multi-process run sees the same data.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from ..cpu import cpu_has_native_bf16  # noqa: F401  (re-exported: the trainer's rule)
from ..errors import ParameterError
from ..model.config import ModelConfig


@dataclass
class DataConfig:
    """Where the training pairs are.

    ``root`` is the data root (``--data-root`` or ``$MUTUALFUSE_DATA`` override it); each entry
    of ``sets`` is a folder under it holding two role folders (``ir``/``vis``, ``a``/``b``, the
    other layouts of ``train.data.ROLE_LAYOUTS``, or the two named by ``roles``) whose files pair
    by name (suffix aside when unambiguous), or a ``.csv`` list of pairs ``a,b``.
    """

    root: str | None = None
    sets: list[str] = field(default_factory=lambda: ["train/roadscene"])
    #: the two role folders of every folder set, first role (the network's X) first, e.g.
    #: ``[Inf, Vis]``: exact names; None (default) finds the one known layout in each set
    roles: list[str] | None = None
    val_pairs: int = 8
    crop: int = 256
    #: where the validation quality (``val_sf``, ``val_ei``, ``val_qabf``, ``val_mf_psnr``) is
    #: measured: 0 (default, the shipped recipes) on the held-out pairs at full size; N on their
    #: centre N×N crops (reflect-padded where smaller), for quick runs whose validation at full
    #: size would take far longer than their steps (the mapping's cost grows as the square of the
    #: pixels)
    val_crop: int = 0
    #: how the images' intensities are mapped to [0, 1], the policy of ``mutualfuse fuse
    #: --normalize`` (:mod:`mutualfuse.image_io`): ``auto`` (8-bit ``v/255``; 16-bit, float outside
    #: [0, 1] and DICOM by each image's ``percentiles``, DICOM by its VOI window when it has one),
    #: ``full`` (the type's full range) or ``percentile`` (every image by its own percentiles).
    #: Fuse with the same ``--normalize`` (and ``--percentiles``): the weights record it
    normalize: str = "auto"
    #: the low and high percentiles mapped to 0 and 1 where ``normalize`` scales by percentiles
    percentiles: tuple[float, float] = (0.1, 99.9)
    hflip: bool = False
    num_workers: int = 0
    #: fraction of training samples replaced by synthetic multi-focus pairs made on the fly
    #: from the second-role (visible) image: a random smooth focus mask, a random Gaussian
    #: blur (σ in ``multifocus_sigma``) of the complement in each source (train/data.py)
    multifocus: float = 0.0
    multifocus_sigma: tuple[float, float] = (1.0, 4.0)
    #: the defocus blur of those pairs: "gaussian" (σ as above), "disc" (a pillbox of radius
    #: 2σ, as a real lens's; same σ draw), or "mixed" (each pair one of the two, equally likely)
    multifocus_psf: str = "gaussian"
    #: focus breathing of those pairs: one source (either, equally likely) magnified about the
    #: crop's centre by 1 + u, u uniform in ``[low, high]`` (bilinear, edge pixels extended), as a
    #: real lens's field of view changes with focus; the truth keeps the unmagnified geometry.
    #: ``[0, 0]`` (default) = none. Lytro's pairs breathe by ≈ 0.5–1 %.
    multifocus_breathing: tuple[float, float] = (0.0, 0.0)
    #: probability that a training sample's two sources exchange roles (X ↔ Y, after the
    #: multi-focus synthesis): 0 keeps the roles (IR first), 0.5 makes the data symmetric
    swap: float = 0.0
    #: probability that a (non-multi-focus) sample has one source, either, set to black under a
    #: random smooth mask: regions where one modality has no signal (CT soft tissue, PET
    #: background, a blank IR sky), which RoadScene pairs rarely show
    blackout: float = 0.0
    #: the data stream starts at this epoch: crops, flips, pair order and the synthetic
    #: samples are pure functions of (seed, epoch, index), so a run warm-started from another
    #: run's weights (``init_weights``) with the same seed would replay that run's samples from
    #: epoch 0; an offset past the epochs the earlier runs used gives it unseen samples while the
    #: seed, and so the validation split, stays the same. The logged ``epoch`` includes it.
    epoch_offset: int = 0


@dataclass
class TrainConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    loss: str = "var_ssim"
    #: keyword arguments of the loss function (e.g. ``grad_weight`` of ``var_ssim_grad``; the term
    #: weights of :data:`LOSS_TERM_WEIGHTS` must be finite numbers >= 0; docs/architecture.md, "Loss")
    loss_params: dict[str, Any] = field(default_factory=dict)
    lr: float = 1e-4
    #: ``constant`` (the paper) or ``cosine``: linear warm-up over ``warmup_steps``, then a
    #: cosine decay from ``lr`` to ``lr * min_lr_ratio`` at ``steps``
    lr_schedule: str = "constant"
    warmup_steps: int = 0
    min_lr_ratio: float = 0.0
    #: run the network in channels-last memory layout (≈1.4× faster on CPU, same results to
    #: float tolerance)
    channels_last: bool = False
    batch_size: int = 4  # global batch (split across processes under torchrun)
    steps: int = 2000
    seed: int = 0
    amp: bool = True  # bf16 autocast on CUDA (``cpu_amp`` decides for CPU)
    #: bf16 autocast of the network's forward on CPU (convolutions and matmuls in bfloat16,
    #: weights, optimiser, loss and validation in float32): ``off`` (float32), ``bf16``, or
    #: ``auto`` (bf16 only where the CPU has native bf16 instructions, AVX512-BF16 or AMX;
    #: elsewhere float32, since emulated bf16 is slower than float32). Beyond the paper; 1.6-2x
    #: the images/s of a 256² step on a CPU with AVX512-BF16 (docs/training.md). ``auto``
    #: makes the arithmetic depend on the machine: the run's log records what was used
    cpu_amp: str = "off"
    #: token budget of the mutual mapping during the training steps only (``model.token_budget``
    #: keeps serving validation and is what the weights store for inference): e.g. 1024 computes
    #: a 256² crop's N = 4096-token mapping on a 2× pooled grid, which trained as well as the exact
    #: mapping and 1.7× faster (docs/training.md). ``None`` = the model's budget; 0 = exact
    train_token_budget: int | None = None
    out_dir: str = "runs/default"
    checkpoint_every: int = 100
    val_every: int = 100
    log_every: int = 10
    threads: int | None = None
    #: warm start: a weights spec (shipped name or .safetensors path, digest-checked) whose
    #: tensors initialise the parameters of the same name and shape; a parameter whose first
    #: dimension is a whole multiple of the stored one is tiled (a ``blend`` head's two logits
    #: start every band of a ``pyramid`` head); the rest keep their fresh initialisation.
    #: Ignored when ``--resume`` finds a checkpoint.
    init_weights: str | None = None
    #: weight of :func:`mutualfuse.losses.truth_loss` on the synthetic multi-focus samples,
    #: whose fused image is known (the sharp crop they were made from); 0 = unsupervised only
    #: (the paper). Needs ``data.multifocus > 0``. Beyond the paper (docs/training.md)
    truth_weight: float = 0.0
    #: γ of :func:`mutualfuse.losses.truth_loss`'s gradient term (mean | |∇F| − |∇T| |, Sobel),
    #: inside the truth term (so weighed by ``truth_weight`` too); 0 = off. Needs ``truth_weight > 0``
    truth_grad_weight: float = 0.0
    #: learning-rate multipliers by parameter-name prefix, e.g. ``{"fusion.align": 10}``: every
    #: parameter whose name starts with a key trains at that multiple of the scheduled rate (its
    #: own Adam parameter group); a prefix that names no parameter is an error. For parameters
    #: new to a warm-started network, which the small fine-tuning rate would barely move. {} = none
    lr_mult: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # ``TrainConfig(data={"sets": [...]}, model={...})`` (a notebook's way): the sections given
        # as mappings are read as :meth:`from_dict` reads them (unknown keys, types: one-line errors)
        if isinstance(self.model, dict) or isinstance(self.data, dict):
            sections = {k: v.to_dict() if k == "model" and isinstance(v, ModelConfig) else
                        asdict(v) if isinstance(v, DataConfig) else v
                        for k, v in (("model", self.model), ("data", self.data))}
            read = TrainConfig.from_dict({**sections, "steps": 1})
            self.model, self.data = read.model, read.data
        self.validate()

    def validate(self) -> "TrainConfig":
        """Refuse values that cannot train (one-line :class:`ParameterError`); returns self.

        Called on construction, again by ``mutualfuse train`` after command-line overrides, and
        by :func:`~mutualfuse.train.train` and :class:`~mutualfuse.train.Trainer` (fields set on the
        object after construction, ``cfg.steps = 5``, are checked there).
        """
        for key, kind in (("model", ModelConfig), ("data", DataConfig)):
            v = getattr(self, key)
            if not isinstance(v, kind):  # e.g. ``cfg.data = {...}`` after construction
                raise ParameterError(f"training config: {key} must be a {kind.__name__}, got {type(v).__name__} "
                                     f"{v!r} (TrainConfig({key}={{...}}) reads a mapping)")
        top, data = {"out_dir": self.out_dir, "init_weights": self.init_weights}, vars(self.data)
        _paths_as_text(top, data)  # ``TrainConfig(out_dir=Path(...))``, ``cfg.out_dir = Path(...)``
        self.out_dir, self.init_weights = top["out_dir"], top["init_weights"]
        validate_train_config(self)
        return self

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["model"] = self.model.to_dict()
        # the JSON form (as stored in a run's config.json and in weights files: tuples become
        # lists), so a config loaded from YAML compares equal to one read back from JSON
        return json.loads(json.dumps(d))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TrainConfig":
        if not isinstance(d, dict):
            raise ParameterError(f"training config must be a mapping of keys to values, got {type(d).__name__}")
        d = dict(d)
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ParameterError(f"unknown training config keys: {sorted(unknown, key=str)} (known: {sorted(known)})")
        model_d = d.pop("model", None)
        data_d = d.pop("data", None)
        for key, sub, kind in (("model", model_d, ModelConfig), ("data", data_d, DataConfig)):
            if sub is not None and not isinstance(sub, dict):
                raise ParameterError(f"training config: {key} must be a mapping of {key} config keys, "
                                     f"got {type(sub).__name__} {sub!r}")
            names = {f.name for f in fields(kind)}
            if sub and set(sub) - names:
                raise ParameterError(f"unknown {key} config keys: {sorted(set(sub) - names, key=str)} "
                                     f"(known: {sorted(names)})")
        model_d, data_d = dict(model_d or {}), dict(data_d or {})  # copies: floats read from text are converted
        _paths_as_text(d, data_d)
        check_field_types(ModelConfig, model_d, "model.")
        check_field_types(DataConfig, data_d, "data.", only=("bool", "str | None"))
        check_field_types(cls, d, "", only=("bool",))
        try:
            model = ModelConfig.from_dict(model_d)
        except (TypeError, ValueError) as e:  # ModelConfig's own checks: name the section
            msg = str(e)  # ModelConfig's messages name the field as model.NAME already
            raise ParameterError(f"training config: {'' if msg.startswith('model.') else 'model: '}{msg}") from None
        return cls(model=model, data=DataConfig(**data_d), **d)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "TrainConfig":
        p = Path(path)
        if p.is_dir():
            raise ParameterError(f"{p}: is a folder, not a config file")
        if not p.is_file():
            raise ParameterError(f"{p}: config file not found")
        try:  # a UTF-8 byte-order mark (Windows editors) is read past, as YAML did and JSON and TOML did not
            text = p.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as e:
            if _utf16_text(e.object):
                raise ParameterError(f"{p}: cannot read config: UTF-16 text (as Windows PowerShell's Out-File "
                                     f"writes it); save it as UTF-8") from None
            raise ParameterError(f"{p}: cannot read config: not UTF-8 text (byte {e.start})") from None
        except OSError as e:
            raise ParameterError(f"{p}: cannot read config ({e.strerror or e})") from None
        try:
            if p.suffix.lower() == ".toml":
                import tomllib

                d = tomllib.loads(text)
            elif p.suffix.lower() == ".json":
                d = json.loads(text, object_pairs_hook=_no_duplicate_keys)
            else:
                d = _yaml_load(text)
        except _ConfigProblem as e:
            raise ParameterError(f"{p}: {e}") from None
        except Exception as e:  # noqa: BLE001 - any parse error is the user's file
            mark, problem = getattr(e, "problem_mark", None), getattr(e, "problem", None)
            if mark is not None and problem:  # YAML: its first line is the context, not the problem
                why = f"line {mark.line + 1}, column {mark.column + 1}: {problem}"
            else:
                why = (str(e).splitlines() or [type(e).__name__])[0]
            raise ParameterError(f"{p}: cannot parse config: {why}") from None
        if d is None or d == {}:
            raise ParameterError(f"{p}: config file is empty (see configs/ for complete examples)")
        if not isinstance(d, dict):
            raise ParameterError(f"{p}: config must be a mapping of keys to values, got {type(d).__name__}")
        try:
            return cls.from_dict(d)
        except UnknownLossError as e:  # the file named, the loss and out_dir kept for the command's message
            raise UnknownLossError(e.loss, e.out_dir, prefix=f"{p}: ") from None
        except (TypeError, ValueError) as e:
            raise ParameterError(f"{p}: {e}") from None


def _utf16_text(raw: bytes) -> bool:
    """Whether ``raw`` is UTF-16 text with its byte-order mark, mostly ASCII as a config is (not
    any bytes that happen to start with ``FF FE``)."""
    if raw[:2] not in (b"\xff\xfe", b"\xfe\xff"):
        return False
    try:
        text = raw.decode("utf-16")
    except UnicodeDecodeError:
        return False
    return bool(text) and sum(c.isascii() for c in text) >= 0.9 * len(text)


class _ConfigProblem(ValueError):
    """A config file that parses but is refused (the message says why; one line)."""


class _DuplicateKey(_ConfigProblem):
    """A key given twice in one mapping of a config file (the last one would silently win)."""


class _CollectionAlias(_ConfigProblem):
    """A YAML alias (``*name``) of a list or mapping other than a merge (``<<: *name``): nested,
    a few hundred bytes of them expand to 10**8 items (an "alias bomb") once the config is walked."""


def _no_duplicate_keys(pairs: list[tuple[Any, Any]]) -> dict[Any, Any]:
    """``object_pairs_hook`` of the JSON reader: a key given twice is refused."""
    d: dict[Any, Any] = {}
    for k, v in pairs:
        if k in d:
            raise _DuplicateKey(f"key {k!r} is given twice; remove one")
        d[k] = v
    return d


def _yaml_load(text: str) -> Any:
    """``yaml.safe_load``, but a key given twice in one mapping is refused, naming its line
    (PyYAML keeps the last silently: a ``steps:`` added below the first would win unnoticed)."""
    import yaml

    class Loader(yaml.SafeLoader):
        def compose_node(self, parent, index):
            # an alias of a list or mapping is refused, except as a merge (`<<: *defaults`): nested
            # aliases expand exponentially when the config is walked (481 bytes took 27 s and 3.5 GB)
            if self.check_event(yaml.AliasEvent):
                event = self.peek_event()
                node = self.anchors.get(event.anchor)
                merge = isinstance(index, yaml.ScalarNode) and index.tag == "tag:yaml.org,2002:merge"
                if isinstance(node, (yaml.SequenceNode, yaml.MappingNode)) and not merge:
                    raise _CollectionAlias(f"line {event.start_mark.line + 1}: alias *{event.anchor} of a "
                                           f"{'list' if isinstance(node, yaml.SequenceNode) else 'mapping'}: "
                                           "training configs take aliases of single values and merges "
                                           f"(<<: *{event.anchor}) only; write the values out")
            return super().compose_node(parent, index)

    def mapping(loader, node, deep=False):
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *anchor`: its keys may be overridden
                continue
            key = loader.construct_object(key_node, deep=deep)
            try:
                line = seen.get(key)
            except TypeError:  # an unhashable key: the base constructor says what is wrong
                break
            if line is not None:
                raise _DuplicateKey(f"line {key_node.start_mark.line + 1}: key {key!r} is given twice "
                                    f"(first on line {line}); remove one")
            seen[key] = key_node.start_mark.line + 1
        return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
                           lambda loader, node: dict(mapping(loader, node)))
    # YAML 1.1 (PyYAML) reads a number in exponent form without a dot or without the exponent's
    # sign (``1e-4``, ``5e3``, ``1.0e4``) as text, so ``min_lr_ratio: 1e-2`` was refused as "not a
    # number": such a plain scalar is a float here, as in YAML 1.2, TOML and JSON
    Loader.add_implicit_resolver("tag:yaml.org,2002:float", _EXP_FLOAT, list("-+0123456789."))
    return yaml.load(text, Loader=Loader)  # noqa: S506 - a SafeLoader subclass


#: a number in exponent form, which YAML 1.1 reads as text unless it has a dot and a signed exponent
_EXP_FLOAT = re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


#: what a value of each field annotation must be (:func:`check_field_types`), and how to say it
_FIELD_TYPES: dict[str, tuple[Any, str]] = {
    "bool": (lambda v: isinstance(v, bool), "true or false"),
    "int": (_is_int, "an integer"),
    "float": (_is_num, "a number"),
    "str": (lambda v: isinstance(v, str), "a string"),
    "int | None": (lambda v: v is None or _is_int(v), "an integer or null"),
    "float | None": (lambda v: v is None or _is_num(v), "a number or null"),
    "str | None": (lambda v: v is None or (isinstance(v, str) and v != ""), "a non-empty string or null"),
    "tuple[int, ...]": (lambda v: isinstance(v, (list, tuple)) and all(_is_int(x) for x in v),
                        "a list of integers"),
}


def _paths_as_text(top: dict[str, Any], data: dict[str, Any]) -> None:
    """The path-like values (``pathlib.Path``) of ``out_dir``, ``init_weights`` (``top``: the
    config's keys), ``data.root`` and the entries of a ``data.sets`` list (``data``), in place, as
    their strings (``os.fspath``): the config is stored as JSON (``config.json``, checkpoints,
    weights), which has no paths. ``out_dir=Path(...)`` passed the checks and stopped the run
    with ``TypeError: Object of type PosixPath is not JSON serializable``; ``data.root`` and
    ``init_weights`` as paths were refused as "must be a non-empty string"."""
    def text(v: Any) -> Any:
        return os.fspath(v) if isinstance(v, os.PathLike) else v

    for key in ("out_dir", "init_weights"):
        if key in top:
            top[key] = text(top[key])
    if "root" in data:
        data["root"] = text(data["root"])
    if isinstance(data.get("sets"), list):
        data["sets"] = [text(v) for v in data["sets"]]


def check_field_types(cls, d: dict[str, Any], prefix: str, only: tuple[str, ...] | None = None) -> None:
    """Refuse values of ``d`` (the keys of dataclass ``cls``) whose type does not fit the field's
    annotation (:data:`_FIELD_TYPES`; ``only`` restricts the check to those annotations): a
    one-line :class:`ParameterError` naming ``prefix + key``. Booleans must be real booleans
    (YAML/TOML/JSON ``true``/``false``): a string ``"false"`` is true in Python. A string that
    reads as a number is taken for a ``float`` field (YAML 1.1 reads ``1e-4`` as text)."""
    for f in fields(cls):
        if f.name not in d or f.type not in _FIELD_TYPES or (only is not None and f.type not in only):
            continue
        v = d[f.name]
        if f.type in ("float", "float | None") and isinstance(v, str):
            try:
                v = d[f.name] = float(v)
            except ValueError:
                pass
        ok, what = _FIELD_TYPES[f.type]
        if not ok(v):
            raise ParameterError(f"training config: {prefix}{f.name} must be {what}, got {v!r}")


class UnknownLossError(ParameterError):
    """``loss`` names no registered loss: a typo, or a loss of one's own whose module was not
    imported (``mutualfuse train --import MODULE``; in Python, import it before the config is made).
    ``loss`` and ``out_dir`` are kept so that ``mutualfuse train`` can say which module a
    checkpoint in ``out_dir`` was trained with."""

    def __init__(self, loss: str, out_dir: Any = None, prefix: str = ""):
        from ..losses import LOSSES

        self.loss, self.out_dir = loss, out_dir
        from ..registry import did_you_mean

        super().__init__(f"{prefix}training config: loss must be one of {', '.join(LOSSES)}, got {loss!r} (a loss of your "
                         "own is registered by its module, mutualfuse.losses.register_loss: pass that module "
                         "with --import MODULE)" + did_you_mean(str(loss), list(LOSSES)))


#: the largest ``seed`` (NumPy's legacy seeding takes 32 bits)
SEED_MAX = 2**32 - 1
#: the most CPU threads of torch a run takes (``threads``, ``--threads``)
MAX_THREADS = 1024

#: the keys of :attr:`TrainConfig.loss_params` that weigh an added loss term (λ of ``var_ssim_grad``,
#: μ of ``var_ssim_grad_int``): each must be a finite number >= 0
LOSS_TERM_WEIGHTS = ("grad_weight", "int_weight")

#: values of :attr:`TrainConfig.cpu_amp`
CPU_AMP_CHOICES = ("off", "bf16", "auto")


def cpu_bf16_wanted(cpu_amp: str, native=cpu_has_native_bf16) -> bool:
    """Whether :attr:`TrainConfig.cpu_amp` asks for bf16 autocast on this CPU: ``bf16`` always,
    ``auto`` where ``native()`` (the CPU has bf16 instructions), ``off`` never. The one rule of
    the trainer and ``benchmarks/bench_train.py``."""
    return cpu_amp == "bf16" or (cpu_amp == "auto" and native())


def validate_train_config(cfg: TrainConfig) -> None:
    """The checks of :meth:`TrainConfig.validate`: positive step count, learning rate, batch size,
    crop and intervals; every problem is a one-line :class:`ParameterError` naming the key."""
    import math

    def need(ok: bool, key: str, value: Any, what: str) -> None:
        if not ok:
            raise ParameterError(f"training config: {key} must be {what}, got {value!r}")

    need(_is_int(cfg.steps) and cfg.steps >= 1, "steps", cfg.steps, "an integer >= 1")
    # booleans: real ones only (a string "false" is true in Python), in every section
    for prefix, obj in (("", cfg), ("data.", cfg.data), ("model.", cfg.model)):
        for f in fields(obj):
            if f.type == "bool":
                v = getattr(obj, f.name)
                need(isinstance(v, bool), prefix + f.name, v, "true or false")
    need(isinstance(cfg.out_dir, (str, os.PathLike)) and str(cfg.out_dir) != "", "out_dir", cfg.out_dir,
         "a folder path")
    need(cfg.data.root is None or (isinstance(cfg.data.root, (str, os.PathLike)) and str(cfg.data.root) != ""),
         "data.root", cfg.data.root, "a folder path or null")
    from ..losses import LOSSES
    from ..model import MODELS

    need(isinstance(cfg.model.arch, str) and cfg.model.arch in MODELS.names(), "model.arch", cfg.model.arch,
         f"one of {', '.join(MODELS.names())}")
    need(isinstance(cfg.loss, str) and cfg.loss != "", "loss", cfg.loss, f"one of {', '.join(LOSSES)}")
    if cfg.loss not in LOSSES:
        raise UnknownLossError(cfg.loss, cfg.out_dir)
    need(cfg.init_weights is None or (isinstance(cfg.init_weights, str) and cfg.init_weights != ""),
         "init_weights", cfg.init_weights, "a weights name or .safetensors path")
    if isinstance(cfg.lr, str):  # YAML 1.1 reads 1e-4 (no dot) as text
        try:
            cfg.lr = float(cfg.lr)
        except ValueError:
            pass
    need(isinstance(cfg.lr, (int, float)) and not isinstance(cfg.lr, bool) and math.isfinite(cfg.lr) and cfg.lr > 0,
         "lr", cfg.lr, "a finite number > 0")
    need(_is_int(cfg.batch_size) and cfg.batch_size >= 1, "batch_size", cfg.batch_size, "an integer >= 1")
    # NumPy's legacy seeding (np.random.seed) takes 0 .. 2**32 - 1, and so does every seed here
    need(_is_int(cfg.seed) and 0 <= cfg.seed <= SEED_MAX, "seed", cfg.seed, f"an integer in 0..{SEED_MAX}")
    for key in ("checkpoint_every", "val_every"):
        v = getattr(cfg, key)
        need(_is_int(v) and v >= 0, key, v, "an integer >= 0 (0 = never)")
    need(_is_int(cfg.log_every) and cfg.log_every >= 1, "log_every", cfg.log_every, "an integer >= 1")
    if cfg.cpu_amp is False:  # YAML 1.1 reads a bare `off` as false
        cfg.cpu_amp = "off"
    need(cfg.train_token_budget is None or (_is_int(cfg.train_token_budget) and cfg.train_token_budget >= 0),
         "train_token_budget", cfg.train_token_budget, "an integer >= 0 (0 = exact) or null")
    need(isinstance(cfg.cpu_amp, str) and cfg.cpu_amp in CPU_AMP_CHOICES, "cpu_amp", cfg.cpu_amp, f"one of {', '.join(CPU_AMP_CHOICES)}")
    # the model's fields (token_budget, in_channels, temperatures …) are checked by ModelConfig itself
    # bounded: torch starts that many OpenMP threads, and an absurd count (a typo, --threads 100000)
    # killed the run with libgomp's 'Thread creation failed' (exit 1) or a segmentation fault
    need(cfg.threads is None or (_is_int(cfg.threads) and 1 <= cfg.threads <= MAX_THREADS), "threads", cfg.threads,
         f"an integer >= 1 (at most {MAX_THREADS}) or null")
    d = cfg.data
    need(_is_int(d.crop) and d.crop >= 8, "data.crop", d.crop, "an integer >= 8 (pixels)")
    from ..io.samples import DEFAULT_PERCENTILES, NORMALIZE_MODES

    need(isinstance(d.normalize, str) and d.normalize in NORMALIZE_MODES, "data.normalize", d.normalize,
         f"one of {', '.join(NORMALIZE_MODES)} (the policy of mutualfuse fuse --normalize)")
    pct = tuple(d.percentiles) if isinstance(d.percentiles, (list, tuple)) else ()
    need(len(pct) == 2 and all(_is_num(v) and math.isfinite(v) for v in pct) and 0 <= pct[0] < pct[1] <= 100,
         "data.percentiles", d.percentiles, "[low, high] with 0 <= low < high <= 100")
    need(d.normalize != "full" or [float(v) for v in pct] == list(DEFAULT_PERCENTILES), "data.percentiles",
         d.percentiles, f"its default {list(DEFAULT_PERCENTILES)} with data.normalize 'full' (no image is "
         "scaled by percentiles)")
    need(_is_int(d.val_pairs) and d.val_pairs >= 0, "data.val_pairs", d.val_pairs, "an integer >= 0")
    need(_is_int(d.val_crop) and (d.val_crop == 0 or d.val_crop >= 8), "data.val_crop", d.val_crop,
         "0 (the held-out pairs at full size) or an integer >= 8 (their centre crops of that side)")
    need(_is_int(d.num_workers) and d.num_workers >= 0, "data.num_workers", d.num_workers, "an integer >= 0")
    need(_is_int(d.epoch_offset) and d.epoch_offset >= 0, "data.epoch_offset", d.epoch_offset, "an integer >= 0")
    need(isinstance(d.sets, list) and len(d.sets) > 0 and all(isinstance(x, str) and x for x in d.sets),
         "data.sets", d.sets, "a non-empty list of set folders (or .csv pairs lists)")
    need(d.roles is None or (isinstance(d.roles, (list, tuple)) and len(d.roles) == 2
                             and all(isinstance(x, str) and x and x not in (".", "..") and "/" not in x
                                     and "\\" not in x for x in d.roles) and d.roles[0] != d.roles[1]),
         "data.roles", d.roles, "null or a list of two different folder names, first role first (e.g. [ir, vi])")
    num = (int, float)
    need(_is_num(d.multifocus) and 0.0 <= d.multifocus <= 1.0, "data.multifocus", d.multifocus,
         "a fraction in [0, 1]")
    need(isinstance(d.swap, num) and not isinstance(d.swap, bool) and 0.0 <= d.swap <= 1.0, "data.swap", d.swap, "a number in [0, 1]")
    need(isinstance(d.blackout, num) and not isinstance(d.blackout, bool) and 0.0 <= d.blackout <= 1.0,
         "data.blackout", d.blackout, "a number in [0, 1]")
    need(d.multifocus_psf in ("gaussian", "disc", "mixed"), "data.multifocus_psf", d.multifocus_psf,
         "'gaussian', 'disc' or 'mixed'")
    br = tuple(d.multifocus_breathing) if isinstance(d.multifocus_breathing, (list, tuple)) else ()
    need(len(br) == 2 and all(isinstance(v, num) and not isinstance(v, bool) for v in br)
         and 0 <= br[0] <= br[1] <= 0.2,
         "data.multifocus_breathing", d.multifocus_breathing, "[low, high] with 0 <= low <= high <= 0.2")
    sig = tuple(d.multifocus_sigma) if isinstance(d.multifocus_sigma, (list, tuple)) else ()
    need(len(sig) == 2 and all(_is_num(v) for v in sig) and 0 < sig[0] <= sig[1],
         "data.multifocus_sigma", d.multifocus_sigma, "[low, high] with 0 < low <= high")
    # the settings of the synthetic multi-focus pairs do nothing without them: a changed one is
    # refused rather than silently ignored (as truth_weight is, below)
    if not d.multifocus:
        for key, value, default in (("multifocus_sigma", [float(v) for v in sig], [1.0, 4.0]),
                                    ("multifocus_psf", d.multifocus_psf, "gaussian"),
                                    ("multifocus_breathing", [float(v) for v in br], [0.0, 0.0])):
            need(value == default, f"data.{key}", getattr(d, key),
                 f"its default {default!r} unless data.multifocus > 0 (it shapes only the synthetic "
                 f"multi-focus samples, and there are none)")
    need(cfg.lr_schedule in ("constant", "cosine"), "lr_schedule", cfg.lr_schedule, "'constant' or 'cosine'")
    need(_is_int(cfg.warmup_steps) and cfg.warmup_steps >= 0, "warmup_steps", cfg.warmup_steps, "an integer >= 0")
    need(_is_num(cfg.min_lr_ratio) and 0.0 <= cfg.min_lr_ratio <= 1.0, "min_lr_ratio", cfg.min_lr_ratio,
         "a number in [0, 1]")
    if cfg.lr_schedule == "constant":  # warm-up and floor belong to the cosine schedule: not silently ignored
        need(cfg.warmup_steps == 0, "warmup_steps", cfg.warmup_steps,
             "0 unless lr_schedule is 'cosine' (the constant schedule has no warm-up)")
        need(cfg.min_lr_ratio == 0, "min_lr_ratio", cfg.min_lr_ratio,
             "0 unless lr_schedule is 'cosine' (the constant schedule does not decay)")
    need(isinstance(cfg.truth_weight, (int, float)) and not isinstance(cfg.truth_weight, bool)
         and 0.0 <= float(cfg.truth_weight) < float("inf"), "truth_weight", cfg.truth_weight, "a number >= 0")
    need(not cfg.truth_weight or cfg.data.multifocus > 0, "truth_weight", cfg.truth_weight,
         "0 unless data.multifocus > 0 (only synthetic multi-focus samples have a truth)")
    need(isinstance(cfg.truth_grad_weight, (int, float)) and not isinstance(cfg.truth_grad_weight, bool)
         and 0.0 <= float(cfg.truth_grad_weight) < float("inf"), "truth_grad_weight", cfg.truth_grad_weight,
         "a number >= 0")
    need(not cfg.truth_grad_weight or cfg.truth_weight > 0, "truth_grad_weight", cfg.truth_grad_weight,
         "0 unless truth_weight > 0 (it is part of the truth term)")
    need(isinstance(cfg.lr_mult, dict) and all(
        isinstance(k, str) and k and isinstance(v, (int, float)) and not isinstance(v, bool)
        and math.isfinite(v) and v > 0 for k, v in cfg.lr_mult.items()),
        "lr_mult", cfg.lr_mult, "a mapping of parameter-name prefixes to numbers > 0")
    need(isinstance(cfg.loss_params, dict), "loss_params", cfg.loss_params, "a mapping of loss arguments")
    # the weights of the added loss terms: a negative one would reward the opposite of the term
    # (training maximised the gradient mismatch), a non-finite one makes every step NaN
    for key in LOSS_TERM_WEIGHTS:
        if key in cfg.loss_params:
            v = cfg.loss_params[key]
            need(_is_num(v) and math.isfinite(v) and v >= 0, f"loss_params.{key}", v, "a finite number >= 0")
