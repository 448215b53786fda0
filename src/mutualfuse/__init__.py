"""mutualfuse: unsupervised deep image fusion by feature mutual mapping (Rao et al.).

``Fuser`` and ``fuse`` (:mod:`mutualfuse.api`) are loaded on first use (PEP 562), so that
``import mutualfuse.cli`` and ``mutualfuse --help`` start without PyTorch and a Ctrl+C while
PyTorch loads is the command's one-line "interrupted", not a traceback. PyTorch itself is
imported where the network runs (or a tensor is passed): ``mutualfuse methods`` and every
built-in classical method but ``csr`` (``mutualfuse fuse --method average``, ``Fuser("dwt")``)
run without it (about 1 s less start-up). ``csr`` imports it when it fuses: its sparse-coding
solver computes its correlations with PyTorch's float32 matrix products (docs/baselines.md).
"""
__version__ = "0.1.0"

from .errors import FuseError, InputError, ParameterError, WeightsError  # noqa: E402

__all__ = ["Fuser", "fuse", "FuseError", "InputError", "ParameterError", "WeightsError", "__version__"]


def __getattr__(name: str):
    if name in ("Fuser", "fuse"):
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'mutualfuse' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | {"Fuser", "fuse"})
