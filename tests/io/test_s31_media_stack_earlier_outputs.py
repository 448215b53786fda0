"""fuse-stack on a folder: an earlier fuse-stack result saved in the folder under another name
(``-o zs/edf.png``, then ``-o zs/edf_lp.png`` to compare) was read as one more plane of the
stack, without a word but the count in the summary. Outputs carry the ``user.mutualfuse.fuse-stack``
mark, so they are left out now (with a note), unless every image of the folder is one (a
folder of partial results, fused in turn)."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from xattrs import xattrs_work

from mutualfuse.cli import main


def _folder(tmp_path, n=4):
    folder = tmp_path / "zs"
    folder.mkdir()
    rng = np.random.default_rng(3)
    for i in range(1, n + 1):
        Image.fromarray(rng.integers(0, 256, (24, 32), dtype=np.uint8)).save(folder / f"z{i}.png")
    return folder


def test_an_earlier_output_under_another_name_is_not_a_plane(tmp_path, capsys):
    if not xattrs_work(tmp_path):
        pytest.skip("extended attributes (os.setxattr, user.*) are not available here")
    folder = _folder(tmp_path)
    ref = tmp_path / "ref.png"
    assert main(["fuse-stack", str(folder), "-o", str(ref), "--method", "average", "-q"]) == 0
    assert main(["fuse-stack", str(folder), "-o", str(folder / "edf.png"), "--method", "average"]) == 0
    capsys.readouterr()
    second = folder / "edf_again.png"
    assert main(["fuse-stack", str(folder), "-o", str(second), "--method", "average"]) == 0
    cap = capsys.readouterr()
    assert "4 images, 3 fusions" in cap.out, cap.out
    assert "1 earlier fuse-stack output left out" in cap.err and "edf.png" in cap.err, cap.err
    assert np.array_equal(np.asarray(Image.open(second)), np.asarray(Image.open(ref)))


def test_a_folder_of_results_only_is_fused(tmp_path, capsys):
    if not xattrs_work(tmp_path):
        pytest.skip("extended attributes (os.setxattr, user.*) are not available here")
    folder = _folder(tmp_path)
    part = tmp_path / "part"
    part.mkdir()
    for name in ("a.png", "b.png"):
        assert main(["fuse-stack", str(folder), "-o", str(part / name), "--method", "average", "-q"]) == 0
    assert main(["fuse-stack", str(part), "-o", str(tmp_path / "final.png"), "--method", "average"]) == 0
    assert "2 images, 1 fusion" in capsys.readouterr().out


def test_a_pattern_leaves_an_earlier_output_out(tmp_path, capsys):
    if not xattrs_work(tmp_path):
        pytest.skip("extended attributes (os.setxattr, user.*) are not available here")
    folder = _folder(tmp_path)
    assert main(["fuse-stack", str(folder / "*.png"), "-o", str(folder / "edf.png"), "--method", "average", "-q"]) == 0
    assert main(["fuse-stack", str(folder / "*.png"), "-o", str(folder / "edf_2.png"), "--method", "average"]) == 0
    cap = capsys.readouterr()
    assert "4 images, 3 fusions" in cap.out and "1 earlier fuse-stack output left out" in cap.err, (cap.out, cap.err)
