"""`mutualfuse methods --json`: one JSON object of the registries' own entries, each name one that the
CLI accepts (--card, --method, --weights) and the same lists the web page offers."""
from __future__ import annotations

import json

from one_line_error import assert_one_line_error


def _listing(capsys) -> dict:
    from mutualfuse.cli import main

    assert main(["methods", "--json"]) == 0
    out, err = capsys.readouterr()
    assert err == "" and out.isascii(), err  # ASCII escapes: readable through a pipe of any encoding
    return json.loads(out)


def test_methods_json_lists_the_registries_and_every_name_is_accepted(capsys):
    from mutualfuse.api import _network_weights
    from mutualfuse.cli import main
    from mutualfuse.methods import METHODS, is_network_method
    from mutualfuse.web import core
    from mutualfuse.weights import SHIPPED, read_weights

    d = _listing(capsys)
    assert [m["name"] for m in d["methods"]] == METHODS.names()
    assert [w["name"] for w in d["weights"]] == list(SHIPPED)
    # the web page offers the same methods and weights
    assert sorted(n for n, _ in core.methods()) == sorted(METHODS.names())
    assert core.weights_names() == [w["name"] for w in d["weights"]]
    for m in d["methods"]:
        assert m["network"] == is_network_method(m["name"])
        assert main(["methods", "--card", m["name"]]) == 0 and capsys.readouterr().out.startswith(f"method {m['name']}")
        if not m["network"]:  # --method NAME: a classical method, no weights
            assert _network_weights(m["name"]) is None
    for w in d["weights"]:
        assert w["sha256"] == SHIPPED[w["name"]].sha256 and w["group"] in ("main", "ablation")
        assert _network_weights(w["name"]) == w["name"]  # --weights NAME / Fuser(NAME)
        assert main(["methods", "--card", w["name"]]) == 0 and capsys.readouterr().out.strip()
        assert read_weights(w["name"])[1] is not None  # verified and read, as fuse reads it


def test_methods_json_and_card_together_is_one_line_error(capsys):
    assert_one_line_error(capsys, ["methods", "--json", "--card", "dwt"], "--json", "--card")


def test_methods_json_names_a_method_of_ones_own_by_its_module(capsys, tmp_path, method_registry, monkeypatch):
    mod = tmp_path / "mine_s25_listing.py"
    mod.write_text("from mutualfuse.methods import register_method\n\n"
                   "@register_method('mine-s25', family='pixel')\n"
                   "def mine(a, b):\n    return (a + b) / 2\n")
    from mutualfuse.cli import main

    assert main(["methods", "--json", "--import", str(mod)]) == 0
    d = json.loads(capsys.readouterr().out)
    mine = [m for m in d["methods"] if m["name"] == "mine-s25"]
    assert len(mine) == 1 and mine[0]["module"].endswith("mine_s25_listing"), mine
