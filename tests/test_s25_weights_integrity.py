"""--weights FILE as a user mistypes and shares it: an empty file, a pickle (refused unread, with a
conversion that works), a bare safetensors state dict, and the one "did you mean" of the registries."""
from __future__ import annotations

import numpy as np
import pytest
from one_line_error import assert_one_line_error
from PIL import Image


@pytest.fixture()
def pair(tmp_path):
    rng = np.random.default_rng(0)
    paths = []
    for n in ("a.png", "b.png"):
        Image.fromarray((rng.random((24, 24)) * 255).astype(np.uint8)).save(tmp_path / n)
        paths.append(str(tmp_path / n))
    return paths


def test_an_empty_weights_file_is_said_to_be_empty(capsys, tmp_path, pair):
    empty = tmp_path / "mine.safetensors"
    empty.write_bytes(b"")
    out = tmp_path / "f.png"
    assert_one_line_error(capsys, ["fuse", *pair, "-o", str(out), "--weights", str(empty)],
                          f"{empty}: the file is empty (0 bytes)")
    assert not out.exists()


class _Runs:
    """Unpickling this makes the folder ``marker``: proof that a pickle was (not) loaded."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import os

        return os.mkdir, (str(self.marker),)


@pytest.mark.parametrize("suffix", [".pt", ".pth", ".ckpt"])
def test_a_pickle_is_refused_unread_and_its_advice_converts_a_state_dict(capsys, tmp_path, pair, tiny_weights,
                                                                          suffix):
    import torch

    from mutualfuse.model import ModelConfig, build_model
    from mutualfuse.weights import read_weights, save_weights

    marker = tmp_path / "unpickled"
    evil = tmp_path / f"model{suffix}"
    torch.save({"w": _Runs(marker)}, evil)
    out = tmp_path / "f.png"
    err = assert_one_line_error(capsys, ["fuse", *pair, "-o", str(out), "--weights", str(evil)],
                                f"{evil}: a PyTorch/pickle file", "never loaded",
                                "build_model(ModelConfig(...))", "mutualfuse.weights.save_weights(OUT, model, cfg)")
    assert not marker.exists() and not out.exists(), err
    # the advice, followed for a state dict one trusts (torch.load with weights_only: no code runs)
    state, cfg, _ = read_weights(tiny_weights)
    pt = tmp_path / f"state{suffix}"
    torch.save(state, pt)
    model = build_model(ModelConfig(**{"widths": cfg.widths}))
    model.load_state_dict(torch.load(pt, weights_only=True))
    converted = save_weights(tmp_path / "converted.safetensors", model, cfg)
    from mutualfuse.cli import main

    assert main(["fuse", *pair, "-o", str(out), "--weights", str(converted), "-q"]) == 0 and out.is_file()


def test_a_bare_safetensors_state_dict_gets_the_same_advice(capsys, tmp_path, pair, tiny_weights):
    from safetensors.torch import save_file

    from mutualfuse.weights import read_weights

    state, _, _ = read_weights(tiny_weights)
    bare = tmp_path / "bare.safetensors"
    save_file(state, str(bare))
    assert_one_line_error(capsys, ["fuse", *pair, "-o", str(tmp_path / "f.png"), "--weights", str(bare)],
                          f"{bare}: safetensors file has no mutualfuse model_config metadata",
                          "mutualfuse.weights.save_weights(OUT, model, cfg)")


def test_a_metric_misspelt_without_its_code_gets_a_did_you_mean(capsys, tmp_path, pair):
    for d in ("A", "B", "F"):
        (tmp_path / d).mkdir()
    for d, src in (("A", pair[0]), ("B", pair[1]), ("F", pair[0])):
        (tmp_path / d / "x.png").write_bytes(open(src, "rb").read())
    folders = ["--a", str(tmp_path / "A"), "--b", str(tmp_path / "B"), "--fused", str(tmp_path / "F")]
    err = assert_one_line_error(capsys, ["evaluate", *folders, "--metrics", "ssimm"],
                                "unknown metric 'ssimm'; did you mean SSIM@")
    assert "SSIM@vifb" in err.split("(available")[0] and "SSIM@nestfuse" in err.split("(available")[0]
    # a name of the registry's own, in another case, is still found; a near miss with its code as before
    assert_one_line_error(capsys, ["evaluate", *folders, "--metrics", "QABF@VFB"], "did you mean Qabf@vifb")


def test_close_names_one_pattern_for_every_registry():
    from mutualfuse.metrics import METRICS
    from mutualfuse.methods import METHODS
    from mutualfuse.metrics.profiles import PROFILE_REGISTRY
    from mutualfuse.registry import close_names
    from mutualfuse.weights import WEIGHTS

    assert close_names("CBFF", METHODS.names())[0] == "cbf"
    assert close_names("Defualt", WEIGHTS.names())[0] == "default"
    assert close_names("VFIB", PROFILE_REGISTRY.names())[0] == "vifb"
    assert {"EI@vifb"} <= set(close_names("eii", METRICS.names()))
    for reg, typo in ((METHODS, "cbff"), (WEIGHTS, "defualt"), (PROFILE_REGISTRY, "vfib"), (METRICS, "ssimm")):
        with pytest.raises(KeyError, match="did you mean"):
            reg.entry(typo)


def test_a_format_2_file_without_its_digest_says_the_digest_is_missing(capsys, tmp_path, pair, tiny_weights):
    import json

    raw = tiny_weights.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    del header["__metadata__"]["tensors_sha256"]
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    cut = tmp_path / "nodigest.safetensors"
    cut.write_bytes(len(text).to_bytes(8, "little") + text + raw[8 + n:])
    assert_one_line_error(capsys, ["fuse", *pair, "-o", str(tmp_path / "f.png"), "--weights", str(cut)],
                          f"{cut}: no tensors_sha256 in the metadata of a mutualfuse-weights-2 file")
