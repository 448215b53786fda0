"""Structure guarantees of issue 9: lazy imports, no import cycles through the API."""
from __future__ import annotations

import subprocess
import sys


def test_import_mutualfuse_does_not_import_the_baselines():
    code = ("import sys, mutualfuse; "
            "heavy = [m for m in ('pywt', 'dtcwt', 'curvelets', 'skimage', 'sklearn', 'mutualfuse.methods', "
            "'mutualfuse.methods.classical') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_validation_is_a_leaf_and_methods_reexport_it():
    from mutualfuse import validation
    from mutualfuse.methods import MIN_SIDE, check_pair

    assert check_pair is validation.check_pair and MIN_SIDE == validation.MIN_SIDE
    src = open(validation.__file__).read()
    assert "from .methods" not in src and "from .api" not in src
