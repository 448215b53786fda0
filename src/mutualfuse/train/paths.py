"""How the local paths of a training run are recorded in the weights written from it.

A run's weights say where their data, output folder, warm-start weights and loss code came
from: ``train_data.data_root``, ``loss_source.file`` and, in ``train_config``, ``out_dir``,
``data.root``, ``init_weights`` and ``data.sets``. As absolute paths these show the folders of
the machine they were trained on (``/home/alice/clinic-project/data``) to anyone the weights
are shared with. :func:`record_paths` rewrites that metadata for one of :data:`PATH_RECORDS`:

* ``full``: as the run saw them, absolute (the default: the full record of a run's own files);
* ``name``: only the last part of each path, the folder's or file's own name (``data``,
  ``myloss.py``); a set given relative to the data root keeps its relative name;
* ``none``: no folder at all: the data root and the output folder are not recorded (``null``
  in ``train_config``, no ``data_root`` in ``train_data``), the loss code's file is left out
  (its module name and sha256 stay), files (warm-start weights, a ``.csv`` set given by an
  absolute path) by their name only.

Nothing the weights need to fuse changes: the tensors, ``model_config`` and the intensity
policy (``train_data``'s ``normalize``, ``percentiles``, ``colour``) are kept as they are, as
are the data's identity (the sets' pair counts, ``pairs_sha256``) and the loss code's sha256,
which say which data and code it was without saying where they were. The run's own folder
(checkpoints, ``split.json``, ``config.json``) keeps the full paths: ``--resume`` compares them.
What was done is recorded as the ``recorded_paths`` metadata (absent means ``full``).
"""
from __future__ import annotations

import json
from pathlib import PurePath
from typing import Any

#: the values of ``--record-paths`` (``mutualfuse train`` and ``mutualfuse export-weights``)
PATH_RECORDS = ("full", "name", "none")


def _is_path(v: Any) -> bool:
    return isinstance(v, str) and bool(v) and ("/" in v or "\\" in v)


def _name(v: str) -> str:
    """The last part of a path, POSIX or Windows (``C:\\x\\y`` → ``y``)."""
    return PurePath(v.replace("\\", "/")).name


def _file(v: Any, how: str) -> Any:
    """A file-or-name value (``init_weights``: a shipped name or a path) under ``how``."""
    return _name(v) if how != "full" and _is_path(v) else v


def _set(v: Any, how: str) -> Any:
    """A ``data.sets`` entry: one relative to the data root is kept, an absolute one by its name."""
    if how == "full" or not isinstance(v, str):
        return v
    absolute = v.startswith(("/", "\\")) or (len(v) > 1 and v[1] == ":")
    return _name(v) if absolute else v


def _folder(v: Any, how: str) -> Any:
    if how == "full" or not isinstance(v, str):
        return v
    return (_name(v) or None) if how == "name" else None


def _json(text: Any) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError, RecursionError):
        return None


def _dumps(value: Any) -> str:
    """``value`` as JSON text, non-ASCII names as they are, unless one holds a character that UTF-8
    cannot hold (a path that is not UTF-8, a lone surrogate in Python), which a safetensors
    metadata value cannot take: then with JSON's ``\\u`` escapes (:func:`mutualfuse.train.loop._json_text`)."""
    text = json.dumps(value, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(value)
    return text


def record_paths(meta: dict[str, str], how: str) -> dict[str, str]:
    """``meta`` (a weights file's metadata as written by ``mutualfuse train`` or
    ``export-weights``) with its local paths recorded as ``how`` says (:data:`PATH_RECORDS`).
    A value that is not the JSON it should be is left out under ``name``/``none`` (it may hold
    a path that cannot be found to rewrite); ``full`` returns ``meta`` unchanged."""
    if how not in PATH_RECORDS:
        raise ValueError(f"record_paths: {how!r} is not one of {', '.join(PATH_RECORDS)}")
    out = dict(meta)
    if how == "full":
        return out
    tc = _json(out.get("train_config")) if "train_config" in out else None
    if isinstance(tc, dict):
        tc["out_dir"] = _folder(tc.get("out_dir"), how)
        if "init_weights" in tc:
            tc["init_weights"] = _file(tc["init_weights"], how)
        data = tc.get("data")
        if isinstance(data, dict):
            data["root"] = _folder(data.get("root"), how)
            if isinstance(data.get("sets"), list):
                data["sets"] = [_set(s, how) for s in data["sets"]]
        out["train_config"] = json.dumps(tc)
    elif "train_config" in out:
        del out["train_config"]
    td = _json(out.get("train_data")) if "train_data" in out else None
    if isinstance(td, dict):
        if how == "none":
            td.pop("data_root", None)
        elif isinstance(td.get("data_root"), str):
            td["data_root"] = _name(td["data_root"])
        if isinstance(td.get("sets"), dict):
            td["sets"] = {_set(k, how): v for k, v in td["sets"].items()}
        out["train_data"] = _dumps(td)
    elif "train_data" in out:
        del out["train_data"]
    src = _json(out.get("loss_source")) if "loss_source" in out else None
    if isinstance(src, dict):
        if how == "none":
            src.pop("file", None)
        elif isinstance(src.get("file"), str):
            src["file"] = _name(src["file"])
        out["loss_source"] = _dumps(src)
    elif "loss_source" in out:
        del out["loss_source"]
    out["recorded_paths"] = how
    return out
