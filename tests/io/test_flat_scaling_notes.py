"""The notes about an input's intensity mapping say what was done where the percentile mapping
falls back: an image whose percentiles are equal is mapped by its minimum and maximum, a flat
image keeps its value (v/65535 for 16 bits); the notes said "scaled by percentile" for both."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mutualfuse import Fuser
from mutualfuse.cli import main
from mutualfuse.io.samples import percentile_scale
from tolerance import assert_close


@pytest.fixture()
def files(tmp_path):
    flat = np.full((40, 48), 1000, np.uint16)
    near = np.full((40, 48), 500, np.uint16)
    near[0, 0] = 60000  # one outlier: p0.1 = p99.9 = 500
    ramp = np.tile(np.linspace(0, 65535, 48), (40, 1)).astype(np.uint16)
    other = np.random.default_rng(0).integers(0, 256, (40, 48)).astype(np.uint8)
    for name, x in (("flat", flat), ("near", near), ("ramp", ramp), ("other", other)):
        Image.fromarray(x).save(tmp_path / f"{name}.png")
    return tmp_path


@pytest.mark.parametrize("name,says,not_says", [
    ("flat", "16-bit input is flat (every sample 1000): not stretched, kept at 1000/65535", "scaled by"),
    ("near", "16-bit input scaled by its minimum and maximum (500 → 0, 60000 → 1; its p0.1 and p99.9 percentiles "
             "are equal)", "scaled by percentile"),
    ("ramp", "16-bit input scaled by percentile", "minimum and maximum"),
])
def test_fuse_names_the_mapping_it_used(files, capsys, name, says, not_says):
    out = files / f"{name}-f.png"
    assert main(["fuse", str(files / f"{name}.png"), str(files / "other.png"), "-o", str(out),
                 "--method", "average"]) == 0
    err = capsys.readouterr().err
    assert says in err and not_says not in err.split(f"{name}.png:")[1].splitlines()[0]


def test_the_mapping_is_what_the_note_says(files):
    from mutualfuse.image_io import read_image

    flat, info = read_image(files / "flat.png")
    assert_close(flat, np.full((40, 48), 1000 / 65535), dtype=np.float64)
    assert info.normalization == "percentile" and info.scaling.startswith("is flat")
    near, info = read_image(files / "near.png")
    assert near[0, 0] == 1 and near.max() == 1 and near.min() == 0 and (near == 0).sum() == near.size - 1
    assert info.scaling.startswith("scaled by its minimum")
    _, info = read_image(files / "ramp.png")
    assert info.scaling == "" and info.scaled_how() == "scaled by percentile"


def test_api_notes_name_the_fallback_per_image():
    f = Fuser("average")
    f.fuse(np.full((16, 16), 1000, np.uint16), np.zeros((16, 16), np.uint8))
    assert f.report.notes == ["a: 16-bit input is flat (every sample 1000): not stretched, kept at 1000/65535 of its "
                              "type's range"]
    f.fuse(np.full((16, 16), 3.0), np.zeros((16, 16), np.uint8))
    assert f.report.notes == ["a: float input is flat (every sample 3): not stretched, kept at that value, clipped "
                              "to [0, 1]"]
    import torch

    batch = torch.stack([torch.full((1, 16, 16), 7.0), torch.arange(16.0).repeat(1, 16, 1)])  # (2, 1, 16, 16)
    f.fuse(batch, torch.zeros(2, 1, 16, 16))
    notes = f.report.notes
    assert any(n.startswith("a: float input (batch image 0, from 0) is flat (every sample 7)") for n in notes), notes
    assert any("batch image 1 (from 0)" in n and "scaled by percentile" in n for n in notes), notes


def test_percentile_scale_detail_is_only_for_fallbacks():
    d: list[str] = []
    percentile_scale(np.arange(100.0), 1, 99, 1.0, d)
    assert d == []
    percentile_scale(np.full(10, 0.25), 1, 99, 1.0, d)
    assert d == ["is flat (every sample 0.25): not stretched, kept at that value"]


def test_flat_volume_note(tmp_path, capsys):
    nib = pytest.importorskip("nibabel")
    aff = np.eye(4)
    nib.save(nib.Nifti1Image(np.full((24, 20, 3), 700, np.int16), aff), str(tmp_path / "a.nii"))
    nib.save(nib.Nifti1Image(np.random.default_rng(1).random((24, 20, 3)).astype(np.float32) * 9, aff),
             str(tmp_path / "b.nii"))
    assert main(["fuse-volume", str(tmp_path / "a.nii"), str(tmp_path / "b.nii"), "-o", str(tmp_path / "f.nii"),
                 "--method", "average"]) == 0
    err = capsys.readouterr().err
    assert "a.nii: volume is flat (every voxel 700): mapped to 1, not stretched" in err
    assert "b.nii: volume scaled by its 0.1-99.9 percentiles" in err
