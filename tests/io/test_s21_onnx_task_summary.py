"""``export-onnx`` of weights with per-task settings (``default``) without ``--task`` bakes in the
stored setting, while a plain ``fuse`` (``--task auto``) uses the detected task's: on the bundled
TNO 01 pair the two differed by up to 129 grey levels (CT/MR c01: 93, Lytro 01: 40; measured),
and only ``--help`` said so. The summary line now says which setting the graph has and, without
``--task``, that ``fuse``'s default differs."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from mutualfuse import Fuser  # noqa: E402
from mutualfuse.cli import main  # noqa: E402
from mutualfuse.image_io import read_gray_float  # noqa: E402
from mutualfuse.onnx_export import run_onnx  # noqa: E402


def test_the_summary_says_the_graph_has_one_setting_and_fuses_default_differs(samples, tmp_path, capsys):
    out = tmp_path / "m.onnx"
    assert main(["export-onnx", str(out), "--pool", "2", "--no-check"]) == 0
    cap = capsys.readouterr()
    assert cap.out.count("\n") == 1 and cap.out.startswith(str(out)), cap
    assert "settings: stored (as fuse --task stored" in cap.out and "--task auto detects the task" in cap.out, cap
    assert cap.err == ""  # the summary, not a note
    a = read_gray_float(samples / "tno-01" / "a.png")
    b = read_gray_float(samples / "tno-01" / "b.png")
    auto = Fuser("default", device="cpu")  # what `fuse a b -o f` runs
    plain = auto.fuse(a, b)
    assert auto.report.task == "ir-vis"
    assert float(np.abs(run_onnx(out, a, b) - plain).max()) > 0.1  # measured 0.51 (129 levels)


def test_a_task_export_says_its_task_and_weights_without_tasks_say_nothing(tmp_path, capsys):
    assert main(["export-onnx", str(tmp_path / "t.onnx"), "--pool", "2", "--task", "ir-vis", "--no-check"]) == 0
    out = capsys.readouterr().out
    assert "settings: ir-vis (as fuse --task ir-vis)" in out and "auto" not in out, out
    assert main(["export-onnx", str(tmp_path / "b.onnx"), "--weights", "blend", "--no-check"]) == 0
    assert "settings" not in capsys.readouterr().out
