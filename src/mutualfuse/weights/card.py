"""Model cards of the shipped weights: what each file is, how it was trained, how it scored.

Everything in a card comes from two places that ship together: the registry entry
(:class:`~mutualfuse.weights.ShippedWeights`: description, data, config path, validation
metrics) and the weights file's own metadata (the full model and training configs, steps,
wall time, machine, final training loss), read from the safetensors header without loading
the tensors.
"""
from __future__ import annotations

import json

from ..errors import WeightsError
from ..wording import counted
from . import SHIPPED, shipped_path


def _header_metadata(name: str) -> dict[str, str]:
    """The metadata of shipped weights ``name``, from their file once its sha256 is verified."""
    from safetensors import SafetensorError, safe_open

    path = shipped_path(name)
    try:
        with safe_open(str(path), framework="pt") as fh:
            return dict(fh.metadata() or {})
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise WeightsError(f"{path}: not a valid safetensors weights file ({' '.join(str(e).split())[:120]})") from None


def _train_lines(path: str, meta: dict[str, str]) -> list[str]:
    """The recipe and run lines of a weights file of one's own; garbled metadata (``train_config``
    not a JSON object of the trainer's fields, ``wall_time_s`` not a number) is a one-line
    :class:`WeightsError` naming the file and the key."""
    try:
        tc = json.loads(meta.get("train_config", "{}"))
    except (ValueError, RecursionError):  # RecursionError: nested too deep
        raise WeightsError(f"{path}: garbled train_config metadata (not valid JSON)") from None
    try:
        if not isinstance(tc, dict):
            raise TypeError
        lines = _recipe(tc) if tc else []
    except (ValueError, TypeError, AttributeError):
        raise WeightsError(f"{path}: garbled train_config metadata (not a JSON object of training "
                           "settings as `mutualfuse train` writes them)") from None
    try:
        return lines + _run_lines(meta)
    except ValueError:
        raise WeightsError(f"{path}: garbled wall_time_s metadata ({meta.get('wall_time_s', '')[:40]!r} is not "
                           "a number)") from None


def _recipe(tc: dict) -> list[str]:
    data = tc.get("data") or {}
    loss = str(tc.get("loss", "?"))
    if tc.get("loss_params"):
        loss += " " + ", ".join(f"{k}={v}" for k, v in tc["loss_params"].items())
    if tc.get("truth_weight"):
        loss += f" + {tc['truth_weight']} x truth term (synthetic multi-focus samples)"
    sched = str(tc.get("lr_schedule", "constant"))
    if sched != "constant":
        sched += f", warm-up {tc.get('warmup_steps', 0)}, min ratio {tc.get('min_lr_ratio', '?')}"
    lines = [
        f"loss:        {loss}",
        f"budget:      {tc.get('steps', '?')} steps x batch {tc.get('batch_size', '?')}, "
        f"{data.get('crop', '?')}x{data.get('crop', '?')} crops, seed {tc.get('seed', '?')}"
        + (f"; the mapping pooled to {tc['train_token_budget']} tokens in training"
           if tc.get("train_token_budget") else ""),
        f"optimiser:   Adam lr {tc.get('lr', '?')} ({sched})",
        f"data:        {', '.join(data.get('sets') or [])}; {_pairs(data.get('val_pairs', 0))} held out for validation"
        + (f"; synthetic multi-focus fraction {data.get('multifocus')}" if data.get("multifocus") else "")
        + (f"; black regions in one source, fraction {data.get('blackout')}" if data.get("blackout") else "")
        + (f"; roles swapped, fraction {data.get('swap')}" if data.get("swap") else ""),
    ]
    if tc.get("init_weights"):
        lines.append(f"warm start:  from the weights `{tc['init_weights']}` (steps above are on top of its training)")
    return lines


def _pairs(n) -> str:
    """``n`` pairs, as a count agreeing with its noun where ``n`` is a whole number."""
    return counted(n, "pair") if isinstance(n, int) and not isinstance(n, bool) else f"{n} pairs"


def _run_lines(meta: dict[str, str]) -> list[str]:
    """The card's ``run:`` and ``final loss:`` lines from a weights file's metadata."""
    run = [f"{meta['steps']} steps done"] if meta.get("steps") else []
    if meta.get("wall_time_s"):
        wall = float(meta["wall_time_s"])  # a short run said "0.0 min"
        run.append((f"{wall / 60:.1f} min" if wall >= 60 else f"{wall:.1f} s")
                   + " wall of training steps (validation excluded)")
    if meta.get("machine"):
        run.append(" ".join(meta["machine"].split()))
    lines = [f"run:         {'; '.join(run)}"] if run else []
    if meta.get("precision"):
        lines.append(f"precision:   training forward in {meta['precision']}")
    if meta.get("stopped"):
        lines.append(f"stopped:     {meta['stopped']}")
    if meta.get("final_train_loss"):
        lines.append(f"final loss:  {meta['final_train_loss']} (training batch)")
    return lines


def _data_lines(meta: dict[str, str]) -> list[str]:
    """The ``trained on:``, ``inputs:`` and ``loss code:`` lines of one's own weights, from the
    ``train_data`` and ``loss_source`` metadata that ``mutualfuse train`` writes since 2026-12-07
    (none in older files); garbled values are left out, not an error."""
    out = []
    try:
        d = json.loads(meta.get("train_data", "null"))
    except (ValueError, RecursionError):
        d = None
    if isinstance(d, dict):
        sets = d.get("sets") if isinstance(d.get("sets"), dict) else {}
        out.append(f"trained on:  {_pairs(d.get('train_pairs', '?'))}, {d.get('held_out', '?')} held out "
                   f"({', '.join(f'{k} {v}' for k, v in sets.items())}; "
                   + (f"under {d['data_root']}" if d.get("data_root") else "data folder not recorded")
                   + f"; data sha256 {d.get('pairs_sha256', '?')})")
        pct = d.get("percentiles")
        pct = pct if isinstance(pct, list) and len(pct) == 2 and all(isinstance(v, (int, float)) for v in pct) \
            else [0.1, 99.9]
        norm = str(d.get("normalize", "auto"))
        out.append(f"inputs:      read with --normalize {norm}"
                   + (f" --percentiles {pct[0]:g} {pct[1]:g}" if norm != "full" else "")
                   + f", colour as {d.get('colour', 'BT.601 luma')}: fuse with the same")
    try:
        s = json.loads(meta.get("loss_source", "null"))
    except (ValueError, RecursionError):
        s = None
    if isinstance(s, dict):
        out.append(f"loss code:   {s.get('loss', '?')} from {s.get('file') or s.get('module', '?')} "
                   f"(sha256 {s.get('sha256') or 'not read'})")
    return out


def _validation_line(meta: dict[str, str]) -> list[str]:
    """The ``validation:`` line of one's own weights, from the run's last validation (written by
    ``mutualfuse train`` into the final weights since 2026-12-06; none in older files or in
    ``export-weights`` output of a checkpoint). Garbled values are left out, not an error."""
    try:
        v = json.loads(meta.get("validation", "{}"))
    except (ValueError, RecursionError):
        return []
    if not isinstance(v, dict):
        return []
    names = {"val_loss": "loss", "val_sf": "sf", "val_ei": "ei", "val_qabf": "qabf", "val_mf_psnr": "mf_psnr"}
    got = [f"{short}={v[k]:.4g}" for k, short in names.items() if isinstance(v.get(k), (int, float))]
    if not got:
        return []
    try:  # data.val_crop (s31): the quality scored on the held-out pairs' centre crops, not at full size
        crop = json.loads(meta.get("train_config", "{}"))["data"].get("val_crop")
    except (ValueError, RecursionError, KeyError, TypeError, AttributeError):
        crop = None
    where = f"centre {crop}x{crop} crops of " if isinstance(crop, int) and crop > 0 else ""
    return ["validation:  " + ", ".join(got) + f" ({where}the run's held-out pairs, logged at step "
            f"{v.get('step', '?')}, for the network as trained)"]


def _trained_differences(trained: object, stored: dict) -> str:
    """The settings in which the network as trained (``train_config``'s model, which the
    training's validation ran) differs from the stored model config (inference settings chosen
    after training: ``blend_temperature``, ``map_min_pool``, ``base_brightness`` ...), as
    ``key value`` text; empty when they agree or cannot be compared. Keys a config lacks take
    the :class:`~mutualfuse.model.ModelConfig` defaults, as loading does."""
    from ..model.config import ModelConfig

    if not isinstance(trained, dict) or not stored:
        return ""
    try:
        a = ModelConfig.from_dict(trained).to_dict()
        b = ModelConfig.from_dict(stored).to_dict()
    except Exception:  # noqa: BLE001 - garbled metadata: nothing to compare, the card still prints
        return ""
    return ", ".join(f"{k} {a[k]}" for k in a if k not in ("token_budget", "in_channels") and a[k] != b.get(k))


def _tensors_line(meta: dict[str, str]) -> list[str]:
    """The card's ``tensors:`` line: the file's ``tensors_sha256`` (the digest of its model config
    and every tensor, :func:`mutualfuse.weights.tensors_digest`), which two runs' weights share
    exactly when their content is equal; none for files written before it was recorded."""
    d = meta.get("tensors_sha256", "")
    if not (len(d) == 64 and all(c in "0123456789abcdef" for c in d)):
        return []
    return [f"tensors:     sha256 {d} (model config and every tensor; equal weights, equal digest)"]


def model_card(name: str) -> str:
    """The model card of shipped weights ``name`` as plain text (one ``key: value`` per line).

    >>> print(model_card("paper").splitlines()[0])
    paper
    """
    w = SHIPPED[name]
    meta = _header_metadata(name)
    try:
        mc = json.loads(meta.get("model_config", "{}"))
    except (ValueError, RecursionError):
        mc = {}
    try:
        tc = json.loads(meta.get("train_config", "{}"))
    except (ValueError, RecursionError):
        tc = {}
    model = ", ".join(f"{k}={v}" for k, v in mc.items() if k not in ("in_channels", "token_budget"))
    lines = [
        w.name,
        f"description: {w.description}",
        f"file:        {w.file} (sha256 {w.sha256})",
    ]
    lines += _tensors_line(meta)
    lines.append(f"trained on:  {w.trained_on}")
    if w.config:
        lines.append(f"config:      {w.config}")
    lines.append(f"model:       {model}")
    if meta.get("stored_dtype"):
        lines.append(f"stored as:   {meta['stored_dtype']}")
    if tc:
        lines += _recipe(tc)
    lines += _run_lines(meta)
    if meta.get("inference"):
        lines.append(f"inference:   {meta['inference']}")
    if w.validation:
        trained = _trained_differences(tc.get("model"), mc)
        lines.append("validation:  " + ", ".join(f"{k}={v:.4g}" for k, v in w.validation)
                     + " (held-out RoadScene pairs, logged at the last training step"
                     + (f", of the network as trained: {trained}; not at the stored settings of the model "
                        "line" if trained else "") + ")")
    if w.tasks:
        lines.append("per task:    " + "; ".join(
            f"{t}: {', '.join(f'{k}={v:g}' for k, v in kv) or 'the stored settings'}" for t, kv in w.tasks)
            + " (--task; each chosen on that task's validation columns; default --task auto: the task "
              "detected per pair)")
    return "\n".join(lines) + "\n"


def file_card(path: str) -> str:
    """The card of a weights file that is not shipped (e.g. ``OUT/final.safetensors`` of one's own
    run, or an ``export-weights`` output): the same lines, from the file's own metadata only,
    after the file has passed :func:`mutualfuse.weights.read_weights`' checks (digest included; an
    ``integrity:`` line says so where there was none to check, :func:`~mutualfuse.weights.unchecked_note`).
    A shipped file given by its path (recognised by its sha256) gets that entry's card."""
    from . import file_sha256, read_weights, unchecked_note

    _, cfg, meta = read_weights(path)  # a one-line WeightsError if it is not valid weights
    digest = file_sha256(path)
    shipped = next((w.name for w in SHIPPED.values() if w.sha256 == digest), None)
    if shipped is not None:  # a shipped file by its path: that entry's card (fuse --weights PATH uses the entry)
        lines = model_card(shipped).splitlines()
        return "\n".join([str(path), f"shipped as:  {shipped} (the same file, by its sha256)", *lines[1:]]) + "\n"
    model = ", ".join(f"{k}={v}" for k, v in cfg.to_dict().items() if k not in ("in_channels", "token_budget"))
    validation = _validation_line(meta)
    lines = [str(path), "description: not shipped: a weights file of its own (no registry entry"
                        + ("" if validation else ", no validation record") + ")",
             f"file:        {path} (sha256 {digest})", *_tensors_line(meta)]
    unchecked = unchecked_note(path, meta)
    if unchecked:  # read unverified: the sha256 above is the file as it is now, not a checked one
        lines.append(f"integrity:   {unchecked.split(': ', 1)[1]}")
    lines.append(f"model:       {model}")
    if meta.get("stored_dtype"):
        lines.append(f"stored as:   {meta['stored_dtype']}")
    lines += _train_lines(str(path), meta) + _data_lines(meta) + validation
    if "train_config" not in meta and "train_data" not in meta:  # e.g. save_weights of a network trained in Python
        lines.append("training:    not recorded in the file (no train_config, no train_data: written by save_weights "
                     "from Python, say, not by mutualfuse train); fuse reads its inputs with the defaults "
                     "(--normalize auto) unless told otherwise")
    return "\n".join(_shown(x) for x in lines) + "\n"


def _shown(line: str) -> str:
    """One line of a card as text to print: a byte of a name that is not UTF-8 (Python's
    surrogate escape: a data root, warm-start weights or loss file named in Latin-1 bytes, as
    ``mutualfuse train`` records them, or the file's own path) as ``\\xe9``, any other lone
    surrogate (JSON's ``\\udXXX`` escapes) and a control character (a line break, an escape
    sequence) as its backslash escape, so that the card is valid UTF-8 text of one line per
    field. The raw bytes were printed (on a strict UTF-8 stream: ``UnicodeEncodeError``)."""
    if line.isprintable():
        return line
    out = []
    for c in line:
        o = ord(c)
        if 0xDC80 <= o <= 0xDCFF:
            out.append(f"\\x{o - 0xDC00:02x}")
        elif 0xD800 <= o <= 0xDFFF or o < 32 or 0x7F <= o < 0xA0:
            out.append(c.encode("unicode_escape").decode("ascii"))
        else:
            out.append(c)
    return "".join(out)
