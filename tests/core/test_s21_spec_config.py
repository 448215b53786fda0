"""The s21 faithfulness audit of docs/architecture.md against the model and loss configs.

A model field that acts only together with another one (``attn_scale`` with dot-product
similarity, ``cosine_init_temperature`` with cosine similarity, ``map_residual_init`` with
``map_residual``, the pyramid and blend fields with their outputs) was silently ignored
elsewhere: a config said something the network did not do. A negative or non-finite weight of
an added loss term (``loss_params.grad_weight``, ``int_weight``) trained: a negative λ rewards
the opposite of the term. All are now one-line errors naming the key; every shipped weights
file and every training config under ``configs/`` still loads.
"""
from __future__ import annotations

import json
import math
from dataclasses import fields
from pathlib import Path

import pytest

from mutualfuse.errors import ParameterError
from mutualfuse.model.config import ModelConfig

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("over, needle", [
    ({"attn_similarity": "cosine", "attn_scale": 0.5}, "model.attn_scale applies to attn_similarity 'dot' only"),
    ({"cosine_init_temperature": 5.0}, "model.cosine_init_temperature applies to attn_similarity 'cosine' only"),
    ({"map_residual_init": 10.0}, "model.map_residual_init needs map_residual: true"),
    ({"output": "blend", "pyramid_gain": 0.7}, "model.pyramid_gain applies to the 'pyramid' output only"),
    ({"blend_bound": 5.0}, "model.blend_bound applies to the blend outputs"),
])
def test_a_field_that_would_be_ignored_is_refused_naming_it(over, needle):
    with pytest.raises(ParameterError) as e:
        ModelConfig(**over)
    msg = str(e.value)
    assert needle in msg and "\n" not in msg, msg


@pytest.mark.parametrize("over", [
    {"attn_similarity": "cosine", "cosine_init_temperature": 5.0},
    {"attn_scale": 0.5},
    {"map_residual": True, "map_residual_init": 10.0},
    {"output": "pyramid", "pyramid_gain": 0.7, "blend_bound": 5.0},
    {"output": "blend", "blend_bound": 5.0},
    {"output": "blend_residual", "blend_bound": 5.0},
])
def test_the_same_fields_where_they_act_are_accepted(over):
    cfg = ModelConfig(**over)
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg


def test_every_shipped_weights_file_and_training_config_still_loads():
    """The new checks refuse only combinations that no shipped model or config uses."""
    from safetensors import safe_open

    from mutualfuse.train.config import TrainConfig

    weights = sorted((ROOT / "src/mutualfuse/weights").glob("*.safetensors"))
    assert weights
    for p in weights:
        with safe_open(str(p), "pt") as f:
            ModelConfig.from_dict(json.loads(f.metadata()["model_config"]))
    configs = [p for p in sorted((ROOT / "configs").rglob("*.yaml")) if "benchmark" not in p.parts]
    configs += sorted((ROOT / "src/mutualfuse/train/recipes").glob("*.yaml"))
    assert len(configs) > 10
    for p in configs:
        TrainConfig.load(p)


@pytest.mark.parametrize("text, key", [
    ("loss: var_ssim_grad\nloss_params: {grad_weight: -1.0}\n", "loss_params.grad_weight"),
    ("loss: var_ssim_grad\nloss_params: {grad_weight: .nan}\n", "loss_params.grad_weight"),
    ("loss: var_ssim_grad_int\nloss_params: {int_weight: .inf}\n", "loss_params.int_weight"),
    ("loss: var_ssim_grad_int\nloss_params: {int_weight: '2'}\n", "loss_params.int_weight"),
    ("loss: var_ssim_grad\nloss_params: {grad_weight: true}\n", "loss_params.grad_weight"),
])
def test_a_bad_loss_term_weight_is_a_one_line_error_naming_the_key(tmp_path, text, key):
    from mutualfuse.train.config import TrainConfig

    p = tmp_path / "c.yaml"
    p.write_text("steps: 3\n" + text)
    with pytest.raises(ParameterError) as e:
        TrainConfig.load(p)
    msg = str(e.value)
    assert str(p) in msg and key in msg and "a finite number >= 0" in msg and "\n" not in msg, msg


def test_a_valid_loss_term_weight_loads(tmp_path):
    from mutualfuse.train.config import TrainConfig

    p = tmp_path / "c.yaml"
    p.write_text("steps: 3\nloss: var_ssim_grad_int\nloss_params: {grad_weight: 0, int_weight: 5e-1}\n")
    assert TrainConfig.load(p).loss_params == {"grad_weight": 0, "int_weight": 0.5}


def test_every_model_field_is_documented():
    """docs/architecture.md must name every ModelConfig field (as `field`, or `field=`/`field:` in
    a code span), so that a reader of the doc can configure every choice."""
    doc = (ROOT / "docs/architecture.md").read_text(encoding="utf-8")
    missing = [f.name for f in fields(ModelConfig)
               if not any(s in doc for s in (f"`{f.name}`", f"`{f.name}=", f"`{f.name}:"))]
    assert not missing, missing


def test_default_logit_scale_counts_the_query_channels_as_documented():
    """docs/architecture.md, "softmax scale": 1/√C over the query's channels: the raw features'
    C, plus the 4·P position-code channels when ``attn_pos_freqs`` = P; 1/√attn_dim with
    projections (the position code then adds channels that the scale does not count)."""
    from mutualfuse.model.mutual_mapping import MutualMappingFusion

    widths = (4, 8, 16)
    for over, want in (({}, 1 / math.sqrt(16)),
                       ({"attn_pos_freqs": 2}, 1 / math.sqrt(16 + 8)),
                       ({"attn_dim": 6, "attn_pos_freqs": 2}, 1 / math.sqrt(6)),
                       ({"attn_scale": 0.3, "attn_pos_freqs": 2}, 0.3)):
        import torch

        m = MutualMappingFusion(ModelConfig(widths=widths, **over))
        f = torch.rand(1, 16, 4, 4)
        _, scale = m._qk(f, f, 1)
        assert scale == pytest.approx(want, rel=1e-12), over
