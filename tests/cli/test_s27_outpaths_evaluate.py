"""``evaluate -o DIR`` (an existing folder) and ``-o -`` said "use a .csv, .json, .md, .tex file
name", as if the suffix were wrong: said now as every writing command says them (s27 output-path audit)."""
from __future__ import annotations

import numpy as np
from PIL import Image

from one_line_error import assert_one_line_error


def _argv(tmp, out: str) -> list[str]:
    for d in "ABF":
        (tmp / d).mkdir()
        Image.fromarray(np.full((16, 16), 100, np.uint8)).save(tmp / d / "01.png")
    return ["evaluate", "--a", str(tmp / "A"), "--b", str(tmp / "B"), "--fused", str(tmp / "F"),
            "--metrics", "EN@vifb", "-o", out, "-q"]


def test_evaluate_into_an_existing_folder_is_said_to_be_one(tmp_path, capsys):
    out = tmp_path / "res"
    out.mkdir()
    assert_one_line_error(capsys, _argv(tmp_path, str(out)),
                          f"{out}: output path is a directory; give a file name in it, e.g. -o {out / 'results.csv'}")
    assert list(out.iterdir()) == []


def test_evaluate_to_a_dash_is_said_to_be_standard_output(tmp_path, capsys, monkeypatch):
    argv = _argv(tmp_path, "-")
    monkeypatch.chdir(tmp_path)
    assert_one_line_error(capsys, argv, "-: output to standard output ('-') is not supported; give a file name, "
                                        "e.g. -o results.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["A", "B", "F"]
