"""scripts/plot_runs.py, named by docs/training.md for its validation figures (session 31, docs walk):
``--labels`` with fewer labels than logs dropped the logs without one from the figure without a word;
a file that is not a training log (README.md) gave an empty figure and exit 0; an image gave a
UnicodeDecodeError traceback; and a log of fewer than 10 rows (a short trial run) a matplotlib
ValueError traceback (the running mean of the loss came out longer than its steps)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "plot_runs.py"
LOG = ("step,epoch,loss,val_loss,lr,images_per_s,elapsed_s,val_sf,val_ei,val_qabf,val_mf_psnr\n"
       "1,0,1.57,,0.0001,12.2,0.2,,,,\n"
       "2,0,1.26,1.30,0.0001,28.0,0.2,1.0,2.0,0.1,4.5\n"
       "3,0,1.70,,0.0001,13.7,0.4,,,,\n"
       "4,0,1.35,1.29,0.0001,33.8,0.4,1.1,2.1,0.2,4.6\n")


def _run(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True, timeout=120)


def test_a_short_log_plots(tmp_path):
    (tmp_path / "log.csv").write_text(LOG)
    r = _run(tmp_path / "log.csv", "-o", tmp_path / "f.png")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "f.png").stat().st_size > 0


def test_bad_logs_and_labels_are_one_line_errors_and_write_nothing(tmp_path):
    (tmp_path / "a.csv").write_text(LOG)
    (tmp_path / "b.csv").write_text(LOG)
    (tmp_path / "notes.md").write_text("# notes\nnothing here\n")
    Image.new("L", (8, 8)).save(tmp_path / "img.png")
    out = tmp_path / "f.png"
    for args, words in (([tmp_path / "a.csv", tmp_path / "b.csv", "--labels", "one"], "1 label(s) for 2 logs"),
                        ([tmp_path / "notes.md"], "not a training log"),
                        ([tmp_path / "img.png"], "not a text file"),
                        ([tmp_path], "is a folder")):
        r = _run(*args, "-o", out)
        assert r.returncode == 2, (args, r.returncode, r.stderr)
        assert r.stdout == "" and r.stderr.startswith("plot_runs.py: error: ") and r.stderr.count("\n") == 1, r.stderr
        assert words in r.stderr, (words, r.stderr)
        assert not out.exists(), args
