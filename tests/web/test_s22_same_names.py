"""Session 22 audit: uploads with the same file name (two cameras' ``image.png``, one file uploaded
for a and b, planes of two folders called ``z.png``) are told apart on the page.

Gradio stores each upload under its content's hash, so the paths differ, but the page named the
files only by their names: ``size mismatch: image.png is 48x32, image.png is 48x30``, a 16-bit note
on ``image.png`` for either, and a stack's slider offering ``z.png`` twice, both showing the same
plane. Now a name that occurs twice is followed by ``(a)`` / ``(b)``, or by its place in the stack."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

OPTS = ["average", "default", "", "saturation", "auto", None, None, None, False, "auto"]


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    pytest.importorskip("gradio")
    from mutualfuse.web.app import build_app

    app = build_app(tmp_path_factory.mktemp("work"), device="cpu")
    return {f.name: f.fn for f in app.fns.values()}


def _save(path: Path, arr) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path)
    return str(path)


def test_a_pair_of_two_image_pngs_is_told_apart_in_errors_and_notes(page, tmp_path):
    rng = np.random.default_rng(0)
    a = _save(tmp_path / "cam1" / "image.png", rng.integers(0, 256, (32, 48)).astype(np.uint8))
    b_small = _save(tmp_path / "cam2" / "image.png", rng.integers(0, 256, (30, 48)).astype(np.uint8))
    b16 = _save(tmp_path / "cam3" / "image.png", rng.integers(0, 65536, (32, 48)).astype(np.uint16))
    status = page["run"](a, b_small, *OPTS)[0]
    assert status == ("mutualfuse: error: image.png (b): size mismatch: image.png (a) is 48x32, image.png (b) is "
                      "48x30 (the pair must be registered)"), status
    out = page["run"](a, b16, *OPTS)
    assert "note: image.png (b): 16-bit input scaled by percentile" in out[0], out[0]
    assert "image.png (a)" not in out[0]
    assert [Path(f).name for f in out[4]] == ["image-image-average.png", "image-image-average.tif"]
    # the download is the fusion of these two files, in this order
    from mutualfuse.cli import main

    cli = tmp_path / "cli.tif"
    assert main(["fuse", a, b16, "-o", str(cli), "--method", "average", "-q"]) == 0
    assert Path(out[4][1]).read_bytes() == cli.read_bytes()


def test_one_file_uploaded_for_a_and_b(page, tmp_path):
    a = _save(tmp_path / "image.png", np.random.default_rng(1).integers(0, 256, (32, 48)).astype(np.uint8))
    out = page["run"](a, a, *OPTS)
    assert out[0] == "done: image-image-average.png", out[0]
    assert [r[3] for r in out[3]] and out[6]["a"] != out[6]["b"]  # a table; two previews


def test_a_stack_with_two_planes_of_one_name_shows_each_on_the_slider(page, tmp_path):
    rng = np.random.default_rng(2)
    planes = [rng.integers(0, 256, (24, 32)).astype(np.uint8) for _ in range(3)]
    files = [_save(tmp_path / "left" / "z.png", planes[0]), _save(tmp_path / "right" / "z.png", planes[1]),
             _save(tmp_path / "y.png", planes[2])]
    status, shown, download, timing, pair, choice, state = page["run_stack"](files, *OPTS, "tree", "png")
    assert status.startswith("done: y-z-average.png  (3 images, 2 fusions"), status
    assert choice["choices"] == ["y.png", "z.png (image 2)", "z.png (image 3)"], choice
    # each label shows its own plane (the second z.png was shown for both)
    for label, plane in (("y.png", planes[2]), ("z.png (image 2)", planes[0]), ("z.png (image 3)", planes[1])):
        before = page["on_stack_compare"](label, state)[0][0]
        assert np.array_equal(np.asarray(Image.open(before)), plane), label
    # a size error names the plane by its place too
    files.append(_save(tmp_path / "far" / "z.png", planes[0][:20]))
    status = page["run_stack"](files, *OPTS, "tree", "png")[0]
    assert status.startswith("mutualfuse: error: z.png (image 4)"), status
