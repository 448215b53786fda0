"""Weights: safetensors only, sha256 verified, one-line errors for corrupt or tampered files."""
from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
import torch
from one_line_error import assert_one_line_error  # tests/ is on sys.path

from mutualfuse.errors import WeightsError
from mutualfuse.weights import SHIPPED, HERE, load_model, read_weights, sha256_file


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "mutualfuse", *args], capture_output=True, text=True, timeout=300)


def test_roundtrip_config_and_tensors(tiny_weights):
    model, meta = load_model(tiny_weights)
    assert meta["format"] == "mutualfuse-weights-2"
    assert model.cfg.widths[:3] == (4, 8, 8)
    state, cfg, _ = read_weights(tiny_weights)
    for k, v in model.state_dict().items():
        assert torch.equal(state[k], v)


def test_tampered_file_is_refused(tiny_weights, tmp_path):
    p = tmp_path / "w.safetensors"
    shutil.copy(tiny_weights, p)
    shutil.copy(str(tiny_weights) + ".sha256", str(p) + ".sha256")
    data = bytearray(p.read_bytes())
    data[-3] ^= 0x01  # flip one bit in the last tensor
    p.write_bytes(bytes(data))
    with pytest.raises(WeightsError, match="sha256 mismatch"):
        load_model(p)


def test_corrupt_file_without_sidecar_isassert_one_line_error(tmp_path, samples):
    p = tmp_path / "junk.safetensors"
    p.write_bytes(b"\x00" * 100)
    with pytest.raises(WeightsError, match="not a valid safetensors"):
        load_model(p)
    out = tmp_path / "o.png"
    r = _cli("fuse", str(samples / "ct-mr-c01" / "a.png"), str(samples / "ct-mr-c01" / "b.png"), "-o", str(out),
             "--weights", str(p), "--device", "cpu")
    assert r.returncode == 2 and "junk.safetensors" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert not out.exists()


def test_pickle_is_never_loaded(tmp_path):
    p = tmp_path / "evil.safetensors"
    torch.save({"x": torch.zeros(1)}, p)  # a pickle disguised by its name
    with pytest.raises(WeightsError):
        load_model(p)


def test_safetensors_without_model_config_refused(tmp_path):
    from safetensors.torch import save_file

    p = tmp_path / "foreign.safetensors"
    save_file({"w": torch.zeros(2)}, str(p))
    with pytest.raises(WeightsError, match="model_config"):
        load_model(p)


def test_shipped_default_matches_recorded_hash():
    assert "default" in SHIPPED, "the package must ship default weights"
    for w in SHIPPED.values():
        assert sha256_file(HERE / w.file) == w.sha256, w.file
        model, meta = load_model(w.name)
        assert int(meta["steps"]) > 0


def test_shipped_default_is_tamper_checked(tmp_path, monkeypatch):
    import mutualfuse.weights as W

    w = SHIPPED["default"]
    copy = tmp_path / w.file
    data = bytearray((HERE / w.file).read_bytes())
    data[-1] ^= 0xFF
    copy.write_bytes(bytes(data))
    monkeypatch.setattr(W, "HERE", tmp_path)
    with pytest.raises(WeightsError, match="sha256 mismatch"):
        load_model("default")


def test_cli_param_reaches_classical_methods_and_is_refused_by_the_network(tmp_path, samples):
    s = samples / "ct-mr-c01"
    out = tmp_path / "d.png"
    r = _cli("fuse", str(s / "a.png"), str(s / "b.png"), "-o", str(out), "--method", "dwt", "--param", "levels=2")
    assert r.returncode == 0 and out.exists()
    r = _cli("fuse", str(s / "a.png"), str(s / "b.png"), "-o", str(tmp_path / "e.png"), "--method", "dwt",
             "--param", "levls=2")
    assert r.returncode == 2 and "levls" in r.stderr and not (tmp_path / "e.png").exists()
    r = _cli("fuse", str(s / "a.png"), str(s / "b.png"), "-o", str(tmp_path / "n.png"), "--param", "levels=2")
    assert r.returncode == 2 and "no method parameters" in r.stderr and not (tmp_path / "n.png").exists()


@pytest.mark.parametrize("name", list(SHIPPED))
def test_every_shipped_weights_has_a_model_card_true_to_its_config(name):
    """The card states the recipe stored in the file, and the file's training config is the
    repository config the card names (so the weights are reproducible from it plus the seed)."""
    import json
    from pathlib import Path

    from mutualfuse.train.config import TrainConfig
    from mutualfuse.weights.card import _header_metadata, model_card

    w = SHIPPED[name]
    card = model_card(name)
    assert card.splitlines()[0] == name and w.sha256 in card
    stored = json.loads(_header_metadata(name)["train_config"])
    assert f"loss:        {stored['loss']}" in card
    assert f"{stored['steps']} steps x batch {stored['batch_size']}" in card
    cfg_path = Path(__file__).resolve().parents[2] / w.config
    assert w.config and cfg_path.exists(), f"{name}: config {w.config!r} not in the repository"
    want = TrainConfig.load(cfg_path).to_dict()
    stored = TrainConfig.from_dict(stored).to_dict()  # older files lack later options (their defaults)
    for k in ("out_dir", "seed"):  # the run's folder and seed are given on the command line
        want.pop(k), stored.pop(k)
    for k in ("threads",):
        want.pop(k, None), stored.pop(k, None)
    assert stored == want
    if stored.get("init_weights"):  # a warm start names shipped weights, so the run is reproducible
        assert stored["init_weights"] in SHIPPED and stored["init_weights"] != name
        assert f"warm start:  from the weights `{stored['init_weights']}`" in card
    if w.tasks:  # the per-task settings (--task) are on the card, one entry per task
        line = next(x for x in card.splitlines() if x.startswith("per task:"))
        assert all(f"{t}: " in line for t, _ in w.tasks)
        assert all(f"{k}={v:g}" in line for _, kv in w.tasks for k, v in kv)


def test_methods_lists_weights_and_prints_cards():
    r = _cli("methods")
    assert r.returncode == 0 and all(f"weights {n} " in r.stdout for n in SHIPPED)
    r = _cli("methods", "--card", "all")
    assert r.returncode == 0 and all(line in r.stdout.splitlines() for line in SHIPPED)
    r = _cli("methods", "--card", "no-such-weights")
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and "no-such-weights" in r.stderr


def test_card_of_a_weights_file_of_ones_own(tiny_weights, tmp_path):
    """`methods --card FILE`: the card from the file's own metadata, after its checks; a broken
    file is a one-line error."""
    import hashlib

    r = _cli("methods", "--card", str(tiny_weights))
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == str(tiny_weights) and "not shipped" in r.stdout
    assert hashlib.sha256(tiny_weights.read_bytes()).hexdigest() in r.stdout
    assert "widths=[4, 8, 8" in r.stdout
    bad = tmp_path / "bad.safetensors"
    raw = bytearray(tiny_weights.read_bytes())
    raw[-2] ^= 0x01
    bad.write_bytes(bytes(raw))
    r = _cli("methods", "--card", str(bad))
    assert r.returncode == 2 and r.stdout == "" and r.stderr.count("\n") == 1 and "bad.safetensors" in r.stderr


def _checkpoint(path, cfg):
    import json

    from mutualfuse.model import build_model
    from mutualfuse.train.checkpoint import save_checkpoint

    torch.manual_seed(0)
    save_checkpoint(path, {"model": build_model(cfg).state_dict(), "config": json.dumps({"model": cfg.to_dict()}),
                           "step": 3, "elapsed": 1.5})
    return path


def test_export_weights_never_writes_its_sidecar_over_the_checkpoint(tmp_path, capsys):
    """``export-weights X.safetensors.sha256 -o X.safetensors`` wrote the sidecar over the
    checkpoint (the user's training state lost, exit 0); a sidecar path that is a folder left the
    weights file without its sidecar (exit 2 after writing)."""
    from mutualfuse.cli import main
    from mutualfuse.model import ModelConfig

    ck = _checkpoint(tmp_path / "run.safetensors.sha256", ModelConfig(widths=(4, 8, 8)))
    before = ck.read_bytes()
    assert main(["export-weights", str(ck), "-o", str(tmp_path / "run.safetensors")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mutualfuse: error: ") and "checkpoint itself" in err and err.count("\n") == 1
    assert ck.read_bytes() == before and not (tmp_path / "run.safetensors").exists()
    ck2 = _checkpoint(tmp_path / "last.ckpt", ModelConfig(widths=(4, 8, 8)))
    (tmp_path / "w.safetensors.sha256").mkdir()
    assert main(["export-weights", str(ck2), "-o", str(tmp_path / "w.safetensors")]) == 2
    err = capsys.readouterr().err
    assert "w.safetensors.sha256" in err and "directory" in err and err.count("\n") == 1
    assert not (tmp_path / "w.safetensors").exists()


def test_save_weights_interrupted_between_its_two_files_leaves_a_consistent_pair(tmp_path, monkeypatch):
    """Ctrl+C right after the first of the two renames (weights, sidecar) must not leave new
    weights beside the old sidecar (a file every later load refuses as a sha256 mismatch)."""
    import os
    import signal

    from mutualfuse.model import ModelConfig, build_model
    from mutualfuse.weights import save_weights

    cfg = ModelConfig(widths=(4, 8, 8))
    p = tmp_path / "w.safetensors"
    torch.manual_seed(0)
    save_weights(p, build_model(cfg), cfg)
    real_replace = os.replace
    calls = []

    def replace_then_ctrl_c(src, dst):
        real_replace(src, dst)
        calls.append(dst)
        if len(calls) == 1:
            os.kill(os.getpid(), signal.SIGINT)  # delivered at the next bytecode unless held

    monkeypatch.setattr(os, "replace", replace_then_ctrl_c)
    torch.manual_seed(1)
    with pytest.raises(KeyboardInterrupt):
        save_weights(p, build_model(cfg), cfg)
    monkeypatch.undo()
    read_weights(p)  # the sidecar matches the weights beside it (here: both new)
    assert sorted(q.name for q in tmp_path.iterdir()) == ["w.safetensors", "w.safetensors.sha256"]


def test_a_training_checkpoint_given_as_weights_says_what_to_do(tmp_path):
    """A checkpoint (safetensors too) passed as --weights was "no model_config metadata"."""
    from mutualfuse.model import ModelConfig

    ck = _checkpoint(tmp_path / "last.ckpt", ModelConfig(widths=(4, 8, 8)))
    with pytest.raises(WeightsError, match="training checkpoint.*export-weights"):
        load_model(ck)


def test_a_pickle_given_as_weights_is_named_as_one_and_never_loaded(tmp_path, monkeypatch, capsys):
    """A ``torch.save`` file (zip or legacy pickle) was "not a valid safetensors weights file
    (... header too large)": the file is named for what it is, and nothing unpickles it."""
    import pickle

    monkeypatch.setattr(pickle, "load", lambda *a, **k: pytest.fail("unpickled"))
    monkeypatch.setattr(torch, "load", lambda *a, **k: pytest.fail("torch.load called"))
    zipped = tmp_path / "model.pt"
    legacy = tmp_path / "legacy.safetensors"
    real_save = torch.save
    real_save({"w": torch.zeros(2)}, zipped)
    real_save({"w": torch.zeros(2)}, legacy, _use_new_zipfile_serialization=False)
    for p in (zipped, legacy):
        with pytest.raises(WeightsError, match="pickle.*never loaded"):
            read_weights(p)
        assert_one_line_error(capsys, ["methods", "--card", str(p)], p.name, "pickle")


def test_a_truncated_weights_file_says_so(tiny_weights, tmp_path):
    raw = tiny_weights.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    for cut, name in ((100, "header.safetensors"), (len(raw) - 100, "tail.safetensors")):
        p = tmp_path / name
        p.write_bytes(raw[:cut])
        with pytest.raises(WeightsError, match=f"{name}: truncated") as e:
            read_weights(p)
        assert f"the file has {cut} bytes" in str(e.value)
    assert n > 100  # the first cut ends inside the header


def test_an_unreadable_or_non_regular_weights_path_is_one_line(tmp_path, capsys, monkeypatch):
    """A FIFO or device given as --weights was "shipped weights file is missing from the
    installation"; a file that cannot be opened was an internal error (exit 1) in ``fuse``
    and "No such file or directory" in ``methods --card``."""
    import os

    fifo = tmp_path / "w.safetensors"
    os.mkfifo(fifo)
    with pytest.raises(WeightsError, match="w.safetensors: not a regular file") as e:
        read_weights(fifo)
    assert "shipped" not in str(e.value)
    assert_one_line_error(capsys, ["methods", "--card", str(fifo)], "not a regular file")
    assert_one_line_error(capsys, ["methods", "--card", "/dev/null"], "/dev/null: not a regular file")

    import mutualfuse.weights as W
    import builtins

    locked = tmp_path / "locked.safetensors"
    locked.write_bytes(b"x" * 64)
    real_open = builtins.open

    def deny(path, *a, **k):  # as for a file of another user, mode 600 (the tests may run as root)
        if str(path) == str(locked):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *a, **k)

    monkeypatch.setattr(builtins, "open", deny)
    with pytest.raises(WeightsError, match="locked.safetensors: cannot read the weights file .Permission denied"):
        read_weights(locked)
    with pytest.raises(WeightsError, match="locked.safetensors: cannot read"):
        W.task_mode(str(locked), None)  # fuse asks this first (whether the file is a shipped one)


def test_card_of_a_weights_file_with_garbled_training_metadata_is_one_line(tiny_weights, tmp_path, capsys):
    """The card of a file whose informational metadata is garbled (``wall_time_s`` not a number,
    ``train_config`` not an object) was an internal error (exit 1)."""
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    with safe_open(str(tiny_weights), "pt") as fh:
        meta = dict(fh.metadata())
    state = load_file(str(tiny_weights))
    for key, value in (("wall_time_s", "xyz"), ("train_config", "[1, 2]"), ("train_config", '{"data": [1]}'),
                       ("train_config", '{"loss_params": 5}'), ("train_config", "{not json")):
        p = tmp_path / f"{key}.safetensors"
        save_file(state, str(p), metadata={**meta, key: value})
        assert_one_line_error(capsys, ["methods", "--card", str(p)], p.name, key)


def test_card_of_a_shipped_file_given_by_its_path_is_the_shipped_card(capsys):
    """``methods --card PATH`` of a shipped file said "not shipped: a weights file of its own (no
    registry entry)" while fuse --weights PATH uses that entry's per-task settings."""
    from mutualfuse.cli import main

    w = SHIPPED["default"]
    path = str(HERE / w.file)
    assert main(["methods", "--card", path]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == path and "not shipped" not in out
    assert "shipped as:  default (the same file, by its sha256)" in lines
    assert f"file:        {w.file} (sha256 {w.sha256})" in lines and "per task:" in out


def test_card_of_a_tampered_or_missing_shipped_file_is_refused(tmp_path, monkeypatch, capsys):
    """``methods --card default`` printed the registry's sha256 as the file's for a modified
    file (exit 0); a missing or unreadable shipped file was an internal error (exit 1)."""
    import mutualfuse.weights as W

    w, gone = SHIPPED["default"], SHIPPED["blend"]
    data = bytearray((HERE / w.file).read_bytes())
    data[-1] ^= 0xFF
    (tmp_path / w.file).write_bytes(bytes(data))
    (tmp_path / SHIPPED["paper"].file).write_bytes(b"\0" * 10)
    monkeypatch.setattr(W, "HERE", tmp_path)
    assert_one_line_error(capsys, ["methods", "--card", "default"], w.file, "sha256 mismatch")
    assert_one_line_error(capsys, ["methods", "--card", "paper"], SHIPPED["paper"].file, "sha256 mismatch")
    assert_one_line_error(capsys, ["methods", "--card", "blend"], gone.file, "missing from the installation")
    assert_one_line_error(capsys, ["methods", "--card", "all"], w.file, "sha256 mismatch")  # the first card, default


@pytest.mark.parametrize("name, suggestion", [("defualt", "default"), ("dwtt", "dwt"), ("centred-brigth", "centred-bright")])
def test_methods_card_of_an_unknown_name_suggests_the_nearest(name, suggestion, capsys):
    err = assert_one_line_error(capsys, ["methods", "--card", name], f"named {name}", "did you mean")
    assert suggestion in err.split("did you mean", 1)[1].split("?")[0], err


def test_a_misspelt_shipped_name_given_as_weights_suggests_the_nearest():
    with pytest.raises(WeightsError, match=r"defualt: weights file not found; did you mean default\b"):
        read_weights("defualt")


def test_the_card_command_in_each_model_section_of_the_docs_prints_that_models_card():
    """docs/training.md: the sections of `pyramid-long`, `blackout` and `pyramid` (each `default`
    once) said ``mutualfuse methods --card default`` prints their card; it prints another's."""
    import re
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "training.md").read_text()
    seen = 0
    for section in re.split(r"\n(?=## )", doc):
        m = re.match(r"## `([\w-]+)`", section)
        if not m or m.group(1) not in SHIPPED:
            continue
        for named in re.findall(r"mutualfuse methods --card ([\w-]+)", section):
            assert named == m.group(1), f"section {m.group(1)!r} points at the card of {named!r}"
            seen += 1
    assert seen >= 2


def test_methods_card_of_a_method_is_not_shadowed_by_a_folder_of_its_name(tmp_path, monkeypatch, capsys):
    from mutualfuse.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "dwt").mkdir()
    (tmp_path / "runs").mkdir()
    assert main(["methods", "--card", "dwt"]) == 0
    assert capsys.readouterr().out.startswith("method dwt\n")
    assert_one_line_error(capsys, ["methods", "--card", "runs"], "runs: is a directory")
