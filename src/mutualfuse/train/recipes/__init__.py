"""Training recipes shipped with the package: ``mutualfuse train --config NAME``.

A recipe is a complete training config (YAML) installed with mutualfuse, so that a user who
installed the wheel (and has no ``configs/`` folder) can train on their own pairs without
writing one: ``mutualfuse train --config finetune-default --sets thermal --data-root DATA``.
``configs/NAME.yaml`` in the repository is a link to the same file. ``--print-config``
prints the resolved config to start one's own from.
"""
from __future__ import annotations

from pathlib import Path

from ...registry import Registry

_HERE = Path(__file__).parent

#: name → the recipe's YAML file (meta: ``summary``)
RECIPES: Registry[Path] = Registry("training recipe")
RECIPES.add("finetune-default", _HERE / "finetune-default.yaml",
            summary="fine-tune the shipped `default` on your pairs, fast on a CPU (256² crops, batch 1, "
                    "3000 steps; docs/training.md)")
RECIPES.add("paper", _HERE / "paper.yaml",
            summary="the paper's set-up (§4.1) from scratch: 256² crops, Adam 1e-4, Var-SSIM, "
                    "160,000 samples")


def resolve_config(spec: str) -> Path:
    """A config file path, or a recipe name (:data:`RECIPES`) when no such file exists."""
    from ...errors import ParameterError

    p = Path(spec).expanduser()
    if p.exists() or any(sep in spec for sep in ("/", "\\")) or p.suffix.lower() in (".yaml", ".yml", ".toml", ".json"):
        return p  # a path: TrainConfig.load says what is wrong with it
    try:
        return RECIPES.get(spec)
    except KeyError as e:
        raise ParameterError(f"--config {spec}: no such file, and {e.args[0]}") from None
