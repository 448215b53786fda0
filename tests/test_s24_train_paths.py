"""What a shared weights file says of the machine it was trained on (session 24).

Until 2026-12-07 the weights of a run recorded its local paths in full, with no way to leave
them out: ``train_data.data_root``, ``loss_source.file`` and ``train_config``'s ``out_dir`` /
``data.root`` (``/home/alice/clinic-project/data``), readable by anyone the weights are shared
with. ``mutualfuse train --record-paths`` and ``mutualfuse export-weights --record-paths``
(``full``, ``name``, ``none``; :mod:`mutualfuse.train.paths`) now choose; the run's choice is
kept in its checkpoints (export and ``--resume`` follow it). The weights fuse exactly as before:
the tensors and the intensity policy (``train_data.normalize``/``percentiles``) are kept.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from mutualfuse.cli import main
from train_cli_helpers import cfg, data, train

LOSS_SRC = '''
from mutualfuse.losses import register_loss, var_ssim_loss


@register_loss("s24paths")
def my_loss(x, y, f):
    return var_ssim_loss(x, y, f)
'''


@pytest.fixture()
def own_loss(tmp_path):
    """A loss of one's own in ``tmp_path/code/s24pathsloss.py``; registry and module restored after."""
    from mutualfuse.losses import LOSS_REGISTRY

    saved = dict(LOSS_REGISTRY._entries)
    (tmp_path / "code").mkdir()
    mod = tmp_path / "code" / "s24pathsloss.py"
    mod.write_text(LOSS_SRC)
    yield mod
    LOSS_REGISTRY._entries.clear()
    LOSS_REGISTRY._entries.update(saved)
    sys.modules.pop("s24pathsloss", None)


def _header(path: Path) -> bytes:
    """The safetensors header (the JSON holding the metadata), as bytes."""
    raw = path.read_bytes()
    return raw[8:8 + int.from_bytes(raw[:8], "little")]


def _meta(path: Path) -> dict[str, str]:
    return json.loads(_header(path))["__metadata__"]


def _local_forms(p: Path) -> list[bytes]:
    """``p`` as it may appear in the header bytes: as is, resolved, JSON-escaped (either way)."""
    forms = set()
    for s in {str(p), str(p.resolve())}:
        forms |= {s, json.dumps(s)[1:-1], json.dumps(s, ensure_ascii=False)[1:-1],
                  json.dumps(json.dumps(s))[3:-3]}
    return [f.encode() for f in forms]


def _fused(weights: Path) -> np.ndarray:
    """A 16-bit pair that does not span the full range (where the intensity policy matters), fused."""
    from mutualfuse import Fuser

    rng = np.random.default_rng(5)
    a = rng.integers(1000, 9000, (40, 48), dtype=np.uint16)
    b = rng.integers(2000, 30000, (40, 48), dtype=np.uint16)
    return np.asarray(Fuser(str(weights), device="cpu").fuse(a, b))


def test_exported_weights_record_no_local_path_when_asked_and_fuse_the_same(tmp_path, capsys, own_loss):
    root = data(tmp_path / "clinic-project" / "data", n=5, size=(40, 40))
    out = tmp_path / "runs" / "r1"
    c = cfg(tmp_path / "c.json", out, **{"data.root": str(root), "data.crop": 32, "loss": "s24paths",
                                         "data.normalize": "full"})
    rc, _, err = train(capsys, "--import", str(own_loss), "--config", str(c), "-q")
    assert rc == 0, err
    final = out / "final.safetensors"
    # the default records the paths in full, as before (and as the header search below would see them)
    assert any(f in _header(final) for f in _local_forms(root))
    assert json.loads(_meta(final)["loss_source"])["file"] == str(own_loss.resolve())
    assert "recorded_paths" not in _meta(final)
    fused_full = _fused(final)
    for how in ("name", "none"):
        w = tmp_path / f"shared-{how}.safetensors"
        assert main(["export-weights", str(out / "last.ckpt"), "-o", str(w), "--record-paths", how, "-q"]) == 0
        head = _header(w)
        for local in (tmp_path, root, out, own_loss):
            for form in _local_forms(local):
                assert form not in head, (how, form)
        meta = _meta(w)
        assert meta["recorded_paths"] == how
        td, src, tc = json.loads(meta["train_data"]), json.loads(meta["loss_source"]), json.loads(meta["train_config"])
        # what fuse needs and the data's and code's identity stay
        full_td = json.loads(_meta(final)["train_data"])
        assert {k: v for k, v in td.items() if k != "data_root"} == {k: v for k, v in full_td.items()
                                                                     if k != "data_root"}
        assert td["normalize"] == "full" and td["percentiles"] == [0.1, 99.9]
        assert src["sha256"] == json.loads(_meta(final)["loss_source"])["sha256"] and src["module"] == "s24pathsloss"
        assert meta["model_config"] == _meta(final)["model_config"]
        assert meta["tensors_sha256"] == _meta(final)["tensors_sha256"]
        if how == "name":
            assert td["data_root"] == "data" and src["file"] == "s24pathsloss.py"
            assert tc["out_dir"] == "r1" and tc["data"]["root"] == "data"
        else:
            assert "data_root" not in td and "file" not in src
            assert tc["out_dir"] is None and tc["data"]["root"] is None
        # the same network and policy: bit for bit the same fused image
        assert np.array_equal(_fused(w), fused_full), how
    from mutualfuse.io.samples import training_policy

    assert training_policy(_meta(tmp_path / "shared-none.safetensors")) == ("full", (0.1, 99.9))
    # a weights file (a run whose checkpoint is gone): a copy recording its paths so
    copy = tmp_path / "copy.safetensors"
    assert main(["export-weights", str(final), "-o", str(copy), "--record-paths", "none", "-q"]) == 0
    assert not any(f in _header(copy) for local in (tmp_path, root, out, own_loss) for f in _local_forms(local))
    assert {k: v for k, v in _meta(copy).items() if k not in ("train_config", "train_data", "loss_source")} == \
        {k: v for k, v in _meta(tmp_path / "shared-none.safetensors").items()
         if k not in ("train_config", "train_data", "loss_source")}
    shared = _meta(tmp_path / "shared-none.safetensors")
    assert json.loads(_meta(copy)["train_data"]) == json.loads(shared["train_data"])
    assert np.array_equal(_fused(copy), fused_full)
    # without --record-paths a weights file is still refused, and shortened paths cannot become full again
    from one_line_error import assert_one_line_error

    assert_one_line_error(capsys, ["export-weights", str(final), "-o", str(tmp_path / "x.safetensors")],
                          "is already a weights file", "--record-paths")
    assert_one_line_error(capsys, ["export-weights", str(copy), "-o", str(tmp_path / "x.safetensors"),
                                   "--record-paths", "full"], str(copy), "records its paths as 'none' already")
    assert not (tmp_path / "x.safetensors").exists()


def test_train_record_paths_is_kept_by_the_checkpoint_export_and_resume(tmp_path, capsys):
    root = data(tmp_path / "d", n=5, size=(40, 40))
    out = tmp_path / "run"
    c = cfg(tmp_path / "c.json", out, **{"data.root": str(root), "data.crop": 32})
    rc, _, err = train(capsys, "--config", str(c), "-q", "--record-paths", "name")
    assert rc == 0, err
    final = out / "final.safetensors"
    assert _meta(final)["recorded_paths"] == "name"
    assert not any(f in _header(final) for f in _local_forms(tmp_path))
    # export without the option: as the run chose
    w = tmp_path / "w.safetensors"
    assert main(["export-weights", str(out / "last.ckpt"), "-o", str(w), "-q"]) == 0
    assert _meta(w)["recorded_paths"] == "name" and not any(f in _header(w) for f in _local_forms(tmp_path))
    # a resume without the option keeps the run's choice
    rc, _, err = train(capsys, "--config", str(c), "-q", "--resume", "--steps", "3")
    assert rc == 0, err
    assert _meta(final)["steps"] == "3" and _meta(final)["recorded_paths"] == "name"
    assert not any(f in _header(final) for f in _local_forms(tmp_path))
    # a finished run resumed with another choice writes its final weights again (not "nothing to do")
    rc, _, err = train(capsys, "--config", str(c), "-q", "--resume", "--steps", "3", "--record-paths", "full")
    assert rc == 0, err
    assert "recorded_paths" not in _meta(final) and any(f in _header(final) for f in _local_forms(root))
    # and at its end with the same choice: nothing to do, nothing rewritten
    before = final.read_bytes()
    rc, _, err = train(capsys, "--config", str(c), "--resume", "--steps", "3", "--record-paths", "full")
    assert rc == 0 and "nothing to do" in err, err
    assert final.read_bytes() == before


def test_record_paths_rewrites_every_path_it_knows():
    from mutualfuse.train.paths import record_paths

    meta = {
        "train_config": json.dumps({"out_dir": "/home/alice/runs/r1", "init_weights": "/home/alice/w/start.safetensors",
                                    "data": {"root": "/home/alice/clinic-project/data",
                                             "sets": ["ct_mri", "/home/alice/lists/pairs.csv", "sub/set"]}}),
        "train_data": json.dumps({"data_root": "/home/alice/clinic-project/data", "sets": {"ct_mri": 3},
                                  "normalize": "auto", "percentiles": [0.1, 99.9]}),
        "loss_source": json.dumps({"loss": "l", "module": "m", "file": "C:\\Users\\alice\\m.py", "sha256": "ab"}),
        "machine": "x86_64",
    }
    assert record_paths(meta, "full") == meta
    name = record_paths(meta, "name")
    tc = json.loads(name["train_config"])
    assert tc["out_dir"] == "r1" and tc["init_weights"] == "start.safetensors"
    assert tc["data"] == {"root": "data", "sets": ["ct_mri", "pairs.csv", "sub/set"]}
    assert json.loads(name["train_data"])["data_root"] == "data"
    assert json.loads(name["loss_source"]) == {"loss": "l", "module": "m", "file": "m.py", "sha256": "ab"}
    none = record_paths(meta, "none")
    tc = json.loads(none["train_config"])
    assert tc["out_dir"] is None and tc["data"]["root"] is None and tc["init_weights"] == "start.safetensors"
    assert json.loads(none["train_data"]) == {"sets": {"ct_mri": 3}, "normalize": "auto", "percentiles": [0.1, 99.9]}
    assert "file" not in json.loads(none["loss_source"])
    for m in (name, none):
        assert "alice" not in json.dumps(m) and m["machine"] == "x86_64"
    # a shipped name for the warm start is not a path: kept
    kept = record_paths({"train_config": json.dumps({"init_weights": "default"})}, "none")
    assert json.loads(kept["train_config"])["init_weights"] == "default"
    # a garbled value that may hold a path is left out rather than copied
    assert "train_data" not in record_paths({"train_data": "{not json /home/alice"}, "name")
