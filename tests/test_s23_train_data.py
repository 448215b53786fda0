"""Audit s23: the data a user brings to ``mutualfuse train``.

* A set of small images (smaller than ``data.crop``, which are reflect-padded) with one larger
  pair was refused whichever way the seed split it: the held-out pairs' centre crops were held to
  the rule of the training crops ("data.crop is larger than every training image") although the
  documented rule is "larger than every image", and validation pads them as training does.
* The weights said of their data only the set names and the number held out: not how many pairs
  trained, where, which bytes, nor how the images were read (the intensity policy ``fuse`` must use
  for the network to see what it was trained on). They now record ``train_data``.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from mutualfuse.train.data import split_pairs
from train_cli_helpers import cfg, png, refused, train


def _small_and_one_large(root: Path) -> Path:
    for i in range(3):
        png(root / "s" / "ir" / f"{i}.png", 12, 12, seed=2 * i)
        png(root / "s" / "vis" / f"{i}.png", 12, 12, seed=2 * i + 1)
    png(root / "s" / "ir" / "3.png", 40, 40, seed=10)
    png(root / "s" / "vis" / "3.png", 40, 40, seed=11)
    return root


def _seed_holding_out(name: str, names: list[str]) -> int:
    return next(s for s in range(100) if split_pairs(names, 1, s)[1] == [name])


def test_small_training_images_pad_when_a_larger_pair_trains(tmp_path, capsys):
    root = _small_and_one_large(tmp_path / "d")
    names = ["0.png", "1.png", "2.png", "3.png"]
    seed = _seed_holding_out("0.png", names)  # the 40x40 pair trains, a 12x12 one is held out
    out = tmp_path / "run"
    c = cfg(tmp_path / "c.json", out, **{"data.root": str(root), "data.crop": 32, "seed": seed, "val_every": 1})
    rc, _, err = train(capsys, "--config", str(c), "-q")
    assert rc == 0, err
    split = json.loads((out / "split.json").read_text())
    assert split["val_pairs"] == ["s/0.png"]
    rows = (out / "log.csv").read_text().splitlines()
    assert rows[-1].split(",")[3] != "", rows  # validated on the padded 12x12 centre crop


def test_all_small_training_images_are_refused_naming_the_held_out_rule(tmp_path, capsys):
    root = _small_and_one_large(tmp_path / "d")
    seed = _seed_holding_out("3.png", ["0.png", "1.png", "2.png", "3.png"])
    c = cfg(tmp_path / "c.json", tmp_path / "run", **{"data.root": str(root), "data.crop": 32, "seed": seed})
    refused(capsys, ["--config", str(c)], ["data.crop 32 is larger than every training image",
                                           "largest side 12 px", "held out for validation not counted",
                                           "at most 12"])
    assert not (tmp_path / "run").exists()


def _meta(path: Path) -> dict[str, str]:
    from safetensors import safe_open

    with safe_open(str(path), "pt") as fh:
        return dict(fh.metadata())


def test_weights_record_the_data_they_were_trained_on(tmp_path, capsys):
    from train_cli_helpers import data

    root = data(tmp_path / "d", n=5, size=(24, 32))
    out = tmp_path / "run"
    c = cfg(tmp_path / "c.json", out, **{"data.root": str(root)})
    assert train(capsys, "--config", str(c), "-q")[0] == 0
    rec = json.loads(_meta(out / "final.safetensors")["train_data"])
    assert rec["data_root"] == str(root.resolve()) and rec["sets"] == {"s": 5}
    assert rec["train_pairs"] == 4 and rec["held_out"] == 1 and len(rec["pairs_sha256"]) == 64
    # the intensity policy the images were read with: what `fuse` applies by default
    assert rec["normalize"] == "auto" and rec["percentiles"] == [0.1, 99.9] and rec["colour"] == "BT.601 luma"
    from mutualfuse.cli import main

    assert main(["export-weights", str(out / "last.ckpt"), "-o", str(tmp_path / "w.safetensors"), "-q"]) == 0
    assert json.loads(_meta(tmp_path / "w.safetensors")["train_data"]) == rec

    # the same bytes in another folder: the same data digest; one image changed: another
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    out2 = tmp_path / "run2"
    assert train(capsys, "--config", str(c), "--data-root", str(copy), "-o", str(out2), "-q")[0] == 0
    assert json.loads(_meta(out2 / "final.safetensors")["train_data"])["pairs_sha256"] == rec["pairs_sha256"]
    png(copy / "s" / "vis" / "03.png", 24, 32, seed=99)
    out3 = tmp_path / "run3"
    assert train(capsys, "--config", str(c), "--data-root", str(copy), "-o", str(out3), "-q")[0] == 0
    assert json.loads(_meta(out3 / "final.safetensors")["train_data"])["pairs_sha256"] != rec["pairs_sha256"]


def _thermal16(root: Path, n: int = 4) -> Path:
    """``n`` pairs: 16-bit infrared of 7000-7600 counts (a thermal camera's narrow band), colour visible."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(7)
    for i in range(n):
        (root / "s" / "ir").mkdir(parents=True, exist_ok=True)
        (root / "s" / "vis").mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(7000, 7601, (24, 32)).astype(np.uint16)).save(root / "s" / "ir" / f"{i}.png")
        Image.fromarray(rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)).save(root / "s" / "vis" / f"{i}.png")
    return root


def _fuse_inputs(monkeypatch, pair: tuple[Path, Path], weights: Path, out: Path, *opts: str):
    """The gray arrays `mutualfuse fuse` hands to the network for ``pair`` (the visible one as BT.601 luma)."""
    import numpy as np

    from mutualfuse import api
    from mutualfuse.cli import main

    got = {}
    orig = api.Fuser.fuse_arrays

    def spy(self, a, b, *args, **kw):
        got["a"], got["b"] = np.asarray(a), np.asarray(b)
        return orig(self, a, b, *args, **kw)

    monkeypatch.setattr(api.Fuser, "fuse_arrays", spy)
    assert main(["fuse", str(pair[0]), str(pair[1]), "-o", str(out), "--weights", str(weights), "-q", *opts]) == 0
    a, b = got["a"][0], got["b"][0]
    return a, (b @ np.array([0.299, 0.587, 0.114]) if b.ndim == 3 else b)


def test_training_reads_the_images_as_fuse_with_the_same_normalize(tmp_path, capsys, monkeypatch):
    """16-bit thermal of a narrow band and colour visible: the training images are what `fuse` gives
    the network under the same policy, the default (auto: the 16-bit image by its percentiles) and
    data.normalize full (fuse --normalize full: v / 65535); the weights record the policy."""
    from mutualfuse.train import TrainConfig
    from mutualfuse.train.loop import Trainer
    from tolerance import assert_close

    root = _thermal16(tmp_path / "d")
    pair = (root / "s" / "ir" / "0.png", root / "s" / "vis" / "0.png")
    for normalize, opts in (("auto", ()), ("full", ("--normalize", "full"))):
        out = tmp_path / f"run-{normalize}"
        c = cfg(tmp_path / f"{normalize}.json", out, **{"data.root": str(root), "data.normalize": normalize,
                                                         "data.val_pairs": 0})
        assert train(capsys, "--config", str(c), "-q")[0] == 0
        rec = json.loads(_meta(out / "final.safetensors")["train_data"])
        assert rec["normalize"] == normalize and rec["percentiles"] == [0.1, 99.9]
        tr = Trainer(TrainConfig.load(c), notes=False, progress=False)
        x, y = tr.train_set.images[tr.train_set.names.index("0.png")]
        a, b = _fuse_inputs(monkeypatch, pair, out / "final.safetensors", tmp_path / f"f-{normalize}.png", *opts)
        assert_close(x, a, "float32")
        assert_close(y, b, "float32")
        if normalize == "full":
            assert 7000 / 65535 - 1e-6 <= x.min() and x.max() <= 7600 / 65535 + 1e-6
        else:
            assert x.min() == 0.0 and x.max() == 1.0
