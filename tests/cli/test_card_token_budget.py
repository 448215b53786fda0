"""The network's card says what its ``token_budget`` values mean (it printed "default -1; an
integer >= -1 (or None)" beside ``fuse --token-budget``'s ">= 0, default 16384")."""
from __future__ import annotations

from mutualfuse.methods import method_card
from mutualfuse.weights import SHIPPED, resolve_weights


def test_token_budget_values_are_explained():
    card = method_card("mutualfuse")
    line = next(ln for ln in card.splitlines() if ln.strip().startswith("token_budget"))
    assert "-1 = the weights' own budget" in line and "0 or None = always exact" in line, line
    from mutualfuse.api import Fuser

    assert Fuser("default", device="cpu").net.cfg.token_budget == 16384 and "16384" in line
    assert "default" in SHIPPED and resolve_weights("default")
