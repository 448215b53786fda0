"""The table of weights files that ship with the package.

Each entry's sha256 is checked before the file is used (see docs/training.md for how each
was trained: config, steps, wall time, machine, loss curve).
"""
from . import ShippedWeights, _register

_register(ShippedWeights(
    name="default",
    file="fmm-roadscene-cpu.safetensors",
    sha256="21162e9291caa30a01f4f6195cc66243fa21c71187f610bd9e07be5119bf991f",
    description="FMM depth 3, mapping fusion, Var-SSIM; 750 steps on RoadScene (213 pairs), 2-core CPU (configs/cpu.yaml)",
    trained_on="train/roadscene minus 8 held-out validation pairs; no test-set images",
))
