"""Audit s23: two ``torchrun`` ranks that imported different versions of a loss of one's own (a
node with an older copy of the file) are refused on every rank, one line, before any step; they
would have averaged the gradients of two different losses."""
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
    for err, rc in results:
        lines = [x for x in err.strip().splitlines() if x.startswith("mutualfuse: error: ")]
        assert rc == 2 and len(lines) == 1 and "Traceback" not in err, err
        assert "imported different code for the loss 's23differ'" in lines[0], err
        assert str(mods[0]) in lines[0] and str(mods[1]) in lines[0], err
    assert not (out / "last.ckpt").exists()
