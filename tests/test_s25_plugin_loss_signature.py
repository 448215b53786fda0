"""``register_loss`` of a function that cannot be called as ``fn(x, y, f, **loss_params)`` (``fn(f)``,
a loss of the fused output alone) was accepted; the trainer found it only at its probe, after
the config, the data folders and the model. Now refused at registration (``--import``: one line
naming the module's file and line), as ``register_metric`` refuses a metric that cannot be called
as ``fn(a, b, f)``; a parameter without a default, which ``loss_params`` may give, is still fine."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mutualfuse.errors import ParameterError

sys.path.insert(0, str(Path(__file__).resolve().parent))
from one_line_error import assert_one_line_error  # noqa: E402


@pytest.fixture()
def losses(monkeypatch):
    from mutualfuse.losses import LOSS_REGISTRY

    saved = dict(LOSS_REGISTRY._entries)
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield LOSS_REGISTRY
    LOSS_REGISTRY._entries.clear()
    LOSS_REGISTRY._entries.update(saved)
    for name in [m for m in sys.modules if m.startswith("s25loss")]:
        del sys.modules[name]


def test_a_loss_of_the_output_alone_is_refused_at_registration(losses):
    from mutualfuse.losses import register_loss

    def only_f(f):
        return f.mean()

    with pytest.raises(ParameterError, match=r"register_loss\('s25only'\): .*only_f\(f\) cannot be called as "
                                             r"fn\(x, y, f, \*\*loss_params\)"):
        register_loss("s25only", only_f)
    assert "s25only" not in losses


def test_a_parameter_that_loss_params_gives_is_accepted(losses):
    from mutualfuse.losses import register_loss

    def weighted(x, y, f, w):  # w from the config's loss_params
        return w * f.mean()

    assert register_loss("s25weighted", weighted) is weighted
    assert "s25weighted" in losses


def test_train_import_names_the_modules_line(tmp_path, capsys, losses):
    mod = tmp_path / "s25loss_one.py"
    mod.write_text("from mutualfuse.losses import register_loss\n\n\n@register_loss('s25one')\n"
                   "def one(f):\n    return f.mean()\n")
    assert_one_line_error(capsys, ["train", "--import", str(mod), "--config", "paper"],
                          f"--import {mod}: register_loss('s25one')", "cannot be called as fn(x, y, f",
                          f"({mod}, line 4)")
