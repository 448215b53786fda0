"""The table of weights files that ship with the package.

Each entry's sha256 is checked before the file is used (see docs/training.md for how each
was trained: config, steps, wall time, machine, loss curve).
"""
from . import ShippedWeights, _register

_register(ShippedWeights(
    name="default",
    file="fmm-roadscene-cpu.safetensors",
    sha256="bb931187de774d7aa61aeeb9e5eb89532666041a7846a53d84a61aa2b1ee3266",
    description="FMM depth 3, mapping fusion, Var-SSIM; 3000 steps (batch 4, 128x128 crops) on RoadScene (213 pairs), 2-core CPU (configs/cpu.yaml)",
    trained_on="train/roadscene minus 8 held-out validation pairs; no test-set images",
))

_register(ShippedWeights(
    name="cosine",
    file="fmm-cosine-roadscene-cpu.safetensors",
    sha256="6801ce717875f5535a77f64f019771a7dce2101b92f56cb576953e2b8c7a3e7c",
    description="as default, with cosine-similarity mutual mapping (learned temperature); 3000 steps, 2-core CPU (configs/cpu-cosine.yaml)",
    trained_on="train/roadscene minus 8 held-out validation pairs; no test-set images",
))

_register(ShippedWeights(
    name="paper",
    file="fmm-roadscene-cpu.safetensors",
    sha256="bb931187de774d7aa61aeeb9e5eb89532666041a7846a53d84a61aa2b1ee3266",
    description="the paper's recipe (FMM depth 3, raw dot-product mapping, direct output, Var-SSIM, Adam 1e-4), IR-VIS only; 3000 steps (batch 4, 128x128 crops) on RoadScene, 2-core CPU (configs/cpu.yaml)",
    trained_on="train/roadscene minus 8 held-out validation pairs; no test-set images",
))
