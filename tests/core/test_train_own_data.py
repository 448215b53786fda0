"""``mutualfuse train`` on a user's own folders (the audit of 2026-12-05): hidden files are not
images, every refusal is one line with exit 2 before anything is written (out_dir, duplicated
sets, a warm start that does not load, a diverged loss), notes come only for work that goes
ahead, ``--time-limit`` counts the whole invocation, and the run records its validation split."""
from __future__ import annotations

import json
import time

import pytest

from mutualfuse.train.checkpoint import LAST, load_checkpoint

from train_cli_helpers import cfg as _cfg
from train_cli_helpers import data as _data
from train_cli_helpers import png as _png
from train_cli_helpers import refused as _refused
from train_cli_helpers import train as _train


def test_hidden_files_in_the_role_folders_are_not_training_images(tmp_path, capsys):
    """macOS leaves ``._NAME`` files (not images) beside copied files; a hidden file is not a
    training image (was: 'do not pair by name (e.g. ._00.png)', or 'not a readable image')."""
    root = _data(tmp_path / "d")
    (root / "s" / "ir" / "._00.png").write_bytes(b"\x00\x05\x16\x07" + bytes(200))  # AppleDouble, one side
    for role in ("ir", "vis"):
        (root / "s" / role / ".thumb.png").write_bytes(bytes(50))  # hidden on both sides
    cfg = _cfg(tmp_path / "c.json", tmp_path / "out")
    rc, _, err = _train(capsys, "--config", str(cfg), "--data-root", str(root))
    assert rc == 0, err
    assert len(load_checkpoint(tmp_path / "out" / LAST)["pairs"]) == 6


def test_a_file_in_one_role_folder_only_is_named_with_its_folder(tmp_path, capsys):
    root = _data(tmp_path / "d")
    _png(root / "s" / "vis" / "extra.png", 24, 32, seed=40)
    _refused(capsys, ["--config", str(_cfg(tmp_path / "c.json", tmp_path / "out")), "--data-root", str(root)],
             ["only in vis/: extra.png"])
    assert not (tmp_path / "out").exists()


def test_a_set_listed_twice_is_refused(tmp_path, capsys):
    """The same folder twice would put each pair in the data twice, and one copy could be held out
    for validation while the other trains (was: trained, exit 0)."""
    root = _data(tmp_path / "d")
    cfg = _cfg(tmp_path / "c.json", tmp_path / "out", **{"data.sets": ["s", "s/"]})
    _refused(capsys, ["--config", str(cfg), "--data-root", str(root)], ["data.sets", "twice"])
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("kind", ["file", "under-a-file"])
def test_an_out_dir_that_cannot_be_a_folder_is_refused_before_the_data_is_read(tmp_path, capsys, monkeypatch, kind):
    """Was: 'internal error: FileExistsError' (exit 1) after every training image was decoded."""
    import mutualfuse.train.loop as loop

    root = _data(tmp_path / "d")
    (tmp_path / "f.png").write_bytes(b"x")
    out = tmp_path / "f.png" if kind == "file" else tmp_path / "f.png" / "run"
    monkeypatch.setattr(loop.Trainer, "__init__", lambda *a, **k: pytest.fail("data read before out_dir was checked"))
    _refused(capsys, ["--config", str(_cfg(tmp_path / "c.json", out)), "--data-root", str(root)],
             ["out_dir", str(out), "not a folder"])
    assert (tmp_path / "f.png").read_bytes() == b"x"


def test_an_out_dir_inside_a_training_set_is_refused(tmp_path, capsys):
    root = _data(tmp_path / "d")
    out = root / "s" / "ir"
    _refused(capsys, ["--config", str(_cfg(tmp_path / "c.json", out)), "--data-root", str(root)],
             ["out_dir", "inside the training set"])
    assert sorted(p.name for p in out.iterdir()) == [f"{i:02d}.png" for i in range(6)]


def test_resume_without_a_checkpoint_says_so_only_when_the_run_goes_ahead(tmp_path, capsys):
    """'no checkpoint in OUT: starting a new run' came before the checks, then the error: two lines."""
    root = _data(tmp_path / "d")
    cfg = _cfg(tmp_path / "c.json", tmp_path / "out", init_weights=str(tmp_path / "nope.safetensors"))
    _refused(capsys, ["--config", str(cfg), "--data-root", str(root), "--resume"],
             ["init_weights", "nope.safetensors"])
    assert not (tmp_path / "out").exists()


def test_a_warm_start_that_does_not_load_fails_before_the_images_are_decoded(tmp_path, capsys, monkeypatch):
    import mutualfuse.train.loop as loop

    root = _data(tmp_path / "d")
    monkeypatch.setattr(loop, "PairCrops", lambda *a, **k: pytest.fail("images decoded before init_weights loaded"))
    cfg = _cfg(tmp_path / "c.json", tmp_path / "out", init_weights=str(tmp_path / "nope.safetensors"))
    _refused(capsys, ["--config", str(cfg), "--data-root", str(root)], ["init_weights: ", "nope.safetensors"])


def test_a_diverged_loss_is_a_one_line_error(tmp_path, capsys):
    """Was: 'mutualfuse: internal error: FloatingPointError: loss became nan' with exit 1."""
    root = _data(tmp_path / "d")
    cfg = _cfg(tmp_path / "c.json", tmp_path / "out", lr=1e12, steps=3)
    rc, out, err = _train(capsys, "--config", str(cfg), "--data-root", str(root), "-q")
    assert rc == 2 and out == "", err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mutualfuse: error: "), err
    assert "became nan at step" in lines[0] and "lr 1e+12" in lines[0] and "internal error" not in err


def test_the_run_records_its_validation_split_and_says_what_it_found(tmp_path, capsys):
    """``split.json`` holds the seed, the data root and the held-out pairs (the ones validated on);
    the same config and seed give the same split; a note names the pairs found (not with -q)."""
    root = _data(tmp_path / "d", n=5)
    _data(root, n=3, name="t", seed=100)  # other images than s's (copies of a pair are refused)
    cfg = _cfg(tmp_path / "c.json", tmp_path / "out", **{"data.sets": ["s", "t"], "data.val_pairs": 2}, seed=3)
    rc, _, err = _train(capsys, "--config", str(cfg), "--data-root", str(root))
    assert rc == 0, err
    assert f"8 pairs in {root} (s 5, t 3); 2 held out for validation by seed 3" in err
    rec = json.loads((tmp_path / "out" / "split.json").read_text())
    assert rec["seed"] == 3 and rec["data_root"] == str(root.resolve()) and rec["sets"] == {"s": 5, "t": 3}
    assert len(rec["val_pairs"]) == 2 and len(rec["train_pairs"]) == 6
    assert sorted(rec["val_pairs"] + rec["train_pairs"]) == sorted(load_checkpoint(tmp_path / "out" / LAST)["pairs"])
    from mutualfuse.train import TrainConfig, Trainer

    t = Trainer(TrainConfig.load(cfg), data_root=str(root), device="cpu", progress=False)
    assert t.val_names == rec["val_pairs"]
    assert t.val_set.names == [n.split("/")[1] for n in rec["val_pairs"]]  # the pairs it validates on
    rc, _, err = _train(capsys, "--config", str(cfg), "--data-root", str(root), "-o", str(tmp_path / "q"), "-q")
    assert rc == 0 and err == "", err
    assert json.loads((tmp_path / "q" / "split.json").read_text()) == rec


def test_time_limit_counts_the_reading_of_the_data(tmp_path, capsys, monkeypatch):
    """``--time-limit S`` is S seconds of the invocation (docs/training.md), reading the images
    included: the loop's own clock alone ran S seconds more than that."""
    import mutualfuse.train.loop as loop

    root = _data(tmp_path / "d")
    real = loop.PairCrops

    def slow(*a, **k):
        time.sleep(1.5)
        return real(*a, **k)

    monkeypatch.setattr(loop, "PairCrops", slow)
    cfg = _cfg(tmp_path / "c.json", tmp_path / "out", steps=100000, checkpoint_every=0)
    rc, _, err = _train(capsys, "--config", str(cfg), "--data-root", str(root), "--time-limit", "2")
    assert rc == 0, err
    assert "--time-limit 2 s reached at step" in err
    # 3 s of reading (training and validation images) are past the 2 s: the first step only
    assert load_checkpoint(tmp_path / "out" / LAST)["step"] == 1


@pytest.mark.parametrize("text,must", [
    ("model:\n  widths: [4, 8\ndepth: 3\n", ["c.yaml", "cannot parse config: line 3"]),
    ("data: {sets: [s]\n", ["c.yaml", "cannot parse config: line 2"]),
])
def test_a_yaml_syntax_error_names_the_line(tmp_path, capsys, text, must):
    (tmp_path / "c.yaml").write_text(text)
    _refused(capsys, ["--config", str(tmp_path / "c.yaml"), "--data-root", str(tmp_path)], must)


def test_too_few_pairs_name_the_keys(tmp_path, capsys):
    root = _data(tmp_path / "d", n=2)
    _refused(capsys, ["--config", str(_cfg(tmp_path / "c.json", tmp_path / "o", **{"data.val_pairs": 2})),
                      "--data-root", str(root)], ["data.val_pairs 2", "only 2 found"])
    _refused(capsys, ["--config", str(_cfg(tmp_path / "c.json", tmp_path / "o")), "--data-root", str(root)],
             ["1 training pairs", "data.val_pairs 1", "batch_size 2"])
    assert not (tmp_path / "o").exists()


def test_steps_option_and_missing_data_root_name_what_to_change(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("MUTUALFUSE_DATA", raising=False)
    cfg = _cfg(tmp_path / "c.json", tmp_path / "o")
    _refused(capsys, ["--config", str(cfg), "--steps", "0"], ["--steps must be"])
    _refused(capsys, ["--config", str(cfg)], ["--data-root", "MUTUALFUSE_DATA", "data.root"])


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_an_image_smaller_than_the_network_takes_is_refused_before_training(tmp_path, capsys, seed):
    """A 40x1 pair trained (its crops are padded) until validation ran the network on it at full
    size: 'internal error: RuntimeError: ... Padding size' after the run folder was made (when
    the seed held it out)."""
    root = _data(tmp_path / "d")
    _png(root / "s" / "ir" / "thin.png", 1, 40, seed=50)
    _png(root / "s" / "vis" / "thin.png", 1, 40, seed=51)
    cfg = _cfg(tmp_path / "c.json", tmp_path / "out", val_every=1, seed=seed, **{"data.val_pairs": 3})
    _refused(capsys, ["--config", str(cfg), "--data-root", str(root)], ["thin.png", "40x1", "smaller than 8x8"])
    assert not (tmp_path / "out").exists()
