"""``save_weights(..., meta={...})`` with a key or value that safetensors' UTF-8 metadata cannot
hold (a lone surrogate, as ``os.fsdecode`` makes of a name that is not UTF-8) or a key that is no
str: a one-line ParameterError naming the file and the key, nothing written. Was an internal
``UnicodeEncodeError`` (``TypeError`` for an int key) from safetensors."""
from __future__ import annotations

import pytest

from mutualfuse.errors import ParameterError
from mutualfuse.model import ModelConfig, build_model
from mutualfuse.weights import read_weights, save_weights


@pytest.mark.parametrize("meta, names", [
    ({"note": "caf\udce9"}, "meta['note']: the value"),
    ({"\udce9x": "ok"}, "the key"),
    ({1: "x"}, "meta key 1"),
])
def test_bad_meta_is_one_line_naming_the_key(tmp_path, meta, names):
    cfg = ModelConfig()
    out = tmp_path / "sub" / "w.safetensors"
    with pytest.raises(ParameterError) as e:
        save_weights(out, build_model(cfg), cfg, meta)
    msg = str(e.value)
    assert "\n" not in msg and str(out) in msg and names in msg, msg
    assert not (tmp_path / "sub").exists()


def test_good_meta_still_written(tmp_path):
    cfg = ModelConfig()
    out = save_weights(tmp_path / "w.safetensors", build_model(cfg), cfg, {"note": "café 山", "n": 3})
    _, _, meta = read_weights(out)
    assert meta["note"] == "café 山" and meta["n"] == "3"
