"""Statements of the s18 new-user docs audit (docs/metrics.md "From folders of pairs to one
comparison table", docs/training.md "Fast fine-tuning" and "Output"):

* ``evaluate`` labels a ``--fused`` folder with its name, with the paths as given when two names
  are the same, and a link gives a folder another name;
* the recipe's shell lines parse with the real parser;
* ``finetune-default`` stores ``map_min_pool`` 1 and ``blend_temperature`` 1 and holds out 8 pairs.

Cheap: the bundled tno-01 sample, one fast metric.
"""
from __future__ import annotations

import csv
import re
import shlex
import shutil
from importlib.resources import files
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _recipe_block() -> str:
    text = (ROOT / "docs" / "metrics.md").read_text(encoding="utf-8")
    start = text.index("**From folders of pairs to one comparison table**")
    return re.search(r"```sh\n(.*?)```", text[start:], flags=re.S).group(1)


def test_metrics_recipe_lines_parse():
    from mutualfuse.cli import build_parser

    lines = [line.split("  #")[0].strip() for line in _recipe_block().splitlines()]
    commands = [line for line in lines if line.startswith("mutualfuse ")]
    assert [shlex.split(c)[1] for c in commands] == ["fuse-dir"] * 3 + ["evaluate"]
    for line in commands:
        assert callable(build_parser().parse_args(shlex.split(line)[1:]).func), line
    assert "--fused ifcnn-max/" in commands[-1] and any(line.startswith("ln -s ") for line in lines)


def _folders(tmp_path: Path) -> tuple[Path, Path]:
    sample = files("mutualfuse") / "data/samples/tno-01"
    a, b = tmp_path / "a", tmp_path / "b"
    for d, n in ((a, "a"), (b, "b")):
        d.mkdir()
        shutil.copyfile(sample / f"{n}.png", d / "01.png")
    return a, b


def _fused(path: Path, source: Path) -> Path:
    path.mkdir(parents=True)
    shutil.copyfile(source / "01.png", path / "01.png")
    return path


def _rows(tmp_path: Path, fused: list[str]) -> list[str]:
    from mutualfuse.cli import main

    out = tmp_path / "r.csv"
    argv = ["evaluate", "--a", "a", "--b", "b", "--metrics", "EN@rfn-nest", "-q", "--out", str(out)]
    for f in fused:
        argv += ["--fused", f]
    assert main(argv) == 0
    with open(out, newline="") as fh:
        return list(dict.fromkeys(row["method"] for row in csv.DictReader(fh)))


def test_evaluate_rows_are_named_after_their_folders(tmp_path, monkeypatch):
    a, b = _folders(tmp_path)
    monkeypatch.chdir(tmp_path)
    _fused(tmp_path / "net", a)
    _fused(tmp_path / "max", b)
    (tmp_path / "ifcnn-max").symlink_to(tmp_path / "max", target_is_directory=True)
    assert _rows(tmp_path, ["net/", "max"]) == ["net", "max"]
    assert _rows(tmp_path, ["net/", "ifcnn-max/"]) == ["net", "ifcnn-max"]  # the link names the row


def test_evaluate_rows_of_same_named_folders_are_their_paths(tmp_path, monkeypatch):
    a, b = _folders(tmp_path)
    monkeypatch.chdir(tmp_path)
    _fused(tmp_path / "run1" / "fused", a)
    _fused(tmp_path / "run2" / "fused", b)
    _fused(tmp_path / "cbf", a)
    assert _rows(tmp_path, ["run1/fused", "run2/fused", "cbf"]) == ["run1/fused", "run2/fused", "cbf"]


@pytest.mark.parametrize("key, value", [("model.map_min_pool", 1), ("model.blend_temperature", 1.0),
                                        ("data.val_pairs", 8)])
def test_finetune_default_recipe_settings(key, value):
    from mutualfuse.train.config import TrainConfig
    from mutualfuse.train.recipes import RECIPES

    section, name = key.split(".")
    assert TrainConfig.load(RECIPES.get("finetune-default")).to_dict()[section][name] == value
