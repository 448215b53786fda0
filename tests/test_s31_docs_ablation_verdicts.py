"""scripts/ablation_verdicts.py as docs/ablations.md has a user run it (session 31, docs walk):
on the tables of ``mutualfuse benchmark --tables 4,5,6,7 --quick`` (2 of TNO's 21 pairs) it printed
verdict sections with no word that the means are over two pairs, and a rule line ending in
"of the metric: )."; a row with an empty cell (weights missing, a metric that failed) was left
out of the comparison silently, and a row whose mean missed failed pairs was used as if complete;
``... | head`` ended in a BrokenPipeError traceback.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "ablation_verdicts.py"
HEAD = "row_id,method,kind,n_pairs,n_ok,EI ↑,CE ↓,note\n"


def _table(d: Path, n: int, rows, title: str | None = None) -> None:
    (d / "tables").mkdir(exist_ok=True)
    body = "".join(f"x,{label},ablation,{n_pairs},{n_ok},{ei},{ce},\n" for label, n_pairs, n_ok, ei, ce in rows)
    (d / "tables" / f"table{n}.csv").write_text(HEAD + body, encoding="utf-8")
    if title is not None:
        (d / "tables" / f"table{n}.csv.meta.json").write_text(json.dumps({"table": f"table{n}", "title": title}))


def _run(d: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), str(d)], capture_output=True, text=True, timeout=120)


def test_a_quick_run_is_said_to_be_over_two_pairs_and_the_empty_pooled_sd_is_worded(tmp_path):
    _table(tmp_path, 4, [("VIF-Net", 2, 2, 37.0, 0.29), ("Ours-Net", 2, 2, 39.2, 2.10)],
           title="Table 4: network structure, both with Mean-SSIM and concatenation (ir-vis/tno), 2 of 21 pairs")
    r = _run(tmp_path)
    assert r.returncode == 0, r.stderr
    assert "- note: means over 2 of the set's 21 pairs (--quick / --pairs): not a comparison over the whole set" \
        in r.stdout, r.stdout
    rule = r.stdout.splitlines()[0]
    assert "of the metric: )" not in rule and "none measured" in rule, rule
    # the whole set (the title without "N of M pairs", as the committed tables): no note
    _table(tmp_path, 4, [("VIF-Net", 21, 21, 37.0, 0.29), ("Ours-Net", 21, 21, 39.2, 2.10)],
           title="Table 4: network structure, both with Mean-SSIM and concatenation (ir-vis/tno)")
    r = _run(tmp_path)
    assert r.returncode == 0, r.stderr
    assert "- note:" not in r.stdout, r.stdout


def test_rows_left_out_or_partial_are_named(tmp_path):
    _table(tmp_path, 6, [(f"Mapping [m{i}]", 21, 21, 50 + 0.1 * i, 1.0 + 0.01 * i) for i in range(3)]
           + [("Concat [c0]", 21, 21, "", 1.0), ("Concat [c1]", 21, 21, 50.0, 1.0), ("Concat [c2]", 21, 21, 50.1, 1.01)]
           + [("Add [a0]", 21, 19, 40.0, 2.0), ("Add [a1]", 21, 21, 40.1, 2.01), ("Add [a2]", 21, 21, 40.2, 2.02)])
    r = _run(tmp_path)
    assert r.returncode == 0, r.stderr
    assert "- note: Concat [c0]: left out (no value for EI)" in r.stdout, r.stdout
    assert "- note: Add [a0]: mean over 19 of 21 pairs (the others failed)" in r.stdout, r.stdout
    assert "| ours: Concat (2 seeds) |" in r.stdout  # the row left out is not in the mean


def test_a_reader_that_leaves_early_gets_no_traceback():
    # `python scripts/ablation_verdicts.py docs/results/ablations | head -1`: the reader is gone
    # before the script writes (a pipe whose reading end is closed: the same EPIPE, without a race)
    rd, wr = os.pipe()
    os.close(rd)
    try:
        r = subprocess.run([sys.executable, str(SCRIPT), str(ROOT / "docs/results/ablations")], stdout=wr,
                           stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(wr)
    assert "Traceback" not in r.stderr and "BrokenPipeError" not in r.stderr, r.stderr
    assert r.returncode == 141, (r.returncode, r.stderr)
