"""mutualfuse: unsupervised deep image fusion by feature mutual mapping (Rao et al.)."""
__version__ = "0.1.0"

from .api import Fuser, fuse  # noqa: E402
from .errors import FuseError, InputError, ParameterError, WeightsError  # noqa: E402

__all__ = ["Fuser", "fuse", "FuseError", "InputError", "ParameterError", "WeightsError", "__version__"]
