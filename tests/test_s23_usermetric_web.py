"""s23: the web page (``mutualfuse serve --import MODULE``) and a researcher's own things.

* The metrics table had the fixed fast metrics only: a metric of one's own (``register_metric`` in
  a module ``serve --import`` imported) is now a row after them, labelled as yours and unchecked,
  scored as ``evaluate`` scores it; one that raises leaves its cells empty with a note, the other
  rows are kept.
* The "same as" command lines were quoted with ``shlex.join`` (POSIX single quotes, which cmd does
  not take) also on Windows: there (``os.name == "nt"``, patched here) they are quoted for cmd and
  PowerShell, in double quotes with the Microsoft C runtime's escapes (:func:`subprocess.list2cmdline`'s rules).
"""
from __future__ import annotations

import os
import shlex
import subprocess
import uuid
from importlib.resources import files

import numpy as np
import pytest

from mutualfuse.web import core


@pytest.fixture()
def registries():
    from mutualfuse.methods import METHODS
    from mutualfuse.metrics import METRICS

    saved = [(r, dict(r._entries)) for r in (METRICS, METHODS)]
    yield
    for r, entries in saved:
        r._entries.clear()
        r._entries.update(entries)


def test_the_metrics_table_has_a_metric_of_ones_own(tmp_path, registries):
    from mutualfuse.evaluation import read_gray
    from mutualfuse.metrics import register_metric

    tag = uuid.uuid4().hex[:6]
    good, bad = f"s23web{tag}@own", f"s23webbad{tag}"

    @register_metric(good, direction="lower")
    def spread(a, b, f):
        return float(np.abs(f - np.maximum(a, b)).mean())

    @register_metric(bad)
    def broken(a, b, f):
        raise ZeroDivisionError("my bug")

    sample = files("mutualfuse") / "data/samples/tno-01"
    a, b = str(sample / "a.png"), str(sample / "b.png")
    r = core.fuse_request(a, b, core.Settings(method="average", device="cpu"), tmp_path / "work", core.FuserCache())
    labels = [row[0] for row in r.metrics]
    n = len(core.FAST_METRICS)
    assert labels[:n] == [f"{k} ({v})" for k, v in core.FAST_METRICS.items()]  # the fixed rows first, as before
    assert labels[n:] == [f"{good} (yours, unchecked)", f"{bad} (yours, unchecked)"]
    A, B, F, AVG = (read_gray(p).astype(np.float64) for p in (a, b, r.png, r.png.parent / "average.png"))
    mine = r.metrics[n]
    assert mine[1] == round(spread(A, B, F), 4) and mine[2] == round(spread(A, B, AVG), 4)
    assert mine[3] == "equal"  # the average method's result is the pixel average
    assert r.metrics[n + 1][1:] == [None, None, "—"]
    assert all(row[1] is not None for row in r.metrics[:n])
    note = [x for x in r.notes if bad in x]
    assert len(note) == 1 and "ZeroDivisionError: my bug" in note[0] and "\n" not in note[0], r.notes


def _windows_argv(line: str) -> list[str]:
    """How the Microsoft C runtime splits a command line into argv (the rules of
    CommandLineToArgvW for arguments after the program name)."""
    out, cur, i, quoted, have = [], [], 0, False, False
    while i < len(line):
        ch = line[i]
        if ch == "\\":
            j = i
            while j < len(line) and line[j] == "\\":
                j += 1
            n = j - i
            if j < len(line) and line[j] == '"':
                cur.append("\\" * (n // 2))
                if n % 2:
                    cur.append('"')
                    i = j + 1
                else:
                    i = j
                have = True
                continue
            cur.append("\\" * n)
            i, have = j, True
            continue
        if ch == '"':
            quoted, have = not quoted, True
        elif ch in " \t" and not quoted:
            if have:
                out.append("".join(cur))
            cur, have = [], False
        else:
            cur.append(ch)
            have = True
        i += 1
    if have:
        out.append("".join(cur))
    return out


NAMES = ["z 2.png", "-z1.png", "it's & more.png", 'say "hi"\\.png', "plain.png", "C:\\dir with space\\"]


def test_same_as_commands_are_quoted_for_windows_shells_on_windows(monkeypatch):
    s = core.Settings(method="dwt", params="levels=3", device="cpu")
    posix_stack, posix_pair = s.stack_command(NAMES), s.command()
    assert shlex.split(posix_stack)[2:2 + len(NAMES)] == ["z 2.png", "./-z1.png", *NAMES[2:]]  # unchanged here
    monkeypatch.setattr(os, "name", "nt")
    stack, pair = s.stack_command(NAMES), s.command()
    monkeypatch.undo()
    assert "'" not in pair and pair == subprocess.list2cmdline(shlex.split(posix_pair))
    assert _windows_argv(stack) == shlex.split(posix_stack)
    assert '"z 2.png" ./-z1.png "it\'s & more.png" "say \\"hi\\"\\.png" plain.png "C:\\dir with space\\\\"' in stack

