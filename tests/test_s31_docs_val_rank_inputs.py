"""scripts/val_rank.py, whose mean ranks docs/training.md quotes (session 31, docs walk): a file that
holds no val_quality.py result line was skipped without a word (``val_rank.py a.txt notes.md`` ranked
a.txt alone, or said "need at least two result lines" with exit status 1), an image or other binary
file was a UnicodeDecodeError traceback, a folder an IsADirectoryError traceback."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "val_rank.py"
GOOD = ROOT / "runs-log" / "val_centred-bright-train2.txt"


def _run(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True, timeout=120)


def test_files_without_result_lines_are_one_line_errors(tmp_path):
    (tmp_path / "notes.md").write_text("# notes\nno results here\n")
    Image.new("L", (8, 8)).save(tmp_path / "img.png")
    for args, words in (([GOOD, tmp_path / "notes.md"], "notes.md: no result line"),
                        ([tmp_path / "img.png"], "img.png: not a text file"),
                        ([tmp_path], "is a folder")):
        r = _run(*args)
        assert r.returncode == 2, (args, r.returncode, r.stdout, r.stderr)
        assert r.stdout == "" and r.stderr.startswith("val_rank.py: error: ") and r.stderr.count("\n") == 1, r.stderr
        assert words in r.stderr, (words, r.stderr)
    r = _run(GOOD)  # the committed file alone still ranks
    assert r.returncode == 0 and r.stdout.startswith("  2.30  "), r.stdout
