"""Python API: :class:`Fuser` and :func:`fuse`.

>>> from importlib.resources import files
>>> import numpy as np
>>> from PIL import Image
>>> import mutualfuse
>>> ir, vis = (np.asarray(Image.open(files("mutualfuse") / f"data/samples/tno-01/{n}.png")) for n in "ab")
>>> fused = mutualfuse.fuse(ir, vis)                      # numpy / PIL / torch in, same kind out
>>> fused.shape, fused.dtype
((270, 360), dtype('uint8'))
>>> f = mutualfuse.Fuser(model="default", device="cpu")   # keeps the network loaded
>>> fused = f.fuse(Image.fromarray(ir), Image.fromarray(vis))
>>> fused.mode, fused.size
('L', (360, 270))
>>> f.report.task                                         # the task detected for this pair
'ir-vis'
>>> f.report.notes                                        # approximations of the last call
['approximate mutual mapping: computed on a 2x pooled grid ...', 'task: ir-vis, detected (...); task= / --task chooses another']

Inputs may be gray or colour, single or batched; colour goes through :mod:`mutualfuse.color`
(fuse luminance, keep chroma). Numpy arrays keep their dtype (uint8 → uint8, uint16 → uint16,
float → float in [0, 1], int16 → int16; signed and other integers are read as the command
line reads a TIFF of their type); PIL images come back as PIL images in the mode their samples were
read as: ``L``, ``RGB``, ``I;16`` or ``F`` (``1``/``LA``/``P`` → ``L`` or ``RGB``, ``RGBA``/``CMYK`` → ``RGB``,
``I`` → ``I;16``, or ``I`` on -32768…32767 when it holds a negative value; noted in :attr:`Fuser.report`); tensors as tensors (``(H, W)``, ``(C, H, W)``
or batched ``(B, C, H, W)``) of the input's dtype and device. When one input is colour the
result is colour, in the kind of the colour input.

Memory grows linearly with the image, never quadratically: large images run through the exact
halo streaming of :mod:`mutualfuse.tiling` (``max_window_pixels`` bounds one window's
activations), and the mutual mapping above the token budget runs on a pooled grid (reported in
:attr:`Fuser.report`; ``token_budget=0`` for exact). The streaming keeps the encoder features of
the whole image, so the network's CPU peak is about 1.1 GB + 165 bytes a pixel (measured
2026-12-06: 1.78 GB at 2048², 3.85 GB at 4096²; docs/inputs.md); ``tile=`` bounds that part by the tile size (approximate). A call
whose lower bound (:meth:`Fuser.min_memory`) exceeds the available memory is refused with an
:class:`~mutualfuse.errors.InputError` before the network runs.

Threads: one :class:`Fuser` (and :func:`fuse`'s cached one) may be shared by threads; it runs
one call at a time, so the results are those of the calls in sequence, and each thread reads the
:attr:`Fuser.report` of its own last call. For calls in parallel, give each thread its own Fuser
(PyTorch already spreads one network call over the CPU's cores). A ``fuse_stack`` progress
callback runs inside the call: it must not wait for another thread's call on the same Fuser.
"""
from __future__ import annotations

import functools
import os
import threading
from dataclasses import dataclass, field
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from .errors import InputError, ParameterError
from .wording import counted
from .io.samples import DEFAULT_PERCENTILES
from .cpu import cpu_has_amx_bf16
from .validation import (DEFAULT_WINDOW_PIXELS, MIN_SIDE, check_batch_pair, check_fuse_options, check_pair,
                         pick_device, pick_dtype)

#: the name under which the network is registered as a fusion method
NETWORK_METHOD = "mutualfuse"
#: :attr:`FuseReport.method` and :attr:`Fuser.weights_spec` of a :meth:`Fuser.from_model` fuser
IN_MEMORY = "in-memory network"


@dataclass
class FuseReport:
    """What the last fuse did: approximations are reported, never silent."""

    #: the model that fused: a classical method's name, or for the network its weights (a shipped
    #: name or the path given: ``"default"`` for ``Fuser()``, ``Fuser("mutualfuse")`` and
    #: :func:`fuse`'s default alike), so that ``Fuser(report.method)`` makes the same model again;
    #: :attr:`Fuser.method` is ``"mutualfuse"`` for every network
    method: str
    mapping_pool: int = 1  # >1: the mutual mapping ran on a pooled grid (token budget)
    windows: int = 1  # exact streaming windows per image (1 = one-shot forward)
    tiles: int = 1  # independent blended tiles (--tile); >1 changes the result
    notes: list[str] = field(default_factory=list)
    #: the network's task setting of the last call: "stored", a task, or the detected task(s)
    #: of task mode "auto" (comma-separated when a batch held several); None for a classical method
    task: str | None = None
    #: task mode "auto": per pair, what :func:`mutualfuse.tasks.detect_task` found (as dicts)
    detected: list = field(default_factory=list)
    #: :meth:`Fuser.fuse_stack`: the pairwise fusions it made (N − 1 for N images)
    fusions: int = 1


def _one_call_at_a_time(method: Callable) -> Callable:
    """Run a :class:`Fuser` entry point under the fuser's lock: one call at a time per fuser.

    A call changes the fuser's state while it runs: task mode ``"auto"`` sets the network to
    the detected task's settings (:meth:`Fuser.use_task`) before fusing, and :attr:`Fuser.report`
    is filled as the call goes. Threads fusing with one fuser at once fused pairs at another
    pair's task settings (up to 58 grey levels off on the bundled samples) and mixed their
    reports; now each waits for the call in progress. The lock is
    re-entrant: :meth:`Fuser.fuse` calls :meth:`Fuser.fuse_arrays`, which calls
    :meth:`Fuser.fuse_gray_batch`."""
    @functools.wraps(method)
    def call(self, *args, **kwargs):
        with self._lock:
            return method(self, *args, **kwargs)

    return call


def _refuse_a_shadowing_method(name: str) -> None:
    """A method of one's own registered under a shipped weights name (``"default"``) is never what
    ``Fuser(name)`` runs (the name is the weights): say so instead of fusing with the network under
    the method's name. Only where the method registry is imported (no method of one's own can be
    registered without it), so a shipped name still needs no registry import."""
    import sys

    methods = sys.modules.get("mutualfuse.methods")
    if methods is None or name not in methods.METHODS:
        return
    fn = methods.METHODS.get(name)
    if not methods._is_own(fn):
        return
    raise ParameterError(f"{name!r} is the name of shipped weights and of the method {methods._where(fn)}: "
                         f"mutualfuse.Fuser({name!r}) fuses with those weights, never with the method; register "
                         "the method under another name")


def _network_weights(model: str | os.PathLike) -> str | os.PathLike | None:
    """The weights ``model`` names when it is the network, None when it is a classical method.

    Shipped weights names and existing paths are the network without importing the method
    registry (whose classical methods pull in PyWavelets, dtcwt, scikit-image …); a registered
    network method (``"mutualfuse"``) maps to its weights; anything else must be a classical
    method, or looks like a weights path (which then fails as "not found").
    """
    if not isinstance(model, (str, os.PathLike)):
        raise TypeError(f"model must be a method name, a shipped weights name or a path to a .safetensors file, "
                        f"got {type(model).__name__} {model!r}"[:300])
    from .weights import SHIPPED

    name = str(model)
    if name in SHIPPED:
        _refuse_a_shadowing_method(name)
        # the shipped spelling (names are case-insensitive): Fuser("Default") reports "default"
        return next((n for n in SHIPPED if n.lower() == name.lower()), model)
    if os.path.exists(model) and (os.sep in name or "." in os.path.basename(name)):
        return model
    from .methods import METHODS, is_network_method

    if name in METHODS:
        return METHODS.meta(name)["weights"] if is_network_method(name) else None
    if name.lower().endswith(".safetensors") or os.sep in name or os.path.isdir(name):
        # a folder (Fuser("run1"), a training output folder in the working folder) is weights given
        # wrongly: read_weights says which file in it to give (was "unknown method or weights")
        return model
    from .registry import did_you_mean

    names = METHODS.names() + [n for n in SHIPPED if n not in METHODS]
    raise ParameterError(f"unknown method or weights {name!r}" + did_you_mean(name, names)
                         + f" (methods: {', '.join(METHODS.names())}; shipped weights: {', '.join(SHIPPED)}; "
                         "or a path to a .safetensors file)")


class Fuser:
    """A loaded fusion network (or a registered classical method) ready to fuse pairs.

    Args:
        model: shipped weights name (``"default"``), a path to a ``.safetensors`` file, or the
            name of a registered method (``"dwt"``, ``"average"`` …). Or as :func:`fuse` takes
            it, by keyword: ``Fuser(method="dwt")``, ``Fuser(weights="my.safetensors")``.
        device: ``"cpu"``, ``"cuda"`` or ``"auto"``.
        dtype: ``"float32"`` (default), ``"float16"`` (CUDA only) or ``"bfloat16"`` for the
            network; half precision runs under autocast with float32 weights and keeps the
            precision-sensitive parts in float32 (approximate: docs/inputs.md, "bfloat16 on CPU").
        token_budget: override the model's token budget of the mutual mapping
            (``0`` or ``None`` = always exact, ``-1`` = the model's default).
            ``dtype``, ``token_budget`` and ``max_window_pixels`` are the network's: a classical
            method refuses a value other than the default (as it refuses ``blend_temperature``).
        chroma: rule for Cb/Cr when both sources are colour (:data:`mutualfuse.color.CHROMA_RULES`);
            ``"gray"``: no chroma, gray output (the fused luminance) even for colour inputs.
        normalize: intensity policy (docs/inputs.md, "Bit depth"): ``"auto"`` (8-bit ``v/255``,
            16-bit per image by percentiles, float in [0, 1] as is), ``"full"`` (the type's full
            range) or ``"percentile"`` (every image by its percentiles, 8-bit too). ``None``
            (default): the policy the network's weights record that their training read its images
            with (``train_data`` of ``mutualfuse train`` since 2026-12-07; a note says so where it
            is not ``"auto"``), else ``"auto"`` (every shipped model, classical methods).
        percentiles: ``(low, high)`` percentiles mapped to 0 and 1 where the policy scales by
            percentiles (``0 <= low < high <= 100``); ``None`` (default): the weights' recorded
            training percentiles as for ``normalize``, else ``(0.1, 99.9)``.
        max_window_pixels: pixels of one exact streaming window (bounds memory; any value gives
            the same result to float32 rounding).
        tile, tile_overlap: fuse independent ``tile``×``tile`` tiles blended over
            ``tile_overlap`` pixels (approximation; off by default). ``tile_overlap``: smaller
            than ``tile`` (else a :class:`ParameterError`) and at most ``tile // 2``: a larger one
            is reduced to that with a ``UserWarning``; ``None`` (default): 64, or ``tile // 2``
            where that is smaller, without a warning.
        progress: ``True``: show a progress bar (stderr) for multi-window images, and one of the tiles under
            ``tile``.
        blend_temperature: override the temperature of a blend/pyramid model's selection
            (``None`` = the one stored with the weights, or the ``task``'s; ``default`` ships with
            0.5, the trained model is 1.0; smaller = harder selection). docs/training.md.
        detail_gain: multiply a pyramid model's fused detail bands by this constant in [0.5, 2]
            (``None`` = the weights' own, 1.0; ``> 1`` sharpens, at a cost in fidelity measured
            in docs/training.md, "Detail gain").
        detail_activity: add a soft choose-max rule to a pyramid model's detail-band weights,
            γ·(A_X − A_Y) with A the 3×3 mean of |band|, γ in [0, 10000] (``None`` = the weights'
            own, 0 = off; docs/training.md, "Given rules on the pyramid bands": γ = 1000 raised
            the edge metrics slightly, γ ≳ 3000 overrules the learned selection).
        task: ``"ir-vis"``, ``"multi-focus"`` or ``"medical"``: use the inference settings the
            shipped weights record for that task, each chosen on that task's own validation
            columns (:func:`mutualfuse.weights.task_settings`; ``default``: IR–VIS T = 0.1 with
            detail_activity 10000, multi-focus T = 0.1 with detail_activity 3000, medical
            detail_activity 300); ``"auto"``: per pair, the settings of the task that
            :func:`mutualfuse.tasks.detect_task` finds (reported in :attr:`report`);
            ``"stored"``: the weights' stored settings, one compromise for every task.
            ``None`` (default) = ``"auto"`` for weights that record per-task settings, else
            ``"stored"``. Settings given explicitly take precedence over a task's.
        **method_params: parameters of a classical method (``Fuser("dwt", levels=3)``; its
            parameters and allowed values: ``mutualfuse methods --card dwt``); the network takes none.

    A network held in memory (the one :func:`mutualfuse.weights.load_model` returns, or one
    training built) fuses with :meth:`Fuser.from_model` ``(net, device=..., ...)``: the same
    options, task mode ``"stored"`` only; the fuser uses its own copy of ``net`` (``net`` is not
    changed) and fuses bit for bit as ``Fuser(path, task="stored")`` with ``net`` saved there.
    """

    def __init__(self, model: str | os.PathLike = "default", device: str = "auto", dtype: str | torch.dtype = "float32",
                 token_budget: int | None = -1, *, chroma: str = "saturation", normalize: str | None = None,
                 percentiles: tuple[float, float] | None = None, max_window_pixels: int = DEFAULT_WINDOW_PIXELS,
                 tile: int | None = None, tile_overlap: int | None = None, progress: bool = False,
                 blend_temperature: float | None = None, detail_gain: float | None = None,
                 detail_activity: float | None = None, task: str | None = None, **method_params: Any):
        self._lock = threading.RLock()  # one call at a time (:func:`_one_call_at_a_time`)
        self._local = threading.local()  # each thread's last report (:attr:`report`)
        if "method" in method_params or "weights" in method_params:  # as fuse() takes them
            if str(model) != "default":
                raise ParameterError(f"the model is given twice: {model!r} and "
                                     + " and ".join(f"{k}={method_params[k]!r}" for k in ("method", "weights")
                                                    if k in method_params)
                                     + "; give one (Fuser('cbf'), Fuser(method='cbf') or Fuser(weights='my.safetensors'))")
            model = _model_from(method_params.pop("method", NETWORK_METHOD), method_params.pop("weights", None))
        if _device_later(model, device, dtype):
            # a classical method runs on the CPU: its device and dtype are only checked here (as
            # pick_device / pick_dtype would) and made torch objects on first use (:meth:`__getattr__`),
            # so that fusing with a classical method does not import PyTorch (0.8-1 s of start-up)
            self._device_spec = (device, dtype)
        else:
            self.device = pick_device(device, api=True)
            self.dtype = pick_dtype(dtype, self.device)
        self._set_options(chroma=chroma, normalize=normalize, tile=tile, tile_overlap=tile_overlap,
                          token_budget=token_budget, blend_temperature=blend_temperature, detail_gain=detail_gain,
                          detail_activity=detail_activity, percentiles=percentiles,
                          max_window_pixels=max_window_pixels, progress=progress)
        self.method_params = method_params
        self.net = None
        self.runner = None
        weights = _network_weights(model)
        #: the network's weights as given (a shipped name or a file), None for a classical method
        self.weights_spec = None if weights is None else str(weights)
        # the network by its weights (Fuser() and Fuser(method="mutualfuse") alike: "default"), a
        # classical method by its name: what Fuser(report.method) makes again (FuseReport.method)
        self.report = FuseReport(method=str(model) if weights is None else self.weights_spec)
        self.task = task
        self.task_mode: str | None = None  # the network's: "auto", "stored" or a task
        self._task_cfg: dict[str, dict[str, float]] = {}
        if weights is None:  # a classical method
            for name, v in (("blend_temperature", blend_temperature), ("detail_gain", detail_gain),
                            ("detail_activity", detail_activity), ("task", task)):
                if v is not None:
                    raise ParameterError(f"{name} applies to the network, not to method {model!r}")
            # the network's own settings, refused with a value other than their default (which every
            # caller passes, e.g. the command line's fuse-dir and the web page): a classical method
            # has no mutual mapping, streaming windows or network precision, and ignored them silently
            for name, v, default in (("token_budget", token_budget, -1),
                                     ("max_window_pixels", max_window_pixels, DEFAULT_WINDOW_PIXELS),
                                     ("dtype", str(dtype).removeprefix("torch."), "float32")):
                if v is None or v != default:
                    raise ParameterError(f"{name}={v!r} applies to the network, not to method {model!r} "
                                         f"(leave it at its default, {default!r})")
            from .methods import check_method_params

            # names and values now (before fuse reads an image, before fuse-dir creates its folder)
            try:
                self.method_params = check_method_params(str(model), method_params)
            except ParameterError as e:  # a misspelt Fuser option (tokn_budget) is no method parameter either
                # only names the method does not take: a bad value of its own parameter (cvt's wedges=4)
                # was followed by "did you mean the Fuser option weights (for wedges)?"
                raise ParameterError(f"{e}{_option_typos(_not_taken(str(model), method_params))}") from None
            from .methods import METHODS

            # the registered spelling (names are case-insensitive): Fuser("Average") is "average",
            # whose stacks are weighted means (MEAN_METHODS); it fused them as pairwise ½/½ means
            self.method = METHODS.entry(str(model)).name
            _refuse_missing_params(self.method, self.method_params)
            self.report = FuseReport(method=self.method)
            return
        if method_params:
            hint = "; weights are the first argument: Fuser('my.safetensors')" if "model" in method_params else ""
            raise ParameterError(f"the network takes no method parameters (got {', '.join(sorted(method_params))}); "
                                 f"they apply to classical methods, e.g. Fuser('dwt', levels=3)"
                                 f"{hint}{_option_typos(method_params)}")
        from .weights import load_model

        overrides = {} if token_budget == -1 else {"token_budget": token_budget}
        from .tasks import TASK_CHOICES

        if task is not None and task not in TASK_CHOICES:
            raise ParameterError(f"unknown task {task!r}; tasks: {', '.join(TASK_CHOICES)}")
        from .weights import task_mode

        task = task_mode(str(weights), task)
        self.task_mode = task
        from .tasks import TASKS
        from .weights import recorded_tasks, task_settings

        if task == "auto" and not recorded_tasks(str(weights)):  # name the mode asked for, not its first task
            from .weights import SHIPPED

            with_tasks = sorted(n for n, w in SHIPPED.items() if w.tasks)
            raise ParameterError(f"task 'auto': weights {model!r} record no per-task settings to choose from "
                                 f"(weights that do: {', '.join(with_tasks) or 'none'}); without a task "
                                 f"(or with task 'stored') they fuse at their stored settings")
        # the task settings this fuser applies (use_task): every task's in mode "auto", one task's
        # for a fixed task, none for "stored"
        presets = {t: task_settings(str(weights), t) for t in (TASKS if task == "auto" else
                                                                () if task == "stored" else (task,))}
        if blend_temperature is not None:
            overrides["blend_temperature"] = float(blend_temperature)
        net, self.weights_meta = load_model(weights, **overrides)
        from .weights import unchecked_note

        # an older file read unverified (no digest, no sidecar): said on every call, as the policy is
        self._integrity_note = unchecked_note(weights, self.weights_meta)
        self._use_training_policy(str(model))
        self._use_network(net, model, blend_temperature, detail_gain, detail_activity, presets, progress)

    def _use_training_policy(self, name: str) -> None:
        """Read inputs as the weights' training read its images: ``mutualfuse train`` records its
        ``data.normalize`` / ``data.percentiles`` in the weights' ``train_data`` (since
        2026-12-07); where ``normalize`` / ``percentiles`` were not given, they are taken from
        there (a network trained on 16-bit data read with ``full`` fused its inputs stretched by
        percentiles under ``auto``, data it never saw). A policy other than the defaults is said in
        a note on every call. Shipped weights record none (their training read with the defaults);
        unreadable values are passed over (the card shows what is there)."""
        from .io.samples import training_policy

        rec_norm, rec_pct = training_policy(self.weights_meta)
        norm_given, pct_given = self._policy_given
        norm, pct = self.normalize, self.percentiles
        if not norm_given and rec_norm is not None:
            norm = rec_norm
        if not pct_given and rec_pct is not None:
            pct = rec_pct
        self.normalize, self.percentiles = norm, pct
        if rec_norm is None and rec_pct is None:  # nothing recorded: the policy is the caller's or the default
            return

        def how(n, p):
            return f"--normalize {n}" + ("" if n == "full" else f" --percentiles {p[0]:g} {p[1]:g}")

        trained = how(rec_norm or "auto", rec_pct or DEFAULT_PERCENTILES)
        if how(norm, pct) != trained:  # given: said, as it is not what the network was trained on
            self._policy_note = (f"inputs read with {how(norm, pct)} as given; weights {name} were trained on "
                                 f"images read with {trained} (their train_data)")
        elif how(norm, pct) != how("auto", DEFAULT_PERCENTILES):
            self._policy_note = (f"inputs read with {trained}, as weights {name} were trained (their train_data); "
                                 "normalize= / percentiles= (--normalize / --percentiles) choose another")
        if self._policy_note and norm == "full" and pct_given and not norm_given:
            # --percentiles alone does not leave the recorded full range: it would be ignored unsaid
            self._policy_note += ("; the percentiles given apply under --normalize auto or percentile only: "
                                  "give one of them too")

    def _use_network(self, net: Any, model: Any, blend_temperature: float | None, detail_gain: float | None,
                     detail_activity: float | None, presets: dict, progress: bool) -> None:
        """The network part of construction, shared by :meth:`__init__` and :meth:`from_model`:
        ``net`` (this fuser's own, built with the load-time overrides) gets the inference-only
        settings, goes into a :class:`~mutualfuse.runner.NetworkRunner`, and the per-task settings
        of ``presets`` (task → settings) are worked out; ``model`` names it in messages."""
        from .runner import NetworkRunner

        task = self.task_mode
        explicit = {"blend_temperature": blend_temperature, "detail_gain": detail_gain,
                    "detail_activity": detail_activity}
        if blend_temperature is not None and net.cfg.output not in ("blend", "blend_residual", "pyramid"):
            raise ParameterError(f"blend_temperature applies to blend or pyramid models; {model} has output "
                                 f"{net.cfg.output!r}")
        if detail_gain is not None:  # range checked above; an inference-only field of the loaded model
            if net.cfg.output != "pyramid":
                raise ParameterError(f"detail_gain applies to pyramid models; {model} has output {net.cfg.output!r}")
            net.cfg.detail_gain = float(detail_gain)
        if detail_activity is not None:  # range checked above; an inference-only field of the loaded model
            if net.cfg.output != "pyramid":
                raise ParameterError(f"detail_activity applies to pyramid models; {model} has output "
                                     f"{net.cfg.output!r}")
            net.cfg.detail_activity = float(detail_activity)
        self.runner = NetworkRunner(net, self.device, self.dtype, self.max_window_pixels, progress)
        self.net = self.runner.net
        self.method = NETWORK_METHOD  # one name for the network: the registered method "mutualfuse"
        # per task, the cfg fields "auto" sets before fusing a pair of that task: explicit settings,
        # else the task's, else the loaded (stored) ones
        from .weights import TASK_SETTING_KEYS

        loaded = {k: getattr(self.net.cfg, k) for k in TASK_SETTING_KEYS}
        self._task_cfg = {t: {k: float(explicit[k]) if explicit.get(k) is not None else float(p.get(k, loaded[k]))
                              for k in TASK_SETTING_KEYS} for t, p in presets.items()}
        if task in self._task_cfg:  # a fixed task: its settings, once
            self.use_task(task)

    def _set_options(self, *, chroma, normalize, tile, tile_overlap, token_budget, blend_temperature,
                     detail_gain, detail_activity, percentiles, max_window_pixels, progress) -> None:
        """The options every fuser takes, checked (:func:`check_fuse_options`) and set
        (:meth:`__init__` and :meth:`from_model`)."""
        from .tiling import DEFAULT_TILE_OVERLAP, check_overlap

        # True or False (numpy's bool too), as the other options are checked: "yes", 1 or None were
        # taken as they were, and "no" / "false" showed the bar
        if not isinstance(progress, (bool, np.bool_)):
            raise ParameterError(f"progress must be True or False, got {type(progress).__name__} {progress!r}")
        given = tile_overlap is not None  # the default is not warned of (64 is more than half of a tile of 100)
        tile_overlap = DEFAULT_TILE_OVERLAP if tile_overlap is None else tile_overlap
        check_fuse_options(chroma=chroma, normalize="auto" if normalize is None else normalize, tile=tile,
                           tile_overlap=tile_overlap, token_budget=token_budget, blend_temperature=blend_temperature,
                           detail_gain=detail_gain, detail_activity=detail_activity,
                           percentiles=DEFAULT_PERCENTILES if percentiles is None else percentiles,
                           max_window_pixels=max_window_pixels)
        self.chroma = chroma
        #: whether normalize / percentiles were given (else the weights' training policy may set them)
        self._policy_given = (normalize is not None, percentiles is not None)
        self._policy_note: str | None = None
        self.normalize = "auto" if normalize is None else normalize
        self.percentiles = DEFAULT_PERCENTILES if percentiles is None else tuple(percentiles)
        self.max_window_pixels = int(max_window_pixels)
        if given and tile is not None:
            # one not smaller than the tile: a ParameterError; more than half of it: reduced, said
            # (Fuser(tile=256, tile_overlap=200) blended over at most 128 px without a word)
            reduced = check_overlap(tile, int(tile_overlap), cli=False)
            if reduced:
                _warn_user(reduced)
        self.tile = tile
        self.tile_overlap = int(tile_overlap)
        self.progress = bool(progress)

    @classmethod
    def from_model(cls, net: Any, device: str = "auto", dtype: str | torch.dtype = "float32",
                   token_budget: int | None = -1, *, chroma: str = "saturation", normalize: str | None = None,
                   percentiles: tuple[float, float] | None = None, max_window_pixels: int = DEFAULT_WINDOW_PIXELS,
                   tile: int | None = None, tile_overlap: int | None = None, progress: bool = False,
                   blend_temperature: float | None = None, detail_gain: float | None = None,
                   detail_activity: float | None = None, task: str | None = None,
                   weights_meta: Mapping[str, str] | None = None) -> "Fuser":
        """A fuser for a network held in memory: the ``torch.nn.Module`` that
        :func:`mutualfuse.weights.load_model` returns, or one that training built
        (:func:`mutualfuse.model.build_model`; it carries its :class:`~mutualfuse.model.ModelConfig`
        as ``net.cfg``). The options are :class:`Fuser`'s.

        ``net`` itself is not changed: the fuser builds its own copy from ``net.cfg`` and
        ``net``'s current parameters as float32 on the CPU (as :func:`~mutualfuse.weights.save_weights`
        stores them; eval mode, then moved to ``device``), so it fuses bit for bit as
        ``Fuser(path, task="stored")`` with ``net`` saved at ``path`` with the same metadata, and
        later training of ``net`` does not change it. ``weights_meta``: the metadata of the weights
        ``net`` came from (the second value :func:`~mutualfuse.weights.load_model` returns): the
        input policy their training recorded (``train_data``: ``normalize``, ``percentiles``) is
        then followed, with its note, as :class:`Fuser` follows it for the file; without it a
        network knows none, and inputs are read with ``normalize`` / ``percentiles`` as given
        (default ``"auto"``), which for a network trained on images read otherwise is not what
        it was trained on. Task mode ``"stored"`` only (per-task settings are recorded
        with shipped weights files; ``None`` means ``"stored"``). :attr:`report` names the model
        ``"in-memory network"`` (no name :class:`Fuser` takes; :attr:`weights_spec` too).
        A network wrapped by ``torch.compile`` (``OptimizedModule``), ``torch.nn.DataParallel``
        or ``DistributedDataParallel`` is taken as the network inside (``net._orig_mod``,
        ``net.module``: :func:`_unwrap_model`); the fuser runs it uncompiled, on one device.
        Anything else but a mutualfuse network (an FSDP-sharded one included), or one with
        NaN/infinite parameters, is a one-line :class:`ParameterError`."""
        import json
        from dataclasses import replace

        from .model import ModelConfig, build_model
        from .model.network import FusionNet

        wrappers, net = _unwrap_model(net)
        what = type(net).__name__
        if not isinstance(net, FusionNet) or not isinstance(getattr(net, "cfg", None), ModelConfig):
            inside = f" (inside {' in '.join(wrappers)})" if wrappers else ""
            raise ParameterError(f"Fuser.from_model: expected a mutualfuse network (a FusionNet with its ModelConfig "
                                 f"as .cfg, from mutualfuse.weights.load_model or training), got {what}{inside}"
                                 + _WRAPPER_HINT.get(what, ""))
        if task not in (None, "stored"):
            raise ParameterError(f"Fuser.from_model: task {task!r} needs the per-task settings recorded with shipped "
                                 "weights files; an in-memory network fuses at its stored settings (task 'stored')")
        self = cls.__new__(cls)
        self._lock = threading.RLock()
        self._local = threading.local()
        self.device = pick_device(device, api=True)
        self.dtype = pick_dtype(dtype, self.device)
        self._set_options(chroma=chroma, normalize=normalize, tile=tile, tile_overlap=tile_overlap,
                          token_budget=token_budget, blend_temperature=blend_temperature, detail_gain=detail_gain,
                          detail_activity=detail_activity, percentiles=percentiles,
                          max_window_pixels=max_window_pixels, progress=progress)
        self.method_params = {}
        self.net = None
        self.runner = None
        self.weights_spec = IN_MEMORY
        self.report = FuseReport(method=IN_MEMORY)
        self.task = task
        self.task_mode = "stored"
        self._task_cfg = {}
        if weights_meta is not None and not (isinstance(weights_meta, Mapping)
                                             and all(isinstance(k, str) for k in weights_meta)):
            raise ParameterError(f"Fuser.from_model: weights_meta must be the metadata mapping that load_model returns, "
                                 f"got {type(weights_meta).__name__}")
        self.weights_meta = {k: str(v) for k, v in (weights_meta or {}).items()}
        self._use_training_policy(IN_MEMORY)  # the policy weights_meta records, if any, with its note
        overrides = {} if token_budget == -1 else {"token_budget": token_budget}
        if blend_temperature is not None:
            overrides["blend_temperature"] = float(blend_temperature)
        import torch

        # what save_weights writes and load_model reads back: the config through its JSON form,
        # the parameters and buffers as contiguous float32 CPU tensors (copies: never net's own)
        with torch.no_grad():
            state = {k: v.detach().to("cpu", torch.float32, copy=True).contiguous() for k, v in net.state_dict().items()}
        for k, v in state.items():
            if not torch.isfinite(v).all():
                raise ParameterError(f"Fuser.from_model: the network has NaN or infinite values (tensor {k})")
        try:
            cfg = replace(ModelConfig.from_dict(json.loads(json.dumps(net.cfg.to_dict()))), **overrides)
        except (ValueError, TypeError) as e:
            raise ParameterError(f"Fuser.from_model: {' '.join(str(e).split())[:200]}") from None
        own = build_model(cfg)
        try:
            own.load_state_dict(state, strict=True)
        except RuntimeError as e:
            raise ParameterError(f"Fuser.from_model: the {what}'s parameters do not fit the {cfg.arch} model its "
                                 f"cfg describes ({str(e).splitlines()[0][:150]})") from None
        own.eval()
        self._use_network(own, IN_MEMORY, blend_temperature, detail_gain, detail_activity, {}, progress)
        return self

    @property
    def report(self) -> FuseReport:
        """What the last call did (:class:`FuseReport`), reset at the start of every call.

        Per thread: after a call returns, the thread that made it reads that call's report even
        when another thread has fused with this fuser since; a thread that has not fused reads
        the report of the call that started last. Calls from several threads are run one at a
        time (each waits for the one in progress), with the same results as in sequence."""
        own = getattr(self._local, "report", None)
        return own if own is not None else self._report

    @report.setter
    def report(self, value: FuseReport) -> None:
        self._report = value
        self._local.report = value

    def __getstate__(self) -> dict:
        # copy.copy, copy.deepcopy and pickle: the lock and the per-thread reports are this
        # object's own; a copy gets new ones (and the last report as its shared one)
        state = self.__dict__.copy()
        state.pop("_lock", None)
        state.pop("_local", None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()
        self._local = threading.local()

    def __getattr__(self, name: str) -> Any:
        # only for attributes not set: :attr:`device` and :attr:`dtype` of a classical method,
        # made torch objects on first use (see __init__)
        if name in ("device", "dtype"):
            # threads may get here together: each sets the same values, both at once (never a
            # device without its dtype), and the spec goes only after them (pop: no KeyError for
            # a thread that comes second); a thread that found neither attribute nor spec because
            # another set one and removed the spec in between reads what that one set
            spec = self.__dict__.get("_device_spec")
            if spec is not None:
                device = pick_device(spec[0])  # "cpu" or "auto" only (_device_later): never refused
                self.__dict__.update(device=device, dtype=pick_dtype(spec[1], device))
                self.__dict__.pop("_device_spec", None)
            if name in self.__dict__:
                return self.__dict__[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __repr__(self) -> str:
        """``Fuser('cbf', ksize=11)`` / ``Fuser('default', device='cpu', dtype=torch.float32,
        task='auto')``: the model and the settings that differ from the defaults."""
        if self.weights_spec is None:
            args = [repr(self.method)] + [f"{k}={v!r}" for k, v in sorted(self.method_params.items())]
        else:
            args = [repr(self.weights_spec), f"device={str(self.device)!r}", f"dtype={self.dtype}"]
            if self.weights_spec == IN_MEMORY and self.report.method == IN_MEMORY:  # Fuser.from_model
                args[0] = f"<{IN_MEMORY}>"
            if self.task_mode is not None:
                args.append(f"task={self.task_mode!r}")
        defaults = (("chroma", "saturation"), ("normalize", "auto"), ("percentiles", DEFAULT_PERCENTILES),
                    ("tile", None))
        args += [f"{k}={getattr(self, k)!r}" for k, d in defaults if getattr(self, k) != d]
        made = "Fuser.from_model" if self.weights_spec == IN_MEMORY and self.report.method == IN_MEMORY else "Fuser"
        return f"{made}({', '.join(args)})"

    def min_memory(self, h: int, w: int, images: int = 2, tile: int | None = -1, colour: int = 0) -> int:
        """A lower bound, in bytes, of the memory that fusing ``images`` registered h×w images
        read from files holds at its peak: the images as float64 (8 bytes a pixel each), the
        float64 result and, for the network, what :meth:`NetworkRunner.min_bytes
        <mutualfuse.runner.NetworkRunner.min_bytes>` counts (the whole image, or one tile and the
        float64 blend buffers under ``tile``). A classical method's own buffers are not counted.
        The command line refuses a pair whose lower bound exceeds the available memory before it
        reads it (:func:`mutualfuse.runner.check_memory`). ``tile``: the bound under that tile size
        (None: untiled) instead of this fuser's own ``tile``.

        ``colour``: how many of the images of a pair are RGB (0, the default, counts them all
        gray). Each RGB one is held as float64 RGB (24 bytes a pixel, not 8) and, while the
        luminances are fused, as its Y plane (float64) and Cb/Cr (float32): 32 bytes a pixel more
        than a gray one (:func:`mutualfuse.color.fuse_color`). A colour result is recombined
        afterwards, with the inputs still held: the fused Y, the Cb/Cr, and the float64 RGB
        result (24 bytes a pixel; converted a block of rows at a time since s27, whole-image
        float64 arrays took 72; the network's own memory is freed by then). The larger of the
        two moments is the bound. Measured figures:
        docs/inputs.md, "Any size; memory linear in the image"."""
        h, w = int(h), int(w)
        tile = self.tile if tile == -1 else tile
        images = max(1, int(images))
        colour = min(max(0, int(colour)), images)
        read = 8 * h * w * images
        if self.runner is None:
            need = read + 8 * h * w
        elif tile and (h > tile or w > tile):
            need = read + 24 * h * w + self.runner.min_bytes(min(h, tile), min(w, tile))
        else:
            need = read + self.runner.min_bytes(h, w)
        if not colour:
            return need
        need += 32 * h * w * colour  # during the fusion of the luminances
        if self.chroma != "gray":  # the recombination of a colour result
            need = max(need, (read + (16 + 8) * colour * h * w) + (8 + 24) * h * w)
        return need

    # -- gray core ----------------------------------------------------------------
    def _net_batch(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """(B, H, W) → (B, H, W) through the network runner; records windows and pooling."""
        out, info = self.runner.run(a, b)
        self.report.windows = info.windows
        self.report.mapping_pool = max(self.report.mapping_pool, info.mapping_pool)
        return out

    def _reset_report(self) -> None:
        """A fresh :attr:`report` at the start of every call, so that a call that fails keeps
        no notes of the call before it."""
        self.report = FuseReport(method=self.report.method)
        if getattr(self, "_integrity_note", None):
            self.report.notes.append(self._integrity_note)
        if getattr(self, "_policy_note", None):
            self.report.notes.append(self._policy_note)

    @_one_call_at_a_time
    def use_task(self, task: str) -> None:
        """Set the network to ``task``'s settings (explicit ones still win): once at construction
        for a fixed task; in task mode ``"auto"`` before each group of pairs
        (:meth:`fuse_gray_batch`); also for code that runs :attr:`net` itself (e.g.
        ``forward_mean_maps``). Only the tasks of this fuser's mode (all in ``"auto"``); any other
        is a one-line :class:`ParameterError` saying which the fuser has."""
        if task not in self._task_cfg:
            _check_task(task)
            if self.net is None:
                raise ParameterError(f"use_task({task!r}): task settings apply to the network, not to method "
                                     f"{self.method!r}")
            from .weights import recorded_tasks

            if not recorded_tasks(self.weights_spec):
                raise ParameterError(f"use_task({task!r}): weights {self.weights_spec!r} record no per-task "
                                     "settings; they fuse at their stored settings")
            raise ParameterError(f"use_task({task!r}): this fuser (task mode {self.task_mode!r}) has the settings "
                                 f"of {', '.join(self._task_cfg) or 'no task'}; make a Fuser with task={task!r} "
                                 "(or task='auto') for that task's")
        for k, v in self._task_cfg[task].items():
            setattr(self.net.cfg, k, v)

    def detect_tasks(self, a: np.ndarray, b: np.ndarray) -> list:
        """:func:`mutualfuse.tasks.detect_task` of every pair of a (B, H, W) gray batch (or of
        the luminance of (B, H, W, 3) colour); ``[]`` unless this fuser's task mode is ``"auto"``."""
        if self.task_mode != "auto":
            return []
        from .image_io import rgb_to_y
        from .tasks import detect_task

        def gray(x):
            return rgb_to_y(x) if x.ndim == 4 else x

        return [detect_task(p, q) for p, q in zip(gray(a), gray(b))]

    @_one_call_at_a_time
    def fuse_gray_batch(self, a: np.ndarray, b: np.ndarray, task: str | None = None) -> np.ndarray:
        """(B, H, W) float arrays in [0, 1] → fused (B, H, W) float64 in [0, 1].

        In task mode ``"auto"`` each pair gets the settings of its detected task, or of ``task``
        when given (e.g. the task detected once on a video's first frames; other fusers do not
        use it, an unknown name is a :class:`ParameterError` for all). Other dtypes or
        ranges are an :class:`InputError`: :meth:`fuse` takes them."""
        return self._fuse_gray_batch(a, b, task)

    def _fuse_gray_batch(self, a: np.ndarray, b: np.ndarray, task: str | None, checked: bool = False) -> np.ndarray:
        """:meth:`fuse_gray_batch`; ``checked``: the caller has checked ``a`` and ``b`` as it would
        (float, finite, in [0, 1]: :func:`~mutualfuse.validation.unit_float` returned them), so
        that a gray pair is not read twice more (:meth:`fuse_arrays`, :meth:`fuse_gray`)."""
        from .validation import unit_float

        self._reset_report()
        if not checked:
            a, b = unit_float(a, "a"), unit_float(b, "b")  # the check of convert.check_unit_float, in one pass
        for x, n in ((a, "a"), (b, "b")):
            if x.ndim != 3:
                raise InputError(f"{n}: expected a (B, H, W) gray batch, got shape {x.shape}")
            if x.shape[0] == 0:
                raise InputError(f"{n}: empty batch (shape {x.shape})")
        if a.shape != b.shape:
            raise InputError(f"size mismatch: a is {a.shape[-1]}x{a.shape[-2]}, b is {b.shape[-1]}x{b.shape[-2]}")
        _check_task(task)
        if self.task_mode != "auto":
            if self.task_mode is not None:
                self.report.task = self.task_mode
            return self._fuse_gray_settled(a, b)
        from .tasks import TASKS

        guesses = self.detect_tasks(a, b) if task is None else []
        tasks = [g.task for g in guesses] if task is None else [task] * len(a)
        out = None
        pools, windows, notes = [], [], []
        groups = dict.fromkeys(tasks)
        for t in groups:
            idx = [i for i, x in enumerate(tasks) if x == t]
            self.use_task(t)
            if len(groups) == 1:  # one task (always so for one pair): no copy of the batch
                out = self._fuse_gray_settled(a, b)
            else:
                part = self._fuse_gray_settled(a[idx], b[idx])
                out = np.empty((len(a),) + part.shape[1:], dtype=part.dtype) if out is None else out
                out[idx] = part
            pools.append(self.report.mapping_pool)
            windows.append(self.report.windows)
            notes += [n for n in self.report.notes if n not in notes]
            self.report.notes = []
        self.report.mapping_pool, self.report.windows = max(pools), max(windows)
        self.report.task = ",".join(dict.fromkeys(tasks))
        self.report.detected = [g.as_dict() for g in guesses]
        if guesses:
            for t in dict.fromkeys(tasks):
                gs = [g for g in guesses if g.task == t]
                what = gs[0].describe() if len(gs) == 1 else f"{len(gs)} of {len(guesses)} pairs"
                notes.append(f"task: {t}, detected ({what}); task= / --task chooses another")
        self.report.notes = notes
        return out

    def _fuse_weighted_mean(self, x: np.ndarray, y: np.ndarray, wx: float) -> np.ndarray:
        """:meth:`fuse_arrays` of a method of :data:`MEAN_METHODS` with the weights ``wx`` and
        ``1 - wx`` instead of its own ½ and ½ (a stack's fusion of the mean of nx images with
        the mean of ny: ``wx = nx / (nx + ny)``), so that a stack's result is the mean of all its
        images in every order. The luminance is weighted (the gray core, so tiling, notes and
        checks are :meth:`fuse_arrays`'s), and so is the colour under chroma ``"mean"`` when both
        are colour (the mean of the RGB images: YCbCr is affine); the other chroma rules
        combine Cb/Cr as for a pair."""
        self._mean_weight = float(wx)
        try:
            out = self.fuse_arrays(x, y)
        finally:
            self._mean_weight = None
        if x.ndim == 4 and y.ndim == 4 and self.chroma == "mean":
            out = np.clip(wx * x + (1.0 - wx) * y, 0.0, 1.0)
        return out

    def _fuse_gray_settled(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """The gray core at the network's current settings (fills :attr:`report`)."""
        weight = self.__dict__.get("_mean_weight")  # a stack's weighted mean (:meth:`_fuse_weighted_mean`)
        if self.net is None and weight is not None:
            core = lambda x, y: weight * x + (1.0 - weight) * y  # noqa: E731
        elif self.net is None:
            from .methods import fuse_gray_checked

            def core(x, y):  # x, y: checked by fuse_gray_batch (float, finite, in [0, 1])
                outs = [fuse_gray_checked(self.method, p, q, self.method_params) for p, q in zip(x, y)]
                return outs[0][None] if len(outs) == 1 else np.stack(outs)  # one pair: not copied again
        else:
            core = self._net_batch
        h, w = a.shape[-2:]
        if self.tile and (h > self.tile or w > self.tile):
            from .tiling import count_tiles, describe_tiles, tiled_fuse

            n = count_tiles(h, w, self.tile, self.tile_overlap)
            pools = []

            def one(x, y):
                r = core(x, y)
                pools.append(self.report.mapping_pool)
                return r

            # progress=True: a `tiles` bar on stderr as the runner's `windows` bar (Fuser(progress=True))
            out = tiled_fuse(one, a, b, self.tile, self.tile_overlap, progress=True if self.progress else None)
            self.report.tiles = n
            self.report.mapping_pool = max(pools) if pools else 1
            # the tiles and overlaps tiled_fuse cuts (clipped to the image, spread evenly: often
            # more overlap than asked), not the requested tile and overlap
            self.report.notes.append(
                f"tiled: {describe_tiles(h, w, self.tile, self.tile_overlap)} "
                + ("(each tile's mutual mapping sees only that tile)" if self.net is not None else
                   f"(each tile fused alone: {self.method} sees only that tile)"))
        else:
            out = core(a, b)
        if self.net is not None and self.report.mapping_pool > 1:
            self.report.notes.append(
                f"approximate mutual mapping: computed on a {self.report.mapping_pool}x pooled grid "
                f"(token budget {self.net.cfg.token_budget}"
                + (f", minimum pool {self.net.cfg.map_min_pool}" if self.net.cfg.map_min_pool > 1 else "")
                + "); use token_budget=0 / --token-budget 0 for exact (quadratic in the tokens: about "
                + f"{self.report.mapping_pool ** 4}x this mapping's work; docs/inputs.md, \"Token budget\")")
        if self.net is not None and self.runner.autocast is not None:  # float16 / bfloat16 (NetworkRunner)
            self.report.notes.append(
                f"approximate precision: network in {str(self.dtype).removeprefix('torch.')} (autocast); "
                "expect ~0.1 grey level mean difference to float32 (docs/inputs.md)")
            if self.device.type == "cpu" and not cpu_has_amx_bf16():
                self.report.notes.append(
                    "bfloat16 is slower than float32 on this CPU: it has no AMX (measured 1.1x slower with "
                    "AVX512-BF16, 2x with AVX-512, 9x with AVX2; docs/inputs.md); use float32")
        return out

    @_one_call_at_a_time
    def fuse_gray(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """(H, W) float arrays in [0, 1] → fused (H, W) float64 in [0, 1]; other dtypes or ranges
        are an :class:`InputError` (:meth:`fuse` takes them)."""
        from .validation import unit_float

        self._reset_report()
        a, b = unit_float(a, "a"), unit_float(b, "b")
        check_pair(a, b, finite=False)  # unit_float: finite
        return self._fuse_gray_batch(a[None], b[None], None, checked=True)[0]

    @_one_call_at_a_time
    def fuse_arrays(self, a: np.ndarray, b: np.ndarray, task: str | None = None) -> np.ndarray:
        """Internal float form: (B, H, W) gray or (B, H, W, 3) RGB in [0, 1] → same form fused
        (other shapes, dtypes or ranges are an :class:`InputError`; :meth:`fuse` takes them).

        ``task``: in task mode ``"auto"``, use this task's settings instead of detecting one
        per pair (see :meth:`fuse_gray_batch`)."""
        from .color import fuse_color
        from .validation import unit_float

        self._reset_report()
        as_given = True  # both float, finite and in [0, 1] as they are (nothing to clip)
        for x, n in ((a, "a"), (b, "b")):
            as_given &= unit_float(x, n) is x  # numpy float in [0, 1] (the gray core clips the overshoot)
            if x.ndim not in (3, 4):
                raise InputError(f"{n}: expected a (B, H, W) gray or (B, H, W, 3) RGB batch, got shape {x.shape}")
            if x.ndim == 4 and x.shape[-1] != 3:
                raise InputError(f"{n}: unsupported channel count {x.shape[-1]} in shape {x.shape} (expected a "
                                 "(B, H, W) gray or (B, H, W, 3) RGB batch; Fuser.fuse drops an alpha channel)")
        check_batch_pair(a, b)
        # a gray pair goes to the gray core as it is, checked above; a colour pair's luminances are checked there
        return fuse_color(a, b, lambda x, y: self._fuse_gray_batch(x, y, task, checked=as_given and x is a and y is b),
                          chroma=self.chroma)

    # -- any kind -----------------------------------------------------------------
    @_one_call_at_a_time
    def fuse(self, a: Any, b: Any) -> Any:
        """Fuse a pair of numpy arrays, PIL images or tensors (single or batched); same kind out.

        Inputs (``a`` and ``b`` may differ in kind and dtype; same height and width, at least
        8x8 pixels, no NaN or infinity):

        * numpy ``(H, W)`` gray, ``(H, W, 1)``, ``(H, W, 3)`` RGB or ``(H, W, 4)`` RGBA (alpha
          dropped), or batches ``(B, H, W)`` / ``(B, H, W, 1|3)``; numpy colour is channels-last:
          a ``(3, H, W)`` array is a batch of three gray images (said in :attr:`report`). PIL
          images of any common mode; torch tensors ``(H, W)``, ``(C, H, W)`` or ``(B, C, H, W)``
          with C = 1 or 3 (channels-first; any device, ``requires_grad`` and memory layout
          taken, the result is detached).
        * ``uint8``: 0-255 read as ``v / 255``; ``bool``: False/True as 0/255; ``uint16``: by the
          ``normalize`` policy (default ``"auto"``: each image stretched by its
          ``percentiles``, 0.1-99.9; ``"full"``: ``v / 65535``); float (``float16/32/64``):
          values in [0, 1] taken as they are (within 0.001, clipped), any other range (e.g.
          0-255 floats) stretched by percentiles under ``"auto"`` (a guess from the values, so
          also a ``UserWarning``; pass ``x / 255`` to keep them), refused under ``"full"``.
        * signed and other integers, as the command line reads a TIFF of that sample type
          (docs/inputs.md, "Signed 16-bit TIFF"; the same fused values as ``mutualfuse fuse``
          of that TIFF): ``int16`` (a CT slice in HU, a thermal camera's signed counts) as
          signed 16-bit samples by its type (``"auto"``: by percentiles, as uint16;
          ``"full"``: ``(v + 32768) / 65535``), and a PIL mode ``I`` image with a negative
          value in -32768..32767 likewise; ``int8``, ``int32``, ``int64``, ``uint32`` … by
          their values: 0..65535 as ``uint16``, else -32768..32767 as ``int16`` (a note and a
          ``UserWarning``: the result is in that 16-bit type). Values that fit no 16-bit type
          (and integer tensors other than uint8/uint16) are an
          :class:`~mutualfuse.errors.InputError` saying which cast to use. Whatever was
          rescaled, clipped or dropped is listed in :attr:`report` ``.notes``.

        Output: the kind, dtype and layout of the input (of the colour one when one is colour,
        else of ``a``): ``uint8`` 0-255, ``uint16`` on the full 0-65535 range, ``int16`` on the full
        -32768-32767 range (``round(f * 65535) - 32768``: the command line's 16-bit output of a
        signed TIFF less 32768), ``bool`` (>= 0.5),
        float in [0, 1] (also for a float input given on 0-255: the result is not scaled back),
        PIL in mode ``L``, ``RGB``, ``I;16``, ``F`` or ``I`` (signed, as ``int16``); a tensor on the input's device, without
        gradient. Bad input is an :class:`~mutualfuse.errors.InputError` (a ``ValueError``),
        a bad option a :class:`~mutualfuse.errors.ParameterError`: one line, never an exit."""
        from .convert import from_any, to_kind

        self._reset_report()
        na, nb = _input_names((a, b), ("a", "b"))  # a PIL image opened from a file: by its file
        xa, ka = from_any(a, na, self.normalize, self.percentiles)
        xb, kb = from_any(b, nb, self.normalize, self.percentiles)
        if ka.batched != kb.batched and xa.shape[0] != xb.shape[0]:
            # a (3, H, W) array is a batch of gray images (numpy colour is channels-last): fused with
            # one image, the error says how it was read (the note that did was lost with the call)
            how = [n for n in ka.notes + kb.notes if "read as a batch of" in n]
            raise InputError(f"batch mismatch: {na} has {counted(xa.shape[0], 'image')}, {nb} has {xb.shape[0]}"
                             + (f" ({'; '.join(how)})" if how else ""))
        try:
            check_batch_pair(xa, xb, (na, nb))  # size and batch by these names (fuse_arrays checks as a / b)
        except InputError as e:
            if self.runner is None and xa.shape[:3] == xb.shape[:3] and min(xa.shape[1:3]) < MIN_SIDE:
                # too small: what a classical method's decomposition needs at its settings, if more
                from .methods.classical import size_need_note

                raise InputError(f"{e}{size_need_note(self.method, self.method_params)}") from None
            raise
        out = self.fuse_arrays(xa, xb)
        self.report.notes[:0] = ka.notes + kb.notes  # what was done to the inputs, before the fusion's notes
        _warn_guessed_ranges(ka.notes + kb.notes, (na, nb), self.normalize)
        _warn_integer_reads(ka.notes + kb.notes, (na, nb))
        return to_kind(out, ka if ka.channels >= kb.channels else kb)

    # -- stacks -------------------------------------------------------------------
    @_one_call_at_a_time
    def fuse_stack(self, images: Sequence[Any], order: str = "tree", task: str | None = "multi-focus",
                   progress: Callable[[int, int], None] | None = None) -> Any:
        """Fuse N ≥ 2 registered images (a focus stack: microscopy, macro photography) into one.

        The method is pairwise, so the stack is reduced by pairwise fusions. ``order``:
        ``"tree"`` (default): a balanced tree (the stack halved, each half reduced so, the two
        results fused: :func:`reduce_stack`), so every image goes through ⌊log2 N⌋ or ⌈log2 N⌉
        fusions and neighbours are fused first; ``"spread"``: the same tree with the planes in
        bit-reversed order, so that each fusion takes planes far apart in the stack (for the
        network closer to a known truth, for ``lp`` a little further: docs/inputs.md, "Stacks");
        ``"sequential"``
        fuses ((1, 2), 3), …, so the first goes through N − 1 (docs/inputs.md, "Stacks": the
        tree is closer to a known truth). ``average`` (:data:`MEAN_METHODS`) gives the mean of
        all N images in every order: each fusion weighs its sides by the number of images under
        each (before session 24 ½ and ½, so that a tree of 3 weighed them ¼, ¼, ½); with colour
        images the luminance is the mean, and under ``chroma="mean"`` the RGB too. ``images``: a
        sequence (a list, or one (N, H, W) array or tensor of N planes); one image or anything
        not iterable is a one-line :class:`InputError` / ``TypeError``. ``task``: the network's
        task setting in task mode ``"auto"`` (default ``"multi-focus"``, since a stack is a focus stack; ``None`` detects it
        per pair); a Fuser made with a fixed ``task`` keeps its own, classical methods have none.
        Every image is read as :meth:`fuse` reads it (numpy, PIL or torch; same size), except that
        the images the normalisation would scale by their own percentiles (16-bit under
        ``"auto"``) share one mapping, the stack's joint percentiles, so the focal planes keep their
        relative brightness. The result is colour if any input is colour (by the chroma rule), in
        the kind of the first image, or, when the first is gray and a later one colour, in the kind
        of the first colour image (as :meth:`fuse` returns the colour input's kind).
        :attr:`report` is the stack's: the notes of every fusion (each once), ``report.fusions``,
        the tasks of all fusions (``report.task``, comma-separated when they differ) and every
        detection (``report.detected``, one per fusion in task mode ``"auto"`` with ``task=None``),
        and the largest ``mapping_pool``, ``windows`` and ``tiles`` of any fusion. Memory: each
        input is converted when it is fused and the tree is reduced as it goes
        (:func:`reduce_stack`), so beyond the caller's own images at most ⌈log2 N⌉ + 2 float
        images are held (before: a float64 copy of every input and half as many again).
        ``progress``: called as ``progress(done, total)`` after each of the N − 1 fusions (a
        long stack of large images takes minutes; the command line draws a bar with it). It runs
        inside the stack's call, which holds this fuser: it may call the fuser itself (same
        thread), but must not wait for another thread's call on this fuser, which waits for the
        stack to end (a deadlock).
        """
        from .convert import from_any, to_kind

        self._reset_report()
        if order not in STACK_ORDERS:
            raise ParameterError(f"order must be 'tree', 'spread' or 'sequential', got {order!r}")
        _check_task(task)
        if isinstance(images, (str, os.PathLike)):  # list() of a path is its characters
            raise InputError(f"a stack takes images, got the path {str(images)!r}: read the planes first (e.g. "
                             "tifffile.imread for a multi-page TIFF), or use the command line (mutualfuse fuse-stack)")
        if _one_image(images):  # list() of one image is its rows (or a PIL image's pixels)
            file = _pil_file(images)
            what = (f"PIL image ({file + ', ' if file else ''}{images.width}x{images.height}, mode {images.mode})"
                    if not hasattr(images, "ndim")
                    else f"{type(images).__name__} image of shape {tuple(images.shape)}")
            raise InputError(f"a stack takes a sequence of images (a list of numpy arrays, PIL images or tensors, or "
                             f"one (N, H, W) array of N planes), got one {what}")
        try:
            items = list(images)  # references only: each image is converted when it is fused
        except TypeError:
            raise TypeError(f"a stack takes a sequence of images (numpy arrays, PIL images or tensors), got "
                            f"{type(images).__name__}") from None
        if len(items) < 2:
            raise InputError(f"a stack needs at least 2 images, got {len(items)}")
        kinds, notes = [], []
        size = None
        # each image by its index, or a PIL image opened from a file by that file
        names = _input_names(items, [f"image {i + 1}" for i in range(len(items))])
        for i, im in enumerate(items):  # every image checked before the first fusion
            x, k = from_any(im, names[i], self.normalize, self.percentiles)
            if x.shape[0] != 1:
                raise InputError(f"{names[i]}: a stack takes single images, got a batch of {x.shape[0]}")
            if size is not None and x.shape[1:3] != size:
                raise InputError(f"{names[i]}: size mismatch: {x.shape[2]}x{x.shape[1]}, {names[0]} is "
                                 f"{size[1]}x{size[0]} (a stack must be registered)")
            if min(x.shape[1:3]) < MIN_SIDE:  # (only the first can be: the others have its size)
                raise InputError(f"{names[i]}: image is {x.shape[2]}x{x.shape[1]}, smaller than {MIN_SIDE}x{MIN_SIDE}")
            size = x.shape[1:3]
            kinds.append(k)
            del x  # not held: N converted images at once grew the peak memory with N
        # integer images the policy scales by percentiles (16-bit under "auto"; any under
        # "percentile") get ONE mapping, the stack's joint percentiles, not one each
        joint = [i for i, k in enumerate(kinds)
                 if (k.bit_depth == 16 and self.normalize in ("auto", "percentile"))
                 or (k.bit_depth == 8 and self.normalize == "percentile")]
        bounds = None
        if len(joint) >= 2:
            bounds = joint_percentile_bounds((from_any(items[i], names[i], "full")[0] for i in joint),
                                             *self.percentiles)
            if bounds is not None:
                for i in joint:
                    kinds[i].notes = []
                lo, hi = self.percentiles
                notes.append(f"images {', '.join(str(i + 1) for i in joint)}: {kinds[joint[0]].bit_depth}-bit samples "
                             f"scaled by the joint {lo:g}-{hi:g} percentiles of the stack (one mapping for all)")
        shared = set(joint) if bounds is not None else set()
        for k in kinds:
            notes += [n for n in k.notes if n not in notes]

        def get(i: int) -> np.ndarray:
            if i in shared:
                return joint_percentile_apply(from_any(items[i], names[i], "full")[0], bounds)
            return from_any(items[i], names[i], self.normalize, self.percentiles)[0]

        fused = self._reduce_stack(len(items), get, order, task, progress, notes)
        _warn_guessed_ranges(notes, names, self.normalize)
        _warn_integer_reads(notes, names)
        widest = max(kinds, key=lambda k: k.channels)
        return to_kind(fused, kinds[0] if kinds[0].channels >= widest.channels else widest)

    @_one_call_at_a_time
    def _reduce_stack(self, count: int, get: Callable[[int], np.ndarray], order: str, task: str | None,
                      progress: Callable[[int, int], None] | None, notes: list[str]) -> np.ndarray:
        """The pairwise fusions of a stack of ``count`` images: ``get(i)`` → image i in the
        internal float form ((1, H, W) or (1, H, W, 3) in [0, 1]), called once per image, in
        order, when it is needed (:meth:`fuse_stack`; the command line's ``get`` reads the file
        then). Sets :attr:`report` to the stack's, with ``notes`` (what was done to the inputs)
        first. The stack is reduced as it is read (:func:`reduce_stack`), so at most
        ⌈log2 N⌉ + 2 images are held, not N."""
        self._reset_report()
        fusions = 0
        done: list[FuseReport] = []  # the report of every pairwise fusion
        mean = self.net is None and self.method in MEAN_METHODS  # the stack's mean: fusions weighted

        def fuse(x: np.ndarray, y: np.ndarray, nx: int = 1, ny: int = 1) -> np.ndarray:
            nonlocal fusions
            if mean:  # x holds the mean of nx images, y of ny: their mean is the weighted one
                out = self._fuse_weighted_mean(x, y, nx / (nx + ny))
            else:
                out = self.fuse_arrays(x, y, task=task if self.task_mode == "auto" else None)
            fusions += 1
            notes.extend(n for n in self.report.notes if n not in notes)
            done.append(self.report)
            if progress is not None:
                progress(fusions, count - 1)
            return out

        fused = reduce_stack(count, get, fuse, order, counts=mean)
        # the report of the whole stack, not of its last fusion: every task set or detected
        # (comma-separated, as for a batch), every detection, the largest pool / windows / tiles
        tasks = [t for r in done if r.task for t in r.task.split(",")]
        self.report = FuseReport(method=self.report.method, mapping_pool=max(r.mapping_pool for r in done),
                                 windows=max(r.windows for r in done), tiles=max(r.tiles for r in done),
                                 notes=notes, task=",".join(dict.fromkeys(tasks)) if tasks else None,
                                 detected=[d for r in done for d in r.detected], fusions=fusions)
        return fused


#: the classical methods whose pairwise fusion is the mean of the two, ½ x + ½ y: a stack is
#: reduced with each fusion weighted by the number of images under each side, so that the result
#: is the mean of all N images in every order (:meth:`Fuser.fuse_stack`, ``fuse-stack``)
MEAN_METHODS = ("average",)


def reduce_stack(count: int, get: Callable[[int], Any], fuse: Callable[..., Any], order: str = "tree",
                 counts: bool = False) -> Any:
    """Reduce ``count`` ≥ 2 images by pairwise fusions, reading image i as ``get(i)`` (once, in
    order) only when it is needed. ``"sequential"``: ((1, 2), 3), …. ``"tree"``: a balanced
    tree: the stack is halved (the first half the larger by one when N is odd), each half
    reduced so, and the two results fused; neighbours are fused first, and every image goes
    through ⌊log2 N⌋ or ⌈log2 N⌉ fusions. Depth first, so at most ⌈log2 N⌉ results and one image
    are held at a time, not N. (Before session 22 the tree fused neighbours level by level and
    carried the odd one out of a level to the next: for N = 20 its last fusion weighed 16 planes
    against 4 as equals; the balanced tree is closer to a known truth: docs/inputs.md,
    "Stacks".) For N a power of two, and N = 3, both trees are the same. ``"spread"``: the
    balanced tree over the images in :func:`spread_order` (each still read once, in that order).

    ``counts``: ``fuse`` is called as ``fuse(x, y, nx, ny)`` with the number of images each side
    holds, so that a linear rule can weight them: ``(nx·x + ny·y) / (nx + ny)`` makes the
    result the mean of all ``count`` images in every order (without it, a pairwise mean gives
    the images of a tree of N = 3 the weights ¼, ¼, ½, and in ``"sequential"`` order the last
    image ½)."""
    if counts:
        acc, _ = reduce_stack(count, lambda i: (get(i), 1),
                              lambda p, q: (fuse(p[0], q[0], p[1], q[1]), p[1] + q[1]), order)
        return acc
    if order == "sequential":
        acc = get(0)
        for i in range(1, count):
            acc = fuse(acc, get(i))
        return acc
    leaf = spread_order(count) if order == "spread" else range(count)

    def half(lo: int, hi: int) -> Any:
        if hi - lo == 1:
            return get(leaf[lo])
        mid = lo + (hi - lo + 1) // 2
        left = half(lo, mid)
        return fuse(left, half(mid, hi))

    return half(0, count)


#: the orders of :meth:`Fuser.fuse_stack` (and ``fuse-stack --order``)
STACK_ORDERS = ("tree", "spread", "sequential")


def spread_order(count: int) -> list[int]:
    """The leaves of ``--order spread``: 0 … count − 1 arranged so that the balanced tree of
    :func:`reduce_stack` first fuses planes half the stack apart, then those results a quarter
    apart, and so on (bit-reversed order for a power of two: 0, 4, 2, 6, 1, 5, 3, 7). The halves
    are interleaved (0, h, 1, h + 1, …; h = ⌈count / 2⌉), and the pairs so made arranged the
    same way."""
    idx = list(range(count))
    if count <= 2:
        return idx
    h = (count + 1) // 2
    woven = [x for i in range(h) for x in ([idx[i], idx[h + i]] if h + i < count else [idx[i]])]
    pairs = [woven[i:i + 2] for i in range(0, count, 2)]
    return [x for j in spread_order(len(pairs)) for x in pairs[j]]


#: the number of bins of :func:`joint_percentile_bounds`: full-scale samples on a 16-bit grid
_JOINT_LEVELS = 65536


def joint_percentile_bounds(fulls, lo: float, hi: float) -> tuple[float, float] | None:
    """The (lo, hi) percentiles of the samples of several images together (a stack's joint
    mapping), from a histogram accumulated one image at a time, so that the images need not be
    held at once. ``fulls``: the images as floats in [0, 1] on their type's full scale (an 8- or
    16-bit image: v / 255 or v / 65535, which lie on the 16-bit grid k / 65535, 257 v for 8 bit).
    The percentiles are numpy's (``method="linear"``) of all samples concatenated, up to the last
    bit of the interpolation. None when the joint range is flat."""
    hist = np.zeros(_JOINT_LEVELS, dtype=np.int64)
    for x in fulls:
        codes = np.rint(np.asarray(x, dtype=np.float64).ravel() * (_JOINT_LEVELS - 1)).astype(np.int64)
        hist += np.bincount(np.clip(codes, 0, _JOINT_LEVELS - 1), minlength=_JOINT_LEVELS)
    n = int(hist.sum())
    if n == 0:
        return None
    cum = np.cumsum(hist)

    def pct(q: float) -> float:
        v = q / 100.0 * (n - 1)
        k = int(np.floor(v))
        g = v - k
        a = int(np.searchsorted(cum, k, side="right"))  # the k-th smallest sample (0-based)
        b = int(np.searchsorted(cum, min(k + 1, n - 1), side="right"))
        return (a + (b - a) * g) / (_JOINT_LEVELS - 1)

    a, b = pct(lo), pct(hi)
    return (a, b) if b > a else None


def joint_percentile_apply(full: np.ndarray, bounds: tuple[float, float]) -> np.ndarray:
    """One image under a stack's joint mapping (:func:`joint_percentile_bounds`): ``bounds``
    → (0, 1), clipped."""
    a, b = bounds
    return np.clip((np.asarray(full, dtype=np.float64) - a) / (b - a), 0.0, 1.0)


#: what to do with a wrapper :func:`_unwrap_model` does not take apart
_WRAPPER_HINT = {
    "FullyShardedDataParallel": "; an FSDP model's parameters are sharded over the processes: gather them first "
                                "(e.g. its full state_dict loaded into mutualfuse.model.build_model(net.module.cfg) "
                                "on rank 0) and pass that network",
}


def _unwrap_model(net: Any) -> tuple[list[str], Any]:
    """The network inside the wrappers a user who trained in Python holds (:meth:`Fuser.from_model`):
    ``torch.compile``'s ``OptimizedModule`` (the network as ``_orig_mod``, whose state_dict is the
    network's own with the prefix ``_orig_mod.``), ``torch.nn.DataParallel`` and
    ``DistributedDataParallel`` (the network as ``.module``; the same parameters on every
    process), nested in any order. Returns the wrappers' class names, outermost first, and the
    network. The wrapped network's parameters are the ones trained (the wrappers hold none of
    their own), so the fuser built from it fuses as the wrapper's forward would, without the
    wrapper's compilation or scatter."""
    import sys

    torch = sys.modules.get("torch")
    wrappers: list[str] = []
    if torch is None or not isinstance(net, torch.nn.Module):
        return wrappers, net
    parallel = (torch.nn.DataParallel, torch.nn.parallel.DistributedDataParallel)
    for _ in range(16):  # a wrapper of a wrapper …, never a loop
        if isinstance(net, parallel):
            inner = net.module
        elif isinstance(net.__dict__.get("_modules", {}).get("_orig_mod"), torch.nn.Module):  # torch.compile
            inner = net._orig_mod
        else:
            break
        wrappers.append(type(net).__name__)
        net = inner
    return wrappers, net


def _one_image(x: Any) -> bool:
    """Whether :meth:`Fuser.fuse_stack`'s ``images`` is one image rather than a sequence of them:
    a PIL image, or a numpy array / tensor of 2 dimensions (numpy's (H, W, C) with C ≤ 4 too;
    a 3-D array with a longer last axis is N planes, as :func:`~mutualfuse.convert.from_any`
    reads a batch)."""
    import sys

    try:
        from PIL import Image
    except ImportError:  # pragma: no cover
        Image = None
    if Image is not None and isinstance(x, Image.Image):
        return True
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(x, torch.Tensor):
        return x.ndim < 3
    if isinstance(x, np.ndarray):
        from .validation import MIN_SIDE

        return x.ndim < 3 or (x.ndim == 3 and x.shape[-1] < MIN_SIDE and x.shape[-1] <= 4)
    return False


def _pil_file(x: Any) -> str:
    """The file a PIL image was opened from (``PIL.Image.open(path)`` keeps it as ``.filename``,
    as given), or ``""``: for anything else, and for a PIL image made in memory (``Image.new``,
    ``Image.fromarray``, ``im.convert(...)``) or opened from a file object without a name."""
    import sys

    pil = sys.modules.get("PIL.Image")  # not imported: x is no PIL image
    if pil is None or not isinstance(x, pil.Image):
        return ""
    name = getattr(x, "filename", None)
    if not isinstance(name, (str, bytes, os.PathLike)):
        return ""
    name = os.fsdecode(name)
    return name if name.strip() else ""


def _input_names(items: Sequence[Any], defaults: Sequence[str]) -> list[str]:
    """How the errors and notes of :meth:`Fuser.fuse` and :meth:`Fuser.fuse_stack` name their
    inputs: a PIL image opened from a file by that file (:func:`_pil_file`), anything else by its
    ``defaults`` name (``a``, ``b``, ``image k``). Where one name would stand for two inputs
    (the same file twice, or a file named like another input's default), those from files are
    named both ways: ``a (x.png)``, ``image 3 (x.png)``."""
    files = [_pil_file(x) for x in items]
    names = [f or d for f, d in zip(files, defaults)]
    seen: dict[str, int] = {}
    for n in names:
        seen[n] = seen.get(n, 0) + 1
    return [f"{d} ({f})" if f and seen[n] > 1 else n for f, d, n in zip(files, defaults, names)]


def _device_later(model: Any, device: Any, dtype: Any) -> bool:
    """Whether :class:`Fuser` may leave its ``device`` and ``dtype`` as given until first used:
    for a classical method (:func:`_network_weights` is None), with a device and dtype that
    :func:`~mutualfuse.validation.pick_device` / :func:`~mutualfuse.validation.pick_dtype` accept
    on any machine (``"cpu"`` or ``"auto"``; ``"float32"`` or ``"bfloat16"``). Anything else
    (``"cuda"`` without CUDA, ``"float16"`` on a CPU, a bad name) is checked at once, as before,
    and so is the model: an unknown one is refused after the device, as before."""
    if not (isinstance(device, str) and device in ("cpu", "auto")
            and isinstance(dtype, str) and dtype in ("float32", "bfloat16")):
        return False
    try:
        return _network_weights(model) is None
    except (TypeError, ParameterError):
        return False


def _warn_guessed_ranges(notes: Sequence[str], names: Sequence[str], normalize: str) -> None:
    """A ``UserWarning`` (shown in a notebook, once per input name and line of the caller's code)
    for each input whose float samples were outside [0, 1] under ``normalize="auto"``: their range
    was guessed from their values (0-255 floats, say) and stretched by percentiles, so the result
    (float in [0, 1]) is not on the input's scale. Said before only in :attr:`Fuser.report`, which
    :func:`fuse` keeps out of reach: a 0-255 float pair came back stretched without a word. An
    overshoot within the tolerance (clipped) and a policy asked for (``"percentile"``) are not
    guesses and are not warned of; the notes still say them."""
    if normalize != "auto":
        return
    for n in dict.fromkeys(names):
        if any(x.startswith(f"{n}: float input") and "(within the tolerance" not in x for x in notes):
            _warn_user(f"{n}: float samples outside [0, 1] taken for data of another range and stretched by their "
                       "own percentiles (normalize='auto'; a flat image clipped), not kept at their scale: the "
                       "result is float in [0, 1]; pass x / 255 for 0-255 data, np.clip(x, 0, 1) for an overshoot (the values: Fuser.report.notes)")


def _warn_integer_reads(notes: Sequence[str], names: Sequence[str]) -> None:
    """A ``UserWarning`` for each input of an integer type other than uint8/uint16/int16 that was
    read as 16-bit samples by its values (:func:`mutualfuse.convert._integers_as_16bit`, as the
    command line reads a TIFF of that type): the result comes back in that 16-bit type, not in
    the input's dtype, which a note in :attr:`Fuser.report` alone (out of :func:`fuse`'s reach)
    would not say."""
    for n in dict.fromkeys(names):
        for x in notes:
            if x.startswith(f"{n}: ") and "as the command line reads a" in x and "; the result is " in x \
                    and " samples (values " in x:
                _warn_user(x)


def _warn_user(message: str) -> None:
    """``warnings.warn(message, UserWarning)`` attributed to the first frame outside this module
    (the user's call of :func:`fuse`, :meth:`Fuser.fuse` or :meth:`Fuser.fuse_stack`, through the
    lock wrapper)."""
    import sys
    import warnings

    level, frame = 2, sys._getframe(1)  # stacklevel 2: the caller of this function
    while frame is not None and frame.f_code.co_filename == __file__:
        level += 1
        frame = frame.f_back
    warnings.warn(message, UserWarning, stacklevel=level)


def _option_typos(params: Mapping[str, Any]) -> str:
    """``"; did you mean the Fuser option token_budget (for tokn_budget)?"`` for the keywords of
    ``params`` (taken as method parameters, as ``**method_params`` takes every keyword it does
    not know) that are close to an option of :class:`Fuser` (or :func:`fuse`): a misspelt option
    (``tokn_budget``, ``Chroma``, ``normalise``) was refused as an unknown method parameter only,
    with no word of the option meant. ``""`` when none is close."""
    import inspect

    from .registry import close_names

    options = [n for n in inspect.signature(Fuser.__init__).parameters if n not in ("self", "model", "method_params")]
    options += ["method", "weights"]
    found = [(k, close_names(k, options, 1)) for k in sorted(params) if k not in options]
    found = [(k, c[0]) for k, c in found if c]
    if not found:
        return ""
    return "; did you mean the Fuser option " + ", ".join(f"{c} (for {k})" for k, c in found) + "?"


def _refuse_missing_params(method: str, params: Mapping[str, Any]) -> None:
    """A one-line :class:`ParameterError` (before any image is read) when a method of one's own
    has keyword parameters without a default that ``params`` does not give: every call failed
    with ``TypeError: f() missing 1 required positional argument: 'w'``, said per image (``fuse``
    named the first input file as the culprit, ``fuse-dir`` every pair)."""
    import inspect

    from .methods import METHODS, _where
    from .methods.params import keyword_names

    fn = METHODS.get(method)
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):  # no signature to read (a builtin): the call says
        return
    missing = [n for n in keyword_names(fn)
               if sig.parameters[n].default is inspect.Parameter.empty and n not in params]
    if missing:
        names = ", ".join(missing)
        raise ParameterError(f"method {method!r} ({_where(fn)}): parameter{'s' if len(missing) > 1 else ''} {names} "
                             f"{'have' if len(missing) > 1 else 'has'} no default: give "
                             + ", ".join(f"{n}=VALUE" for n in missing)
                             + f" (Fuser({method!r}, {missing[0]}=...), --param {missing[0]}=VALUE) or a default "
                               "in the function")


def _not_taken(method: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of ``params`` whose names the registered ``method`` does not take as keyword
    parameters (all of them for a method taking ``**kwargs``: none is unknown to it then, and
    :func:`_option_typos` is not reached)."""
    from .methods import METHODS
    from .methods.params import keyword_names

    try:
        names = set(keyword_names(METHODS.get(method)))
    except (KeyError, TypeError, ValueError):  # no such method, or no signature to read
        return dict(params)
    return {k: v for k, v in params.items() if k not in names}


def _check_task(task: str | None) -> None:
    """A one-line :class:`ParameterError` for an unknown ``task`` name, also where the fuser
    would not use it (a classical method, a fixed task): a typo is never ignored silently."""
    from .tasks import TASKS

    if task is not None and task not in TASKS:
        raise ParameterError(f"unknown task {task!r}; tasks: {', '.join(TASKS)}")


_CACHE: dict[tuple, Fuser] = {}


def _model_from(method: str, weights: str | os.PathLike | None) -> str | os.PathLike:
    """The ``model`` of :class:`Fuser` that :func:`fuse`'s (and the Fuser's keyword) ``method``
    and ``weights`` name: the weights when given (for the network only), else the method."""
    if not isinstance(method, str):
        raise TypeError(f"method must be a registered method or shipped weights name (str), got "
                        f"{type(method).__name__} {method!r}"[:300])
    if weights is not None and method != NETWORK_METHOD:
        from .methods import METHODS, is_network_method

        if method not in METHODS or not is_network_method(method):
            raise ParameterError(f"weights={weights!r} applies to the network; method {method!r} takes no weights "
                                 "(drop one of them)")
    return weights if weights is not None else method


def fuse(a: Any, b: Any, method: str = NETWORK_METHOD, weights: str | os.PathLike | None = None,
         device: str = "auto", **params: Any) -> Any:
    """Fuse two registered images with the network (default) or any registered method.

    ``a``, ``b``: numpy arrays, PIL images or tensors, as :meth:`Fuser.fuse` takes them (uint8
    0-255, uint16 stretched by percentiles, float in [0, 1] as is and other float ranges
    stretched by percentiles, int16 and other integers as the command line reads a TIFF of
    that type; ``help(mutualfuse.Fuser.fuse)``); the result is of the same kind
    and dtype (float in [0, 1]). ``method``: a registered method
    (``"mutualfuse"`` = the network with its default weights, ``"dwt"``, ``"average"`` …) or a
    shipped weights name; ``weights``: shipped weights name or ``.safetensors`` path for the
    network (not with a classical ``method``); ``device``: ``"cpu"``, ``"cuda"`` or ``"auto"``.
    ``params`` go to :class:`Fuser` (``token_budget``, ``chroma``, ``normalize``, ``tile`` …)
    or, for classical methods, to the method. ``model=`` names the model as :class:`Fuser`'s first
    argument does (a method, shipped weights or a weights file), instead of ``method`` / ``weights``.
    The last :class:`Fuser` is kept for the next call
    with the same settings; use a :class:`Fuser` yourself to read its :attr:`Fuser.report`.
    """
    if "model" in params:  # Fuser(model="paper") spelt for fuse: was "TypeError: Fuser.__init__() got
        model = params.pop("model")  # multiple values for argument 'model'", naming a call not made
        if method != NETWORK_METHOD or weights is not None:
            given = ", ".join(f"{k}={v!r}" for k, v in (("method", method), ("weights", weights))
                              if v is not None and not (k == "method" and v == NETWORK_METHOD))
            raise ParameterError(f"the model is given twice: model={model!r} and {given}; give one (model=, "
                                 "method= or weights=)")
        if not isinstance(model, (str, os.PathLike)):
            raise TypeError(f"model must be a method name, a shipped weights name or a path to a .safetensors "
                            f"file, got {type(model).__name__} {model!r}"[:300])
    else:
        model = _model_from(method, weights)
    from .weights import file_identity

    # a weights file rewritten in place (same path) is a new model: its identity is in the key
    key = (str(model), file_identity(model), device, tuple(sorted((k, repr(v)) for k, v in params.items())))
    # the fuser is held here, not looked up again after the cache was filled: another thread's
    # call with other settings may clear the cache in between (a KeyError); one fuser used by
    # several threads runs their calls one at a time (:func:`_one_call_at_a_time`)
    fuser = _CACHE.get(key)
    if fuser is None:
        fuser = Fuser(model, device=device, **params)  # built first: a refused setting keeps the cached fuser
        _CACHE.clear()
        _CACHE[key] = fuser
    return fuser.fuse(a, b)
