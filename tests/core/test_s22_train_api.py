"""The Python training API as a notebook uses it (s22 audit): configs built in Python and checked
when ``train`` starts, ``train`` taking a mapping or a file, the process state put back after a
run, Ctrl+C, and docs/training.md's Python block ("How to train") run as written."""
from __future__ import annotations

import json
import multiprocessing
import os
import random
import re
import signal
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from mutualfuse.errors import FuseError, InputError, ParameterError
from mutualfuse.train import TrainConfig, train
from train_cli_helpers import TINY, data

DOCS = Path(__file__).resolve().parents[2] / "docs" / "training.md"


@pytest.fixture
def root(tmp_path, monkeypatch) -> Path:
    monkeypatch.delenv("MUTUALFUSE_DATA", raising=False)
    return data(tmp_path / "data", n=6)


def _cfg(root: Path, out: Path, **over) -> dict:
    d = json.loads(json.dumps(TINY))
    d["data"]["root"] = str(root)
    d["out_dir"] = str(out)
    d.update(over)
    return d


def _sha(weights: str) -> str:
    from safetensors import safe_open

    with safe_open(weights, "pt") as fh:
        return fh.metadata()["tensors_sha256"]


def test_fields_set_after_construction_are_checked_when_train_starts(root, tmp_path):
    # cfg.steps = -3 used to "train" 0 steps and write untrained final weights, reporting success
    cfg = TrainConfig.from_dict(_cfg(root, tmp_path / "a"))
    cfg.steps = -3
    with pytest.raises(ParameterError, match=r"^training config: steps must be an integer >= 1, got -3$"):
        train(cfg, progress=False, notes=False)
    cfg = TrainConfig.from_dict(_cfg(root, tmp_path / "a"))
    cfg.data.crop = "big"  # was reported as a loss that cannot train ("'<' not supported ...")
    with pytest.raises(ParameterError, match=r"^training config: data.crop must be an integer >= 8"):
        train(cfg, progress=False, notes=False)
    cfg = TrainConfig.from_dict(_cfg(root, tmp_path / "a"))
    cfg.data = {"crop": 16}
    with pytest.raises(ParameterError, match=r"^training config: data must be a DataConfig"):
        train(cfg, progress=False, notes=False)
    assert not (tmp_path / "a").exists()


def test_sections_given_as_mappings_are_read_as_a_file_s(root):
    cfg = TrainConfig(data={"sets": ["s"], "crop": 16, "val_pairs": 1}, model={"widths": [4, 8, 8], "depth": 3})
    assert cfg.data.crop == 16 and list(cfg.model.widths) == [4, 8, 8]
    with pytest.raises(ParameterError, match=r"^unknown data config keys: \['nope'\]"):
        TrainConfig(data={"nope": 1})
    with pytest.raises(ParameterError, match=r"^training config: data.hflip must be true or false"):
        TrainConfig(data={"hflip": "false"})


def test_train_takes_a_mapping_a_file_or_a_recipe_name(root, tmp_path):
    r = train(_cfg(root, tmp_path / "m"), progress=False, notes=False)
    assert r["step"] == 2 and Path(r["weights"]).is_file()
    f = tmp_path / "c.json"
    f.write_text(json.dumps(_cfg(root, tmp_path / "f")))
    r2 = train(f, progress=False, notes=False)
    assert _sha(r2["weights"]) == _sha(r["weights"])  # the same config, the same run
    with pytest.raises(ParameterError, match=r"^unknown training config keys: \['stpes'\]"):
        train({**_cfg(root, tmp_path / "x"), "stpes": 3})
    with pytest.raises(ParameterError, match="no such file"):
        train("no-such-recipe")
    with pytest.raises(ParameterError, match="^training config must be a TrainConfig"):
        train(3)


def test_errors_are_the_package_s_one_line_exceptions(root, tmp_path):
    cfg = _cfg(root, tmp_path / "e")
    for bad, kind in (({**cfg, "data": {**cfg["data"], "root": str(tmp_path / "none")}}, InputError),
                      ({**cfg, "data": {**cfg["data"], "sets": ["missing"]}}, InputError)):
        with pytest.raises(kind) as e:
            train(TrainConfig.from_dict(bad), progress=False, notes=False)
        assert "\n" not in str(e.value)
    (root / "s" / "vis" / "03.png").unlink()
    with pytest.raises(InputError, match=r"do not pair by name \(only in ir/: 03.png\)"):
        train(TrainConfig.from_dict(cfg), progress=False, notes=False)
    assert not (tmp_path / "e").exists()


def test_the_process_is_as_before_the_call_and_two_runs_are_equal(root, tmp_path, capsys):
    prev = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        torch.use_deterministic_algorithms(False)
        torch.set_flush_denormal(False)
        torch.manual_seed(123)
        np.random.seed(123)
        random.seed(123)
        expect = (torch.rand(3), np.random.rand(3), random.random())
        torch.manual_seed(123)
        np.random.seed(123)
        random.seed(123)
        shas = []
        for run in ("one", "two"):
            # TINY has threads 1; the notes on
            r = train(TrainConfig.from_dict(_cfg(root, tmp_path / run)), progress=False, notes=True)
            shas.append(_sha(r["weights"]))
            assert torch.get_num_threads() == 2
            assert not torch.are_deterministic_algorithms_enabled()
            assert torch.tensor([1e-40], dtype=torch.float32).mul(1.0).item() != 0.0  # denormals kept
        got = (torch.rand(3), np.random.rand(3), random.random())
        assert torch.equal(got[0], expect[0]) and np.array_equal(got[1], expect[1]) and got[2] == expect[2]
        assert shas[0] == shas[1]
        out = capsys.readouterr()
        assert out.out == ""  # the notes go to stderr
        assert "pairs in" in out.err
        with pytest.raises(ParameterError):  # and after a refusal too
            train(TrainConfig.from_dict(_cfg(root, tmp_path / "one")), progress=False, notes=False)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(prev)


def test_ctrl_c_leaves_a_checkpoint_no_workers_and_resumes(root, tmp_path, monkeypatch):
    from mutualfuse.train import loop
    from mutualfuse.train.loop import TrainingInterrupted
    from mutualfuse.train.checkpoint import load_checkpoint

    d = _cfg(root, tmp_path / "ref", steps=5, checkpoint_every=0)
    d["data"]["num_workers"] = 1
    ref = train(TrainConfig.from_dict(d), progress=False, notes=False)
    lr_at = loop.lr_at

    def interrupt_at_3(cfg, step):  # the notebook's interrupt arrives during step 3
        if step == 3:
            os.kill(os.getpid(), signal.SIGINT)
        return lr_at(cfg, step)

    monkeypatch.setattr(loop, "lr_at", interrupt_at_3)
    handler = signal.getsignal(signal.SIGINT)
    d["out_dir"] = str(tmp_path / "run")
    with pytest.raises(TrainingInterrupted, match="at step 3 of 5: checkpoint") as e:
        train(TrainConfig.from_dict(d), progress=False, notes=False)
    assert isinstance(e.value, KeyboardInterrupt)
    assert signal.getsignal(signal.SIGINT) is handler
    assert multiprocessing.active_children() == []  # the data worker is gone, the traceback still held
    assert load_checkpoint(tmp_path / "run" / "last.ckpt")["step"] == 3
    monkeypatch.setattr(loop, "lr_at", lr_at)
    r = train(TrainConfig.from_dict(d), resume=True, progress=False, notes=False)
    assert r["step"] == 5 and _sha(r["weights"]) == _sha(ref["weights"])


def test_the_python_block_of_how_to_train_runs_as_written(tmp_path, monkeypatch, samples):
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("\n## How to train\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) == 1
    data(tmp_path / "data", n=4, size=(40, 40), name="thermal")
    monkeypatch.setenv("MUTUALFUSE_DATA", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    for name, src in (("ir.png", "a.png"), ("vis.png", "b.png")):
        Image.open(samples / "tno-01" / src).convert("L").crop((0, 0, 64, 48)).save(tmp_path / name)
    ns: dict = {}
    exec(compile(blocks[0], "docs/training.md", "exec"), ns)
    assert ns["result"]["step"] == 4
    assert ns["fused"].shape == (48, 64)
    # the same network in memory (Fuser.from_model) fuses exactly as its written weights
    assert "Fuser.from_model(model)" in blocks[0] and np.array_equal(ns["same"], ns["fused"])
    assert isinstance(ns["model"], torch.nn.Module) and ns["meta"]["steps"] == "4"
    assert issubclass(ParameterError, FuseError)
