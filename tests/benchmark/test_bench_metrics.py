"""``benchmarks/bench_metrics.py``: a row for every metric it times, and a header line naming
the keys of the profile's sources that ``--profile`` leaves out (``liu``: Qw@liu and
Qte_cvejic@liu are registered but not in that profile, so ``--profile liu`` alone has no Qw row)."""
from __future__ import annotations

import json
from pathlib import Path

from script_module import load

from mutualfuse.metrics import resolve

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_metrics.py"


def _bench():
    return load("benchmarks/bench_metrics.py")


def _rows(out: str) -> dict[str, str]:
    return {ln.split()[0]: ln for ln in out.splitlines() if ln and not ln.startswith(("#", "-", "metric"))}


def test_profile_rows_and_left_out_keys(capsys, tmp_path):
    bench = _bench()
    keys = list(resolve(None, "liu").values())
    js = tmp_path / "t.json"
    assert bench.main(["--profile", "liu", "--sizes", "88x84", "--repeat", "1", "--octave", "",
                       "--json", str(js)]) == 0
    out = capsys.readouterr().out
    assert set(_rows(out)) == set(keys)
    assert set(json.loads(js.read_text())) == set(keys)
    note = [ln for ln in out.splitlines() if ln.startswith("# not in profile 'liu'")]
    assert len(note) == 1 and "Qw@liu" in note[0] and "Qte_cvejic@liu" in note[0], out

    assert bench.main(["--profile", "liu", "--metrics", "Qw@liu", "--sizes", "88x84", "--repeat", "1",
                       "--octave", ""]) == 0
    out = capsys.readouterr().out
    assert set(_rows(out)) == set(keys) | {"Qw@liu"}
    note = [ln for ln in out.splitlines() if ln.startswith("# not in profile")]
    assert len(note) == 1 and "Qw@liu" not in note[0] and "Qte_cvejic@liu" in note[0], out


def test_metrics_without_profile_print_no_note(capsys):
    assert _bench().main(["--metrics", "Qcv@liu", "Qcb@vifb", "--sizes", "88x84", "--repeat", "1",
                          "--octave", ""]) == 0
    out = capsys.readouterr().out
    assert set(_rows(out)) == {"Qcv@liu", "Qcb@vifb"}
    assert "not in profile" not in out


def test_octave_times_file_empty_or_comments_only(tmp_path):
    """An Octave timing file with no rows (empty, or comments only) gives no times, not an error;
    the shipped file gives a time for every key it lists with seconds."""
    bench = _bench()
    empty = tmp_path / "empty.tsv"
    empty.write_text("")
    comments = tmp_path / "comments.tsv"
    comments.write_text("# only a comment\n")
    assert bench._read_octave(str(empty)) == {} and bench._read_octave(str(comments)) == {}
    shipped = bench._read_octave(str(BENCH.parent / "octave_liu_times.tsv"))
    assert ("Qm@liu", "640x480") in shipped and shipped[("Qm@liu", "640x480")] > 0


def test_bad_names_and_sizes_are_usage_errors(capsys):
    """An unknown metric or profile, or a size that is not WxH, is a one-line usage error (exit
    2) before anything is timed, not a traceback after the first rows."""
    import pytest

    for argv, said in ((["--metrics", "Nope@liu"], "unknown metric 'Nope@liu'"),
                       (["--profile", "nope"], "unknown metric profile 'nope'"),
                       (["--sizes", "96"], "--sizes '96'"),
                       (["--triple", "no-a.png", "no-b.png", "no-f.png"], "no such file")):
        with pytest.raises(SystemExit) as e:
            _bench().main(argv + ["--repeat", "1", "--octave", ""])
        out, err = capsys.readouterr()
        assert e.value.code == 2 and out == "" and said in err.splitlines()[-1], err


def test_too_small_size_is_a_cell_not_a_crash(capsys, tmp_path):
    # VIFF needs 81 pixels a side: at 64x48 it raised ImageTooSmallError out of the table
    js = tmp_path / "t.json"
    assert _bench().main(["--metrics", "VIFF@han", "Qm@liu", "--sizes", "64x48,88x84", "--repeat", "1",
                          "--octave", "", "--json", str(js)]) == 0
    rows = _rows(capsys.readouterr().out)
    assert rows["VIFF@han"].split()[1:3] == ["too", "small"] and len(rows["Qm@liu"].split()) == 3
    res = json.loads(js.read_text())
    assert res["VIFF@han"]["64x48"] is None and res["VIFF@han"]["88x84"] > 0
