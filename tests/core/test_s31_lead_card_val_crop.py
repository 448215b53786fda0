"""s31 (patch of the train2 helper, applied by the lead): the card of weights trained with
``data.val_crop`` (validation quality on centre crops, 959546e) says so on its validation line,
so that its scores are not read as full-size ones; full-size runs read as before."""
from __future__ import annotations

from mutualfuse.weights.card import file_card
from train_cli_helpers import cfg, data, train


def test_the_card_names_the_validation_crop(tmp_path, capsys):
    root = data(tmp_path / "d", n=6, size=(24, 32))
    lines = {}
    for crop in (0, 16):
        out = tmp_path / f"run{crop}"
        c = cfg(tmp_path / f"c{crop}.json", out, **{"data.root": str(root), "steps": 2, "val_every": 2,
                                                    "data.val_crop": crop})
        rc, _, err = train(capsys, "--config", str(c))
        assert rc == 0, err
        card = file_card(str(out / "final.safetensors"))
        lines[crop] = next(ln for ln in card.splitlines() if ln.startswith("validation:"))
    assert "centre 16x16 crops of the run's held-out pairs" in lines[16], lines
    assert "crops" not in lines[0] and "(the run's held-out pairs" in lines[0], lines
