"""Session 31: the pair's "same as" command names the uploaded files and writes the download's name.

The page showed `mutualfuse fuse A B -o fused.png --method …` for every pair: pasted into a shell
it failed on a file named A, and it wrote fused.png, not the download's `a-b-average.png` (the
stack's command named its files already). It now names the two files by their own names and `-o`
the download's name, so the command, run in the files' folder, writes the download's file byte for
byte. Two uploads of one name from two folders (no name tells them apart) keep `A B`."""
from __future__ import annotations

import shlex

import numpy as np
import pytest
from PIL import Image
from web_handlers import ARGS, fns  # noqa: F401 - the fixture

from mutualfuse.cli import main


def _png(path, seed, size=(24, 32)):
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, size, dtype=np.uint8)).save(path)
    return path


def _command(timing: str) -> list[str]:
    line = [ln for ln in timing.splitlines() if ln.startswith("same as: `")][0]
    return shlex.split(line[len("same as: `"):-1])


@pytest.mark.parametrize("names", [("ir scene.png", "vis.png"), ("-dash.png", "b.png")])
def test_the_command_names_the_files_and_writes_the_download(fns, tmp_path, monkeypatch, names):  # noqa: F811
    a, b = _png(tmp_path / names[0], 1), _png(tmp_path / names[1], 2)
    status, _, _, _, files, timing, _ = fns["run"](str(a), str(b), *ARGS)
    assert status.startswith("done"), status
    argv = _command(timing)
    png = [f for f in files if f.endswith(".png")][0]
    download = png.rsplit("/", 1)[-1]
    shown = [n if not n.startswith("-") else f"./{n}" for n in (*names, download)]  # not read as options
    assert argv[:6] == ["mutualfuse", "fuse", *shown[:2], "-o", shown[2]], argv
    monkeypatch.chdir(tmp_path)
    assert main([*argv[1:], "-q"]) == 0
    assert (tmp_path / download).read_bytes() == open(png, "rb").read()


def test_two_uploads_of_one_name_keep_a_and_b(fns, tmp_path):  # noqa: F811
    (tmp_path / "x").mkdir()
    (tmp_path / "y").mkdir()
    a, b = _png(tmp_path / "x" / "image.png", 1), _png(tmp_path / "y" / "image.png", 2)
    status, _, _, _, files, timing, _ = fns["run"](str(a), str(b), *ARGS)
    assert status.startswith("done"), status
    assert _command(timing)[:4] == ["mutualfuse", "fuse", "A", "B"], timing
