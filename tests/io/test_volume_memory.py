"""``fuse-volume`` refuses a volume pair that cannot fit in the memory available, from the
headers, before any voxel is read (as ``fuse`` does for images): a large pair was read and
normalised for minutes and then killed by the out-of-memory killer."""
from __future__ import annotations

import numpy as np
import pytest

import mutualfuse.runner as runner
import mutualfuse.volume as volume
from mutualfuse import Fuser
from one_line_error import assert_one_line_error

nib = pytest.importorskip("nibabel")


def _pair(tmp_path, shape=(40, 48, 6)):
    rng = np.random.default_rng(0)
    paths = []
    for n in ("a", "b"):
        p = tmp_path / f"{n}.nii.gz"
        nib.save(nib.Nifti1Image((rng.random(shape) * 1000).astype(np.int16), np.diag([1.0, 1.0, 2.0, 1.0])), p)
        paths.append(p)
    return paths


def test_the_bound_counts_both_volumes_and_a_batch_of_slices():
    f = Fuser(method="average")
    shape = (40, 48, 6)
    n = 40 * 48 * 6
    assert volume.volume_min_memory(f, shape, 2, 8) == volume.VOLUME_BYTES_PER_VOXEL * n + f.min_memory(48, 40, 12)
    assert volume.volume_min_memory(f, shape, 0, 8) == volume.VOLUME_BYTES_PER_VOXEL * n + f.min_memory(6, 48, 16)


@pytest.mark.parametrize("method", ["average", None])
def test_a_pair_that_cannot_fit_is_refused_before_its_voxels_are_read(tmp_path, capsys, monkeypatch, method):
    a, b = _pair(tmp_path)
    fuser = Fuser(method="average") if method else Fuser("default", device="cpu")
    need = volume.volume_min_memory(fuser, (40, 48, 6), 2, 8)
    monkeypatch.setattr(runner, "available_memory", lambda: need - 1)
    read = []
    real = volume.volume_data
    monkeypatch.setattr(volume, "volume_data", lambda *x: read.append(x) or real(*x))
    out = tmp_path / "f.nii.gz"
    argv = ["fuse-volume", str(a), str(b), "-o", str(out)] + (["--method", method] if method else ["--device", "cpu"])
    assert_one_line_error(capsys, argv, str(a), "40x48x6 volume pair", "GB of memory")
    assert read == [] and not out.exists()
    monkeypatch.setattr(runner, "available_memory", lambda: need)  # exactly enough (a lower bound): fused
    from mutualfuse.cli import main

    assert main(argv + ["-q"]) == 0 and out.exists() and len(read) == 2


def test_progress_counts_the_slices(tmp_path, capsys, monkeypatch):
    import sys

    a, b = _pair(tmp_path, shape=(40, 48, 10))
    calls = []
    volume.fuse_volume(Fuser(method="average"), a, b, tmp_path / "f.nii", batch=4,
                       progress=lambda d, t: calls.append((d, t)))
    assert calls == [(4, 10), (8, 10), (10, 10)]
    from mutualfuse.cli import main

    assert main(["fuse-volume", str(a), str(b), "-o", str(tmp_path / "g.nii"), "--method", "average"]) == 0
    assert "fuse-volume:" not in capsys.readouterr().err  # piped: no bar
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert main(["fuse-volume", str(a), str(b), "-o", str(tmp_path / "g.nii"), "--method", "average"]) == 0
    assert "fuse-volume:" in capsys.readouterr().err
