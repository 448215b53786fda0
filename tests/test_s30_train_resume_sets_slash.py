"""s30: ``--resume`` with the set named with a trailing slash.

A shell completes a folder with a slash (``--sets train/roadscene/``); the trainer names the pairs
of ``s/`` and ``s`` alike (``s/NAME``, one slash), so it is the same data, yet a resume whose
``--sets`` differed from the first run's only by that slash was refused as "checkpoint was trained
with a different config: data.sets: ["s"] in the checkpoint, ["s/"] now". Both spellings now
resume the run; another set is still refused."""
from __future__ import annotations

from train_cli_helpers import cfg, data, refused

from mutualfuse.cli import main


def test_a_trailing_slash_on_the_set_resumes_the_run(tmp_path, capsys):
    root = data(tmp_path / "d")
    out = tmp_path / "run"
    c = cfg(tmp_path / "c.json", out, **{"data.root": str(root)})
    assert main(["train", "--config", str(c), "--no-progress", "-q"]) == 0
    capsys.readouterr()
    rc = main(["train", "--config", str(c), "--sets", "s/", "--resume", "--steps", "3", "--no-progress", "-q"])
    assert rc == 0, capsys.readouterr().err
    from mutualfuse.train.checkpoint import checkpoint_step

    assert checkpoint_step(out / "last.ckpt") == 3
    rc = main(["train", "--config", str(c), "--resume", "--steps", "4", "--no-progress", "-q"])  # and back
    assert rc == 0, capsys.readouterr().err
    data(root, name="t", seed=100)
    refused(capsys, ["--config", str(c), "--sets", "t/", "--resume", "--steps", "5"], ["data.sets"])
