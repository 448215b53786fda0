"""fuse-stack and fuse-volume where stderr is not a terminal (session 27).

Both drew a progress bar at a terminal only: a stack or a volume fused by the network for many
minutes under nohup or a batch job (``2>log``) said nothing until it ended. They now write plain
lines there, as fuse-video does: the first once LOG_EVERY_S (30 s) have passed, then one at most
every LOG_EVERY_S, so a short run says nothing more than before. Here LOG_EVERY_S is set to 0 to
see the lines of a short run."""
from __future__ import annotations

import re

import numpy as np
import pytest

from mutualfuse.cli import fuse_video, main


@pytest.fixture
def stack(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    files = []
    for i in range(3):
        p = tmp_path / f"z{i}.png"
        Image.fromarray(rng.integers(0, 256, (48, 64), dtype=np.uint8)).save(p)
        files.append(str(p))
    return files


@pytest.fixture
def volumes(tmp_path):
    nib = pytest.importorskip("nibabel")
    rng = np.random.default_rng(1)
    aff = np.diag([1.0, 1.0, 2.0, 1.0])
    paths = []
    for name in ("ct", "mr"):
        p = tmp_path / f"{name}.nii.gz"
        nib.save(nib.Nifti1Image(rng.integers(0, 4000, (64, 48, 4)).astype(np.int16), aff), str(p))
        paths.append(str(p))
    return paths


def _progress_lines(err: str, command: str) -> list[str]:
    return [ln for ln in err.splitlines() if ln.startswith(f"{command}: ")]


def test_a_stack_in_a_log_says_where_it_is(stack, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(fuse_video, "LOG_EVERY_S", 0.0)
    assert main(["fuse-stack", *stack, "-o", str(tmp_path / "edf.png"), "--method", "average"]) == 0
    lines = _progress_lines(capsys.readouterr().err, "fuse-stack")
    assert [re.sub(r" \(\d+ s\)$", "", ln) for ln in lines] == ["fuse-stack: 1/2 fusions",
                                                                 "fuse-stack: 2/2 fusions"], lines


def test_a_volume_in_a_log_says_where_it_is(volumes, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(fuse_video, "LOG_EVERY_S", 0.0)
    assert main(["fuse-volume", *volumes, "-o", str(tmp_path / "f.nii.gz"), "--method", "average",
                 "--batch", "2"]) == 0
    lines = _progress_lines(capsys.readouterr().err, "fuse-volume")
    assert [re.sub(r" \(\d+ s\)$", "", ln) for ln in lines] == ["fuse-volume: 2/4 slices fused",
                                                                 "fuse-volume: 4/4 slices fused"], lines


def test_short_runs_and_quiet_runs_say_no_more(stack, volumes, tmp_path, capsys, monkeypatch):
    assert main(["fuse-stack", *stack, "-o", str(tmp_path / "a.png"), "--method", "average"]) == 0
    assert main(["fuse-volume", *volumes, "-o", str(tmp_path / "a.nii.gz"), "--method", "average"]) == 0
    err = capsys.readouterr().err
    assert not _progress_lines(err, "fuse-stack") and not _progress_lines(err, "fuse-volume"), err
    monkeypatch.setattr(fuse_video, "LOG_EVERY_S", 0.0)
    assert main(["fuse-stack", *stack, "-o", str(tmp_path / "b.png"), "--method", "average", "-q"]) == 0
    assert main(["fuse-volume", *volumes, "-o", str(tmp_path / "b.nii.gz"), "--method", "average", "-q"]) == 0
    assert capsys.readouterr() == ("", "")
