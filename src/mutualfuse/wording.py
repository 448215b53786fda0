"""Small helpers for the words of messages and summaries."""

from __future__ import annotations


def counted(n: int, noun: str) -> str:
    """``n`` and ``noun``, plural unless ``n`` is 1: ``counted(1, "image")`` is ``"1 image"``,
    ``counted(0, "name")`` is ``"0 names"`` (regular plurals only)."""
    return f"{n} {noun}" + ("" if n == 1 else "s")


def file_in_the_way(path) -> "Path | None":
    """The nearest existing folder above ``path`` that is not a folder (a file, a FIFO, a link to
    one), or None: ``-o afile/sub/x.png`` and ``--out-dir afile/sub`` cannot be created while
    ``afile`` is a file. Each command worded that in its own way ("cannot create output folder
    (Not a directory)", "output folder afile/sub does not exist", "out_dir ...: afile is not a
    folder"); :func:`in_the_way` is the one wording. None too where the nearest existing one is a
    folder, or where it cannot be told (a name too long, no permission to look): the command's
    own checks say what is wrong there."""
    import errno
    import os
    import stat
    from pathlib import Path

    p = Path(os.fspath(path))
    for q in p.parents:
        try:
            st = os.stat(q)
        except OSError as e:
            if e.errno in (errno.ENOENT, errno.ENOTDIR):  # missing, or under a non-folder: look further up
                continue
            return None
        return None if stat.S_ISDIR(st.st_mode) else q
    return None


def in_the_way(path, option: str = "") -> str | None:
    """The one-line error text for an output ``path`` that cannot be created because a folder
    above it is not one (:func:`file_in_the_way`), or None: ``"afile/sub/x.png: afile exists and
    is not a folder"``, with `` (OPTION)`` after it where ``option`` names where the path came
    from (as "output path exists and is not a folder (--out)" does). Names on one line (a line
    break shown escaped)."""
    q = file_in_the_way(path)
    if q is None:
        return None
    from .image_io import _one_line_path

    return (f"{_one_line_path(path)}: {_one_line_path(q)} exists and is not a folder"
            + (f" ({option})" if option else ""))
