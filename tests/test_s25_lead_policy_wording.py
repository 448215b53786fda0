"""Session 25 (lead), after the structured policy refusal (517bfac):

* the NIfTI volume's and the DICOM series' refusals under ``--normalize full`` are
  :class:`~mutualfuse.errors.PolicyRefusalError` too, so ``fuse`` says when that policy came from
  the weights (the float-voxel refusal's words did not name ``--normalize full`` and never got the
  note); no refusal is recognised by its words any more;
* counts in messages agree with their nouns ("a has 1 image", "1 fusion").
"""
from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest

from mutualfuse.cli import fuse as fuse_cli
from mutualfuse.errors import InputError, PolicyRefusalError
from mutualfuse.validation import check_batch_pair
from mutualfuse.volume import normalize_volume

ORIGIN = "[--normalize full was not given: it is the policy weights w.safetensors were trained with"


def _volume(data: np.ndarray) -> nib.Nifti1Image:
    return nib.Nifti1Image(data, np.eye(4))


@pytest.mark.parametrize("data", [np.linspace(0, 300, 64, dtype=np.float32).reshape(4, 4, 4),
                                  np.arange(-32, 32, dtype=np.int16).reshape(4, 4, 4)])
def test_volume_refusals_under_full_carry_the_mode_and_get_the_origin(monkeypatch, data):
    with pytest.raises(PolicyRefusalError) as e:
        normalize_volume(data.astype(np.float64), _volume(data), "full", (0.5, 99.5), "ct.nii.gz")
    assert e.value.normalize == "full" and e.value.exit_code == 2 and str(e.value).startswith("ct.nii.gz: ")
    monkeypatch.setattr(fuse_cli, "POLICY_FROM_WEIGHTS", [("full", "w.safetensors")])
    said = fuse_cli.policy_origin(e.value)
    assert said.startswith(str(e.value) + " " + ORIGIN), said


def test_no_refusal_is_recognised_by_its_words(monkeypatch):
    monkeypatch.setattr(fuse_cli, "POLICY_FROM_WEIGHTS", [("full", "w.safetensors")])
    words = "x/: --normalize full needs unsigned samples without rescale; signed (use --normalize auto)"
    assert not fuse_cli.refuses_policy(InputError(words), "full")
    assert fuse_cli.policy_origin(InputError(words)) == words


def test_counts_agree_with_their_nouns():
    one, two = np.zeros((1, 8, 8), np.float32), np.zeros((2, 8, 8), np.float32)
    with pytest.raises(InputError, match=r"^batch mismatch: a has 1 image, b has 2$"):
        check_batch_pair(one, two)
    with pytest.raises(InputError, match=r"^batch mismatch: a has 2 images, b has 1$"):
        check_batch_pair(two, one)
    from mutualfuse.cli.fuse_stack import StackDone

    done = StackDone(out="z.png", count=2, one_file=False, fusions=1, seconds=0.5, depth=8, colour=False)
    assert "(2 images, 1 fusion, 0.50 s, 8-bit gray)" in done.summary(), done.summary()
