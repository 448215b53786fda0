"""Stacks, DICOM output and method cards, as a user would use them (audit of 2026-12-05):
``fuse-stack`` with weights of one's own, DICOM UIDs of differently fused images, ``fuse-dir
--ext .dcm`` without pydicom, ``methods --card`` lists and the network's card."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mutualfuse import Fuser
from mutualfuse.cli import main
from test_fuse_stack import _pngs  # the stack tests' PNG stacks (tests/io is on the path)


def _one_line(capsys, rc: int, must: str) -> None:
    cap = capsys.readouterr()
    err = cap.err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and err[0].startswith("mutualfuse: error: ") and must in err[0], cap.err
    assert "internal error" not in cap.err


def test_fuse_stack_with_weights_that_record_no_task_settings(tmp_path, capsys, tiny_weights):
    """Weights of one's own (``mutualfuse train``'s) or ``paper`` record no per-task settings: the
    stack fuses at their stored settings (it was refused: "task 'multi-focus': per-task settings
    are recorded for shipped weights only")."""
    paths = _pngs(tmp_path / "s", 3)
    out = tmp_path / "f.png"
    rc = main(["fuse-stack", *paths, "-o", str(out), "--weights", str(tiny_weights), "--device", "cpu", "-q"])
    assert rc == 0, capsys.readouterr().err
    api = Fuser(str(tiny_weights), device="cpu").fuse_stack([np.asarray(Image.open(p)) for p in paths])
    assert np.array_equal(np.asarray(Image.open(out)), api)


def test_fuse_stack_explicit_task_auto_detects_per_pair(tmp_path, capsys):
    paths = _pngs(tmp_path / "s", 2, shape=(40, 48))
    xs = [np.asarray(Image.open(p)) for p in paths]
    for task, api_task in (([], "multi-focus"), (["--task", "auto"], None)):
        out = tmp_path / f"f{len(task)}.png"
        assert main(["fuse-stack", *paths, "-o", str(out), "--device", "cpu", "-q", *task]) == 0
        f = Fuser("default", device="cpu")
        assert np.array_equal(np.asarray(Image.open(out)), f.fuse_stack(xs, task=api_task))
    capsys.readouterr()


pydicom = pytest.importorskip("pydicom")
sys.path.insert(0, str(Path(__file__).parent))
from test_io_read import _dicom  # noqa: E402

sys.path.pop(0)


def _slice(path: Path, seed: int, series: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    _dicom(path, np.random.default_rng(seed).integers(0, 4096, (40, 48)).astype(np.uint16), PatientID="P1",
           StudyInstanceUID="1.2.3.4", SeriesInstanceUID=series, SOPInstanceUID=f"{series}.{seed}",
           WindowCenter=2048, WindowWidth=4096)
    return path


def test_differently_fused_images_never_share_a_dicom_instance_uid(tmp_path, capsys):
    """Another bit depth, normalisation or network temperature writes other pixels: the instance
    UID differs (all four had one UID: only the method's name seeded it); the same command twice
    gives the same UIDs, and the slices of one series stay one series."""
    a = _slice(tmp_path / "ct" / "IM0001", 1, "1.2.3.4.10")
    b = _slice(tmp_path / "mr" / "IM0001", 2, "1.2.3.4.20")
    runs = {"dwt": ["--method", "dwt"], "dwt8": ["--method", "dwt", "--bit-depth", "8"],
            "dwtfull": ["--method", "dwt", "--normalize", "percentile"],
            "t1": ["--device", "cpu", "--task", "medical"],
            "t2": ["--device", "cpu", "--task", "medical", "--blend-temperature", "0.05"],
            "again": ["--method", "dwt"]}
    ds = {}
    for name, extra in runs.items():
        assert main(["fuse", str(a), str(b), "-o", str(tmp_path / f"{name}.dcm"), "-q", *extra]) == 0
        ds[name] = pydicom.dcmread(tmp_path / f"{name}.dcm")
    capsys.readouterr()
    pixels = {n: d.pixel_array.tobytes() + bytes([d.BitsStored]) for n, d in ds.items()}
    assert pixels["again"] == pixels["dwt"]
    assert ds["again"].SOPInstanceUID == ds["dwt"].SOPInstanceUID
    assert ds["again"].SeriesInstanceUID == ds["dwt"].SeriesInstanceUID
    distinct = [n for n in runs if n != "again"]
    assert len({pixels[n] for n in distinct}) == len(distinct)  # five different images ...
    assert len({ds[n].SOPInstanceUID for n in distinct}) == len(distinct)  # ... five instance UIDs
    assert len({ds[n].SeriesInstanceUID for n in distinct}) == len(distinct)  # and one series per setting


def test_a_stack_with_other_method_parameters_is_another_dicom_series(tmp_path, capsys):
    """A stack of DICOM slices fused with other parameters: other pixels, other UIDs (only the
    method's name seeded them)."""
    paths = [str(_slice(tmp_path / "z" / f"IM{i:04d}", i, "1.2.3.4.30")) for i in range(3)]
    uids = []
    for levels in ("2", "3"):
        out = tmp_path / f"l{levels}.dcm"
        assert main(["fuse-stack", *paths, "-o", str(out), "--method", "lp", "--param", f"levels={levels}", "-q"]) == 0
        d = pydicom.dcmread(out)
        uids.append((d.SOPInstanceUID, d.SeriesInstanceUID, d.pixel_array.tobytes()))
    capsys.readouterr()
    assert uids[0][2] != uids[1][2] and uids[0][0] != uids[1][0] and uids[0][1] != uids[1][1]


@pytest.mark.parametrize("ext", [".dcm", "dcm", ".DCM"])
def test_fuse_dir_ext_dcm_without_pydicom_is_refused_before_the_output_folder(tmp_path, capsys, monkeypatch, ext):
    """It made the output folder and failed every pair with the same line."""
    import mutualfuse.dicom as dicom

    _pngs(tmp_path / "a", 2)
    _pngs(tmp_path / "b", 2, seed=1)
    monkeypatch.setattr(dicom, "_pydicom", lambda: None)
    rc = main(["fuse-dir", str(tmp_path / "a"), str(tmp_path / "b"), "-o", str(tmp_path / "out"), "--ext", ext,
               "--method", "average"])
    _one_line(capsys, rc, f"--ext {ext}: writing DICOM needs pydicom")
    assert sorted(os.listdir(tmp_path)) == ["a", "b"]


def test_methods_card_all_keeps_the_other_names_and_refuses_unknown_ones(capsys):
    from mutualfuse.weights import SHIPPED

    assert main(["methods", "--card", "all", "--card", "lp", "--card", "default"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out.count("method lp") == 1  # was dropped: 'all' replaced the whole list
    assert out.count("default") == 1 and all(n in out for n in SHIPPED)
    _one_line(capsys, main(["methods", "--card", "all", "--card", "dwx"]), "named dwx")


def test_the_networks_card_names_its_options_and_param_is_refused_in_one_line(tmp_path, capsys):
    """The card said ``--param KEY=VALUE`` for the network; ``--param token_budget=0`` was an
    internal error (exit 1), ``--param weights=...`` named the Python API."""
    assert main(["methods", "--card", "mutualfuse"]) == 0
    out = capsys.readouterr().out
    assert "--param KEY=VALUE" not in out and "--weights" in out and "--token-budget" in out
    paths = _pngs(tmp_path / "s", 2)
    for param in ("token_budget=0", "weights=paper", "device=cpu"):
        rc = main(["fuse", *paths, "-o", str(tmp_path / "f.png"), "--param", param])
        _one_line(capsys, rc, f"--param {param}: the network takes no method parameters")
        assert not (tmp_path / "f.png").exists()
    assert main(["methods", "--card", "lp"]) == 0 and "--param KEY=VALUE" in capsys.readouterr().out


def test_ybr_full_colour_dicom_reads_as_its_rgb_colours(tmp_path):
    """pydicom 3 converts YBR_FULL to RGB while decoding; it was converted a second time (a red
    SPECT map came out green)."""
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.pixels import convert_color_space
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    from mutualfuse.image_io import read_image

    rgb = np.zeros((16, 20, 3), np.uint8)
    rgb[..., 0], rgb[..., 1], rgb[..., 2] = 200, 30, 60
    rgb[8:] = (20, 180, 90)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(tmp_path / "ybr.dcm"), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    ds.Rows, ds.Columns = rgb.shape[:2]
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, "YBR_FULL", 0
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelData = convert_color_space(rgb, "RGB", "YBR_FULL").tobytes()
    ds.save_as(str(tmp_path / "ybr.dcm"), enforce_file_format=True)
    arr, info = read_image(tmp_path / "ybr.dcm")
    assert info.mode == "RGB" and arr.shape == rgb.shape
    assert np.abs(arr * 255 - rgb).max() <= 2  # the YCbCr round trip rounds by a level or two


def test_signed_dicom_full_normalisation_maps_the_signed_stored_range(tmp_path):
    """PixelRepresentation 1 (a CT stored in HU): ``--normalize full`` maps the signed stored range
    −2**15 … 2**15 − 1 to [0, 1]; it took 0 … 2**16 − 1, so every negative HU (air, fat, lung)
    became 0."""
    from mutualfuse.image_io import read_image

    hu = np.tile(np.linspace(-1024, 3000, 64).astype(np.int16), (16, 1))
    _dicom(tmp_path / "ct.dcm", hu, BitsStored=16, HighBit=15, PixelRepresentation=1)
    arr, info = read_image(tmp_path / "ct.dcm", normalize="full")
    assert info.normalization == "full"
    assert np.allclose(arr, (hu.astype(float) + 32768) / 65535)
    assert len(np.unique(arr)) == len(np.unique(hu))  # air, fat and water stay apart
