"""``export-weights`` on checkpoints of real (tiny) ``mutualfuse train`` runs: the weights that
``fuse --weights`` loads, and one line naming the checkpoint and its problem for the bad ones."""
from __future__ import annotations

import hashlib
import json

import pytest

from mutualfuse.cli import main
from train_cli_helpers import cfg, data


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two 2-step runs, widths (4, 8, 8) and (4, 8, 16): their last.ckpt files."""

    root = tmp_path_factory.mktemp("train")
    d = data(root / "data")
    out = {}
    for name, widths in (("a", [4, 8, 8]), ("b", [4, 8, 16])):
        c = cfg(root / f"{name}.json", root / name, **{"data.root": str(d)})
        conf = json.loads(c.read_text())
        conf["model"]["widths"] = widths
        c.write_text(json.dumps(conf))
        assert main(["train", "--config", str(c), "--no-progress"]) == 0
        out[name] = root / name
    return out


def _refused(capsys, args, must):
    rc = main(args)
    cap = capsys.readouterr()
    lines = cap.err.strip().splitlines()
    assert rc == 2, cap.err
    assert len(lines) == 1 and lines[0].startswith("mutualfuse: error: "), cap.err
    assert "Traceback" not in cap.err and cap.out == ""
    for m in must:
        assert m in lines[0], (m, lines[0])
    return lines[0]


def test_exported_weights_load_in_fuse_with_their_digest_checked(runs, tmp_path, samples, capsys):
    out = tmp_path / "w.safetensors"
    assert main(["export-weights", str(runs["a"] / "last.ckpt"), "-o", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    assert (tmp_path / "w.safetensors.sha256").read_text().split()[0] == digest
    a, b = samples / "tno-01" / "a.png", samples / "tno-01" / "b.png"
    assert main(["fuse", str(a), str(b), "-o", str(tmp_path / "f1.png"), "--weights", str(out), "-q"]) == 0
    assert main(["fuse", str(a), str(b), "-o", str(tmp_path / "f2.png"), "--weights",
                 str(runs["a"] / "final.safetensors"), "-q"]) == 0
    assert (tmp_path / "f1.png").read_bytes() == (tmp_path / "f2.png").read_bytes()  # same tensors, same image
    raw = bytearray(out.read_bytes())
    raw[-64] ^= 1
    out.write_bytes(bytes(raw))
    _refused(capsys, ["fuse", str(a), str(b), "-o", str(tmp_path / "f3.png"), "--weights", str(out)],
             ["w.safetensors", "sha256 mismatch"])
    assert not (tmp_path / "f3.png").exists()


def _rewrite(src, dst, change):
    from mutualfuse.train.checkpoint import load_checkpoint, save_checkpoint

    st = load_checkpoint(src)
    change(st)
    save_checkpoint(dst, st)
    return dst


def test_a_checkpoint_whose_tensors_are_of_another_model_config_names_the_difference(runs, tmp_path, capsys):
    """A checkpoint whose config is another run's (widths 4,8,16 over tensors of 4,8,8) said only
    "(Error(s) in loading state_dict for FMMNet:)", torch's first line."""
    from mutualfuse.train.checkpoint import load_checkpoint

    other = load_checkpoint(runs["b"] / "last.ckpt")["config"]
    ck = _rewrite(runs["a"] / "last.ckpt", tmp_path / "mixed.ckpt", lambda st: st.__setitem__("config", other))
    line = _refused(capsys, ["export-weights", str(ck), "-o", str(tmp_path / "w.safetensors")],
                    ["mixed.ckpt", "do not match its model config", "in the checkpoint", "by the config"])
    assert "Error(s) in loading" not in line
    assert not (tmp_path / "w.safetensors").exists() and not (tmp_path / "w.safetensors.sha256").exists()

    def drop_one(st):
        st["model"] = dict(st["model"])
        st["model"].pop(sorted(st["model"])[-1])

    ck = _rewrite(runs["a"] / "last.ckpt", tmp_path / "missing.ckpt", drop_one)
    _refused(capsys, ["export-weights", str(ck), "-o", str(tmp_path / "w.safetensors")],
             ["missing.ckpt", "1 missing, e.g. "])


def test_an_unknown_architecture_is_not_called_a_missing_entry(runs, tmp_path, capsys):
    """build_model's KeyError for an unknown architecture was reported as ``missing entry
    "unknown architecture 'zzz' ..."``."""
    def arch(st):
        c = json.loads(st["config"])
        c["model"]["arch"] = "zzz"
        st["config"] = json.dumps(c)

    ck = _rewrite(runs["a"] / "last.ckpt", tmp_path / "arch.ckpt", arch)
    line = _refused(capsys, ["export-weights", str(ck), "-o", str(tmp_path / "w.safetensors")],
                    ["arch.ckpt", "unknown architecture 'zzz'"])
    assert "missing entry" not in line


def test_a_diverged_checkpoint_is_refused_naming_the_checkpoint_not_the_output(runs, tmp_path, capsys):
    """NaN weights were refused as "OUT.safetensors: refusing to write weights with NaN", which
    points at the output; the checkpoint is what holds them."""
    def nan(st):
        st["model"] = dict(st["model"])
        k = sorted(st["model"])[0]
        t = st["model"][k].clone()
        t.view(-1)[0] = float("nan")
        st["model"][k] = t

    ck = _rewrite(runs["a"] / "last.ckpt", tmp_path / "nan.ckpt", nan)
    line = _refused(capsys, ["export-weights", str(ck), "-o", str(tmp_path / "w.safetensors")],
                    ["nan.ckpt", "NaN or infinite"])
    assert line.startswith("mutualfuse: error: ") and str(tmp_path / "nan.ckpt") in line
    assert "w.safetensors" not in line and not (tmp_path / "w.safetensors").exists()
