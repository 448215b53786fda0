"""``mutualfuse evaluate`` on degenerate images: NaN / inf values, strict JSON, no NumPy warnings."""
from __future__ import annotations

import json

import numpy as np
from PIL import Image

from mutualfuse.cli import main


def _folders(tmp_path):
    rng = np.random.default_rng(0)
    for d in ("a", "b", "black", "same"):
        (tmp_path / d).mkdir()
    for n in ("01", "02"):
        a = rng.integers(0, 256, (48, 64), dtype=np.uint8)
        b = rng.integers(0, 256, (48, 64), dtype=np.uint8)
        Image.fromarray(a).save(tmp_path / "a" / f"{n}.png")
        Image.fromarray(b).save(tmp_path / "b" / f"{n}.png")
        Image.fromarray(np.zeros_like(a)).save(tmp_path / "black" / f"{n}.png")
    # a pair of identical sources fused into themselves: PSNR is +inf
    Image.fromarray(a).save(tmp_path / "b" / "02.png")
    Image.fromarray(a).save(tmp_path / "same" / "02.png")
    Image.fromarray(a).save(tmp_path / "a" / "02.png")
    Image.fromarray(a).save(tmp_path / "same" / "01.png")
    return tmp_path


def _strict(text):
    def bad(c):
        raise ValueError(f"non-standard JSON constant {c}")
    return json.loads(text, parse_constant=bad)


def test_nan_and_inf_are_strict_json_and_no_warnings_are_printed(tmp_path, capsys):
    d = _folders(tmp_path)
    out = d / "r.json"
    rc = main(["evaluate", "--a", str(d / "a"), "--b", str(d / "b"), "--fused", str(d / "black"),
               "--fused", str(d / "same"), "--metrics", "Qcb@vifb", "PSNR@vifb", "-o", str(out)])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert "Warning" not in captured.err, captured.err
    assert "value(s) are NaN" in captured.err
    doc = _strict(out.read_text())
    black = doc["methods"]["black"]["images"]["01"]
    assert black["Qcb@vifb"] is None  # NaN: undefined on an all-black fused image
    assert doc["methods"]["same"]["images"]["02"]["PSNR@vifb"] == "inf"
    assert isinstance(doc["methods"]["same"]["images"]["01"]["PSNR@vifb"], float)
    # -q: nothing on stderr
    rc = main(["evaluate", "--a", str(d / "a"), "--b", str(d / "b"), "--fused", str(d / "black"),
               "--metrics", "Qcb@vifb", "-q"])
    assert rc == 0 and capsys.readouterr().err == ""
