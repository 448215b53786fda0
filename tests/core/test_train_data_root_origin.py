"""A training set not found under the data root says where the root came from: with
``$MUTUALFUSE_DATA`` set, a config's ``data.root`` is overridden, and the error named only the
variable's folder (noticed by the s18 new-user audit)."""
from __future__ import annotations

from train_cli_helpers import cfg, data, refused


def test_the_variable_over_the_configs_root_is_named(tmp_path, capsys, monkeypatch):
    mine = data(tmp_path / "mine")
    other = tmp_path / "shared"
    other.mkdir()
    monkeypatch.setenv("MUTUALFUSE_DATA", str(other))
    c = cfg(tmp_path / "c.json", tmp_path / "run", **{"data.root": str(mine)})
    refused(capsys, ["--config", str(c)], [f"{other / 's'}: training set folder", "$MUTUALFUSE_DATA",
                                            f"over the config's data.root {mine}", "--data-root chooses"])


def test_the_option_and_the_config_are_named(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("MUTUALFUSE_DATA", raising=False)
    empty = tmp_path / "empty"
    empty.mkdir()
    c = cfg(tmp_path / "c.json", tmp_path / "run", **{"data.root": str(empty)})
    refused(capsys, ["--config", str(c)], ["from the config's data.root"])
    refused(capsys, ["--config", str(c), "--data-root", str(empty)], ["from --data-root"])
