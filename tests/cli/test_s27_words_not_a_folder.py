"""An output folder that exists as a file was worded three ways (s27 wording audit): fuse-dir
"X: output path exists and is not a folder", benchmark "X: --out exists and is not a folder",
train "out_dir X: exists and is not a folder" (the option before the path). Now one wording,
the path first, the option named where the folder did not come from -o alone; a line break in
the name is shown escaped, so the error stays one line."""
from __future__ import annotations

from one_line_error import assert_one_line_error
from train_cli_helpers import cfg as _cfg
from train_cli_helpers import data as _data
from train_cli_helpers import refused as _refused

SAID = "output path exists and is not a folder"


def test_fuse_dir(tmp_path, samples, capsys):
    out = tmp_path / "new\nline"
    out.write_text("x")
    err = assert_one_line_error(capsys, ["fuse-dir", str(samples / "tno-01"), str(samples / "lytro-01"), "-o",
                                         str(out), "--method", "average", "-q"])
    assert err == f"mutualfuse: error: {tmp_path}/new\\nline: {SAID}\n", err
    assert out.read_text() == "x"


def test_benchmark(tmp_path, capsys):
    out = tmp_path / "report.html"
    out.write_text("x")
    err = assert_one_line_error(capsys, ["benchmark", "--data-root", str(tmp_path), "-o", str(out), "-q"])
    assert err == f"mutualfuse: error: {out}: {SAID} (--out)\n", err
    assert out.read_text() == "x"


def test_benchmark_default_out_taken_by_a_file(tmp_path, capsys, monkeypatch):
    """-o left out: the file is the default ``benchmark`` of the working folder; the line says --out."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "benchmark").write_text("x")
    err = assert_one_line_error(capsys, ["benchmark", "--data-root", str(tmp_path), "-q"])
    assert err == f"mutualfuse: error: benchmark: {SAID} (--out)\n", err


def test_train_out_dir_of_the_config(tmp_path, capsys):
    root = _data(tmp_path / "d")
    out = tmp_path / "run"
    out.write_text("x")
    line = _refused(capsys, ["--config", str(_cfg(tmp_path / "c.json", out)), "--data-root", str(root)], [])
    assert line == f"mutualfuse: error: {out}: {SAID} (the config's out_dir)", line
    assert out.read_text() == "x"


def test_train_dash_o(tmp_path, capsys):
    root = _data(tmp_path / "d")
    out = tmp_path / "run"
    out.write_text("x")
    line = _refused(capsys, ["--config", str(_cfg(tmp_path / "c.json", tmp_path / "elsewhere")), "--data-root",
                             str(root), "-o", str(out)], [])
    assert line == f"mutualfuse: error: {out}: {SAID} (--out)", line
    assert out.read_text() == "x" and not (tmp_path / "elsewhere").exists()
