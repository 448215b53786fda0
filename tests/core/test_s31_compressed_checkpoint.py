"""s31: a checkpoint compressed for a copy (``gzip last.ckpt``) is named as such.

``mutualfuse export-weights runs/x/last.ckpt.gz`` (or ``train --resume`` of one) said "corrupt
checkpoint (Error while deserializing header: ...)", which sends a user looking for a broken
file; the file is fine, only compressed. Now: one line naming the compressor and the command that
unpacks it. The uncompressed checkpoint still loads."""
from __future__ import annotations

import bz2
import gzip
import lzma

import pytest
import torch

from mutualfuse.errors import WeightsError
from mutualfuse.train.checkpoint import load_checkpoint, save_checkpoint


@pytest.mark.parametrize("fmt,pack", [("gzip", gzip.compress), ("xz", lzma.compress), ("bzip2", bz2.compress)])
def test_a_compressed_checkpoint_is_named_as_compressed(tmp_path, fmt, pack):
    ck = tmp_path / "last.ckpt"
    save_checkpoint(ck, {"model": torch.nn.Linear(3, 2).state_dict(), "step": 7})
    assert load_checkpoint(ck)["step"] == 7  # the plain file loads
    packed = tmp_path / f"last.ckpt.{fmt}"
    packed.write_bytes(pack(ck.read_bytes()))
    with pytest.raises(WeightsError) as e:
        load_checkpoint(packed)
    msg = str(e.value)
    assert "\n" not in msg and str(packed) in msg
    assert f"{fmt}-compressed" in msg and "corrupt" not in msg
