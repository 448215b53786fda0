"""s30: the run's own text files (``config.json``, ``split.json``) and names that are not UTF-8.

A training image whose file name is not UTF-8 (``caf\\xe9.png``, copied from a Latin-1 system;
Python gives the byte as a lone surrogate) stopped every run with ``internal error:
UnicodeEncodeError`` (exit 1) and left an empty ``split.json``: the file was written with
``Path.write_text`` (emptied first, then the encoding failed) and the name went, unescaped, into
``split.json``, the data digest and the weights' ``train_data``. Such a run now trains, resumes
and exports; ``split.json`` names the pair with JSON's ``\\u`` escape, which reads back to the
same name.

``config.json`` and ``split.json`` are now written as every other file of the run (a temporary
renamed over them): a write that fails (a full disk, a file-size limit) leaves the files of the
run being resumed as they were, with the one-line error, instead of a file cut short."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from train_cli_helpers import cfg, data

from mutualfuse.cli import main

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="file names of arbitrary bytes: Linux file systems")


def _latin1_set(root: Path) -> Path:
    """``root/s/{ir,vis}/``: four pairs, one named ``caf\\xe9.png`` (the byte 0xE9, not UTF-8)."""
    rng = np.random.default_rng(5)
    for role in ("ir", "vis"):
        d = os.fsencode(root / "s" / role)
        os.makedirs(d)
        for i in range(4):
            name = b"caf\xe9.png" if i == 0 else f"{i}.png".encode()
            Image.fromarray(rng.integers(0, 256, (24, 32), dtype=np.uint8)).save(os.path.join(d, name), format="PNG")
    return root


def _train(capsys, *args: str) -> tuple[int, str]:
    rc = main(["train", *args, "--no-progress", "-q"])
    return rc, capsys.readouterr().err


def test_a_pair_whose_name_is_not_utf8_trains_resumes_and_exports(tmp_path, capsys):
    root = _latin1_set(tmp_path / "d")
    out = tmp_path / "run"
    c = cfg(tmp_path / "c.json", out, **{"data.root": str(root)})
    rc, err = _train(capsys, "--config", str(c))
    assert rc == 0, err
    assert "internal error" not in err
    split = json.loads((out / "split.json").read_text(encoding="utf-8"))
    named = split["val_pairs"] + split["train_pairs"]
    assert os.fsdecode(b"s/caf\xe9.png") in named and len(named) == 4, named
    assert (out / "final.safetensors").is_file()
    rc, err = _train(capsys, "--config", str(c), "--resume", "--steps", "3", "--record-paths", "name")
    assert rc == 0, err
    w = tmp_path / "shared.safetensors"
    assert main(["export-weights", str(out / "last.ckpt"), "-o", str(w), "-q"]) == 0
    from mutualfuse.weights import load_model

    _, meta = load_model(str(w))
    assert json.loads(meta["train_data"])["train_pairs"] == 3


def test_a_failed_write_of_the_run_files_leaves_them_as_they_were(tmp_path, capsys):
    """A resume whose ``config.json`` cannot be written (here a file-size limit, ``ulimit -f``,
    below its size; a full disk alike) stops in one line, exit 2, and the run's ``config.json``
    is the one it had, whole (it was cut at the limit)."""
    resource = pytest.importorskip("resource")
    root = data(tmp_path / "d")
    out = tmp_path / "run"
    c = cfg(tmp_path / "c.json", out, **{"data.root": str(root)})
    rc, err = _train(capsys, "--config", str(c))
    assert rc == 0, err
    before = {n: (out / n).read_bytes() for n in ("config.json", "split.json")}
    limit = 1024
    assert len(before["config.json"]) > limit

    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    p = subprocess.run([sys.executable, "-m", "mutualfuse", "train", "--config", str(c), "--resume", "--steps", "3",
                        "--no-progress", "-q"], capture_output=True, text=True, env=env, preexec_fn=small_files,
                       timeout=300)
    lines = p.stderr.strip().splitlines()
    assert p.returncode == 2, p.stderr
    assert len(lines) == 1 and lines[0].startswith("mutualfuse: error: ") and "config.json" in lines[0], p.stderr
    assert "File too large" in lines[0] and "is at step 2: --resume continues from it" in lines[0], lines[0]
    assert {n: (out / n).read_bytes() for n in before} == before
    assert not [f for f in os.listdir(out) if ".part" in f]


def test_a_resume_that_cannot_rewrite_log_csv_keeps_its_rows(tmp_path, capsys):
    """``log.csv`` is rewritten on every resume (the rows up to the checkpoint's step kept): it was
    emptied and written in place, so a resume that failed there (a file-size limit below the
    log's size here; a full disk, a Ctrl+C alike) left the log cut short at the limit. Now the
    log is whole, the error one line naming it (exit 2), no temporary left."""
    resource = pytest.importorskip("resource")
    root = data(tmp_path / "d")
    out = tmp_path / "run"
    c = cfg(tmp_path / "c.json", out, steps=100, checkpoint_every=100, **{"data.root": str(root)})
    rc, err = _train(capsys, "--config", str(c))
    assert rc == 0, err
    log = (out / "log.csv").read_bytes()
    small = max(len((out / n).read_bytes()) for n in ("config.json", "split.json"))
    limit = small + 64
    assert len(log) > limit + 256  # the run's other text files fit under the limit, the log does not

    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    p = subprocess.run([sys.executable, "-m", "mutualfuse", "train", "--config", str(c), "--resume", "--steps", "101",
                        "--no-progress", "-q"], capture_output=True, text=True, env=env, preexec_fn=small_files,
                       timeout=300)
    lines = p.stderr.strip().splitlines()
    assert p.returncode == 2, p.stderr
    assert len(lines) == 1 and lines[0].startswith("mutualfuse: error: ") and "log.csv: cannot write" in lines[0], \
        p.stderr
    assert (out / "log.csv").read_bytes() == log
    assert not [f for f in os.listdir(out) if ".part" in f]
