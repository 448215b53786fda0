"""``mutualfuse methods --card FILE`` of weights whose training recorded a name that is not UTF-8
(a data root, warm-start weights or loss file in Latin-1 bytes: ``mutualfuse train`` writes them
with JSON's escapes) printed the raw byte (``\\xe9`` alone: no valid UTF-8), and a control
character in such a name broke the card's one line per field. Now shown escaped."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from mutualfuse.weights import load_model, save_weights


def test_card_of_weights_with_latin1_names_is_utf8_text(tmp_path):
    net, _ = load_model("blend")
    td = {"sets": {"roadscene": 10}, "train_pairs": 10, "held_out": 2, "data_root": "/data/caf\udce9",
          "pairs_sha256": "ab", "normalize": "auto", "percentiles": [0.1, 99.9]}
    tc = {"steps": 5, "init_weights": "/w/caf\udce9.safetensors", "data": {"sets": ["/d/new\nline"], "crop": 64},
          "loss": "var_ssim"}
    w = tmp_path / "w.safetensors"
    save_weights(w, net, net.cfg, {"train_data": json.dumps(td), "train_config": json.dumps(tc)})
    r = subprocess.run([sys.executable, "-m", "mutualfuse", "methods", "--card", str(w)], capture_output=True,
                       env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONIOENCODING": "utf-8"})
    assert r.returncode == 0, r.stderr
    text = r.stdout.decode("utf-8")  # strict: no raw Latin-1 byte
    assert "under /data/caf\\xe9;" in text
    assert "`/w/caf\\xe9.safetensors`" in text
    assert "/d/new\\nline" in text
    assert not any(line.startswith("line") for line in text.splitlines())
