"""Session 21 review: ``scripts/ship_ablations.py`` checks a variant's config like everything
else it reads before writing: an empty config, or one whose first line is not the describing
comment, was an IndexError traceback (or a description made of a YAML line) instead of its
one-line error with exit status 2 and nothing written.

The script is taken from ``$S21_REVIEW_SCRIPTS`` when set (a folder with an older copy, to check
that these tests fail there)."""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = Path(os.environ.get("S21_REVIEW_SCRIPTS", ROOT / "scripts")) / "ship_ablations.py"
SMALL = "ablation-vifnet-mean-concat-s0"  # the smallest shipped ablation file


def _module(tmp_path, config_text):
    spec = importlib.util.spec_from_file_location("ship_ablations_review", SCRIPT)
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    m.WDIR = tmp_path / "weights"  # never the real src/mutualfuse/weights, runs-log or configs
    m.WDIR.mkdir()
    m.LOGS = tmp_path / "runs-log"
    m.CONFIGS = tmp_path / "configs"
    m.CONFIGS.mkdir()
    (m.CONFIGS / "var-add.yaml").write_text(config_text)
    run = tmp_path / "runs" / "var-add-s3"
    run.mkdir(parents=True)
    shutil.copyfile(ROOT / "src/mutualfuse/weights" / f"{SMALL}.safetensors", run / "final.safetensors")
    cfg = json.loads((ROOT / "runs-log/ablation/var-add-s0/config.json").read_text())
    (run / "config.json").write_text(json.dumps(cfg))
    (run / "log.csv").write_text("step,loss,val_loss,val_ei\n20,0.4,0.3,41.5\n")
    return m


@pytest.mark.parametrize("text", ["", "steps: 20\n", "#\nsteps: 20\n"])
def test_a_config_without_its_describing_comment_is_a_one_line_error(tmp_path, capsys, text):
    m = _module(tmp_path, text)
    assert m.main([str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "var-add.yaml" in err and "nothing shipped" in err, err
    assert list(m.WDIR.iterdir()) == []
    assert not m.LOGS.exists() or list(m.LOGS.rglob("*")) == []


def test_a_config_with_its_comment_still_ships(tmp_path, capsys):
    m = _module(tmp_path, "# Ablation (test). Table 6 row Add: a test variant.\nsteps: 20\n")
    assert m.main([str(tmp_path / "runs")]) == 0
    assert "description='Table 6 row Add: a test variant. Seed 3;" in (m.WDIR / "ablations.py").read_text()
