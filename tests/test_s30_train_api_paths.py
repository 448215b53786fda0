"""s30: ``TrainConfig`` given ``pathlib.Path`` values (a notebook's way to name folders).

``TrainConfig(out_dir=Path("runs/x"))`` passed the config's checks (which take a path-like
``out_dir``) and then stopped ``train`` with ``TypeError: Object of type PosixPath is not JSON
serializable``, after the output folder was made; ``data={"root": Path(...)}`` and
``init_weights=Path(...)`` were refused as "must be a non-empty string", though they name the
same files as the strings. Path-like values of ``out_dir``, ``init_weights``, ``data.root`` and
the entries of ``data.sets`` are now taken as their strings (``os.fspath``), also when set on the
object after construction; the config, its ``config.json`` and the weights record strings."""
from __future__ import annotations

import json
from pathlib import Path

from train_cli_helpers import data

from mutualfuse.train import TrainConfig, train


def _cfg(root: Path, out: Path, **over) -> TrainConfig:
    base = dict(data={"sets": [Path("s")], "val_pairs": 1, "crop": 16, "root": root},
                model={"widths": [4, 8, 8], "depth": 3}, batch_size=2, steps=2, threads=1, out_dir=out)
    base.update(over)
    return TrainConfig(**base)


def test_path_values_train_as_their_strings(tmp_path):
    root = data(tmp_path / "d")
    cfg = _cfg(root, tmp_path / "run")
    assert cfg.out_dir == str(tmp_path / "run") and cfg.data.root == str(root) and cfg.data.sets == ["s"]
    r = train(cfg, progress=False, notes=False)
    assert r["step"] == 2
    assert json.loads((tmp_path / "run" / "config.json").read_text())["out_dir"] == str(tmp_path / "run")
    warm = _cfg(root, tmp_path / "warm", init_weights=Path(r["weights"]))
    assert warm.init_weights == r["weights"]
    assert train(warm, progress=False, notes=False)["step"] == 2


def test_a_path_set_after_construction(tmp_path):
    root = data(tmp_path / "d")
    cfg = _cfg(root, tmp_path / "unused")
    cfg.out_dir = tmp_path / "later"
    assert train(cfg, progress=False, notes=False)["step"] == 2
    assert (tmp_path / "later" / "final.safetensors").is_file()
