"""An output path under an existing FILE (``-o afile/x.png``, ``-o afile/sub/x.png``, ``--out-dir
afile/sub``) was worded differently by each command (s28 notes): fuse-dir "cannot create output
folder (Not a directory)", fuse and the other one-file writers "output folder afile is not a
directory" or, one level further down, "output folder afile/sub does not exist" (it is the file
above that is wrong), train "out_dir afile/run: afile is not a folder" (the option first),
benchmark "cannot create the output folder (Not a directory)" and, for its cache, "X: --cache
exists and is not a folder" and "cannot use as the cache folder (Not a directory)". Every command
now says "PATH: FILE exists and is not a folder" (with the option where the path may not have
come from -o), exit 2, nothing written."""
from __future__ import annotations

from pathlib import Path

import pytest

from one_line_error import assert_one_line_error
from train_cli_helpers import cfg as _cfg
from train_cli_helpers import data as _data

WEIGHTS = Path(__file__).resolve().parents[2] / "src" / "mutualfuse" / "weights" / "fmm-roadscene-cpu.safetensors"

COMMANDS = ["fuse", "fuse-dir", "fuse-video", "fuse-stack", "fuse-volume", "evaluate", "train", "benchmark",
            "export-onnx", "export-weights"]


def _argv(command: str, tmp: Path, samples: Path, out: Path) -> tuple[list[str], str]:
    """The command writing into ``out`` (a file or a folder named in it) → (argv, the path the
    error names, the option said after it)."""
    a, b = str(samples / "tno-01" / "a.png"), str(samples / "tno-01" / "b.png")
    name = {"fuse": "x.png", "fuse-video": "x.mp4", "fuse-stack": "x.png", "fuse-volume": "x.nii.gz",
            "evaluate": "r.csv", "export-onnx": "m.onnx", "export-weights": "w.safetensors", "fuse-dir": "outd",
            "train": "run", "benchmark": "bench"}[command]
    target = str(out / name)
    argv = {
        "fuse": ["fuse", a, b, "-o", target, "--method", "average"],
        "fuse-dir": ["fuse-dir", str(samples / "tno-01"), str(samples / "lytro-01"), "-o", target, "--method",
                     "average"],
        "fuse-video": ["fuse-video", str(tmp / "a.mp4"), str(tmp / "b.mp4"), "-o", target, "--method", "average"],
        "fuse-stack": ["fuse-stack", a, b, "-o", target, "--method", "average"],
        "fuse-volume": ["fuse-volume", str(tmp / "a.nii.gz"), str(tmp / "b.nii.gz"), "-o", target, "--method",
                        "average"],
        "evaluate": ["evaluate", "--a", str(samples / "tno-01"), "--b", str(samples / "tno-01"), "--fused",
                     str(samples / "tno-01"), "-o", target],
        "train": ["train", "--config", str(_cfg(tmp / "c.json", tmp / "run")), "--data-root", str(_data(tmp / "d")),
                  "-o", target, "--no-progress"],
        "benchmark": ["benchmark", "--data-root", str(tmp), "-o", target, "-q"],
        "export-onnx": ["export-onnx", "-o", target, "--no-check", "-q"],
        "export-weights": ["export-weights", str(WEIGHTS), "--record-paths", "name", "-o", target, "-q"],
    }[command]
    return argv, target, " (--out)" if command in ("train", "benchmark") else ""


def _files(tmp: Path) -> list[str]:
    return sorted(str(p.relative_to(tmp)) for p in tmp.rglob("*"))


@pytest.mark.parametrize("below", ["", "sub"])
@pytest.mark.parametrize("command", COMMANDS)
def test_an_output_under_a_file_is_said_one_way(tmp_path, samples, capsys, command, below):
    afile = tmp_path / "afile"
    afile.write_text("x")
    argv, target, option = _argv(command, tmp_path, samples, afile / below if below else afile)
    before = _files(tmp_path)
    err = assert_one_line_error(capsys, argv)
    assert err == f"mutualfuse: error: {target}: {afile} exists and is not a folder{option}\n", err
    assert _files(tmp_path) == before and afile.read_text() == "x"


def test_train_out_dir_of_the_config_under_a_file(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("x")
    argv = ["train", "--config", str(_cfg(tmp_path / "c.json", afile / "run")), "--data-root",
            str(_data(tmp_path / "d")), "--no-progress"]
    err = assert_one_line_error(capsys, argv)
    assert err == f"mutualfuse: error: {afile / 'run'}: {afile} exists and is not a folder (the config's out_dir)\n", err


def test_train_api_says_the_path_first(tmp_path):
    """The checks of ``train()`` itself (the command's are above): the path first, the key after."""
    from mutualfuse.errors import ParameterError
    from mutualfuse.train.loop import check_out_dir

    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(ParameterError) as e:
        check_out_dir(afile / "sub" / "run")
    assert str(e.value) == f"{afile / 'sub' / 'run'}: {afile} exists and is not a folder (out_dir)"


def test_a_name_with_a_line_break_stays_one_line(tmp_path, samples, capsys):
    afile = tmp_path / "a\nfile"
    afile.write_text("x")
    err = assert_one_line_error(capsys, _argv("fuse", tmp_path, samples, afile)[0])
    assert err == f"mutualfuse: error: {tmp_path}/a\\nfile/x.png: {tmp_path}/a\\nfile exists and is not a folder\n", err


def test_a_missing_folder_is_still_said_to_be_missing(tmp_path, samples, capsys):
    """Nothing in the way: the writers' own check says what is wrong."""
    argv, target, _ = _argv("fuse", tmp_path, samples, tmp_path / "missing" / "sub")
    assert_one_line_error(capsys, argv, f"{target}: output folder {tmp_path / 'missing' / 'sub'} does not exist")
    assert not (tmp_path / "missing").exists()


@pytest.mark.parametrize("given", [True, False])
@pytest.mark.parametrize("below", ["", "sub"])
def test_benchmark_cache_names_the_path_and_the_problem(tmp_path, capsys, monkeypatch, given, below):
    """``--cache afile`` said "afile: --cache exists and is not a folder" (the option as the
    subject), ``--cache afile/sub`` "cannot use as the cache folder (Not a directory)"; the
    default cache (XDG_CACHE_HOME) in the way is said with where it came from."""
    afile = tmp_path / "afile"
    afile.write_text("x")
    if given:
        cache, extra, said = afile / below if below else afile, [], "--cache"
        extra = ["--cache", str(cache)]
    else:
        monkeypatch.setenv("XDG_CACHE_HOME", str(afile / below) if below else str(afile))
        cache, extra, said = Path(str(afile / below) if below else str(afile)) / "mutualfuse" / "benchmark", [], \
            "the default cache folder; give --cache DIR"
    before = _files(tmp_path)
    err = assert_one_line_error(capsys, ["benchmark", "--data-root", str(tmp_path), "-o", str(tmp_path / "out"),
                                         "-q", *extra])
    if given and not below:
        assert err == f"mutualfuse: error: {afile}: cache path exists and is not a folder ({said})\n", err
    else:
        assert err == f"mutualfuse: error: {cache}: {afile} exists and is not a folder ({said})\n", err
    assert _files(tmp_path) == before


def test_benchmark_cache_with_a_line_break_stays_one_line(tmp_path, capsys):
    """It was shown with a space for the line break ("new line"), another name."""
    bad = tmp_path / "new\nline"
    bad.write_text("x")
    err = assert_one_line_error(capsys, ["benchmark", "--data-root", str(tmp_path), "-o", str(tmp_path / "out"),
                                         "-q", "--cache", str(bad)])
    assert err == f"mutualfuse: error: {tmp_path}/new\\nline: cache path exists and is not a folder (--cache)\n", err


def test_fuse_dir_list_row_under_a_file_in_the_output_folder(tmp_path, samples, capsys):
    """A ``--pairs`` row whose output names a subfolder of -o that is a file: the pair's failure
    line said "OUT/afile: cannot create output folder (Not a directory)"; the other pairs are fused."""
    from mutualfuse.cli import main

    out = tmp_path / "out"
    out.mkdir()
    (out / "afile").write_text("x")
    a, b = samples / "tno-01" / "a.png", samples / "tno-01" / "b.png"
    (tmp_path / "p.csv").write_text(f"a,b,out\n{a},{b},afile/x.png\n{a},{b},ok.png\n")
    rc = main(["fuse-dir", "--pairs", str(tmp_path / "p.csv"), "-o", str(out), "--method", "average", "-q"])
    err = capsys.readouterr().err.splitlines()
    assert rc == 2 and err[-1] == f"  {a}: {out / 'afile' / 'x.png'}: {out / 'afile'} exists and is not a folder", err
    assert sorted(p.name for p in out.iterdir()) == ["afile", "ok.png"] and (out / "afile").read_text() == "x"
