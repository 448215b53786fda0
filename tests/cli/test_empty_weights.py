"""``--weights ""`` (an unset shell variable) is an error, not "use the default weights"."""
from __future__ import annotations

import pytest
from one_line_error import assert_one_line_error  # tests/ is on sys.path


@pytest.mark.parametrize("cmd", ["fuse", "fuse-dir", "fuse-video", "export-onnx"])
@pytest.mark.parametrize("value", ["", "  "])
def test_empty_weights_is_a_one_line_usage_error(cmd, value, tmp_path, capsys):
    args = {"fuse": ["fuse", "a.png", "b.png", "-o", str(tmp_path / "f.png")],
            "fuse-dir": ["fuse-dir", str(tmp_path), str(tmp_path), "-o", str(tmp_path / "out")],
            "fuse-video": ["fuse-video", "a.mp4", "b.mp4", "-o", str(tmp_path / "f.mp4")],
            "export-onnx": ["export-onnx", str(tmp_path / "m.onnx")]}[cmd]
    assert_one_line_error(capsys, args + ["--weights", value], "--weights: must not be empty")
    assert list(tmp_path.iterdir()) == []
