"""scripts/ablation_verdicts.py: the verdict rule on hand-made tables."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts/ablation_verdicts.py"
HEAD = "row_id,method,kind,n_pairs,n_ok,EI ↑,CE ↓,note\n"


def _write(d: Path, n: int, rows: list[tuple[str, float, float]]) -> None:
    (d / "tables").mkdir(exist_ok=True)
    body = "".join(f"x,{label},ablation,21,21,{ei},{ce},\n" for label, ei, ce in rows)
    (d / "tables" / f"table{n}.csv").write_text(HEAD + body)


def test_verdicts_follow_the_rule(tmp_path):
    # Table 6 with three seeds each: Mapping clearly better than Add on both metrics
    # (t-test), the same as Concat within noise.
    _write(tmp_path, 6, [("Mapping (mean ± sd of 3)", 0, 0)]
           + [(f"Mapping [s{i}]", 50 + i * 0.1, 1.0 + i * 0.01) for i in range(3)]
           + [(f"Concat [s{i}]", 50 + (2 - i) * 0.1, 1.0 + (2 - i) * 0.01) for i in range(3)]
           + [(f"Add [s{i}]", 40 + i * 0.1, 2.0 + i * 0.01) for i in range(3)])
    # Table 4, one run each: the pooled seed sd (0.1 for EI, 0.01 for CE) sets the noise:
    # EI differs by 5 (beyond 2·√2·0.1), CE by 0.001 (within).
    _write(tmp_path, 4, [("VIF-Net", 45.0, 1.0), ("Ours-Net", 50.0, 1.001)])
    out = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path)], capture_output=True, text=True, check=True).stdout
    assert "**Mapping vs Add: holds** — better beyond noise on EI, CE;" in out
    assert "**Mapping vs Concat: within noise**" in out
    assert "**Ours-Net vs VIF-Net: holds** — better beyond noise on EI; worse beyond noise on none; within noise on CE." in out
    assert "| ours: Mapping (3 seeds) | 50.1000 ± 0.1000 |" in out
    # the reverse claim fails
    _write(tmp_path, 4, [("VIF-Net", 50.0, 1.0), ("Ours-Net", 45.0, 1.2)])
    out = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path)], capture_output=True, text=True, check=True).stdout
    assert "**Ours-Net vs VIF-Net: does not hold**" in out


def test_a_folder_without_tables_is_a_one_line_error(tmp_path):
    # it printed "not computed" for every table and exited 0 (and took --help for DIR)
    for args in ([str(tmp_path / "missing")], [str(tmp_path)]):
        r = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True)
        assert r.returncode == 2 and r.stdout == ""
        assert r.stderr.count("\n") == 1 and "no table4..7.csv" in r.stderr
    r = subprocess.run([sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("usage:")


def test_the_committed_copy_with_the_csvs_at_its_top_reads_like_a_benchmark_folder(tmp_path):
    """docs/results/ablations holds table4..7.csv directly (no tables/ folder): the script said
    'no table4..7.csv' there, although docs/results/README.md says docs/ablations.md reads it."""
    (tmp_path / "bench").mkdir()
    _write(tmp_path / "bench", 4, [("VIF-Net", 45.0, 1.0), ("Ours-Net", 50.0, 1.001)])
    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "table4.csv").write_text((tmp_path / "bench" / "tables" / "table4.csv").read_text())
    run = [subprocess.run([sys.executable, str(SCRIPT), str(d)], capture_output=True, text=True)
           for d in (tmp_path / "bench", flat)]
    assert [r.returncode for r in run] == [0, 0], run[1].stderr
    assert run[0].stdout == run[1].stdout and "Ours-Net vs VIF-Net" in run[1].stdout
