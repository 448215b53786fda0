"""``mutualfuse demo`` as a new user meets it (the README's first command, through ``make demo``):
what it prints is accurate and said once, ``--pair`` takes a name as the other name options do,
its files are the files ``fuse`` writes, and an interrupted run leaves only complete files."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from one_line_error import assert_one_line_error  # tests/ is on sys.path

from mutualfuse.cli import main


def _demo(tmp_path, capsys, *extra: str):
    out = tmp_path / "demo"
    rc = main(["demo", "-o", str(out), "--device", "cpu", *extra])
    stdout, stderr = capsys.readouterr()
    assert rc == 0, (stdout, stderr)
    return out, stdout, stderr


def test_pair_names_are_case_insensitive_and_a_misspelt_one_gets_a_did_you_mean(tmp_path, capsys):
    """``--pair TNO-01`` was "no such sample" (every other name option of the command line is
    case-insensitive), and ``--pair tno01`` got no suggestion."""
    out, stdout, _ = _demo(tmp_path, capsys, "--pair", "TNO-01")
    assert sorted(p.name for p in out.iterdir()) == ["tno-01-fused.png"]
    assert "tno-01, task ir-vis)" in stdout, stdout
    assert_one_line_error(capsys, ["demo", "-o", str(tmp_path / "x"), "--pair", "tno01"],
                          "--pair", "tno01", "no such sample", "did you mean tno-01")
    assert_one_line_error(capsys, ["demo", "-o", str(tmp_path / "x"), "--pair", ""], "--pair ''", "no such sample")
    assert not (tmp_path / "x").exists()


def test_a_note_given_for_every_pair_is_printed_once_and_the_run_is_summed_up(tmp_path, capsys):
    """The same approximation note came once a pair (three identical lines on every `make demo`),
    the first pair's seconds (which include a one-time start-up: 1.6 to 2 times a later call's
    CPU time) were shown like the others', and nothing said how many pairs were fused or where their
    sources are (the README's next step, a first `fuse`, needs them)."""
    from mutualfuse.cli.demo import SAMPLES

    out, stdout, stderr = _demo(tmp_path, capsys, "--pair", "tno-01", "--pair", "ct-mr-c01")
    assert stderr.count("approximate mutual mapping") == 1, stderr
    assert "(every pair; as `mutualfuse fuse` says it)" in stderr, stderr
    lines = stdout.splitlines()
    assert len(lines) == 3, lines
    pair_line = re.compile(r"^(\S+)  \((\d+\.\d\d) s( incl\. one-time start-up)?, ([\w-]+), task ([\w-]+)\)$")
    got = [pair_line.match(line) for line in lines[:2]]
    assert all(got), lines
    assert [m.group(4) for m in got] == ["ct-mr-c01", "tno-01"]  # the samples' order
    assert [bool(m.group(3)) for m in got] == [True, False]
    for m in got:
        assert Path(m.group(1)) == (out / f"{m.group(4)}-fused.png").resolve() and Path(m.group(1)).is_file()
    summary = re.match(r"^2 pairs fused in (\d+\.\d\d) s \(\+ (\d+\.\d\d) s starting torch and loading the "
                       r"weights\) into (.+); their sources: (.+)/NAME/\{a,b\}\.png$", lines[2])
    assert summary, lines[2]
    assert float(summary.group(1)) == pytest.approx(sum(float(m.group(2)) for m in got), abs=0.02)
    assert Path(summary.group(3)) == out.resolve()
    assert Path(summary.group(4)) == SAMPLES and (SAMPLES / "tno-01" / "a.png").is_file()


def test_quiet_prints_nothing(tmp_path, capsys):
    out, stdout, stderr = _demo(tmp_path, capsys, "--pair", "tno-01", "-q")
    assert (stdout, stderr) == ("", "")
    assert (out / "tno-01-fused.png").is_file()


def test_the_demo_writes_the_file_fuse_writes(tmp_path, capsys):
    """The help and the README say so: the README's first `fuse` reproduces a demo file."""
    from mutualfuse.cli.demo import SAMPLES

    out, _, _ = _demo(tmp_path, capsys, "--pair", "lytro-01")
    mine = tmp_path / "lytro-01.png"
    assert main(["fuse", str(SAMPLES / "lytro-01" / "a.png"), str(SAMPLES / "lytro-01" / "b.png"),
                 "-o", str(mine), "--device", "cpu", "-q"]) == 0
    assert mine.read_bytes() == (out / "lytro-01-fused.png").read_bytes()


def test_ctrl_c_on_the_second_pair_leaves_the_first_file_and_nothing_else(tmp_path, capsys, monkeypatch):
    import mutualfuse.cli.fuse as F

    real, calls = F.fuse_files, []

    def second_interrupted(*a, **k):
        calls.append(a[1])
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(F, "fuse_files", second_interrupted)
    out = tmp_path / "demo"
    rc = main(["demo", "-o", str(out), "--device", "cpu", "--pair", "tno-01", "--pair", "ct-mr-c01"])
    stdout, stderr = capsys.readouterr()
    assert rc == 130 and stderr.strip().endswith("mutualfuse: interrupted"), stderr
    assert sorted(p.name for p in out.iterdir()) == ["ct-mr-c01-fused.png"]
    assert "pairs fused" not in stdout and "ct-mr-c01, task medical)" in stdout, stdout
