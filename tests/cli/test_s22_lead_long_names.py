"""s22: a file name longer than the file system allows was an "internal error: OSError [Errno 36]"
wherever a command opened it without its own check (fuse-stack inputs, demo -o, fuse-dir -o):
now one line naming the path, exit status 2, from the command line's last handler."""
from __future__ import annotations

import pytest

from one_line_error import assert_one_line_error
from tests.test_s22_fuzz_paths import _png

TOO_LONG = "file name too long for the file system"


@pytest.mark.parametrize("command", ["fuse-stack", "demo", "fuse-dir"])
def test_a_name_over_the_limit_is_one_line(tmp_path, capsys, command):
    a, b = _png(tmp_path / "a.png", 0), _png(tmp_path / "b.png", 1)
    long = str(tmp_path / ("x" * 300))
    if command == "fuse-stack":
        argv = ["fuse-stack", str(a), str(b), long + ".png", "-o", str(tmp_path / "o.png"), "--method", "average"]
    elif command == "demo":
        argv = ["demo", "-o", long, "--pair", "tno-01"]
    else:
        (tmp_path / "A").mkdir(), (tmp_path / "B").mkdir()
        _png(tmp_path / "A" / "1.png", 0), _png(tmp_path / "B" / "1.png", 1)
        argv = ["fuse-dir", str(tmp_path / "A"), str(tmp_path / "B"), "-o", long, "--method", "average"]
    err = assert_one_line_error(capsys, argv, TOO_LONG)
    assert "internal error" not in err
