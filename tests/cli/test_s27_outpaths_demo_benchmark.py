"""``benchmark`` took ``--out`` only, where every other command takes ``-o/--out`` (cli/common.py);
``demo`` with a folder at one of its output names was told to "give a file name in it", which
demo chooses itself (s27 output-path audit)."""
from __future__ import annotations

from one_line_error import assert_one_line_error


def test_benchmark_takes_dash_o(tmp_path, capsys):
    out = tmp_path / "report.html"
    out.write_text("x")
    assert_one_line_error(capsys, ["benchmark", "--data-root", str(tmp_path), "-o", str(out), "-q"],
                          f"{out}: output path exists and is not a folder (--out)")


def test_demo_output_name_taken_by_a_folder_gives_no_file_name_advice(tmp_path, capsys):
    (tmp_path / "tno-01-fused.png").mkdir()
    err = assert_one_line_error(capsys, ["demo", "-o", str(tmp_path), "--pair", "tno-01", "-q"],
                                f"{tmp_path / 'tno-01-fused.png'}: output path is a directory")
    assert "give a file name" not in err
