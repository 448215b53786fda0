"""The package docstring says which built-in classical methods run without PyTorch: every one
but ``csr``, whose solver uses PyTorch's matrix products. It said every classical method did.
Each method fuses a small pair in a fresh process; the methods after which ``torch`` is imported
must be exactly the ones the docstring names as the exception."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import mutualfuse

RUN = r'''
import json, sys
import numpy as np
from mutualfuse import Fuser
from mutualfuse.methods import METHODS, is_network_method
names = [n for n in sys.argv[1:]] or [n for n in METHODS.names() if not is_network_method(n)]
rng = np.random.default_rng(0)
a, b = rng.random((2, 64, 64), dtype=np.float32)
done = []
for n in names:
    Fuser(n).fuse(a, b)
    done.append(n)
    if "torch" in sys.modules:
        break
print(json.dumps({"all": names, "done": done, "torch": "torch" in sys.modules}))
'''


def _methods_that_import_torch() -> set[str]:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    todo: list[str] = []
    found: set[str] = set()
    first = True
    while first or todo:
        r = subprocess.run([sys.executable, "-c", RUN, *todo], capture_output=True, text=True, env=env,
                           timeout=600)
        assert r.returncode == 0, r.stderr[-2000:]
        got = json.loads(r.stdout.strip().splitlines()[-1])
        if first:
            assert "csr" in got["all"] and "dwt" in got["all"], got
        first = False
        if got["torch"]:
            found.add(got["done"][-1])
        todo = got["all"][len(got["done"]):]
    return found


def test_the_docstring_names_the_methods_that_import_torch():
    doc = " ".join(mutualfuse.__doc__.split())
    m = re.search(r"every built-in classical method but ((?:``\w+``(?:, | and )?)+)", doc)
    assert m, doc
    said = set(re.findall(r"``(\w+)``", m.group(1)))
    assert _methods_that_import_torch() == said
