"""scripts/ship_variant.py: a shipped file's tensors re-written with other inference settings or a
renamed warm start (how `default` moves on to other weights without breaking the stored names)."""
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from safetensors import safe_open

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from ship_variant import renamed_init, write_variant  # noqa: E402

from mutualfuse.weights import HERE, SHIPPED, read_weights  # noqa: E402


def _meta(path):
    with safe_open(str(path), framework="pt") as fh:
        return dict(fh.metadata() or {})


def test_variant_keeps_tensors_and_training_metadata_and_renames_the_warm_start(tmp_path):
    src = HERE / SHIPPED["centred-6000"].file
    old = json.loads(_meta(src)["train_config"])["init_weights"]
    shipped = {old: SimpleNamespace(sha256="a" * 64), "new-name": SimpleNamespace(sha256="a" * 64)}
    dst = write_variant(src, tmp_path / "v.safetensors", {"base_brightness": 5.0}, "new-name", shipped)
    s0, c0, _ = read_weights(src)
    s1, c1, _ = read_weights(dst)  # digest-checked
    assert s0.keys() == s1.keys() and all(torch.equal(s0[k], s1[k]) for k in s0)
    assert c1.base_brightness == 5.0 and c0.base_brightness != 5.0
    m0, m1 = _meta(src), _meta(dst)
    t0, t1 = json.loads(m0["train_config"]), json.loads(m1["train_config"])
    assert t1.pop("init_weights") == "new-name" and t0.pop("init_weights") == old
    assert t0 == t1 and m0["steps"] == m1["steps"] and m0["machine"] == m1["machine"]


@pytest.mark.parametrize("new, sha", [("new-name", "b" * 64), ("not-shipped", "a" * 64)])
def test_renaming_the_warm_start_requires_the_same_file(new, sha):
    meta = {"train_config": json.dumps({"init_weights": "old"})}
    shipped = {"old": SimpleNamespace(sha256="a" * 64)}
    if new != "not-shipped":
        shipped[new] = SimpleNamespace(sha256=sha)
    with pytest.raises(ValueError, match=new):
        renamed_init(meta, new, shipped)
    with pytest.raises(ValueError, match="not a shipped name"):
        renamed_init({"train_config": json.dumps({"init_weights": None})}, "old", shipped)
