"""Typed training configuration, loadable from YAML or TOML.

A run is reproducible from its config plus ``seed``: crops and the pair order are pure
functions of (seed, epoch, index), so a resumed or multi-process run sees the same data.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from ..errors import ParameterError
from ..model.config import ModelConfig


@dataclass
class DataConfig:
    """Where the training pairs are.

    ``root`` is the data root (``--data-root`` or ``$MUTUALFUSE_DATA`` override it); each entry
    of ``sets`` is a folder under it holding two role folders (``ir``/``vis`` or ``a``/``b``)
    whose files pair by name.
    """

    root: str | None = None
    sets: list[str] = field(default_factory=lambda: ["train/roadscene"])
    val_pairs: int = 8
    crop: int = 256
    hflip: bool = False
    num_workers: int = 0


@dataclass
class TrainConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    loss: str = "var_ssim"
    lr: float = 1e-4
    batch_size: int = 4  # global batch (split across processes under torchrun)
    steps: int = 2000
    seed: int = 0
    amp: bool = True  # bf16 autocast on CUDA only; CPU always runs float32
    out_dir: str = "runs/default"
    checkpoint_every: int = 100
    val_every: int = 100
    log_every: int = 10
    threads: int | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["model"] = self.model.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TrainConfig":
        d = dict(d)
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ParameterError(f"unknown training config keys: {sorted(unknown)} (known: {sorted(known)})")
        model = ModelConfig.from_dict(d.pop("model", {}) or {})
        data_d = d.pop("data", {}) or {}
        dknown = {f.name for f in fields(DataConfig)}
        if set(data_d) - dknown:
            raise ParameterError(f"unknown data config keys: {sorted(set(data_d) - dknown)}")
        return cls(model=model, data=DataConfig(**data_d), **d)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "TrainConfig":
        p = Path(path)
        if not p.is_file():
            raise ParameterError(f"{p}: config file not found")
        text = p.read_text()
        try:
            if p.suffix.lower() == ".toml":
                import tomllib

                d = tomllib.loads(text)
            elif p.suffix.lower() == ".json":
                d = json.loads(text)
            else:
                import yaml

                d = yaml.safe_load(text) or {}
        except Exception as e:  # noqa: BLE001 - any parse error is the user's file
            raise ParameterError(f"{p}: cannot parse config: {str(e).splitlines()[0]}") from None
        try:
            return cls.from_dict(d)
        except (TypeError, ValueError) as e:
            raise ParameterError(f"{p}: {e}") from None
