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
