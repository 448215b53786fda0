"""Training recipes shipped with the package (``--config NAME``) and the --sets / --roles /
--print-config options: what a user who installed the wheel, without configs/, can train."""
from __future__ import annotations

from pathlib import Path

import pytest

from mutualfuse.train import TrainConfig
from mutualfuse.train.recipes import RECIPES, resolve_config
from train_cli_helpers import cfg as _cfg
from train_cli_helpers import png as _png
from train_cli_helpers import refused as _refused
from train_cli_helpers import train as _train

REPO = Path(__file__).parents[2]


@pytest.mark.parametrize("name", RECIPES.names())
def test_every_recipe_loads_and_is_the_repository_config(name):
    path = resolve_config(name)
    assert path.is_file() and path.parent.name == "recipes"  # inside the package, so in the wheel
    TrainConfig.load(path)
    link = REPO / "configs" / f"{name}.yaml"
    if link.exists():  # a source checkout: configs/NAME.yaml is the same file
        assert link.resolve() == path.resolve()


def test_wheel_ships_the_recipes():
    text = (REPO / "pyproject.toml").read_text()
    assert '"train/recipes/*.yaml"' in text


def test_print_config_applies_overrides_and_loads_back(tmp_path, capsys):
    rc, out, err = _train(capsys, "--config", "finetune-default", "--sets", "thermal", "lists/x.csv",
                          "--roles", "Inf,Vis", "--steps", "7", "--val-pairs", "3", "--print-config")
    assert rc == 0, err
    (tmp_path / "mine.yaml").write_text(out)
    mine = TrainConfig.load(tmp_path / "mine.yaml")
    want = TrainConfig.load(resolve_config("finetune-default"))
    want.data.sets, want.data.roles, want.steps = ["thermal", "lists/x.csv"], ["Inf", "Vis"], 7
    want.data.val_pairs = 3
    assert mine.to_dict() == want.to_dict()
    assert mine.init_weights == "default"


def test_sets_and_roles_options_train_own_folders(tmp_path, capsys):
    for i in range(4):
        _png(tmp_path / "d" / "cam" / "Left" / f"{i}.png", 24, 32, i)
        _png(tmp_path / "d" / "cam" / "Right" / f"{i}.png", 24, 32, 10 + i)
    c = _cfg(tmp_path / "c.json", tmp_path / "out")  # its data.sets is ["s"], not there
    _refused(capsys, ["--config", str(c), "--data-root", str(tmp_path / "d"), "--sets", "cam", "--roles",
                      "Left,Right", "--val-pairs", "4"], ["data.val_pairs 4 would hold out every pair", "(--val-pairs)"])
    rc, _, err = _train(capsys, "--config", str(c), "--data-root", str(tmp_path / "d"), "--sets", "cam",
                        "--roles", "Left,Right")
    assert rc == 0, err
    assert (tmp_path / "out" / "final.safetensors").is_file()


@pytest.mark.parametrize("args,must", [
    (["--config", "finetun"], ["--config finetun: no such file", "did you mean finetune-default"]),
    (["--config", "paper", "--roles", "Inf"], ["--roles 'Inf': give the two role folders as FIRST,SECOND"]),
    (["--config", "paper", "--roles", "Inf,Inf"], ["--roles: training config: data.roles must be"]),
    (["--config", "paper", "--sets", ""], ["--sets: training config: data.sets must be"]),
    (["--config", "missing.yaml"], ["missing.yaml: config file not found"]),
    (["--config", "paper", "--val-pairs", "-1"], ["--val-pairs: training config: data.val_pairs must be"]),
])
def test_recipe_and_override_refusals(capsys, args, must):
    _refused(capsys, args, must)
