"""``mutualfuse methods --card METHOD`` against what ``fuse --param`` does (audit s18): every
value a card names as allowed (each choice, the bounds of a range, true/false), typed on the
command line as the card prints it, is accepted, and a value just outside is refused in one
line naming the parameter. The defaults a card prints are the function's."""
from __future__ import annotations

import inspect
import re

import pytest
from one_line_error import assert_one_line_error  # tests/ is on sys.path

from mutualfuse.cli import main
from mutualfuse.methods import METHODS, method_card

CLASSICAL = [e.name for e in METHODS if e.meta.get("family") != "network" and e.meta.get("params")]


def _param_lines(card: str) -> dict[str, str]:
    """``{name: "default 4; an integer in 1..10"}`` from a method card."""
    lines = card.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("  parameters"))
    return {m.group(1): m.group(2) for ln in lines[start + 1:] if (m := re.match(r"\s{4}(\w+)\s+(.*)", ln))}


def _accepted(capsys, tmp_path, method: str, kv: str, extra: list[str]) -> bool:
    """Whether ``fuse --param kv`` (and ``extra``) gets past the parameter check (to the missing input)."""
    rc = main(["fuse", str(tmp_path / "missing-a.png"), str(tmp_path / "missing-b.png"), "-o",
               str(tmp_path / "f.png"), "--method", method, "--param", kv, *extra, "-q"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1, err
    return "missing-a.png" in err


@pytest.mark.parametrize("method", CLASSICAL)
def test_every_value_a_card_allows_is_accepted_and_one_outside_refused(capsys, tmp_path, method):
    sig = inspect.signature(METHODS.get(method)).parameters
    params = _param_lines(method_card(method))
    assert sorted(params) == sorted(METHODS.meta(method)["params"])
    for name, text in params.items():
        default, allowed = text.split("; ", 1)
        # "...; used only with solver=admm": the values are tried with that setting (session 21)
        allowed, _, cond = allowed.partition("; used only with ")
        extra = ["--param", cond.split(" or ")[0]] if cond else []
        assert default == f"default {sig[name].default!r}", (method, name, text)
        good, bad = [], []
        if m := re.fullmatch(r"one of (.*)", allowed):
            good = m.group(1).split(", ")
            bad = [good[0] + "x"]
        elif m := re.search(r"integer in (-?\d+)\.\.(\d+)", allowed):
            lo, hi = int(m.group(1)), int(m.group(2))
            odd = "odd" in allowed
            mult = int(re.search(r"multiple of (\d+)", allowed).group(1)) if "multiple of" in allowed else 1
            good = [str(lo), str(hi)]
            bad = [str(lo - (2 if odd else mult)), str(hi + (2 if odd else mult)), f"{lo}.5"]
        elif allowed == "true or false":
            good, bad = ["true", "false", "False", "TRUE"], ["1", "yes"]
        elif allowed.startswith("a finite number"):
            good = [str(sig[name].default)]
            bad = ["nan", "inf", "abc"]
            if m := re.search(r"(>=?) (\S+?)(?: and|$)", allowed):
                lo = float(m.group(2))
                bad.append(str(lo) if m.group(1) == ">" else str(lo - abs(lo) - 1))
            if m := re.search(r"<= (\S+)$", allowed):
                bad.append(str(float(m.group(1)) * 2))
        else:  # free text (dwt's wavelet): the default as printed
            good, bad = [str(sig[name].default)], [""]
        for v in good:
            assert _accepted(capsys, tmp_path, method, f"{name}={v}", extra), (method, name, v)
        for v in bad:
            assert_one_line_error(capsys, ["fuse", "x.png", "y.png", "-o", str(tmp_path / "f.png"), "--method",
                                           method, "--param", f"{name}={v}", *extra], f"parameter {name}")
