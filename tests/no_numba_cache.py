"""Run code in a fresh interpreter where numba finds no place for its on-disk cache, as in a
read-only install with no writable NUMBA_CACHE_DIR or home cache (warnings are errors there)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import mutualfuse

SRC = Path(mutualfuse.__file__).resolve().parents[1]

_PREAMBLE = (
    "import warnings\n"
    "warnings.simplefilter('error')\n"
    "import numba.core.caching as c\n"
    "(getattr(c, 'CacheImpl', None) or c._CacheImpl)._locator_classes = []\n"
)


def run_without_numba_cache(code: str, cwd: Path) -> subprocess.CompletedProcess:
    """``python -c PREAMBLE + code`` with this checkout's ``src`` first on the path."""
    env = dict(os.environ, PYTHONPATH=str(SRC) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-c", _PREAMBLE + code], capture_output=True, text=True, env=env,
                          timeout=600, cwd=cwd)
