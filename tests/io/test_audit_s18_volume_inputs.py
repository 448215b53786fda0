"""fuse-volume audit (s18): NIfTI inputs a medical-imaging user brings, and what the command says of them.

Each test names what was wrong before: colour and complex voxels, 2-D files, a misregistered
pair whose message gave only a number, a percentile note without the values it mapped, an
accepted-and-ignored ``--chroma``, the Python API keeping the first volume's ``descrip``, and a
classical method's size error that named no file. The last tests guard the output's geometry
(the first volume's header, qform and sform apart) and its values (self-fusion by ``average``
gives the normalised input back; each slice equals ``mutualfuse fuse`` of that slice pair).
"""
from __future__ import annotations

import os

import numpy as np
import pytest

from mutualfuse import Fuser
from mutualfuse.cli import main
from tolerance import assert_close

nib = pytest.importorskip("nibabel")

AFF = np.array([[0.8, 0, 0, -10], [0, 0.8, 0, -20], [0, 0, 2.0, 5], [0, 0, 0, 1]])
SHAPE = (40, 32, 5)


def _ct(seed=0, shape=SHAPE):
    """A CT-like volume in Hounsfield units: air (-1000), soft tissue, bone."""
    rng = np.random.default_rng(seed)
    x, y = np.mgrid[0:shape[0], 0:shape[1]]
    body = (np.hypot(x - shape[0] / 2, y - shape[1] / 2) < min(shape[:2]) / 3)[..., None]
    v = np.where(body, 40.0, -1000.0) + rng.normal(0, 20, shape)
    v[shape[0] // 2 - 2:shape[0] // 2 + 2, shape[1] // 2 - 2:shape[1] // 2 + 2] = 1500.0
    return v.astype(np.int16)


def _mr(seed=1, shape=SHAPE):
    rng = np.random.default_rng(seed)
    return (rng.random(shape) * 800).astype(np.float32)


def _run(tmp_path, capsys, a, b, out="f.nii.gz", *extra):
    rc = main(["fuse-volume", str(tmp_path / a), str(tmp_path / b), "-o", str(tmp_path / out), *extra])
    cap = capsys.readouterr()
    return rc, cap.out, cap.err.strip().splitlines()


def _refused(tmp_path, capsys, a, b, must, *extra):
    before = sorted(os.listdir(tmp_path))
    rc, _, err = _run(tmp_path, capsys, a, b, "f.nii.gz", *extra)
    assert rc == 2 and len(err) == 1 and err[0].startswith("mutualfuse: error: ") and must in err[0], err
    assert "Traceback" not in err[0]
    assert sorted(os.listdir(tmp_path)) == before  # no output, no temporary file


def test_colour_voxels_are_named_not_a_numpy_message(tmp_path, capsys):
    """An RGB24 NIfTI failed with numpy's 'The DTypes <class VoidDType> and Float64DType do not
    have a common DType'."""
    rgb = np.zeros(SHAPE, dtype=[("R", "u1"), ("G", "u1"), ("B", "u1")])
    rgb["R"] = 100
    nib.save(nib.Nifti1Image(rgb, AFF), str(tmp_path / "rgb.nii.gz"))
    nib.save(nib.Nifti1Image(_ct(), AFF), str(tmp_path / "ct.nii.gz"))
    _refused(tmp_path, capsys, "ct.nii.gz", "rgb.nii.gz", "rgb.nii.gz: colour (RGB) voxels", "--method", "average")


def test_complex_voxels_are_refused_not_silently_made_real(tmp_path, capsys):
    """Complex voxels (MR real/imaginary data) were fused from their real part alone, exit 0, with
    numpy's ComplexWarning on stderr."""
    c = (_mr() + 1j * _mr(seed=5)).astype(np.complex64)
    nib.save(nib.Nifti1Image(c, AFF), str(tmp_path / "c.nii.gz"))
    nib.save(nib.Nifti1Image(_ct(), AFF), str(tmp_path / "ct.nii.gz"))
    _refused(tmp_path, capsys, "ct.nii.gz", "c.nii.gz", "c.nii.gz: complex voxels (complex64)", "--method", "average")


def test_a_2d_nifti_is_fused_as_one_slice_and_stays_2d(tmp_path, capsys):
    """A 2-D NIfTI was refused with 'split a 4-D series into volumes first'; it is one slice."""
    ct, mr = _ct()[:, :, 2], _mr()[:, :, 2]
    nib.save(nib.Nifti1Image(ct, AFF), str(tmp_path / "ct.nii"))
    nib.save(nib.Nifti1Image(mr, AFF), str(tmp_path / "mr.nii"))
    rc, out, err = _run(tmp_path, capsys, "ct.nii", "mr.nii", "f.nii", "--method", "lp", "--param", "levels=2")
    assert rc == 0 and "(40x32, 1 slice across axis 2," in out, (out, err)
    img = nib.load(str(tmp_path / "f.nii"))
    assert img.shape == (40, 32) and np.allclose(img.affine, AFF)
    a = _pscale(ct.astype(np.float64))
    b = _pscale(mr.astype(np.float64))
    assert_close(np.asarray(img.dataobj), Fuser("lp", levels=2).fuse(a, b), dtype=np.float32)


def _pscale(v, lo=0.1, hi=99.9):
    a, b = np.percentile(v, [lo, hi])
    return np.clip((v - a) / (b - a), 0, 1)


@pytest.mark.parametrize("make_b,must", [
    (lambda: np.diag([-1, -1, 1, 1]) @ AFF, "its voxel axes point to LPS, {a}'s to RAS"),  # LPS vs RAS
    (lambda: AFF @ np.diag([-1, 1, 1, 1]), "its voxel axes point to LAS, {a}'s to RAS"),  # a flipped axis
    (lambda: AFF @ np.diag([1, 1, 1.25, 1]), "its voxels are 0.8x0.8x2.5 mm, {a}'s 0.8x0.8x2 mm"),
    (lambda: AFF + np.array([[0, 0, 0, 0.5], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]),
     "its origin is 0.5 mm from {a}'s"),
])
def test_a_misregistered_pair_is_told_how_it_differs(tmp_path, capsys, make_b, must):
    """The message was 'its affine (voxel-to-world) differs ... by up to 40 mm' whatever the cause."""
    nib.save(nib.Nifti1Image(_ct(), AFF), str(tmp_path / "ct.nii.gz"))
    nib.save(nib.Nifti1Image(_mr(), make_b()), str(tmp_path / "mr.nii.gz"))
    a = str(tmp_path / "ct.nii.gz")
    _refused(tmp_path, capsys, "ct.nii.gz", "mr.nii.gz", f"mr.nii.gz: not on {a}'s voxel grid: " + must.format(a=a),
             "--method", "average")


def test_float_noise_in_the_affine_and_qform_vs_sform_are_one_grid(tmp_path, capsys):
    """Registered volumes written by different tools: the same oblique grid as sform + qform in
    one file and as a qform alone (a float32 quaternion) in the other, plus float noise."""
    rot = nib.eulerangles.euler2mat(0.3, 0.2, 0.1)
    q = np.eye(4)
    q[:3, :3] = rot @ np.diag([0.4688, 0.4688, 5.0])
    q[:3, 3] = [-123.456, 98.7654, -45.678]
    nib.save(nib.Nifti1Image(_ct(), q + 1e-7), str(tmp_path / "ct.nii.gz"))
    img = nib.Nifti1Image(_mr(), None)
    img.header.set_qform(q, code=1)
    img.header.set_sform(None, code=0)
    nib.save(img, str(tmp_path / "mr.nii.gz"))
    rc, out, err = _run(tmp_path, capsys, "ct.nii.gz", "mr.nii.gz", "f.nii.gz", "--method", "average", "-q")
    assert rc == 0, err
    assert np.allclose(nib.load(str(tmp_path / "f.nii.gz")).affine, q, atol=1e-5)


def test_nan_voxels_are_counted_with_a_way_out(tmp_path, capsys):
    mr = _mr()
    mr[0, 0, :3] = np.nan
    mr[1, 1, 1] = np.inf
    nib.save(nib.Nifti1Image(_ct(), AFF), str(tmp_path / "ct.nii.gz"))
    nib.save(nib.Nifti1Image(mr, AFF), str(tmp_path / "mr.nii.gz"))
    _refused(tmp_path, capsys, "ct.nii.gz", "mr.nii.gz", "mr.nii.gz: 4 of its 6400 voxels are NaN or infinite",
             "--method", "average")


def test_the_percentile_note_says_the_values_it_maps(tmp_path, capsys):
    """The note said 'scaled by its 0.1-99.9 percentiles' without the values (a CT user cannot
    tell the window), and offered '--normalize full' to a signed CT, which full refuses."""
    ct, mr16 = _ct(), (np.random.default_rng(2).random(SHAPE) * 4000).astype(np.uint16)
    img = nib.Nifti1Image(ct, AFF)
    img.header.set_slope_inter(1.0, 0.0)
    nib.save(img, str(tmp_path / "ct.nii.gz"))
    nib.save(nib.Nifti1Image(mr16, AFF), str(tmp_path / "mr.nii.gz"))
    rc, _, err = _run(tmp_path, capsys, "ct.nii.gz", "mr.nii.gz", "f.nii.gz", "--method", "average")
    assert rc == 0, err
    lo, hi = np.percentile(ct.astype(np.float64), [0.1, 99.9])
    ct_note = [n for n in err if "ct.nii.gz: volume scaled" in n]
    assert len(ct_note) == 1 and f"({lo:.6g} → 0, {hi:.6g} → 1, clipped; one mapping for all slices)" in ct_note[0]
    assert "--normalize full" not in ct_note[0]  # int16: full refuses it
    mr_note = [n for n in err if "mr.nii.gz: volume scaled" in n]
    assert len(mr_note) == 1 and "--normalize full: its type's range, 0 to 65535" in mr_note[0]


def test_chroma_is_refused_not_ignored(tmp_path, capsys):
    nib.save(nib.Nifti1Image(_ct(), AFF), str(tmp_path / "ct.nii.gz"))
    nib.save(nib.Nifti1Image(_mr(), AFF), str(tmp_path / "mr.nii.gz"))
    _refused(tmp_path, capsys, "ct.nii.gz", "mr.nii.gz", "--chroma a: a volume has one value a voxel",
             "--method", "average", "--chroma", "a")
    assert main(["fuse-volume", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "--chroma" not in text and "detected on its central slice pair" in text
    assert "auto = the task detected per pair" not in text


def test_python_api_does_not_keep_the_first_volumes_descrip(tmp_path):
    """``fuse_volume`` without ``description`` kept the first volume's descrip (a scanner's
    'TE=30;Time=...', or a patient's name) in the fused volume's header."""
    from mutualfuse.volume import fuse_volume

    img = nib.Nifti1Image(_ct(), AFF)
    img.header["descrip"] = b"TE=30;Time=101112.000 DOE^JOHN"
    nib.save(img, str(tmp_path / "ct.nii.gz"))
    nib.save(nib.Nifti1Image(_mr(), AFF), str(tmp_path / "mr.nii.gz"))
    fuse_volume(Fuser("average"), tmp_path / "ct.nii.gz", tmp_path / "mr.nii.gz", tmp_path / "f.nii")
    d = bytes(nib.load(str(tmp_path / "f.nii")).header["descrip"]).rstrip(b"\0")
    assert b"DOE" not in d and d.startswith(b"mutualfuse ") and b"fuse-volume method average axis 2" in d


def test_a_method_too_deep_for_the_slices_names_the_volumes(tmp_path, capsys):
    """'method lp: levels=6 is too deep for a 32x40 image' named neither file nor axis."""
    nib.save(nib.Nifti1Image(_ct(), AFF), str(tmp_path / "ct.nii.gz"))
    nib.save(nib.Nifti1Image(_mr(), AFF), str(tmp_path / "mr.nii.gz"))
    a, b = tmp_path / "ct.nii.gz", tmp_path / "mr.nii.gz"
    _refused(tmp_path, capsys, "ct.nii.gz", "mr.nii.gz", f"{a}, {b}: slices 32x40 across axis 2: method 'lp': levels=6",
             "--method", "lp", "--param", "levels=6")


def test_output_geometry_is_the_first_volumes_with_qform_and_sform_apart(tmp_path, capsys):
    """A converter's header: X x Y x Z x 1, an oblique scanner qform (code 1) and a different
    aligned sform (code 2), mm/s units, slice timing; anisotropic voxels; --axis 0."""
    rot = nib.eulerangles.euler2mat(0.1, 0.05, 0.0)
    q = np.eye(4)
    q[:3, :3] = rot @ np.diag([0.9, 0.7, 3.0])
    q[:3, 3] = [-20, 10, 30]
    s = q.copy()
    s[:3, 3] += [1.0, 0, 0]
    shape = (20, 16, 10)
    for name, d in (("ct", _ct(shape=shape)[..., None]), ("mr", _mr(shape=shape)[..., None])):
        img = nib.Nifti1Image(d, None)
        img.header.set_qform(q, code=1)
        img.header.set_sform(s, code=2)
        img.header.set_xyzt_units("mm", "sec")
        img.header.set_dim_info(freq=0, phase=1, slice=2)
        nib.save(img, str(tmp_path / f"{name}.nii.gz"))
    rc, out, err = _run(tmp_path, capsys, "ct.nii.gz", "mr.nii.gz", "f.nii.gz", "--method", "average", "--axis", "0")
    assert rc == 0 and "(20x16x10, 20 slices across axis 0," in out, err
    a, f = nib.load(str(tmp_path / "ct.nii.gz")), nib.load(str(tmp_path / "f.nii.gz"))
    assert f.shape == shape and f.get_data_dtype() == np.float32
    ha, hf = a.header, f.header
    assert np.array_equal(hf.get_qform(), ha.get_qform()) and np.array_equal(hf.get_sform(), ha.get_sform())
    assert (int(hf["qform_code"]), int(hf["sform_code"])) == (1, 2)
    assert np.array_equal(hf["pixdim"][1:4], ha["pixdim"][1:4]) and hf.get_xyzt_units() == ("mm", "sec")
    assert hf.get_dim_info() == (0, 1, 2) and hf.get_slope_inter() in ((1.0, 0.0), (None, None))


def test_a_volume_fused_with_itself_by_average_is_its_values(tmp_path, capsys):
    """Float voxels in [0, 1] with --normalize full: the output is the input (float32)."""
    v = np.random.default_rng(4).random(SHAPE)
    nib.save(nib.Nifti1Image(v, AFF), str(tmp_path / "v.nii.gz"))  # float64 on disk
    rc, _, err = _run(tmp_path, capsys, "v.nii.gz", "v.nii.gz", "f.nii", "--method", "average", "--normalize", "full")
    assert rc == 0, err
    assert_close(np.asarray(nib.load(str(tmp_path / "f.nii")).dataobj), v, dtype=np.float32)
    # scaled int16 (scl_slope / scl_inter) under auto: the percentile-scaled values of the scaled voxels
    ct = _ct()
    img = nib.Nifti1Image(ct, AFF)
    img.header.set_slope_inter(0.5, -100.0)
    nib.save(img, str(tmp_path / "s.nii.gz"))
    rc, _, err = _run(tmp_path, capsys, "s.nii.gz", "s.nii.gz", "g.nii", "--method", "average")
    assert rc == 0 and sum("s.nii.gz: volume scaled" in n for n in err) == 1, err
    assert_close(np.asarray(nib.load(str(tmp_path / "g.nii")).dataobj), _pscale(ct * 0.5 - 100.0), dtype=np.float32)


def test_each_slice_is_fuse_of_that_slice_pair(tmp_path, capsys):
    """The network, task fixed: slice i of fuse-volume equals `mutualfuse fuse` of slice i of
    both volumes, saved as float TIFFs already normalised the volume's way."""
    tifffile = pytest.importorskip("tifffile")
    ct, mr = _ct(shape=(24, 20, 3)), _mr(shape=(24, 20, 3))
    nib.save(nib.Nifti1Image(ct, AFF), str(tmp_path / "ct.nii.gz"))
    nib.save(nib.Nifti1Image(mr, AFF), str(tmp_path / "mr.nii.gz"))
    opts = ["--device", "cpu", "--task", "medical", "-q"]
    rc, _, err = _run(tmp_path, capsys, "ct.nii.gz", "mr.nii.gz", "f.nii", *opts)
    assert rc == 0, err
    got = np.asarray(nib.load(str(tmp_path / "f.nii")).dataobj)
    a, b = _pscale(ct.astype(np.float64)), _pscale(mr.astype(np.float64))
    for i in range(ct.shape[2]):
        tifffile.imwrite(tmp_path / "a.tif", a[:, :, i].astype(np.float32))
        tifffile.imwrite(tmp_path / "b.tif", b[:, :, i].astype(np.float32))
        assert main(["fuse", str(tmp_path / "a.tif"), str(tmp_path / "b.tif"), "-o", str(tmp_path / "s.tif"),
                     "--bit-depth", "float", "--normalize", "full", *opts]) == 0
        assert_close(got[:, :, i], tifffile.imread(tmp_path / "s.tif"), dtype=np.float32)
