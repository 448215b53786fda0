"""s22: the library's reason in "not a readable image (...)" repeated the whole path and was cut
at 160 characters, so under a long folder the reason ended in the middle of the path and said
nothing; the path in it is now the file's name (the line starts with the path already)."""
from __future__ import annotations

from one_line_error import assert_one_line_error
from tests.test_s22_fuzz_paths import _png


def test_the_reason_is_not_cut_in_a_long_path(tmp_path, capsys):
    deep = tmp_path / ("d" * 60) / ("e" * 60) / ("f" * 60)
    deep.mkdir(parents=True)
    bad = deep / "notes.png"
    bad.write_text("these are notes, not an image\n")
    b = _png(tmp_path / "b.png", 1)
    err = assert_one_line_error(capsys, ["fuse", str(bad), str(b), "-o", str(tmp_path / "o.png"),
                                         "--method", "average"], f"{bad}: not a readable image")
    reason = err.split(": not a readable image", 1)[1]
    assert "notes.png'" in reason and str(deep) not in reason, err
