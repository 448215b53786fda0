"""Small DICOM test files written with pydicom (imported by name from test files:
``from dicom_files import dicom_image, placed_mr_slice``; tests/conftest.py puts tests/ on the path)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

SOP_CLASSES = {"MR": "1.2.840.10008.5.1.4.1.1.4", "CT": "1.2.840.10008.5.1.4.1.1.2"}


def dicom_image(path, seed: int, *, modality: str = "MR", size: tuple[int, int] = (40, 48), high: int = 4000,
                uid: str | None = None, **tags) -> str:
    """A Part 10 file (preamble, ``DICM``, explicit VR little endian) of one 12-bit gray image of
    ``size`` with random stored values in [0, ``high``) (seeded), of ``modality``, and the data
    elements ``tags`` (keyword → value, set in the given order). Returns the path as a str."""
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SOP_CLASSES[modality]
    meta.MediaStorageSOPInstanceUID = uid or generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    ds.Modality = modality
    for k, v in tags.items():
        setattr(ds, k, v)
    stored = np.random.default_rng(seed).integers(0, high, size)
    ds.Rows, ds.Columns = stored.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PixelData = stored.astype(np.uint16).tobytes()
    ds.save_as(str(path), enforce_file_format=True)
    return str(path)


def placed_mr_slice(path, seed: int, z: float, *, orientation=(1, 0, 0, 0, 1, 0), slice_location: bool = True,
                    spacing=(0.5, 0.5), **tags) -> str:
    """An axial-by-default MR slice of patient P1, study 1.2.3.8, series 1.2.3.8.1, frame of
    reference 1.2.3.7, at ImagePositionPatient (-100, -120, ``z``), 2 mm thick, ``spacing`` mm
    pixels, SOP instance UID 1.2.3.9.<seed> (:func:`dicom_image`, values in [0, 4096)), with
    SliceLocation ``z`` unless ``slice_location`` is False, and any further ``tags``."""
    placed = dict(PatientID="P1", StudyInstanceUID="1.2.3.8", SeriesInstanceUID="1.2.3.8.1",
                  FrameOfReferenceUID="1.2.3.7", ImageOrientationPatient=list(orientation),
                  ImagePositionPatient=[-100.0, -120.0, z])
    if slice_location:
        placed["SliceLocation"] = z
    placed.update(SliceThickness=2.0, PixelSpacing=list(spacing), **tags)
    return dicom_image(Path(path), seed, high=4096, uid=f"1.2.3.9.{seed}", **placed)
