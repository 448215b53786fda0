"""fuse-volume audit (s19): what the headers say beyond the grid, and files a user really brings.

Each test names what was wrong before: two volumes with one affine in two coordinate spaces
(scanner and MNI152 by their sform/qform codes) fused silently; the Python API overwrote an
input given as the output; a NIfTI whose name says the wrong compression (a browser's download)
and an empty file were refused with nibabel's words only.
"""
from __future__ import annotations

import gzip
import os

import numpy as np
import pytest
from one_line_error import assert_one_line_error  # tests/ is on sys.path

from mutualfuse import Fuser
from mutualfuse.cli import main

nib = pytest.importorskip("nibabel")

AFF = np.array([[0.8, 0, 0, -10], [0, 0.8, 0, -20], [0, 0, 2.0, 5], [0, 0, 0, 1]])
SHAPE = (24, 20, 4)


def _vol(path, seed, sform=None, qform=None, affine=AFF, dtype=np.float32):
    """A small random volume; ``sform``/``qform``: the codes to write (None: nibabel's default,
    sform 2 'aligned' and qform 0)."""
    data = (np.random.default_rng(seed).random(SHAPE) * 500).astype(dtype)
    img = nib.Nifti1Image(data, affine)
    if sform is not None:
        img.header.set_sform(affine if sform else None, code=sform)
    if qform is not None:
        img.header.set_qform(affine if qform else None, code=qform)
    img.update_header = lambda: None  # keep the codes set here (nibabel resets a code 0 sform on save)
    nib.save(img, str(path))
    h = nib.load(str(path)).header
    got = (int(h["sform_code"]), int(h["qform_code"]))
    assert got == (sform if sform is not None else 2, qform if qform is not None else 0), got
    return path


def _argv(d, a, b, *extra, out="f.nii.gz"):
    return ["fuse-volume", str(d / a), str(d / b), "-o", str(d / out), "--method", "average", *extra]


@pytest.mark.parametrize("code_b,name", [(4, "MNI152 space"), (3, "Talairach space"), (5, "another template's space")])
def test_one_affine_in_two_coordinate_spaces_is_refused(tmp_path, capsys, code_b, name):
    """A subject's scanner-space volume (codes 1) and a volume whose equal affine is in a
    template's space were fused, exit 0, with not a word."""
    _vol(tmp_path / "ct.nii.gz", 0, sform=1, qform=1)
    _vol(tmp_path / "tpl.nii.gz", 1, sform=code_b, qform=code_b)
    before = sorted(os.listdir(tmp_path))
    err = assert_one_line_error(capsys, _argv(tmp_path, "ct.nii.gz", "tpl.nii.gz"),
                                f"tpl.nii.gz: its affine is in {name} (sform_code {code_b})",
                                "ct.nii.gz's in scanner space (sform_code 1)", "--ignore-xform-codes")
    assert "register" in err
    assert sorted(os.listdir(tmp_path)) == before


def test_the_code_compared_is_the_one_nibabel_took_the_affine_from(tmp_path, capsys):
    """sform_code 0 and qform_code 4: the affine is the qform's, in MNI152 space."""
    _vol(tmp_path / "ct.nii.gz", 0, sform=1, qform=1)
    _vol(tmp_path / "q.nii.gz", 1, sform=0, qform=4)
    assert_one_line_error(capsys, _argv(tmp_path, "ct.nii.gz", "q.nii.gz"),
                          "q.nii.gz: its affine is in MNI152 space (qform_code 4)")


def test_ignore_xform_codes_fuses_them_as_one_space_with_a_note(tmp_path, capsys):
    _vol(tmp_path / "ants.nii.gz", 0, sform=1, qform=1)  # ANTs writes code 1 even on a template's grid
    _vol(tmp_path / "mni.nii.gz", 1, sform=4, qform=4)
    assert main(_argv(tmp_path, "ants.nii.gz", "mni.nii.gz", "--ignore-xform-codes")) == 0
    err = capsys.readouterr().err
    assert ("note: " + str(tmp_path / "mni.nii.gz") + ": its affine is in MNI152 space (sform_code 4), "
            + str(tmp_path / "ants.nii.gz") + "'s in scanner space (sform_code 1): taken as one space") in err, err
    h = nib.load(str(tmp_path / "f.nii.gz")).header
    assert (int(h["sform_code"]), int(h["qform_code"])) == (1, 1)  # the first volume's header


def test_aligned_and_unknown_codes_are_taken_on_trust_with_a_note(tmp_path, capsys):
    """Code 2 (aligned to another file; nibabel's default for an array and an affine) against
    scanner space, and a volume with codes 0 whose affine (its voxel sizes alone) equals the
    other's: fused, each with a note saying what was assumed."""
    _vol(tmp_path / "ct.nii.gz", 0, sform=1, qform=1)
    _vol(tmp_path / "pet.nii.gz", 1)  # 2 / 0
    assert main(_argv(tmp_path, "ct.nii.gz", "pet.nii.gz")) == 0
    err = capsys.readouterr().err
    assert "pet.nii.gz: its affine is aligned to another file (sform_code 2)" in err and "taken as one space" in err
    base = nib.Nifti1Image(np.zeros(SHAPE, np.float32), None)
    base.header.set_zooms((0.8, 0.8, 2.0))
    bare = base.header.get_best_affine()  # the affine of a header with no space
    _vol(tmp_path / "bare.nii", 2, sform=0, qform=0, affine=bare)
    _vol(tmp_path / "mr.nii", 3, sform=1, qform=1, affine=bare)
    assert main(_argv(tmp_path, "mr.nii", "bare.nii")) == 0
    err = capsys.readouterr().err
    assert "bare.nii: no coordinate space (sform_code and qform_code 0" in err
    assert "mr.nii's grid, in scanner space (sform_code 1)" in err, err


def test_the_same_space_by_both_codes_says_nothing(tmp_path, capsys):
    _vol(tmp_path / "a.nii.gz", 0, sform=4, qform=1)
    _vol(tmp_path / "b.nii.gz", 1, sform=4, qform=4)
    assert main(_argv(tmp_path, "a.nii.gz", "b.nii.gz", "-q")) == 0
    assert capsys.readouterr().err == ""


def test_the_python_api_refuses_an_input_as_the_output(tmp_path):
    """``fuse_volume(fuser, a, b, a)`` replaced the CT with the fused volume (the CLI checked the
    path, the function did not)."""
    from mutualfuse.errors import InputError
    from mutualfuse.volume import fuse_volume

    a, b = _vol(tmp_path / "a.nii.gz", 0, sform=1, qform=1), _vol(tmp_path / "b.nii.gz", 1, sform=1, qform=1)
    before = a.read_bytes()
    with pytest.raises(InputError, match="output path is the same file as input"):
        fuse_volume(Fuser(method="average"), a, b, a)
    assert a.read_bytes() == before


def test_a_name_with_the_wrong_compression_is_named_with_the_fix(tmp_path, capsys):
    """Browsers that undo a server's gzip encoding keep the name .nii.gz; nibabel's 'File x.nii.gz
    is not a gzip file' did not say what to do."""
    _vol(tmp_path / "a.nii.gz", 0, sform=1, qform=1)
    src = _vol(tmp_path / "src.nii.gz", 1, sform=1, qform=1)
    (tmp_path / "plain.nii.gz").write_bytes(gzip.decompress(src.read_bytes()))
    (tmp_path / "packed.nii").write_bytes(src.read_bytes())
    assert_one_line_error(capsys, _argv(tmp_path, "a.nii.gz", "plain.nii.gz"),
                          "plain.nii.gz: a NIfTI file that is not gzip-compressed although named .gz",
                          "rename it to .nii")
    assert_one_line_error(capsys, _argv(tmp_path, "a.nii.gz", "packed.nii"),
                          "packed.nii: a gzip-compressed file although named .nii; rename it to .nii.gz")


def test_an_empty_file_is_said_to_be_empty(tmp_path, capsys):
    _vol(tmp_path / "a.nii.gz", 0, sform=1, qform=1)
    (tmp_path / "b.nii.gz").write_bytes(b"")
    err = assert_one_line_error(capsys, _argv(tmp_path, "a.nii.gz", "b.nii.gz"), "b.nii.gz: file is empty")
    assert "Empty file" not in err
