"""Training: typed config, pair folders, resumable loop (single process or torchrun).

The names below load on first use (PEP 562): ``mutualfuse.train.recipes`` (the shipped recipe
list the command line shows in its help) is importable without PyTorch.
"""
_NAMES = {"DataConfig": ".config", "TrainConfig": ".config", "Trainer": ".loop", "train": ".loop",
          "as_train_config": ".loop", "TrainingInterrupted": ".loop", "TrainingDiverged": ".loop",
          "TrainingOutputError": ".loop"}

__all__ = ["DataConfig", "TrainConfig", "Trainer", "train", "as_train_config", "TrainingInterrupted",
           "TrainingDiverged", "TrainingOutputError"]


def __getattr__(name: str):
    if name in _NAMES:
        import importlib

        return getattr(importlib.import_module(_NAMES[name], __name__), name)
    raise AttributeError(f"module 'mutualfuse.train' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_NAMES))
