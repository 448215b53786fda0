"""Audit s23: two ``torchrun`` ranks that imported different versions of a loss of one's own (a
node with an older copy of the file) are refused on every rank, before any step, in one line for
the run (s27: said once); they would have averaged the gradients of two different losses."""
from __future__ import annotations

from train_cli_helpers import cfg, data, run_gloo_ranks

BODY = '''
from mutualfuse.losses import register_loss


@register_loss("s23differ")
def my_loss(x, y, f):
    return {expr}
'''


def test_ranks_that_imported_different_loss_code_are_refused(tmp_path):
    mods = []
    for rank, expr in enumerate(("(f - x).abs().mean()", "(f - y).abs().mean()")):
        d = tmp_path / f"node{rank}"
        d.mkdir()
        (d / "s23loss_differ.py").write_text(BODY.format(expr=expr))
        mods.append(d / "s23loss_differ.py")
    root = data(tmp_path / "d", n=5, size=(24, 32))
    out = tmp_path / "run"
    c = cfg(tmp_path / "c.json", out, **{"data.root": str(root), "loss": "s23differ", "steps": 1})
    results = run_gloo_ranks([["--import", str(mods[rank]), "--config", str(c)] for rank in (0, 1)])
    assert [rc for _, rc in results] == [2, 2], results
    err = "".join(e for e, _ in results)  # one terminal: the line once, from either process (s27)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mutualfuse: error: ") and "Traceback" not in err, err
    assert "imported different code for the loss 's23differ'" in lines[0], err
    assert str(mods[0]) in lines[0] and str(mods[1]) in lines[0], err
    assert not (out / "last.ckpt").exists()
