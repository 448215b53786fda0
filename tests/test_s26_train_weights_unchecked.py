"""s26: a weights file of the older format ``mutualfuse-weights-1`` (no ``tensors_sha256``) without
its ``.sha256`` sidecar is read with nothing checking its content: a tensor changed by a flipped
byte fused, carded and was re-exported without a word (the card even printed the file's sha256 as
for a checked file). The card now has an ``integrity:`` line saying the content was not checked,
and ``export-weights --record-paths`` of such a file a note (the Fuser's note: api.py, a patch in
the s26 report). Shipped weights, files with a sidecar and the current format are unchanged."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from mutualfuse.cli import main
from mutualfuse.model import ModelConfig, build_model
from mutualfuse.weights import read_weights, save_weights, unchecked_note

SAID = "content not checked: an older weights file (format mutualfuse-weights-1"


@pytest.fixture()
def files(tmp_path) -> tuple[Path, Path]:
    """(format-2 file with its sidecar, the same tensors as a format-1 file without one)."""
    net = build_model(ModelConfig(widths=(4, 8, 8), depth=3))
    new = save_weights(tmp_path / "new.safetensors", net, net.cfg)
    with safe_open(str(new), "pt") as fh:
        meta = {k: v for k, v in fh.metadata().items() if k not in ("format", "tensors_sha256")}
    old = tmp_path / "old.safetensors"
    save_file(load_file(str(new)), str(old), metadata=meta)
    return Path(new), old


def _card(capsys, path: Path) -> str:
    assert main(["methods", "--card", str(path)]) == 0
    return capsys.readouterr().out


def test_the_card_says_the_content_was_not_checked(files, capsys):
    new, old = files
    card = _card(capsys, old)
    line = next(x for x in card.splitlines() if x.startswith("integrity:"))
    assert SAID in line and "old.safetensors.sha256 sidecar" in line
    assert "integrity:" not in _card(capsys, new)  # its digest was checked (and its sidecar)
    new.with_name("new.safetensors.sha256").unlink()
    assert "integrity:" not in _card(capsys, new)  # its own tensors_sha256 still checked


def test_a_sidecar_makes_the_older_format_checked(files, capsys):
    _, old = files
    side = old.with_name(old.name + ".sha256")
    side.write_text(f"{hashlib.sha256(old.read_bytes()).hexdigest()}  {old.name}\n")
    assert unchecked_note(str(old), read_weights(old)[2]) is None
    assert "integrity:" not in _card(capsys, old)


def test_shipped_weights_need_no_note():
    for name in ("default", "paper"):
        assert unchecked_note(name, read_weights(name)[2]) is None


def test_export_weights_of_such_a_file_says_so(files, capsys, tmp_path):
    _, old = files
    out = tmp_path / "copy.safetensors"
    assert main(["export-weights", str(old), "--record-paths", "name", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert err.startswith(f"note: {old}: {SAID}") and err.count("\n") == 1, err
    assert unchecked_note(str(out), read_weights(out)[2]) is None  # the copy is of the current format
