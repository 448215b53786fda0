"""A ``fuse-stack`` DICOM output of slices at different positions (an extended-depth image of a
slab) is placed at the slab's centre with the slab's thickness, and its DerivationDescription
says so; it carried the first slice's ImagePositionPatient, SliceLocation and SliceThickness, so a
viewer showed it at the stack's first slice. Sources in different planes get no position. A pair
at one position keeps it."""
from __future__ import annotations

import numpy as np
import pytest

from dicom_files import placed_mr_slice
from mutualfuse.cli import main

pydicom = pytest.importorskip("pydicom")


def _slice(path, seed: int, z: float, orientation=(1, 0, 0, 0, 1, 0)) -> str:
    return placed_mr_slice(path, seed, z, orientation=orientation, WindowCenter=2048, WindowWidth=4096)


def _fuse_stack(tmp_path, capsys, paths, cmd="fuse-stack"):
    out = tmp_path / "edf.dcm"
    assert main([cmd, *paths, "-o", str(out), "--method", "average", "-q"]) == 0
    capsys.readouterr()
    return pydicom.dcmread(out)


def test_a_stack_is_placed_at_its_slabs_centre(tmp_path, capsys):
    paths = [_slice(tmp_path / f"IM{i}.dcm", i, 30.0 + 1.5 * i) for i in range(5)]  # z 30 … 36
    ds = _fuse_stack(tmp_path, capsys, paths)
    assert [float(v) for v in ds.ImagePositionPatient] == pytest.approx([-100.0, -120.0, 33.0])
    assert float(ds.SliceLocation) == pytest.approx(33.0)
    assert float(ds.SliceThickness) == pytest.approx(8.0)  # 6 mm between the outer slices, and their 2
    assert "centre of its 5 DICOM sources, a slab 8 mm thick (30 to 36 mm along the slice normal" in \
        ds.DerivationDescription, ds.DerivationDescription
    assert [float(v) for v in ds.PixelSpacing] == [0.5, 0.5]  # the rest as before


def test_sources_in_different_planes_get_no_position(tmp_path, capsys):
    paths = [_slice(tmp_path / "ax.dcm", 1, 30.0), _slice(tmp_path / "cor.dcm", 2, 40.0, orientation=[1, 0, 0, 0, 0, -1])]
    ds = _fuse_stack(tmp_path, capsys, paths)
    assert "ImagePositionPatient" not in ds and "SliceLocation" not in ds
    assert "no ImagePositionPatient written" in ds.DerivationDescription


def test_a_pair_at_one_position_keeps_it(tmp_path, capsys):
    paths = [_slice(tmp_path / "a.dcm", 1, 30.0), _slice(tmp_path / "b.dcm", 2, 30.0)]
    ds = _fuse_stack(tmp_path, capsys, paths, "fuse")
    assert [float(v) for v in ds.ImagePositionPatient] == [-100.0, -120.0, 30.0]
    assert float(ds.SliceThickness) == 2.0 and float(ds.SliceLocation) == 30.0
    assert "slab" not in ds.DerivationDescription


def test_a_localizer_among_the_slices_is_said(tmp_path, capsys):
    """A series folder holding a localizer (scout) of the slices' size but another orientation:
    it is fused as a plane (the stack is registered by assumption), and a note names it and how
    it differs; the slices that agree get no note. It was fused without a word."""
    folder = tmp_path / "series"
    folder.mkdir()
    for i in range(3):
        _slice(folder / f"IM{i + 1}.dcm", i, 30.0 + 1.5 * i)
    _slice(folder / "IM4.dcm", 9, 0.0, orientation=[0, 1, 0, 0, 0, -1])
    assert main(["fuse-stack", str(folder), "-o", str(tmp_path / "edf.png"), "--method", "average"]) == 0
    err = capsys.readouterr().err
    assert "note: 1 of the stack's 4 DICOM images differ from IM1.dcm (IM4.dcm: ImageOrientationPatient" in err, err
    assert err.count("differ from") == 1
    (folder / "IM4.dcm").unlink()
    assert main(["fuse-stack", str(folder), "-o", str(tmp_path / "edf2.png"), "--method", "average"]) == 0
    assert "differ from" not in capsys.readouterr().err


def test_a_folder_of_dicom_slices_is_fused_in_position_order(tmp_path, capsys):
    """Slices named in acquisition order (interleaved: 1, 3, 5, 2, 4) or by UID: the folder's
    stack is ordered by position along the normal, as fuse-volume orders a series, with a note
    (the tree fuses neighbours first; name order paired slices far apart). Given by name, the
    files keep the order given."""
    folder = tmp_path / "series"
    folder.mkdir()
    zs = [30.0, 33.0, 36.0, 31.5, 34.5]  # IM1 … IM5 acquired interleaved
    paths = [_slice(folder / f"IM{i + 1}.dcm", i, z) for i, z in enumerate(zs)]
    planes = {}

    def run(args, key):
        from mutualfuse.cli import build_parser
        from mutualfuse.cli.fuse_stack import fuse_stack_files

        ns = build_parser().parse_args(["fuse-stack", *args, "-o", str(tmp_path / f"{key}.png"), "--method", "lp"])
        done = fuse_stack_files(ns, planes=lambda xs: planes.__setitem__(key, [x.copy() for x in xs]))
        return done.notes

    notes = run([str(folder)], "folder")
    assert any("the 5 DICOM slices fused in the order of their positions along the slice normal" in n for n in notes), notes
    by_z = [paths[i] for i in np.argsort(zs)]
    run(by_z, "byz")
    assert all(np.array_equal(a, b) for a, b in zip(planes["folder"], planes["byz"]))
    notes = run(paths, "names")  # by name: the order given
    assert not any("order of their positions" in n for n in notes)
    assert not all(np.array_equal(a, b) for a, b in zip(planes["folder"], planes["names"]))


def test_sources_on_two_frames_of_reference_keep_the_first_place(tmp_path, capsys):
    """A CT and an MR of two sessions (two FrameOfReferenceUIDs): their positions are numbers in
    two coordinate systems, so the output keeps the reference's place, as before."""
    a = _slice(tmp_path / "ct.dcm", 1, 30.0)
    b = _slice(tmp_path / "mr.dcm", 2, 80.0)
    ds = pydicom.dcmread(b)
    ds.FrameOfReferenceUID = "1.2.3.99"
    ds.save_as(b)
    ds = _fuse_stack(tmp_path, capsys, [a, b], "fuse")
    assert [float(v) for v in ds.ImagePositionPatient] == [-100.0, -120.0, 30.0] and float(ds.SliceThickness) == 2.0
    assert "slab" not in ds.DerivationDescription and "ImagePositionPatient" not in ds.DerivationDescription
