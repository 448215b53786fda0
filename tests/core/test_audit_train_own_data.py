"""Training on one's own data, as a user would (audit of 2026-12-05): a CSV list that points into
a folder set also listed, and ``--print-config`` fed back without ``--data-root``."""
from __future__ import annotations

import json

import yaml

from train_cli_helpers import cfg as _cfg
from train_cli_helpers import data as _data
from train_cli_helpers import refused as _refused
from train_cli_helpers import train as _train


def test_a_pair_in_two_sets_is_refused_before_any_output(tmp_path, capsys):
    """A CSV list pointing into a folder set that is listed too (or two lists sharing a pair):
    the same pair could be trained on and held out, as with a set listed twice."""
    root = _data(tmp_path / "d", n=4)
    (root / "lists").mkdir()
    (root / "lists" / "some.csv").write_text("a,b\n../s/ir/01.png,../s/vis/01.png\n../s/ir/02.png,../s/vis/02.png\n")
    (root / "lists" / "other.csv").write_text("../s/ir/02.png,../s/vis/02.png\n../s/ir/03.png,../s/vis/03.png\n")
    for sets in (["s", "lists/some.csv"], ["lists/some.csv", "lists/other.csv"]):
        c = _cfg(tmp_path / "c.json", tmp_path / "out", **{"data.sets": sets})
        _refused(capsys, ["--config", str(c), "--data-root", str(root)],
                 ["data.sets:", "is a first image in both", repr(sets[0]), repr(sets[1]), "one set only"])
        assert not (tmp_path / "out").exists()
    c = _cfg(tmp_path / "c.json", tmp_path / "out", **{"data.sets": ["lists/some.csv", "lists/other.csv"],
                                                       "data.val_pairs": 0})
    (root / "lists" / "other.csv").write_text("../s/ir/00.png,../s/vis/00.png\n../s/ir/03.png,../s/vis/03.png\n")
    rc, _, err = _train(capsys, "--config", str(c), "--data-root", str(root))  # disjoint lists: trains
    assert rc == 0, err
    assert json.loads((tmp_path / "out" / "split.json").read_text())["sets"] == {"lists/some.csv": 2,
                                                                                 "lists/other.csv": 2}


def test_print_config_keeps_the_data_root_so_the_file_trains_as_printed(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("MUTUALFUSE_DATA", raising=False)
    root = _data(tmp_path / "d", n=4)
    c = _cfg(tmp_path / "c.json", tmp_path / "out")
    rc, out, err = _train(capsys, "--config", str(c), "--data-root", str(root), "--val-pairs", "2", "--print-config")
    assert rc == 0, err
    printed = yaml.safe_load(out)
    assert printed["data"]["root"] == str(root) and printed["data"]["val_pairs"] == 2
    (tmp_path / "mine.yaml").write_text(out)
    rc, _, err = _train(capsys, "--config", str(tmp_path / "mine.yaml"), "-q")  # no --data-root this time
    assert rc == 0, err
    assert json.loads((tmp_path / "out" / "split.json").read_text())["data_root"] == str(root)


def test_a_set_with_two_layouts_names_the_roles_option(tmp_path, capsys):
    """A recipe user has no config to add data.roles to: the refusal names --roles too."""
    root = _data(tmp_path / "d", n=3)
    for role, copy in (("ir", "a"), ("vis", "b")):  # s/ holds ir/vis and a/b
        (root / "s" / copy).mkdir()
        for p in (root / "s" / role).iterdir():
            (root / "s" / copy / p.name).write_bytes(p.read_bytes())
    c = _cfg(tmp_path / "c.json", tmp_path / "out")
    _refused(capsys, ["--config", str(c), "--data-root", str(root)],
             ["more than one pair of role folders", "data.roles", "--roles FIRST,SECOND"])
    rc, _, err = _train(capsys, "--config", str(c), "--data-root", str(root), "--roles", "a,b")
    assert rc == 0, err
