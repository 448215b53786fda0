"""s30: ``export-weights`` of a checkpoint where the run had not finished its schedule.

A run's ``final.safetensors`` written by a ``--time-limit`` stop records ``stopped`` (its card's
``stopped:`` line: the learning-rate schedule did not finish), and docs/training.md says the
weights from ``export-weights OUT/last.ckpt`` carry the same. They did not: exported from the
same run's checkpoint (or from any checkpoint of a run killed halfway), the weights said
nothing of the unfinished schedule, and their card looked like a finished run's. The export
now records ``stopped`` where the checkpoint's step is below its config's ``steps``, and not for a
finished run."""
from __future__ import annotations

from train_cli_helpers import cfg, data

from mutualfuse.cli import main


def _meta(path):
    from mutualfuse.weights import load_model

    return load_model(str(path))[1]


def test_the_weights_exported_from_an_unfinished_run_say_so(tmp_path, capsys):
    root = data(tmp_path / "d")
    out = tmp_path / "run"
    c = cfg(tmp_path / "c.json", out, steps=4, **{"data.root": str(root)})
    assert main(["train", "--config", str(c), "--time-limit", "1e-6", "--no-progress", "-q"]) == 0
    final = _meta(out / "final.safetensors")
    assert final["steps"] == "1" and "time limit" in final["stopped"], final
    w = tmp_path / "w.safetensors"
    assert main(["export-weights", str(out / "last.ckpt"), "-o", str(w), "-q"]) == 0
    got = _meta(w)
    assert got["steps"] == "1"
    assert "step 1 of 4" in got.get("stopped", "") and "schedule did not finish" in got["stopped"], got
    card = capsys.readouterr() and main(["methods", "--card", str(w)])
    assert card == 0 and "stopped:" in capsys.readouterr().out
    # the same run finished (--resume to its steps): its checkpoint's export says nothing of a stop
    assert main(["train", "--config", str(c), "--resume", "--no-progress", "-q"]) == 0
    done = tmp_path / "done.safetensors"
    assert main(["export-weights", str(out / "last.ckpt"), "-o", str(done), "-q"]) == 0
    assert _meta(done)["steps"] == "4" and "stopped" not in _meta(done)
    assert "stopped" not in _meta(out / "final.safetensors")
