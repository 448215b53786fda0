"""A cosine schedule whose warm-up is as long as the run or longer (a recipe's 50 warm-up steps
under ``--steps 20``) is said in a note: the learning rate never reaches ``lr`` and never decays."""
from __future__ import annotations

import pytest

from train_cli_helpers import cfg, data, train


@pytest.mark.parametrize("warmup,noted", [(5, True), (2, True), (1, False)])
def test_a_warmup_longer_than_the_run_is_noted(tmp_path, capsys, warmup, noted):
    d = data(tmp_path / "data")
    c = cfg(tmp_path / "c.json", tmp_path / "run", **{"data.root": str(d), "lr_schedule": "cosine",
                                                      "warmup_steps": warmup, "lr": 1e-3})
    rc, _, err = train(capsys, "--config", str(c))
    assert rc == 0, err
    if noted:
        assert f"note: warmup_steps {warmup} >= steps 2: the learning rate rises to {1e-3 * 2 / warmup:.3g} at most" in err
    else:
        assert "warmup_steps" not in err
