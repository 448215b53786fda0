"""Session 29: ``export-weights W.safetensors -o W.safetensors --record-paths none`` (a weights file
rewritten onto itself) is refused naming what was given: "output is the weights file itself". It
said "the checkpoint itself" for a weights file too. The file is left as it was."""
from __future__ import annotations

import hashlib

from mutualfuse.cli import main


def test_a_weights_file_as_its_own_output_is_called_a_weights_file(tiny_weights, tmp_path, capsys):
    w = tmp_path / "w.safetensors"
    w.write_bytes(tiny_weights.read_bytes())
    before = hashlib.sha256(w.read_bytes()).hexdigest()
    assert main(["export-weights", str(w), "-o", str(w), "--record-paths", "none"]) == 2
    err = capsys.readouterr().err
    assert err == f"mutualfuse: error: {w}: output is the weights file itself; choose another file name\n", err
    assert hashlib.sha256(w.read_bytes()).hexdigest() == before
