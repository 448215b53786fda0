"""``mutualfuse methods --json`` listed ``"params": []`` for a method of one's own registered
without ``params=`` (``def mine(a, b, w=0.5)``), though ``--param w=...`` takes it and its card
lists it."""
from __future__ import annotations

import json

from registry_state import registries_restored


def test_json_lists_the_parameters_of_an_undeclared_method(capsys, tmp_path):
    mod = tmp_path / "s31_json_params_mod.py"
    mod.write_text("from mutualfuse.methods import register_method\n\n"
                   "@register_method('s31-json-params', family='pixel')\n"
                   "def mine(a, b, w=0.5, *, gamma=1.0):\n    return w * a + (1 - w) * b\n")
    from mutualfuse.cli import main
    from mutualfuse.methods import METHODS

    with registries_restored("s31_json_params"):
        assert main(["methods", "--json", "--import", str(mod)]) == 0
        d = json.loads(capsys.readouterr().out)
        by_name = {m["name"]: m for m in d["methods"]}
        assert by_name["s31-json-params"]["params"] == ["w", "gamma"]
        # the declared ones as before
        assert by_name["dwt"]["params"] == list(METHODS.meta("dwt")["params"])
        assert by_name["average"]["params"] == []
