"""Output paths a user types wrong, said the same way by every command that writes one file (s27
output-path audit).

* ``fuse-video a.mp4 b.mp4 -o DIR`` (an existing folder) said "unsupported output format '(no
  extension)'"; so did fuse, fuse-stack and export-onnx, and export-weights said "weights are
  written as .safetensors; use that suffix". Each now says the path is a folder and which file
  name to give in it.
* ``-o -`` (standard output, as many tools take it) said "unsupported output format '(no
  extension)'"; no command writes to standard output, and each now says so.
* ``export-weights W -o w.safetensors/`` wrote ``w.safetensors``, exit 0 (Path() dropped the
  slash that every other command refuses).
* a file name with a line break and a wrong suffix gave a two-line error.
* ``fuse-stack ... -o ""`` (an unset shell variable) was taken as the working folder.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from one_line_error import assert_one_line_error

WEIGHTS = Path(__file__).resolve().parents[2] / "src" / "mutualfuse" / "weights" / "fmm-roadscene-cpu.safetensors"


def _argv(command: str, tmp: Path, out: str) -> list[str]:
    """The command writing ``out``; its inputs need not exist (the output is checked first)."""
    return {
        "fuse": ["fuse", str(tmp / "a.png"), str(tmp / "b.png"), "-o", out, "--method", "average"],
        "fuse-stack": ["fuse-stack", str(tmp / "a.png"), str(tmp / "b.png"), "-o", out, "--method", "average"],
        "fuse-video": ["fuse-video", str(tmp / "a.mp4"), str(tmp / "b.mp4"), "-o", out, "--method", "average"],
        "export-onnx": ["export-onnx", "-o", out, "--no-check", "-q"],
        "export-weights": ["export-weights", str(WEIGHTS), "--record-paths", "name", "-o", out, "-q"],
    }[command]


COMMANDS = [("fuse", "fused.png"), ("fuse-stack", "fused.png"), ("fuse-video", "fused.mp4"),
            ("export-onnx", "model.onnx"), ("export-weights", "weights.safetensors")]


def _needs(command: str) -> None:
    if command == "fuse-video":
        pytest.importorskip("imageio.v2")
        pytest.importorskip("imageio_ffmpeg")


@pytest.mark.parametrize("command,name", COMMANDS)
def test_an_existing_folder_as_the_output_is_said_to_be_one(tmp_path, capsys, command, name):
    _needs(command)
    folder = tmp_path / "out"
    folder.mkdir()
    assert_one_line_error(capsys, _argv(command, tmp_path, str(folder)),
                          f"{folder}: output path is a directory; give a file name in it, e.g. -o {folder / name}")
    assert list(folder.iterdir()) == [] and sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.parametrize("command,name", COMMANDS)
def test_a_dash_is_said_to_be_standard_output(tmp_path, capsys, monkeypatch, command, name):
    _needs(command)
    monkeypatch.chdir(tmp_path)
    assert_one_line_error(capsys, _argv(command, tmp_path, "-"),
                          f"-: output to standard output ('-') is not supported; give a file name, e.g. -o {name}")
    assert list(tmp_path.iterdir()) == []


def test_export_weights_refuses_a_trailing_slash(tmp_path, capsys):
    out = f"{tmp_path}/w.safetensors/"
    assert_one_line_error(capsys, _argv("export-weights", tmp_path, out),
                          f"{out}: output path ends in '/', which names a folder; give the file name without it")
    assert list(tmp_path.iterdir()) == []


def test_export_weights_wrong_suffix_is_said_as_every_command_says_it(tmp_path, capsys):
    out = tmp_path / "w.pt"
    assert_one_line_error(capsys, _argv("export-weights", tmp_path, str(out)),
                          f"{out}: unsupported output format '.pt'; use .safetensors")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", ["fuse", "fuse-stack", "export-onnx"])
def test_a_line_break_in_the_name_keeps_the_error_on_one_line(tmp_path, capsys, command):
    out = tmp_path / "new\nline.xyz"
    err = assert_one_line_error(capsys, _argv(command, tmp_path, str(out)),
                                f"{tmp_path}/new\\nline.xyz: unsupported output format '.xyz'")
    assert "new\\nline" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", ["fuse-stack", "export-weights"])
def test_an_empty_output_is_refused_by_argparse(tmp_path, capsys, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    assert_one_line_error(capsys, _argv(command, tmp_path, ""), "-o/--out: must not be empty")
    assert list(tmp_path.iterdir()) == []


def test_fuse_volume_says_a_dash_is_standard_output(tmp_path, capsys, monkeypatch):
    """fuse-volume said "-: the output of a volume must be a NIfTI file ..." (its inputs need not exist)."""
    pytest.importorskip("nibabel")
    monkeypatch.chdir(tmp_path)
    assert_one_line_error(capsys, ["fuse-volume", "a.nii.gz", "b.nii.gz", "-o", "-", "--method", "average"],
                          "-: output to standard output ('-') is not supported; give a file name, e.g. -o fused.nii.gz")
    assert list(tmp_path.iterdir()) == []
