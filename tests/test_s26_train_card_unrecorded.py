"""s26: the card of weights saved from Python (``save_weights(path, net, net.cfg)`` after a training
loop of one's own, or of a ``Fuser.from_model`` network) had no line about the training at all:
neither that none was recorded nor how ``fuse`` will then read the inputs. It now says so; the
card of a ``mutualfuse train`` run has no such line."""
from __future__ import annotations

from train_cli_helpers import trained_weights

from mutualfuse.model import ModelConfig, build_model
from mutualfuse.weights import save_weights
from mutualfuse.weights.card import file_card


def test_weights_saved_from_python_say_their_training_is_not_recorded(tmp_path):
    net = build_model(ModelConfig(widths=(4, 8, 8), depth=3))
    card = file_card(str(save_weights(tmp_path / "mine.safetensors", net, net.cfg)))
    line = next(x for x in card.splitlines() if x.startswith("training:"))
    assert "not recorded in the file (no train_config, no train_data" in line and "--normalize auto" in line


def test_a_run_s_weights_have_no_such_line(tmp_path):
    assert "\ntraining:" not in file_card(trained_weights(tmp_path))
