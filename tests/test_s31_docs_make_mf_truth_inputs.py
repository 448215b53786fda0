"""scripts/make_mf_truth.py (docs/training.md's multi-focus truth set; bench_quality.py, task_detection.py):
bad input exited with status 1 (a data root without the set) or a FileExistsError traceback (``-o``
an existing file), and a set without PNG images wrote three empty folders and said "0 pairs" with
exit status 0; now one ``make_mf_truth.py: error:`` line, exit status 2, nothing written (session 31)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "make_mf_truth.py"


def _run(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True, timeout=120)


def test_bad_input_is_one_line_exit_2_and_nothing_written(tmp_path):
    empty_set = tmp_path / "root"
    (empty_set / "ir-vis" / "msrs-sample" / "vis").mkdir(parents=True)
    (tmp_path / "afile").write_text("x")
    for args, out, words in (([ "--data-root", tmp_path / "nope"], tmp_path / "o1", "not found"),
                             (["--data-root", empty_set], tmp_path / "o2", "no .png images"),
                             (["--data-root", empty_set], tmp_path / "afile", "no .png images")):
        r = _run(*args, "-o", out)
        assert r.returncode == 2, (args, r.returncode, r.stdout, r.stderr)
        assert r.stderr.startswith("make_mf_truth.py: error: ") and r.stderr.count("\n") == 1, r.stderr
        assert words in r.stderr, (words, r.stderr)
        assert not (out / "a").exists() and (out.is_file() or not out.exists()), out


def test_an_output_path_that_is_a_file_is_one_line(tmp_path):
    root = tmp_path / "root"
    (root / "ir-vis" / "msrs-sample" / "vis").mkdir(parents=True)
    from PIL import Image

    Image.new("RGB", (16, 12), (90, 120, 30)).save(root / "ir-vis" / "msrs-sample" / "vis" / "00001D.png")
    (tmp_path / "afile").write_text("x")
    r = _run("--data-root", root, "-o", tmp_path / "afile")
    assert r.returncode == 2 and r.stderr.startswith("make_mf_truth.py: error: ") and "Traceback" not in r.stderr, r.stderr
    assert "exists and is not a folder" in r.stderr and r.stderr.count("\n") == 1, r.stderr
    r = _run("--data-root", root, "-o", tmp_path / "out")  # the good case still writes the three folders
    assert r.returncode == 0 and r.stdout.startswith("1 pairs in "), (r.stdout, r.stderr)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a", "b", "truth"]
