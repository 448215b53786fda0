"""docs/training.md, "From Python": every key that ``mutualfuse.train.train`` can return is named there
(session 31, docs walk: the page listed ``{"step", "loss", "elapsed_s", "weights"}`` only, while a
``time_limit_s`` stop returns ``stopped_early`` and a resume of a finished run ``up_to_date``, with no
loss, which a notebook reading ``result["loss"]`` then met as a KeyError)."""
from __future__ import annotations

import json
import re
from pathlib import Path

from mutualfuse.train import TrainConfig, train
from train_cli_helpers import TINY, data

DOCS = Path(__file__).resolve().parents[1] / "docs" / "training.md"


def _from_python_section() -> str:
    text = DOCS.read_text(encoding="utf-8")
    start = text.index("**From Python**")
    return re.sub(r"\s+", " ", text[start:text.index("* A network held in memory", start)])


def test_every_key_train_returns_is_named_in_the_docs(tmp_path, monkeypatch):
    monkeypatch.delenv("MUTUALFUSE_DATA", raising=False)
    root = data(tmp_path / "data", n=6)
    d = json.loads(json.dumps(TINY))
    d.update(steps=3, out_dir=str(tmp_path / "run"))
    d["data"]["root"] = str(root)
    keys = set()
    stopped = train(TrainConfig.from_dict(d), progress=False, notes=False, time_limit_s=1e-9)
    assert stopped.get("stopped_early") is True and stopped["step"] < 3, stopped
    keys |= set(stopped)
    d["steps"] = stopped["step"]  # the run's own step: its weights are written again, as finished
    keys |= set(train(TrainConfig.from_dict(d), progress=False, notes=False, resume=True))
    done = train(TrainConfig.from_dict(d), progress=False, notes=False, resume=True)  # then nothing to do
    assert done.get("up_to_date") is True and "loss" not in done, done
    keys |= set(done)
    section = _from_python_section()
    missing = sorted(k for k in keys if f'"{k}"' not in section and f"`{k}`" not in section)
    assert not missing, f"docs/training.md's Python section does not name the result keys {missing}"
