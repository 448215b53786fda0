"""s30: a run's output folder whose name is not UTF-8 (``runs/caf\\xe9``, a folder named on a
Latin-1 system; Python gives the byte as a lone surrogate).

The run stopped at its start with ``internal error: UnicodeEncodeError`` (exit 1): TensorBoard's
writer encodes its file names as UTF-8. Without TensorBoard it trained, but its checkpoint could
not be read back: safetensors opens files by UTF-8 names only, so ``--resume`` and
``export-weights`` called the run's own ``last.ckpt`` a "corrupt checkpoint (Path ... is not
valid UTF-8)" (exit 2), and an interrupted run named no checkpoint. Now the run trains (a note
says that TensorBoard's scalars are not written; ``log.csv`` has them), and such a checkpoint is
read by its bytes: it resumes and exports."""
from __future__ import annotations

import os
import sys

import pytest
from train_cli_helpers import cfg, data

from mutualfuse.cli import main

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="file names of arbitrary bytes: Linux file systems")


def test_a_run_in_a_folder_whose_name_is_not_utf8_trains_resumes_and_exports(tmp_path, capsys):
    root = data(tmp_path / "d")
    out = os.fsdecode(os.fsencode(tmp_path) + b"/caf\xe9")
    c = cfg(tmp_path / "c.json", tmp_path / "unused", **{"data.root": str(root)})
    rc = main(["train", "--config", str(c), "-o", out, "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 0, err
    assert "internal error" not in err
    from mutualfuse.train.checkpoint import checkpoint_step, load_checkpoint

    last = os.path.join(out, "last.ckpt")
    assert checkpoint_step(last) == 2
    assert load_checkpoint(last)["step"] == 2
    rc = main(["train", "--config", str(c), "-o", out, "--resume", "--steps", "3", "--no-progress", "-q"])
    err = capsys.readouterr().err
    assert rc == 0, err
    assert checkpoint_step(last) == 3
    w = tmp_path / "w.safetensors"
    rc = main(["export-weights", last, "-o", str(w), "-q"])
    assert rc == 0, capsys.readouterr().err
    from mutualfuse.weights import load_model

    _, meta = load_model(str(w))
    assert meta["steps"] == "3"
