"""``mutualfuse train --resume`` with a checkpoint it cannot continue (session 24 audit).

Each bad case is one ``mutualfuse: error:`` line naming the checkpoint and the problem, exit 2,
nothing trained or written over. Found and fixed 2026-12-07: a checkpoint that could not be
read (no read permission) was an internal error (exit 1); a checkpoint of a newer format was
called "not a mutualfuse training checkpoint"; a folder at ``last.ckpt`` was "checkpoint not
found". The rest (another config, a truncated or corrupt file, a folder that cannot be
written, Ctrl+C while the checkpoint is written) behaved and is kept so here.
"""
from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from mutualfuse.cli import main
from train_cli_helpers import cfg, data, refused


@pytest.fixture()
def run(tmp_path, capsys):
    """A finished 2-step run (32² crops) in ``tmp_path/run``; → (config of 4 steps, run folder)."""
    root = data(tmp_path / "d", n=5, size=(40, 40))
    out = tmp_path / "run"
    c2 = cfg(tmp_path / "c2.json", out, **{"data.root": str(root), "data.crop": 32})
    assert main(["train", "--config", str(c2), "--no-progress", "-q"]) == 0
    capsys.readouterr()
    c4 = cfg(tmp_path / "c4.json", out, **{"data.root": str(root), "data.crop": 32, "steps": 4})
    return c4, out


def _unchanged(out: Path, before: dict[str, bytes]) -> None:
    now = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert now == before
    assert not [p for p in os.listdir(out) if ".part" in p]


def _files(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}


def test_resume_with_another_experiment_is_refused_naming_what_differs(run, capsys, tmp_path):
    c4, out = run
    d = json.loads(c4.read_text())
    before = _files(out)
    for key, value, must in ((("model", "depth"), 2, "model.depth: 3 in the checkpoint, 2 now"),
                             (("model", "widths"), [4, 8, 16], "model.widths"),
                             (("loss",), "mean_ssim", 'loss: "var_ssim" in the checkpoint, "mean_ssim" now')):
        other = json.loads(json.dumps(d))
        if len(key) == 2:
            other[key[0]][key[1]] = value
        else:
            other[key[0]] = value
        c = tmp_path / "other.json"
        c.write_text(json.dumps(other))
        refused(capsys, ["--config", str(c), "--resume"], [str(out / "last.ckpt"), must, "use another --out"])
        _unchanged(out, before)


@pytest.mark.parametrize("spoil, must", [
    (lambda b: b[:3000], "truncated checkpoint"),
    (lambda b: b[:-100], "corrupt checkpoint"),
    (lambda b: b"", "corrupt checkpoint"),
    (lambda b: b[:5000] + bytes(len(b) - 5000), "corrupt checkpoint"),
])
def test_a_cut_short_or_corrupt_checkpoint_is_one_line(run, capsys, spoil, must):
    c4, out = run
    last = out / "last.ckpt"
    last.write_bytes(spoil(last.read_bytes()))
    before = _files(out)
    refused(capsys, ["--config", str(c4), "--resume"], [str(last), must])
    _unchanged(out, before)


def test_a_checkpoint_of_a_newer_format_says_so(run, capsys, tmp_path):
    """Was "not a mutualfuse training checkpoint (format 'mutualfuse-checkpoint-2'; ...)"."""
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    c4, out = run
    last = out / "last.ckpt"
    with safe_open(str(last), "pt") as f:
        meta = dict(f.metadata())
    save_file(load_file(str(last)), str(last), metadata={**meta, "format": "mutualfuse-checkpoint-2"})
    before = _files(out)
    refused(capsys, ["--config", str(c4), "--resume"], [str(last), "written by a newer mutualfuse",
                                                         "'mutualfuse-checkpoint-2'"])
    _unchanged(out, before)
    from one_line_error import assert_one_line_error

    assert_one_line_error(capsys, ["export-weights", str(last), "-o", str(tmp_path / "w.safetensors")],
                          str(last), "written by a newer mutualfuse")
    assert not (tmp_path / "w.safetensors").exists()
    # another program's format is still "not a mutualfuse training checkpoint"
    save_file(load_file(str(last)), str(last), metadata={**meta, "format": "other-thing-3"})
    refused(capsys, ["--config", str(c4), "--resume"], [str(last), "not a mutualfuse training checkpoint"])


def test_a_checkpoint_that_cannot_be_read_is_one_line_not_an_internal_error(run, capsys, monkeypatch, tmp_path):
    """Was "internal error: PermissionError" (exit 1). ``open`` is made to fail as for a file
    without read permission (tests may run as root, which reads anything)."""
    import builtins

    import mutualfuse.train.checkpoint as checkpoint

    c4, out = run
    last = out / "last.ckpt"

    def no_read(file, *a, **k):
        if Path(file) == last:
            raise PermissionError(errno.EACCES, "Permission denied", str(file))
        return builtins.open(file, *a, **k)

    monkeypatch.setattr(checkpoint, "open", no_read, raising=False)
    before = _files(out)
    refused(capsys, ["--config", str(c4), "--resume"], [str(last), "cannot read the checkpoint (Permission denied)"])
    _unchanged(out, before)
    from one_line_error import assert_one_line_error

    assert_one_line_error(capsys, ["export-weights", str(last), "-o", str(tmp_path / "w.safetensors")],
                          str(last), "cannot read the checkpoint")


def test_a_folder_where_the_checkpoint_should_be_is_named_a_folder(tmp_path, capsys):
    """Was "checkpoint not found" for a folder that is there."""
    root = data(tmp_path / "d", n=5, size=(40, 40))
    out = tmp_path / "run"
    (out / "last.ckpt").mkdir(parents=True)
    c = cfg(tmp_path / "c.json", out, **{"data.root": str(root), "data.crop": 32})
    refused(capsys, ["--config", str(c), "--resume"], [str(out / "last.ckpt"), "is a folder, not a checkpoint file"])
    assert sorted(os.listdir(out)) == ["last.ckpt"]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes into a read-only folder")
def test_resume_into_a_folder_that_is_not_writable(run, capsys):
    c4, out = run
    before = _files(out)
    out.chmod(0o555)
    try:
        refused(capsys, ["--config", str(c4), "--resume"], [str(out), "is not writable"])
    finally:
        out.chmod(0o755)
    _unchanged(out, before)


def test_resume_into_a_folder_the_permissions_refuse(run, capsys, monkeypatch):
    """As the test above, for a user (not root) without write permission on the run's folder
    (``os.access`` answers as it would for them): refused before the data is read."""
    c4, out = run
    before = _files(out)
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **k: False if Path(p) == out and mode & os.W_OK
                        else real(p, mode, **k))
    refused(capsys, ["--config", str(c4), "--resume"], [f"{out}: {out} is not writable (out_dir)"])
    _unchanged(out, before)


def test_resume_where_the_run_files_cannot_be_written(run, capsys, monkeypatch):
    """What root (who passes the permission check) or a folder made read-only meanwhile meets:
    the first file written is refused; one line naming it and the checkpoint to resume from,
    exit 2, the checkpoint as it was."""
    import tempfile

    c4, out = run
    before = _files(out)
    real_write, real_mkstemp = Path.write_text, tempfile.mkstemp

    def write_text(self, *a, **k):
        if self.parent == out:
            raise PermissionError(errno.EROFS, "Read-only file system", str(self))
        return real_write(self, *a, **k)

    def mkstemp(*a, dir=None, **k):
        if dir is not None and Path(dir) == out:
            raise OSError(errno.EROFS, "Read-only file system")
        return real_mkstemp(*a, dir=dir, **k)

    monkeypatch.setattr(Path, "write_text", write_text)
    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    refused(capsys, ["--config", str(c4), "--resume", "-q"],
            [str(out / "config.json"), "Read-only file system", "--resume continues from it"])
    _unchanged(out, before)


def test_ctrl_c_while_the_checkpoint_is_written_leaves_the_last_one_whole(run, capsys, monkeypatch):
    """Ctrl+C (a second one, which stops at once) in the middle of writing step 3's checkpoint:
    no partial file at ``last.ckpt`` nor a temporary beside it, step 2's checkpoint resumes."""
    import safetensors.torch

    from mutualfuse.train.checkpoint import load_checkpoint

    c4, out = run
    real = safetensors.torch.save_file

    def save_file(tensors, path, metadata=None):
        if '"step": 3' in (metadata or {}).get("structure", ""):
            with open(path, "wb") as fh:
                fh.write(b"\0" * 4096)  # half written
            raise KeyboardInterrupt
        return real(tensors, path, metadata=metadata)

    monkeypatch.setattr(safetensors.torch, "save_file", save_file)
    rc = main(["train", "--config", str(c4), "--resume", "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 130, err
    assert "Traceback" not in err and "interrupted at step 3 of 4" in err, err
    assert f"the last checkpoint, {out / 'last.ckpt'}, is at step 2" in err, err
    assert not [p for p in os.listdir(out) if ".part" in p]
    assert load_checkpoint(out / "last.ckpt")["step"] == 2
    monkeypatch.setattr(safetensors.torch, "save_file", real)
    assert main(["train", "--config", str(c4), "--resume", "--no-progress", "-q"]) == 0
    assert load_checkpoint(out / "last.ckpt")["step"] == 4
