"""Classical fusion baselines of the paper's comparison (registered on import).

Import order is the order users see: multi-scale transforms (``lp``, ``rp``, ``dwt``,
``dtcwt``, ``cvt``, ``msvd``), optimisation (``gtf``), edge-preserving filters (``cbf``,
``mgff``), sparse representation (``asr``, ``csr``). ``docs/baselines.md`` documents each.
"""
from . import pyramid  # noqa: F401  (lp, rp)
from . import wavelet  # noqa: F401  (dwt, dtcwt)
from . import curvelet  # noqa: F401  (cvt)
from . import msvd  # noqa: F401
from . import gtf  # noqa: F401
from . import cbf  # noqa: F401
from . import mgff  # noqa: F401
from . import sparse  # noqa: F401  (asr, csr)
