"""An exported graph's metadata records the inference settings it computes with.

``mutualfuse.task`` said ``ir-vis`` or ``stored``, but not what that means: the temperature and
detail activity a task bakes in came only from this mutualfuse version's tables, so a deployed
file could not tell its settings (nor two exports of one weights their difference) without
mutualfuse. ``mutualfuse.settings`` now holds them, as the network ``fuse`` builds has them.
"""
from __future__ import annotations

import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from mutualfuse import Fuser  # noqa: E402
from mutualfuse.cli import main  # noqa: E402
from mutualfuse.onnx_export import METADATA_KEYS  # noqa: E402


def _settings(text: str) -> dict[str, float]:
    return {k: float(v) for k, v in (kv.split("=") for kv in text.split())}


@pytest.mark.parametrize("task", [None, "ir-vis", "medical"])
def test_the_settings_baked_in_are_recorded(task, tmp_path, capsys):
    out = tmp_path / "m.onnx"
    argv = ["export-onnx", str(out), "--pool", "2", "--no-check", "-q"] + (["--task", task] if task else [])
    assert main(argv) == 0, capsys.readouterr().err
    m = onnx.load(str(out))
    props = {p.key: p.value for p in m.metadata_props}
    assert "mutualfuse.settings" in METADATA_KEYS and set(METADATA_KEYS) <= set(props)
    got = _settings(props["mutualfuse.settings"])
    cfg = Fuser("default", device="cpu", task=task or "stored").net.cfg  # what `fuse --task` runs
    assert got == {k: float(getattr(cfg, k)) for k in got}
    assert set(got) >= {"blend_temperature", "detail_activity", "detail_gain", "base_temperature"}
    if task == "ir-vis":  # the shipped `default`'s ir-vis settings (mutualfuse methods --card default)
        assert got["blend_temperature"] == 0.1 and got["detail_activity"] == 10000.0
    if task is None:
        assert got["blend_temperature"] == 0.5 and got["detail_activity"] == 0.0
    assert props["mutualfuse.settings"] in m.doc_string
