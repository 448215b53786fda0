"""The table of weights files that ship with the package.

Each entry's sha256 is checked before the file is used (see docs/training.md for how each
was trained: config, steps, wall time, machine, loss curve, scores).
"""
from . import ShippedWeights, _register

_register(ShippedWeights(
    name="default",
    file="fmm-pyramid-roadscene-mf-cpu.safetensors",
    sha256="f121c41e9691a5ff5c7808bbdea383a4cd0417ca84129e01626ec0248802e639",
    description="FMM depth 3, mutual mapping with learned q/k projections + relative-position code, Laplacian-"
                "pyramid output (4 bands, learned weights per band); Var-SSIM + 5.0 max-gradient loss; RoadScene "
                "IR-VIS + 30% synthetic multi-focus pairs; warm-started from `blend` (3000 steps) + 1500 steps "
                "(batch 4, 128x128 crops), 2-core CPU (configs/pyramid-g5.yaml); run with blend_temperature 0.25 "
                "(a harder per-band selection, chosen on the validation split; the trained model is 1.0)",
    trained_on="train/roadscene minus 8 held-out validation pairs (and synthetic multi-focus pairs made from "
               "their visible images); no test-set images",
    config="configs/pyramid-g5.yaml",
    # the trained model's last logged validation (at blend_temperature 1.0); at 0.25:
    # SF 13.9467, EI 56.7938, Qabf 0.6632, MF PSNR 54.2320 (runs-log/val_temperature_default.txt)
    validation=(("loss", 0.234279), ("sf", 13.8314), ("ei", 56.3766), ("qabf", 0.6606), ("mf_psnr", 54.0789)),
))

_register(ShippedWeights(
    name="blend",
    file="fmm-blend-roadscene-mf-cpu.safetensors",
    sha256="c5c5e1be4d613b62e3b3f0a635312fdf74d5f2483778663eda2f5f61e4a91bd0",
    description="the per-pixel blend model (shipped as `default` until the pyramid model replaced it; the same "
                "file): FMM depth 3, projected + positional mapping, blend output; Var-SSIM + 0.2 max-gradient "
                "loss; RoadScene IR-VIS + 30% synthetic multi-focus; 3000 steps, 2-core CPU (configs/default.yaml). "
                "The warm start of configs/pyramid*.yaml",
    trained_on="train/roadscene minus 8 held-out validation pairs (and synthetic multi-focus pairs made from "
               "their visible images); no test-set images",
    config="configs/default.yaml",
))

_register(ShippedWeights(
    name="paper",
    file="fmm-roadscene-cpu.safetensors",
    sha256="bb931187de774d7aa61aeeb9e5eb89532666041a7846a53d84a61aa2b1ee3266",
    description="the paper's recipe (FMM depth 3, raw dot-product mapping, direct output, Var-SSIM, Adam 1e-4), "
                "IR-VIS only; 3000 steps (batch 4, 128x128 crops) on RoadScene, 2-core CPU (configs/cpu.yaml)",
    trained_on="train/roadscene minus 8 held-out validation pairs; no test-set images",
    config="configs/cpu.yaml",
))
