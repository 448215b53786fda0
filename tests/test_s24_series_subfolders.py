"""s24: a study folder (series in subfolders, as PACS exports and DICOMDIR media lay them out) given
to fuse-volume: the one-line error names the subfolders to choose from (it only said the folder
held no DICOM image files)."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pydicom")
pytest.importorskip("nibabel")

sys.path.insert(0, str(Path(__file__).resolve().parent))
from one_line_error import assert_one_line_error  # noqa: E402
from test_s23_series_read import make_series  # noqa: E402


def test_study_folder_error_names_its_series_subfolders(tmp_path, capsys):
    for study in ("ct", "mr"):
        for k, name in enumerate(("SE0002", "SE0001", "SE0003", "SE0004")):
            make_series(tmp_path / study / name, np.full((8, 8, 2), k + 1, int))
    err = assert_one_line_error(capsys, ["fuse-volume", str(tmp_path / "ct"), str(tmp_path / "mr"), "-o",
                                         str(tmp_path / "out.nii.gz")],
                                f"{tmp_path / 'ct'}: a folder with no DICOM image files",
                                "it holds 4 subfolders (SE0001, SE0002, SE0003, …): give the one of the series")
    assert not (tmp_path / "out.nii.gz").exists()
    # a folder with neither images nor subfolders keeps the plain message
    (tmp_path / "empty").mkdir()
    err = assert_one_line_error(capsys, ["fuse-volume", str(tmp_path / "empty"), str(tmp_path / "mr" / "SE0001"),
                                         "-o", str(tmp_path / "out.nii.gz")], "a folder with no DICOM image files")
    assert "subfolder" not in err
