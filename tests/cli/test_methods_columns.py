"""``mutualfuse methods``: the listing's columns line up (a 30-character weights name pushed its
file name one place right of the others')."""
from __future__ import annotations

from mutualfuse.cli import main
from mutualfuse.methods import METHODS
from mutualfuse.weights import SHIPPED


def test_the_listing_columns_line_up(capsys):
    assert main(["methods"]) == 0
    lines = capsys.readouterr().out.splitlines()
    weights = [ln for ln in lines if ln.startswith("weights ")]
    assert len(weights) == len(SHIPPED)
    starts = {ln.index(w.file) for ln, w in zip(weights, SHIPPED.values())}
    assert len(starts) == 1, starts
    methods = [ln for ln in lines if ln.split(" ", 1)[0] in METHODS.names()]
    assert len(methods) == len(METHODS.names())
    second = {len(ln) - len(ln[len(ln.split(" ", 1)[0]):].lstrip(" ")) for ln in methods}  # 2nd column's start
    assert len(second) == 1, second
