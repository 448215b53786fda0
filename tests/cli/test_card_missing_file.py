"""``methods --card missing.safetensors`` (a path, by its name) said that no method or weights
is named so and listed all 41 names; it now says the file does not exist. Names without a path
look keep the close-match suggestion."""
from __future__ import annotations

import pytest

from one_line_error import assert_one_line_error


@pytest.mark.parametrize("name", ["missing.safetensors", "runs/x/final.safetensors", "runs/x/weights"])
def test_a_missing_file_is_named_as_such(capsys, tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    err = assert_one_line_error(capsys, ["methods", "--card", name], f"{name}: no such weights file")
    assert "shipped weights:" not in err


def test_a_misspelt_name_still_gets_suggestions(capsys):
    assert_one_line_error(capsys, ["methods", "--card", "defualt"], "did you mean default", "shipped weights:")
