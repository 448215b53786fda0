"""Training: typed config, pair folders, resumable loop (single process or torchrun)."""
from .config import DataConfig, TrainConfig
from .loop import Trainer, train

__all__ = ["DataConfig", "TrainConfig", "Trainer", "train"]
