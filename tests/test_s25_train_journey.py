"""Audit s25 (a researcher's own data, "How to train" followed literally): the ``--threads``
option of ``mutualfuse train`` (the config had ``threads``, the command had no option: a resume
with another thread count meant editing the config), and the refusal of role folders whose names
differ only in case or by a tag of each folder (``001_ir.png`` + ``001_vis.png``), which now says
so instead of only listing the files left over."""
from __future__ import annotations

import json

from train_cli_helpers import cfg, data, png, refused, train


def _meta(path):
    from safetensors import safe_open

    with safe_open(str(path), "pt") as fh:
        return dict(fh.metadata())


def test_threads_option_sets_the_runs_threads(tmp_path, capsys):
    """``--threads 2`` over a config with ``threads: null``: the run records it (config.json, the
    weights' machine line), and torch's own count is given back after the run."""
    import torch

    before = torch.get_num_threads()
    root = data(tmp_path / "d", n=4, size=(24, 32))
    out = tmp_path / "run"
    c = cfg(tmp_path / "c.json", out, **{"data.root": str(root), "threads": None, "steps": 1})
    rc, _, err = train(capsys, "--config", str(c), "--threads", "2", "-q")
    assert rc == 0, err
    assert json.loads((out / "config.json").read_text())["threads"] == 2
    assert " 2 threads, cpu" in _meta(out / "final.safetensors")["machine"]
    assert torch.get_num_threads() == before


def test_threads_option_refused_below_one_and_printed(tmp_path, capsys):
    root = data(tmp_path / "d", n=4, size=(24, 32))
    c = cfg(tmp_path / "c.json", tmp_path / "run", **{"data.root": str(root)})
    refused(capsys, ["--config", str(c), "--threads", "0"], ["--threads: ", "threads must be an integer >= 1"])
    assert not (tmp_path / "run").exists()
    rc, out, err = train(capsys, "--config", str(c), "--threads", "3", "--print-config")
    assert rc == 0, err
    assert "\nthreads: 3\n" in out


def _pairs(root, names_a, names_b):
    for i, (a, b) in enumerate(zip(names_a, names_b)):
        png(root / "s" / "ir" / a, 24, 32, seed=2 * i)
        png(root / "s" / "vis" / b, 24, 32, seed=2 * i + 1)
    return root


def test_names_that_differ_only_in_case_are_named_as_such(tmp_path, capsys):
    root = _pairs(tmp_path / "d", [f"IMG_0{i}.PNG" for i in (1, 2, 3)], [f"img_0{i}.png" for i in (1, 2, 3)])
    c = cfg(tmp_path / "c.json", tmp_path / "run", **{"data.root": str(root)})
    refused(capsys, ["--config", str(c)], ["do not pair by name", "3 of them differ from their partner's name only in "
                                           "case (e.g. ir/IMG_01.PNG and vis/img_01.png)", "rename one side"])
    assert not (tmp_path / "run").exists()


def test_names_tagged_by_their_folder_are_named_as_such(tmp_path, capsys):
    """``010_ir.png`` + ``010_vis.png``: the tag is ``_ir`` / ``_vis`` (not ``0_ir``, the numbers'
    shared last digit); a tag on one side only (``IR_010`` + ``010``) is found too."""
    nums = ["010", "020", "030"]
    root = _pairs(tmp_path / "d", [f"{n}_ir.png" for n in nums], [f"{n}_vis.png" for n in nums])
    c = cfg(tmp_path / "c.json", tmp_path / "run", **{"data.root": str(root)})
    refused(capsys, ["--config", str(c)], ["3 of them differ from their partner's name only by a tag of the folder "
                                           "('_ir' ending every name in ir/ and '_vis' ending every name in vis/, "
                                           "e.g. ir/010_ir.png and vis/010_vis.png): rename them to one name"])
    root2 = _pairs(tmp_path / "d2", [f"IR_{n}.png" for n in nums], [f"{n}.png" for n in nums])
    c2 = cfg(tmp_path / "c2.json", tmp_path / "run", **{"data.root": str(root2)})
    refused(capsys, ["--config", str(c2)], ["('IR_' starting every name in ir/, e.g. ir/IR_010.png and vis/010.png)"])
    assert not (tmp_path / "run").exists()


def test_names_that_merely_do_not_pair_get_no_hint(tmp_path, capsys):
    """A file without a partner, or names with nothing in common, is refused as before, no hint."""
    root = data(tmp_path / "d", n=4, size=(24, 32))
    png(root / "s" / "ir" / "extra.png", 24, 32, seed=99)
    c = cfg(tmp_path / "c.json", tmp_path / "run", **{"data.root": str(root)})
    line = refused(capsys, ["--config", str(c)], ["(only in ir/: extra.png); every image needs"])
    root2 = _pairs(tmp_path / "d2", ["a1.png", "b2.png"], ["c3.png", "d4.png"])
    c2 = cfg(tmp_path / "c2.json", tmp_path / "run", **{"data.root": str(root2)})
    line2 = refused(capsys, ["--config", str(c2)], ["only in vis/: c3.png, d4.png); every image needs"])
    assert "partner's name" not in line + line2


def test_a_config_saved_with_a_byte_order_mark_loads_as_without(tmp_path):
    """Windows editors may start a UTF-8 file with a byte-order mark: YAML read past it, JSON
    ("Unexpected UTF-8 BOM") and TOML refused the file."""
    from mutualfuse.train import TrainConfig

    d = {"data": {"sets": ["s"], "crop": 32, "val_pairs": 1}, "steps": 4, "lr": 0.001}
    texts = {"json": json.dumps(d),
             "toml": 'steps = 4\nlr = 0.001\n[data]\nsets = ["s"]\ncrop = 32\nval_pairs = 1\n',
             "yaml": "steps: 4\nlr: 0.001\ndata: {sets: [s], crop: 32, val_pairs: 1}\n"}
    for ext, text in texts.items():
        plain, bom = tmp_path / f"plain.{ext}", tmp_path / f"bom.{ext}"
        plain.write_text(text, encoding="utf-8")
        bom.write_bytes(b"\xef\xbb\xbf" + text.encode())
        assert TrainConfig.load(bom).to_dict() == TrainConfig.load(plain).to_dict(), ext


def test_a_utf16_config_is_named_as_such(tmp_path, capsys):
    """PowerShell 5's Out-File writes UTF-16 with a byte-order mark (was: "not UTF-8 text (byte 0)")."""
    from one_line_error import assert_one_line_error

    c = tmp_path / "c.json"
    c.write_bytes(json.dumps({"steps": 4}).encode("utf-16"))
    assert_one_line_error(capsys, ["train", "--config", str(c)], f"{c}: cannot read config: UTF-16 text",
                          "save it as UTF-8")


def test_export_weights_of_a_file_that_is_no_checkpoint_says_what_it_is(tmp_path, capsys):
    """``export-weights runs/x/config.json`` (or an image) was "corrupt checkpoint (Error while
    deserializing header: header too large)", as if the run's checkpoint were damaged."""
    from one_line_error import assert_one_line_error

    text = tmp_path / "config.json"
    text.write_text(json.dumps({"steps": 4, "data": {"sets": ["s"]}}))
    image = tmp_path / "f.png"
    png(image, 16, 16, seed=0)
    out = tmp_path / "w.safetensors"
    for path, kind in ((text, "a text file"), (image, "a PNG image")):
        assert_one_line_error(capsys, ["export-weights", str(path), "-o", str(out)],
                              f"{path}: not a training checkpoint but {kind}", "last.ckpt")
    assert not out.exists() and not (tmp_path / "w.safetensors.sha256").exists()
