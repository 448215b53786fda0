"""The table of weights files that ship with the package.

Each entry's sha256 is checked before the file is used (see docs/training.md for how each
was trained: config, steps, wall time, machine, loss curve).
"""
from . import ShippedWeights, _register

_register(ShippedWeights(
    name="default",
    file="fmm-roadscene-cpu.safetensors",
    sha256="ea4535e813af9b186a4b64bed5b56bae7d7de4bfb7b8d141fbcd190d5afd4955",
    description="FMM depth 3, mapping fusion, Var-SSIM; 3000 steps (batch 4, 128x128 crops) on RoadScene (213 pairs), 2-core CPU (configs/cpu.yaml)",
    trained_on="train/roadscene minus 8 held-out validation pairs; no test-set images",
))

_register(ShippedWeights(
    name="cosine",
    file="fmm-cosine-roadscene-cpu.safetensors",
    sha256="642b054c167033d71fbc3e53b3c06285a4da6cd00862e7b39d0e81419ac46ce8",
    description="as default, with cosine-similarity mutual mapping (learned temperature); 3000 steps, 2-core CPU (configs/cpu-cosine.yaml)",
    trained_on="train/roadscene minus 8 held-out validation pairs; no test-set images",
))
