"""s30 reproduction audit: ``benchmark --fused NAME=DIR`` with the label of a published-images row.

``--fused 'IFCNN(max)=DIR'`` gave a second row labelled ``IFCNN(max)`` beside the data root's
published IFCNN(max) images: two rows of one label, which a reader cannot tell apart (and
``read_markdown`` / ``read_csv``, keyed by the label, read back as one). The label of a method or
network row was refused already; a reference row's is refused now too, before any work."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from one_line_error import assert_one_line_error  # noqa: E402


def test_a_fused_folder_named_as_a_reference_row_is_refused(tmp_path, capsys):
    rng = np.random.default_rng(30)
    data = tmp_path / "data"
    for n in ("c01", "c02"):
        for sub in ("medical/ct-mr/a", "medical/ct-mr/b", "reference/ifcnn/medical/max"):
            (data / sub).mkdir(parents=True, exist_ok=True)
            Image.fromarray(rng.integers(0, 256, (48, 52)).astype(np.uint8)).save(data / sub / f"{n}.png")
        (tmp_path / "mine").mkdir(exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (48, 52)).astype(np.uint8)).save(tmp_path / "mine" / f"{n}.png")
    (tmp_path / "nofig.yaml").write_text("figures: []\n")
    out = tmp_path / "out"
    base = ["benchmark", "-q", "--data-root", str(data), "--out", str(out), "--cache", str(tmp_path / "cache"),
            "--tables", "3", "--weights", "none", "--methods", "average", "--fast-metrics",
            "--figures", str(tmp_path / "nofig.yaml")]
    assert_one_line_error(capsys, base + ["--fused", f"ifcnn(MAX)={tmp_path / 'mine'}"],
                          "--fused ifcnn(MAX)=...: a row of this run is already labelled IFCNN(max)")
    assert not out.exists()
