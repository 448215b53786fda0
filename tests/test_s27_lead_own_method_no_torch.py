"""A method of one's own that works in numpy does not pay for importing torch (6-8 s on a loaded
2-core machine) when its result is checked (s27): the tensor check only looks at a torch that is
already imported."""
import subprocess
import sys

CODE = """
import sys
import numpy as np
from mutualfuse.methods import register_method
from mutualfuse.api import Fuser

@register_method('mine27', family='pixel')
def mine27(a, b):
    return (a + b) / 2

out = Fuser('mine27').fuse_stack([np.full((32, 32), v, dtype=np.float32) for v in (0.1, 0.2, 0.3)])
print('torch' in sys.modules, float(np.asarray(out).mean()))
"""


def test_a_numpy_method_of_ones_own_does_not_import_torch():
    r = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    imported, mean = r.stdout.split()
    assert imported == "False", r.stdout
    assert 0.1 < float(mean) < 0.3
