"""Model cards of the shipped weights: what each file is, how it was trained, how it scored.

Everything in a card comes from two places that ship together: the registry entry
(:class:`~mutualfuse.weights.ShippedWeights`: description, data, config path, validation
metrics) and the weights file's own metadata (the full model and training configs, steps,
wall time, machine, final training loss), read from the safetensors header without loading
the tensors.
"""
from __future__ import annotations

import json

from . import SHIPPED, resolve_weights


def _header_metadata(name: str) -> dict[str, str]:
    from safetensors import safe_open

    path, _ = resolve_weights(name)
    with safe_open(str(path), framework="pt") as fh:
        return dict(fh.metadata() or {})


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
        f"{data.get('crop', '?')}x{data.get('crop', '?')} crops, seed {tc.get('seed', '?')}",
        f"optimiser:   Adam lr {tc.get('lr', '?')} ({sched})",
        f"data:        {', '.join(data.get('sets') or [])}; {data.get('val_pairs', 0)} pairs held out for validation"
        + (f"; synthetic multi-focus fraction {data.get('multifocus')}" if data.get("multifocus") else "")
        + (f"; black regions in one source, fraction {data.get('blackout')}" if data.get("blackout") else "")
        + (f"; roles swapped, fraction {data.get('swap')}" if data.get("swap") else ""),
    ]
    if tc.get("init_weights"):
        lines.append(f"warm start:  from the weights `{tc['init_weights']}` (steps above are on top of its training)")
    return lines


def _run_lines(meta: dict[str, str]) -> list[str]:
    """The card's ``run:`` and ``final loss:`` lines from a weights file's metadata."""
    run = [f"{meta['steps']} steps done"] if meta.get("steps") else []
    if meta.get("wall_time_s"):
        run.append(f"{float(meta['wall_time_s']) / 60:.1f} min wall")
    if meta.get("machine"):
        run.append(meta["machine"])
    lines = [f"run:         {'; '.join(run)}"] if run else []
    if meta.get("final_train_loss"):
        lines.append(f"final loss:  {meta['final_train_loss']} (training batch)")
    return lines


def model_card(name: str) -> str:
    """The model card of shipped weights ``name`` as plain text (one ``key: value`` per line).

    >>> print(model_card("paper").splitlines()[0])
    paper
    """
    w = SHIPPED[name]
    meta = _header_metadata(name)
    try:
        mc = json.loads(meta.get("model_config", "{}"))
    except ValueError:
        mc = {}
    try:
        tc = json.loads(meta.get("train_config", "{}"))
    except ValueError:
        tc = {}
    model = ", ".join(f"{k}={v}" for k, v in mc.items() if k not in ("in_channels", "token_budget"))
    lines = [
        w.name,
        f"description: {w.description}",
        f"file:        {w.file} (sha256 {w.sha256})",
        f"trained on:  {w.trained_on}",
    ]
    if w.config:
        lines.append(f"config:      {w.config}")
    lines.append(f"model:       {model}")
    if meta.get("stored_dtype"):
        lines.append(f"stored as:   {meta['stored_dtype']}")
    if tc:
        lines += _recipe(tc)
    lines += _run_lines(meta)
    if w.validation:
        lines.append("validation:  " + ", ".join(f"{k}={v:.4g}" for k, v in w.validation)
                     + " (held-out RoadScene pairs, logged at the last step)")
    if w.tasks:
        lines.append("per task:    " + "; ".join(
            f"{t}: {', '.join(f'{k}={v:g}' for k, v in kv) or 'the stored settings'}" for t, kv in w.tasks)
            + " (--task; each chosen on that task's validation columns; default --task auto: the task "
              "detected per pair)")
    return "\n".join(lines) + "\n"


def file_card(path: str) -> str:
    """The card of a weights file that is not shipped (e.g. ``OUT/final.safetensors`` of one's own
    run, or an ``export-weights`` output): the same lines, from the file's own metadata only,
    after the file has passed :func:`mutualfuse.weights.read_weights`' checks (digest included)."""
    import hashlib

    from . import read_weights

    _, cfg, meta = read_weights(path)  # a one-line WeightsError if it is not valid weights
    try:
        tc = json.loads(meta.get("train_config", "{}"))
    except ValueError:
        tc = {}
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    model = ", ".join(f"{k}={v}" for k, v in cfg.to_dict().items() if k not in ("in_channels", "token_budget"))
    lines = [str(path), "description: not shipped: a weights file of its own (no registry entry, no "
                        "validation record)", f"file:        {path} (sha256 {h.hexdigest()})",
             f"model:       {model}"]
    if meta.get("stored_dtype"):
        lines.append(f"stored as:   {meta['stored_dtype']}")
    if tc:
        lines += _recipe(tc)
    lines += _run_lines(meta)
    return "\n".join(lines) + "\n"
