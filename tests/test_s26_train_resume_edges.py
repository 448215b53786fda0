"""s26: ``--resume`` as users get it wrong. ``--resume`` takes no path (it continues OUT/last.ckpt),
yet ``train --config C --resume runs/x/last.ckpt`` (or the run's folder, or its final weights) was
refused as argparse's bare "unrecognized arguments: runs/x/last.ckpt"; and weights copied over
``last.ckpt`` were "not a mutualfuse training checkpoint (format 'mutualfuse-weights-2'; want
'mutualfuse-checkpoint-1')". Each now says what to give instead, in one line (exit 2). A
checkpoint of another experiment (another loss, other widths) is refused naming the field."""
from __future__ import annotations

import shutil

import pytest
from train_cli_helpers import cfg, data, refused, train


@pytest.fixture()
def run(tmp_path, capsys):
    root = data(tmp_path / "d")
    c = cfg(tmp_path / "c.json", tmp_path / "run", **{"data.root": str(root)})
    rc, _, err = train(capsys, "--config", str(c), "-q")
    assert rc == 0, err
    return c, tmp_path / "run", root


def test_a_checkpoint_path_after_resume_says_to_give_its_folder_as_out(run, capsys):
    c, out, _ = run
    for given in (out / "last.ckpt", out):
        refused(capsys, ["--config", str(c), "--resume", str(given), "--steps", "4"],
                [f"{given}: train takes no checkpoint path", f"-o {out} --resume"])
    assert "\n3," not in (out / "log.csv").read_text()  # nothing trained


def test_a_weights_file_after_resume_points_to_init_weights(run, capsys):
    c, out, _ = run
    w = out / "final.safetensors"
    refused(capsys, ["--config", str(c), "--resume", str(w)],
            [f"{w}: train takes no weights file", f"init_weights: {w}"])


def test_another_stray_word_is_still_an_unrecognized_argument(run, capsys):
    c, _, _ = run
    refused(capsys, ["--config", str(c), "nonsense"],
            ["train: unrecognized arguments: nonsense (see mutualfuse train --help)"])


def test_weights_copied_over_the_checkpoint_are_named_weights(run, capsys, tmp_path):
    c, out, root = run
    other = tmp_path / "copy"
    other.mkdir()
    shutil.copy(out / "final.safetensors", other / "last.ckpt")
    refused(capsys, ["--config", str(c), "-o", str(other), "--resume", "--steps", "4"],
            [f"{other / 'last.ckpt'}: a weights file", "not a training checkpoint", "init_weights"])


@pytest.mark.parametrize("over, field", [
    ({"loss": "mean_ssim"}, "loss: \"var_ssim\" in the checkpoint, \"mean_ssim\" now"),
    ({"model": {"widths": [4, 8, 16], "depth": 3}}, "model.widths: [4, 8, 8]")])
def test_a_checkpoint_of_another_experiment_names_the_field(run, capsys, tmp_path, over, field):
    _, out, root = run
    c2 = cfg(tmp_path / "c2.json", out, **{"data.root": str(root), **over})
    refused(capsys, ["--config", str(c2), "--resume", "--steps", "4"], [str(out / "last.ckpt"), field])
