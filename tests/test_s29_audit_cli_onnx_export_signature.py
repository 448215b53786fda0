"""docs/inputs.md ("ONNX") documents ``mutualfuse.onnx_export.export_onnx(OUT, weights="default",
pool=1, opset=17, task=None)``, as the command's ``--weights``; until 2026-12-07 the argument was
named ``model`` and the documented call was ``TypeError: export_onnx() got an unexpected keyword
argument 'weights'``. ``model=`` still works; both at once is a one-line ParameterError."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from mutualfuse.errors import ParameterError

pytest.importorskip("onnx")

DOCS = Path(__file__).resolve().parents[1] / "docs" / "inputs.md"


def test_the_documented_call_exports(tmp_path):
    from mutualfuse.onnx_export import export_onnx

    text = DOCS.read_text(encoding="utf-8")
    call = re.search(r"`mutualfuse\.onnx_export\.export_onnx\((OUT, [^`]*)\)`", text)
    assert call and 'weights="default"' in call.group(1), call
    out = tmp_path / "m.onnx"
    got = eval(f"export_onnx({call.group(1).replace('OUT', repr(str(out)))})",  # noqa: S307 - the docs' own call
               {"export_onnx": export_onnx})
    assert Path(got) == out and out.stat().st_size > 0
    assert export_onnx(tmp_path / "p.onnx", weights="paper").exists()
    assert export_onnx(tmp_path / "q.onnx", model="paper").exists()  # the former name
    with pytest.raises(ParameterError, match="give the weights once"):
        export_onnx(tmp_path / "r.onnx", weights="paper", model="blend")
    assert not (tmp_path / "r.onnx").exists()
