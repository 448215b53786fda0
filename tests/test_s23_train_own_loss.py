"""Audit s23: training with a loss of one's own.

Until 2026-12-07 ``mutualfuse train`` had no way to train with a loss that is not shipped: the
config's ``loss`` had to be a built-in name, ``train`` had no ``--import`` (``fuse``, ``methods``
and ``benchmark`` have one for methods), and there was no public registration function. Now
``mutualfuse.losses.register_loss`` registers one (its docstring is the contract), ``train
--import MODULE`` imports the module that calls it (every torchrun rank runs the command), the
contract is checked on a probe before any data is read (one line naming the loss's file), the
weights and checkpoints record the loss's source file and its sha256, and a ``--resume`` without
the module is refused naming it.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from mutualfuse.errors import ParameterError
from train_cli_helpers import cfg, data, refused, train

LOSS_SRC = '''
import torch
from mutualfuse.losses import register_loss, var_ssim_loss


@register_loss("{name}")
def my_loss(x, y, f, weight=1.0):
    return var_ssim_loss(x, y, f) + weight * (f - torch.maximum(x, y)).abs().mean()
'''


@pytest.fixture()
def loss_registry():
    """The loss registry, and the modules the test imports (``s23loss*``), restored afterwards."""
    from mutualfuse.losses import LOSS_REGISTRY

    saved = dict(LOSS_REGISTRY._entries)
    yield LOSS_REGISTRY
    LOSS_REGISTRY._entries.clear()
    LOSS_REGISTRY._entries.update(saved)
    for name in [m for m in sys.modules if m.startswith("s23loss")]:
        del sys.modules[name]


def _module(path: Path, name: str = "s23mine", body: str = LOSS_SRC) -> Path:
    path.write_text(body.format(name=name))
    return path


def _meta(path: Path) -> dict[str, str]:
    from safetensors import safe_open

    with safe_open(str(path), "pt") as fh:
        return dict(fh.metadata())


def test_register_loss_contract(loss_registry):
    from mutualfuse.losses import BUILTIN_LOSSES, LOSSES, loss_source, register_loss

    def mine(x, y, f):
        return (f - x).abs().mean()

    assert register_loss("s23-a.b_1", mine) is mine and LOSSES["s23-a.b_1"] is mine
    assert register_loss("s23-a.b_1", mine) is mine  # the same definition again: a module imported twice
    src = loss_source("s23-a.b_1")
    assert src["loss"] == "s23-a.b_1" and src["file"] == str(Path(__file__).resolve())
    assert len(src["sha256"]) == 64 and src["module"] == mine.__module__
    assert loss_source("var_ssim") is None
    with pytest.raises(ParameterError, match="already registered"):
        register_loss("S23-A.B_1", lambda x, y, f: f.mean())  # names are case-insensitive
    for name in BUILTIN_LOSSES + ("VAR_SSIM",):
        with pytest.raises(ParameterError, match="is a built-in loss"):
            register_loss(name, mine)
    for bad in ("", "a b", "../x", 3):
        with pytest.raises(ParameterError, match="name must be"):
            register_loss(bad, mine)
    with pytest.raises(ParameterError, match="must be a function"):
        register_loss("s23-notfn", 3)

    @register_loss("s23-deco")
    def deco(x, y, f):
        return f.mean()

    assert LOSSES["s23-deco"] is deco


def test_train_with_an_imported_loss_records_it_and_resume_needs_it(tmp_path, capsys, loss_registry):
    mod = _module(tmp_path / "s23loss_a.py")
    root = data(tmp_path / "d", n=4, size=(24, 32))
    out = tmp_path / "run"
    c = cfg(tmp_path / "c.json", out, **{"data.root": str(root), "loss": "s23mine", "loss_params": {"weight": 0.5}})
    # without the module: one line that says how a loss of one's own is given
    refused(capsys, ["--config", str(c)], ["got 's23mine'", "--import MODULE", "register_loss"])
    assert not out.exists()
    rc, stdout, err = train(capsys, "--import", str(mod), "--config", str(c))
    assert rc == 0, err
    assert json.loads(stdout)["step"] == 2
    for w in (out / "final.safetensors",):
        src = json.loads(_meta(w)["loss_source"])
        assert src == {"loss": "s23mine", "module": "s23loss_a", "file": str(mod.resolve()),
                       "sha256": __import__("hashlib").sha256(mod.read_bytes()).hexdigest()}
    from mutualfuse.cli import main

    assert main(["export-weights", str(out / "last.ckpt"), "-o", str(tmp_path / "mine.safetensors"), "-q"]) == 0
    assert _meta(tmp_path / "mine.safetensors")["loss_source"] == _meta(out / "final.safetensors")["loss_source"]
    # a resume in a fresh interpreter state (the module not imported): refused naming the file
    loss_registry._entries.pop("s23mine")
    del sys.modules["s23loss_a"]
    refused(capsys, ["--config", str(c), "--resume", "--steps", "3"],
            [str(out / "last.ckpt"), "'s23mine'", f"pass --import {mod.resolve()} to resume it"])
    # with it, but the file edited since: resumed, and said on stderr
    mod.write_text(mod.read_text() + "\n# tuned\n")
    rc, _, err = train(capsys, "--import", str(mod), "--config", str(c), "--resume", "--steps", "3")
    assert rc == 0, err
    assert "loss 's23mine': " in err and "changed since the checkpoint" in err, err


@pytest.mark.parametrize("body, must", [
    ("return (f - x).abs().mean(dim=(1, 2, 3))", ["returned a torch.float32 tensor of shape (2,)",
                                                  "on a probe before training"]),
    ("return 0.5", ["returned a float", "one element"]),
    ("return (x - y).abs().mean()", ["does not depend on f"]),
    ("return (f - x).abs().mean() / 0.0 * 0.0", ["returned nan"]),
    ("raise RuntimeError('kaboom')", ["failed (RuntimeError: kaboom (", "s23loss_bad.py, line 7)",
                                      "on a probe before training"]),
])
def test_a_loss_that_breaks_the_contract_is_refused_before_training(tmp_path, capsys, loss_registry, body, must):
    src = "import torch\nfrom mutualfuse.losses import register_loss\n\n\n@register_loss('s23bad')\n" \
          "def bad(x, y, f):\n    " + body + "\n"
    mod = tmp_path / "s23loss_bad.py"
    mod.write_text(src)
    root = data(tmp_path / "d", n=4, size=(24, 32))
    out = tmp_path / "run"
    c = cfg(tmp_path / "c.json", out, **{"data.root": str(root), "loss": "s23bad"})
    line = refused(capsys, ["--import", str(mod), "--config", str(c)], ["loss 's23bad' of " + str(mod.resolve()), *must])
    assert "Traceback" not in line
    assert not out.exists()  # refused before the output folder is made


def test_a_loss_that_fails_during_training_names_the_step(tmp_path, capsys, loss_registry):
    """Passes the probe (batch of 2), fails on the third call (the first training step is the second)."""
    mod = tmp_path / "s23loss_late.py"
    mod.write_text("from mutualfuse.losses import register_loss\nCALLS = []\n\n\n@register_loss('s23late')\n"
                   "def late(x, y, f):\n    CALLS.append(1)\n    if len(CALLS) > 2:\n"
                   "        raise ValueError('bad batch')\n    return (f - x).abs().mean()\n")
    root = data(tmp_path / "d", n=4, size=(24, 32))
    c = cfg(tmp_path / "c.json", tmp_path / "run", **{"data.root": str(root), "loss": "s23late"})
    refused(capsys, ["--import", str(mod), "--config", str(c), "-q"],
            ["loss 's23late'", "failed (ValueError: bad batch (", "line 9)", "at step 2",
             "the last checkpoint, step 1, is where --resume continues"])


def test_the_docs_example_loss_trains_as_written(tmp_path, capsys, loss_registry, monkeypatch):
    """docs/training.md, "How to train", "A loss of your own": its ``myloss.py`` block (fenced ``py``),
    imported with --import as the text says, with ``loss_params: {weight: 0.5}``."""
    import re
    import textwrap

    text = (Path(__file__).resolve().parents[1] / "docs" / "training.md").read_text(encoding="utf-8")
    section = text.split("\n## How to train\n", 1)[1].split("\n## ", 1)[0]
    block = next(textwrap.dedent(b) for b in re.findall(r"^ *```py\n(.*?)^ *```", section, re.S | re.M)
                 if b.strip().startswith("# myloss.py"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s23loss_docs.py").write_text(block)
    name = re.search(r'register_loss\("([^"]+)"\)', block).group(1)
    root = data(tmp_path / "d", n=4, size=(24, 32))
    c = cfg(tmp_path / "c.json", tmp_path / "run", **{"data.root": str(root), "loss": name,
                                                      "loss_params": {"weight": 0.5}})
    rc, out, err = train(capsys, "--import", "s23loss_docs.py", "--config", str(c), "-q")
    assert rc == 0, err
    assert json.loads(_meta(tmp_path / "run" / "final.safetensors")["loss_source"])["loss"] == name


def test_resume_of_a_loss_defined_without_a_file_says_so(tmp_path, capsys, loss_registry):
    """A loss registered from a notebook cell has no file to --import: the refusal says so rather
    than telling the user to pass --import __main__ (or the module name of the cell)."""
    from mutualfuse.losses import register_loss
    from mutualfuse.train import train as train_api

    ns: dict = {"__name__": "s23notebook"}
    exec(compile("import torch\ndef cell_loss(x, y, f):\n    return (f - x).abs().mean()\n", "<cell 3>", "exec"), ns)
    register_loss("s23cell", ns["cell_loss"])
    root = data(tmp_path / "d", n=4, size=(24, 32))
    out = tmp_path / "run"
    c = cfg(tmp_path / "c.json", out, **{"data.root": str(root), "loss": "s23cell"})
    train_api(str(c), progress=False, notes=False)
    src = json.loads(_meta(out / "final.safetensors")["loss_source"])
    assert src == {"loss": "s23cell", "module": "s23notebook", "file": "", "sha256": ""}
    loss_registry._entries.pop("s23cell")
    refused(capsys, ["--config", str(c), "--resume", "--steps", "3"],
            ["'s23cell' of module s23notebook, defined without a file", "put it in a module and pass --import"])
