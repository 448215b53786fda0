"""A DICOM series folder read as a volume (mutualfuse.dicom_series, fuse-volume's folder inputs):
order by position along the slice normal, per-slice rescale, the LPS→RAS affine (by hand and
against nibabel's DICOM wrapper), skipped files."""
from __future__ import annotations

import os

import numpy as np
import pytest

pydicom = pytest.importorskip("pydicom")
nib = pytest.importorskip("nibabel")

AXIAL = (1, 0, 0, 0, 1, 0)
SAGITTAL = (0, 1, 0, 0, 0, -1)
# rotated 20 degrees about z, then 10 about x: an oblique plane
_a, _b = np.deg2rad(20), np.deg2rad(10)
_R = np.array([[1, 0, 0], [0, np.cos(_b), -np.sin(_b)], [0, np.sin(_b), np.cos(_b)]]) @ np.array(
    [[np.cos(_a), -np.sin(_a), 0], [np.sin(_a), np.cos(_a), 0], [0, 0, 1]])
OBLIQUE = tuple(np.round(np.concatenate([_R[:, 0], _R[:, 1]]), 8))


def make_series(folder, stored, iop=AXIAL, spacing=(0.7, 0.9), step=2.5, origin=(-30.0, 12.0, 40.0),
                slopes=None, intercepts=None, series_uid=None, description="CT axial", names=None,
                positions=None, modality="CT", signed=False, **extra):
    """Write ``stored`` (rows, columns, slices: the stored integer samples) as one DICOM slice file
    a slice in ``folder``; slice k at ``origin + k * step * normal``; file names shuffled and
    InstanceNumber reversed (neither is the slice order). Returns the file paths in slice order."""
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    folder.mkdir(parents=True, exist_ok=True)
    rows, cols, n = stored.shape
    iop = np.asarray(iop, float)
    normal = np.cross(iop[:3], iop[3:])
    series_uid = series_uid or generate_uid()
    frame = generate_uid(entropy_srcs=[str(folder), "frame"])
    rng = np.random.default_rng(len(str(folder)))
    names = names or [f"IM{v:04d}" for v in rng.permutation(1000)[:n]]
    paths = []
    for k in range(n):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        p = folder / names[k]
        ds = FileDataset(str(p), {}, file_meta=meta, preamble=b"\0" * 128)
        ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
        ds.Modality, ds.SeriesInstanceUID, ds.SeriesDescription = modality, series_uid, description
        ds.FrameOfReferenceUID, ds.StudyInstanceUID = frame, generate_uid(entropy_srcs=[str(folder), "study"])
        ds.InstanceNumber = n - k
        ds.Rows, ds.Columns = rows, cols
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
        ds.PixelRepresentation = 1 if signed else 0
        ds.ImageOrientationPatient = [f"{v:.8g}" for v in iop]
        pos = np.asarray(origin) + k * step * normal if positions is None else np.asarray(positions[k])
        ds.ImagePositionPatient = [f"{v:.6f}" for v in pos]
        ds.PixelSpacing = [f"{v:g}" for v in spacing]
        ds.SliceThickness = f"{step:g}"
        if slopes is not None:
            ds.RescaleSlope, ds.RescaleIntercept = f"{slopes[k]:g}", f"{intercepts[k]:g}"
        for key, v in extra.items():
            setattr(ds, key, v)
        ds.PixelData = stored[:, :, k].astype(np.int16 if signed else np.uint16).tobytes()
        ds.save_as(str(p), enforce_file_format=True)
        paths.append(p)
    return paths


def _hand_affine(iop, spacing, step, origin):
    """RAS affine of the ITK voxel order (i column, j row, k slice) computed by hand."""
    r, c = np.asarray(iop[:3], float), np.asarray(iop[3:], float)
    lps = np.eye(4)
    lps[:3, 0], lps[:3, 1], lps[:3, 2] = r * spacing[1], c * spacing[0], np.cross(r, c) * step
    lps[:3, 3] = origin
    return np.diag([-1, -1, 1, 1]) @ lps


@pytest.mark.parametrize("iop", [AXIAL, SAGITTAL, OBLIQUE], ids=["axial", "sagittal", "oblique"])
def test_affine_is_lps_to_ras_by_hand_and_as_nibabel_wrapper(tmp_path, iop):
    from mutualfuse.dicom_series import open_series

    rng = np.random.default_rng(1)
    stored = rng.integers(0, 4000, (12, 10, 5))
    paths = make_series(tmp_path / "s", stored, iop=iop)
    s = open_series(tmp_path / "s", 2**31)
    assert s.shape == (10, 12, 5)  # columns, rows, slices
    want = _hand_affine(iop, (0.7, 0.9), 2.5, (-30.0, 12.0, 40.0))
    np.testing.assert_allclose(s.affine, want, rtol=0, atol=1e-5)  # positions written to 1e-6 mm
    # nibabel's DICOM wrapper: its (row, column) voxel order, LPS coordinates
    import warnings

    with warnings.catch_warnings():  # "The DICOM readers are highly experimental" (on import)
        warnings.simplefilter("ignore")
        from nibabel.nicom.dicomwrappers import wrapper_from_data

        w = wrapper_from_data(pydicom.dcmread(str(paths[0])))
    flip = np.diag([-1, -1, 1])
    np.testing.assert_allclose(s.affine[:3, [1, 0]], flip @ w.affine[:3, :2], rtol=0, atol=1e-6)
    np.testing.assert_allclose(s.affine[:3, 3], flip @ w.affine[:3, 3], rtol=0, atol=1e-6)
    # nibabel's normal is column x row cosines (right-handed for its row, column order); the
    # column, row order takes row x column, the other sign
    np.testing.assert_allclose(s.affine[:3, 2], flip @ -w.slice_normal * 2.5, rtol=0, atol=1e-5)
    # every slice's own position is where the affine puts its first voxel
    for k, p in enumerate(paths):
        ipp = np.array([float(v) for v in pydicom.dcmread(str(p)).ImagePositionPatient])
        np.testing.assert_allclose(s.affine @ [0, 0, k, 1], [*(flip @ ipp), 1], rtol=0, atol=1e-5)
    # nibabel's own orientation codes for the axial and sagittal planes
    codes = "".join(nib.orientations.aff2axcodes(s.affine))
    assert codes == {AXIAL: "LPS", SAGITTAL: "PIR"}.get(iop, codes)  # sagittal: k along r x c = LPS (-1, 0, 0), right


def test_slices_are_ordered_by_position_and_each_rescaled(tmp_path):
    from mutualfuse.dicom_series import open_series

    rng = np.random.default_rng(2)
    stored = rng.integers(0, 4000, (12, 10, 6))
    slopes = [1, 0.5, 2, 1, 0.25, 1.5]
    inters = [-1024, -1000, -2048, 0, 10, -500]
    # positions given out of order: slice k of ``stored`` sits at z = 40 - 2.5 * k (descending)
    pos = [(-30.0, 12.0, 40.0 - 2.5 * k) for k in range(6)]
    make_series(tmp_path / "s", stored, slopes=slopes, intercepts=inters, positions=pos)
    s = open_series(tmp_path / "s", 2**31)
    data = s.read()
    want = stored * np.array(slopes, float) + np.array(inters, float)  # per slice
    # sorted by position along the normal (+z): the last written slice first
    np.testing.assert_array_equal(data, np.transpose(want[:, :, ::-1], (1, 0, 2)))
    assert s.affine[2, 3] == pytest.approx(40.0 - 2.5 * 5) and s.affine[2, 2] == pytest.approx(2.5)


def test_non_dicom_files_dicomdir_and_subfolders_are_skipped_with_a_note(tmp_path):
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    from mutualfuse.dicom_series import open_series

    make_series(tmp_path / "s", np.ones((10, 10, 3), int))
    (tmp_path / "s" / "README.txt").write_text("exported by a PACS\n")
    (tmp_path / "s" / "sub").mkdir()
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.1.3.10"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(tmp_path / "s" / "DICOMDIR"), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.save_as(str(tmp_path / "s" / "DICOMDIR"), enforce_file_format=True)
    s = open_series(tmp_path / "s", 2**31)
    assert s.shape == (10, 10, 3)
    text = "\n".join(s.notes)
    assert "1 non-DICOM file skipped, e.g. README.txt" in text and "1 DICOMDIR skipped" in text
    assert "1 subfolder skipped (not searched)" in text
    assert os.listdir(tmp_path / "s")  # nothing removed


def test_enhanced_single_frame_slices_take_place_and_rescale_from_functional_groups(tmp_path):
    """Enhanced CT files of one frame each keep position, orientation, spacing and rescale in
    functional groups, not at the top level: the same volume and affine as the classic files."""
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    from mutualfuse.dicom_series import open_series

    stored = np.random.default_rng(5).integers(0, 4000, (12, 10, 4))
    slopes, inters = [1, 2, 0.5, 1], [-1024, -2048, -500, 0]
    paths = make_series(tmp_path / "enh", stored, iop=OBLIQUE, slopes=slopes, intercepts=inters)
    make_series(tmp_path / "classic", stored, iop=OBLIQUE, slopes=slopes, intercepts=inters)

    def item(**kw):
        d = Dataset()
        for k, v in kw.items():
            setattr(d, k, v)
        return Sequence([d])

    for p in paths:
        ds = pydicom.dcmread(str(p))
        shared, per = Dataset(), Dataset()
        shared.PixelMeasuresSequence = item(PixelSpacing=ds.PixelSpacing, SliceThickness=ds.SliceThickness)
        shared.PlaneOrientationSequence = item(ImageOrientationPatient=ds.ImageOrientationPatient)
        per.PlanePositionSequence = item(ImagePositionPatient=ds.ImagePositionPatient)
        per.PixelValueTransformationSequence = item(RescaleSlope=ds.RescaleSlope, RescaleIntercept=ds.RescaleIntercept)
        for k in ("PixelSpacing", "SliceThickness", "ImageOrientationPatient", "ImagePositionPatient", "RescaleSlope",
                  "RescaleIntercept"):
            del ds[k]
        ds.SharedFunctionalGroupsSequence, ds.PerFrameFunctionalGroupsSequence = Sequence([shared]), Sequence([per])
        ds.NumberOfFrames = 1
        ds.save_as(str(p))
    e, c = open_series(tmp_path / "enh", 2**31), open_series(tmp_path / "classic", 2**31)
    np.testing.assert_array_equal(e.affine, c.affine)
    np.testing.assert_array_equal(e.read(), c.read())
