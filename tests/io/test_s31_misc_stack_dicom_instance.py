"""A ``fuse-stack`` DICOM output of a slab's slices (audit s31, misc) copied the first slice's
InstanceNumber, while its position is the slab's centre (536e12f): a viewer sorted the slab's image
at its first slice, and the slabs of one series (fused with one setting they share a series UID)
by their first slices. Now the middle of the slices' numbers (rounded down), as SliceLocation is
the middle of theirs; empty where a slice has none; a pair at one position keeps the reference's."""
from __future__ import annotations

import pytest

from dicom_files import placed_mr_slice
from mutualfuse.cli import main

pydicom = pytest.importorskip("pydicom")


def _slice(path, seed: int, z: float, number: int | None) -> str:
    return placed_mr_slice(path, seed, z, **({} if number is None else {"InstanceNumber": number}))


def _out(tmp_path, paths, name="edf.dcm"):
    out = tmp_path / name
    assert main(["fuse-stack", *paths, "-o", str(out), "--method", "average", "-q"]) == 0
    return pydicom.dcmread(out)


def test_two_slabs_of_a_series_sort_in_slab_order(tmp_path):
    first = [_slice(tmp_path / f"a{i}.dcm", i, 30.0 + 1.5 * i, 11 + i) for i in range(4)]  # 11 … 14
    second = [_slice(tmp_path / f"b{i}.dcm", 10 + i, 36.0 + 1.5 * i, 15 + i) for i in range(5)]  # 15 … 19
    d1, d2 = _out(tmp_path, first, "s1.dcm"), _out(tmp_path, second, "s2.dcm")
    assert d1.SeriesInstanceUID == d2.SeriesInstanceUID  # one fused series
    assert (int(d1.InstanceNumber), int(d2.InstanceNumber)) == (12, 17)  # was 11 and 15
    assert "InstanceNumber are the slab's" in d1.DerivationDescription
    a, b = _slice(tmp_path / "pa.dcm", 1, 30.0, 7), _slice(tmp_path / "pb.dcm", 2, 30.0, 9)
    out = tmp_path / "f.dcm"  # a pair at one position keeps the reference's number, as before
    assert main(["fuse", a, b, "-o", str(out), "--method", "average", "-q"]) == 0
    assert int(pydicom.dcmread(out).InstanceNumber) == 7


def test_a_slice_without_a_number_leaves_it_empty(tmp_path):
    paths = [_slice(tmp_path / f"a{i}.dcm", i, 30.0 + 1.5 * i, None if i == 2 else 11 + i) for i in range(3)]
    ds = _out(tmp_path, paths)
    assert "InstanceNumber" in ds and ds.data_element("InstanceNumber").is_empty  # Type 2: present, empty

