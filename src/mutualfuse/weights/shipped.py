"""The table of weights files that ship with the package.

Each entry's sha256 is checked before the file is used (see docs/training.md for how each
was trained: config, steps, wall time, machine, loss curve, scores).
"""
from . import ShippedWeights, _register

_register(ShippedWeights(
    name="default",
    file="fmm-pyramid-centred-bright-train2-roadscene-mf-cpu.safetensors",
    sha256="1eb36c651ad4ca0d2ff839a1d56849b2f8519e0f32ae25dc4bd61971e84cfdad",
    description="`centred`'s network (one encoder for both sources, a local mutual mapping, maps centred on "
                "their global values, so that every selection comes from the maps' local variation; Laplacian-"
                "pyramid output, 4 bands) TRAINED with a given brighter-source rule on the base band (base_brightness "
                "50: w = sigmoid(learned/T + 50 x (G_X - G_Y)) on the coarsest band) so that the learned weights "
                "adapt to it: `centred` + 4000 steps with the rule on (`centred-bright-train`) + 6000 more on unseen "
                "samples (lr 1e-4, cosine; batch 1, 256x256 crops; 20000 steps of `centred`'s lineage on top of "
                "`pyramid-long`'s 9000 of batch 4), 2-core CPU (configs/centred-bright-train2.yaml); run with "
                "blend_temperature 0.5 (chosen by mean rank over the RoadScene validation pairs and the held-out "
                "CT/MR set medical/ct-mr-harvard) and map_min_pool 2. `default` since 2026-12-04 (fourth session); "
                "at these stored settings (--task stored): TNO ahead of cbf (7 of 9), medical 7 of 9 ahead of IFCNN(max), the multi-focus truth at 51.5 dB, "
                "global-mean maps worse; not TNO EI/SF >= the paper, Lytro 3 of 7 (docs/training.md). Per-task settings "
                "(--task, each chosen on that task's validation columns): ir-vis T 0.1 + detail_activity 10000 "
                "(TNO EI 46.9 / SF 11.78 / Qabf 0.595, past the paper's row; 6 of 9 ahead of cbf), multi-focus T 0.1 + detail_activity 3000 "
                "(round 7: the mapping matters on Lytro, 51.3 dB to the multi-focus truth; Lytro 4 of 7), medical "
                "detail_activity 300; since the seventh session the task is detected per pair by default (--task auto)",
    trained_on="train/roadscene minus 8 held-out validation pairs (and synthetic multi-focus pairs made from "
               "their visible images); no test-set images; base_brightness and T chosen on those validation "
               "pairs plus medical/ct-mr-harvard (not a training set, not one of the target test sets)",
    config="configs/centred-bright-train2.yaml",
    # the trained model's last logged validation (at blend_temperature 1.0); at 0.5 with the other settings:
    # runs-log/val_centred-bright-train2.txt
    validation=(("loss", 0.318669), ("sf", 13.5847), ("ei", 54.815), ("qabf", 0.6335), ("mf_psnr", 55.6547)),
    # per task, the setting of the lowest mean rank over that task's validation columns (docs/training.md,
    # "Per-task settings"): round 1 among T = 1, 0.5, 0.25, 0.1 (ties keep the stored 0.5), round 2 adding
    # detail_activity 300 / 1000 / 3000 at round 1's T (`python scripts/val_rank.py --task TASK
    # runs-log/val_default_tno40.txt runs-log/val_default_tno40_detail_activity.txt`)
    # multi-focus: round 3 over Table 2's metrics + PSNR of the synthetic validation pairs
    # (`python scripts/mf_val_metrics.py ...`, runs-log/mf_val_metrics_round3.txt); round 4 adds G = 10000
    # (runs-log/val_default_tno40_detail_activity10k.txt, runs-log/mf_val_metrics_round4.txt); round 5 adds
    # detail_gain 1.05 / 1.1 / 1.2 for multi-focus (1.2 fails the PSNR-above-dwt guard; runs-log/mf_val_metrics_round5.txt);
    # round 7 re-chose multi-focus on realistic validation pairs (disc blur, focus breathing) with a mapping guard:
    # G 3000, gain 1 (`python scripts/mf_val_metrics.py --pairs realistic --mean-maps ...`, runs-log/mf_val_metrics_round7.txt)
    tasks=(("ir-vis", (("blend_temperature", 0.1), ("detail_activity", 10000.0))),
           ("multi-focus", (("blend_temperature", 0.1), ("detail_activity", 3000.0))),
           ("medical", (("detail_activity", 300.0),))),
))

_register(ShippedWeights(
    name="pyramid-long",
    file="fmm-pyramid-bo-long-roadscene-mf-cpu.safetensors",
    sha256="c8f72394b57e55d98dabe822555757b4e79fa1f0cd1a2b54e707fb834adf5e5d",
    description="`default` from 2026-12-02 (evening) until 2026-12-04 (the same file) and the warm start of "
                "`centred-6000`: FMM depth 3, mutual mapping with learned q/k projections + relative-position "
                "code, Laplacian-pyramid output (4 bands, learned weights per band); Var-SSIM + 5.0 max-gradient loss + 10 x a "
                "truth term on the synthetic multi-focus pairs; RoadScene IR-VIS with black regions in either "
                "source (30%) and swapped roles (50%), + 30% synthetic multi-focus pairs; warm-started from "
                "`blackout` (the previous default, 6000 steps in its lineage) + 3000 steps of the same recipe on "
                "unseen samples at lr 1e-4 (9000 in all; batch 4, 128x128 crops), 2-core CPU "
                "(configs/default-long.yaml); run with blend_temperature 0.1 (chosen on the validation split; the "
                "trained model is 1.0) and map_min_pool 2 (the mapping on a 2x pooled grid also below the token "
                "budget: 256x256 fuses 1.7x faster, test-set scores unchanged; token_budget 0 is exact)",
    trained_on="train/roadscene minus 8 held-out validation pairs (and synthetic multi-focus pairs made from "
               "their visible images); no test-set images",
    config="configs/default-long.yaml",
    # the trained model's last logged validation (at blend_temperature 1.0); at 0.1:
    # SF 14.0296, EI 57.1112, Qabf 0.6624, MF PSNR 56.4758, black PSNR 23.4855 (runs-log/val_default-long.txt)
    validation=(("loss", 0.233461), ("sf", 13.9039), ("ei", 56.5738), ("qabf", 0.6607), ("mf_psnr", 56.3077)),
))

_register(ShippedWeights(
    name="blackout",
    file="fmm-pyramid-bo-roadscene-mf-cpu.safetensors",
    sha256="ff0e82f5c4048628351856d272fcbcf25f13d9f659c4ce6915cbfbe8b6c49d64",
    description="the previous default (2026-12-02, the same file) and the warm start of `pyramid-long` and `local`: FMM "
                "depth 3, projected + positional mapping, Laplacian-pyramid output (4 bands); Var-SSIM + 5.0 "
                "max-gradient loss + 10 x a truth term on the synthetic multi-focus pairs; RoadScene IR-VIS with "
                "black regions in either source (30%) and swapped roles (50%), + 30% synthetic multi-focus pairs; "
                "warm-started from `pyramid` + 1500 steps (6000 in its lineage; batch 4, 128x128 crops), 2-core "
                "CPU (configs/pyramid-swap-truth-blackout.yaml); run with blend_temperature 0.25 (chosen on the "
                "validation split; the trained model is 1.0)",
    trained_on="train/roadscene minus 8 held-out validation pairs (and synthetic multi-focus pairs made from "
               "their visible images); no test-set images",
    config="configs/pyramid-swap-truth-blackout.yaml",
    # the trained model's last logged validation (at blend_temperature 1.0); at 0.25:
    # SF 14.0627, EI 57.5930, Qabf 0.6567, MF PSNR 56.3157, black PSNR 22.2073 (runs-log/val_candidates_20261202.txt)
    validation=(("loss", 0.252167), ("sf", 13.8511), ("ei", 56.5058), ("qabf", 0.6552), ("mf_psnr", 55.9992)),
))

_register(ShippedWeights(
    name="local",
    file="fmm-pyramid-local-roadscene-mf-cpu.safetensors",
    sha256="86f3a09b48c2afdce8c6c77402091d796d5acecebd7e1e19a69dbb00aefa6508",
    description="`blackout` (then `default`) with a LOCAL mutual mapping: the same network plus a Gaussian bias "
                "of the displacement "
                "in the attention (attn_local_sigma, sigma 1.5 -> learned 1.6 deepest-grid cells), so the attention "
                "is local and the output depends on the maps (replacing them by their means changes it by about 2 grey "
                "levels on tno-01 and ct-mr-c01 and 0.14 on lytro-01, against <= 0.18 for `blackout`); warm-started from `blackout` (the default of 2026-12-02, ff0e82f5) + "
                "1500 steps of its "
                "recipe, 2-core CPU (configs/pyramid-local.yaml); run with blend_temperature 0.25 (chosen on "
                "validation). Not better than `blackout` on the test sets: ahead on Lytro, behind on medical and the "
                "multi-focus truth (docs/training.md)",
    trained_on="train/roadscene minus 8 held-out validation pairs (and synthetic multi-focus pairs made from "
               "their visible images); no test-set images",
    config="configs/pyramid-local.yaml",
    # the trained model's last logged validation (at blend_temperature 1.0); at 0.25:
    # SF 14.0958, EI 57.6563, Qabf 0.6571, MF PSNR 56.4765, black PSNR 19.8969 (runs-log/val_pyramid-local.txt)
    validation=(("loss", 0.238707), ("sf", 13.9376), ("ei", 56.8228), ("qabf", 0.6562), ("mf_psnr", 56.2310)),
))

_register(ShippedWeights(
    name="centred",
    file="fmm-pyramid-centred-roadscene-mf-cpu.safetensors",
    sha256="64add5623ed563dffff0f4490a5f0b33db5a6e6fbef21b375ed68733c5d136ca",
    description="the model whose mutual mapping carries the selection: `pyramid-long`'s network with ONE encoder for "
                "both sources (shared_encoder), a local mutual mapping (attn_local_sigma 1.5) and maps CENTRED on "
                "their global values (map_center), so that global-mean maps blend the sources 1/2 and every "
                "selection comes from the maps' local variation (replacing them by their means is worse on every "
                "metric of every test set); `pyramid-long`'s recipe; `centred-6000` (6000 steps at lr 3e-4 from "
                "`pyramid-long`) + 4000 steps at lr 1e-4 on unseen samples (batch 1, 256x256 crops: 10000 steps on "
                "top of `pyramid-long`'s 9000 of batch 4), 2-core CPU (configs/default-centred-cont.yaml); run with "
                "blend_temperature 0.1 (chosen on validation) and map_min_pool 2. Sharper on TNO and closer to a "
                "known multi-focus truth than `pyramid-long`, behind it on medical (6 of 9 vs IFCNN against 7) and Lytro; "
                "with a base-band rule added it is `centred-bright`, and trained with that rule on, `default`",
    trained_on="train/roadscene minus 8 held-out validation pairs (and synthetic multi-focus pairs made from "
               "their visible images); no test-set images",
    config="configs/default-centred-cont.yaml",
    # the trained model's last logged validation (at blend_temperature 1.0); at 0.1:
    # SF 14.0919, EI 58.0060, Qabf 0.6502, MF PSNR 55.6216, black PSNR 28.6881 (runs-log/val_default-centred-cont.txt)
    validation=(("loss", 0.237321), ("sf", 13.9097), ("ei", 56.8053), ("qabf", 0.6526), ("mf_psnr", 55.0752)),
))

_register(ShippedWeights(
    name="centred-bright-train",
    file="fmm-pyramid-centred-bright-train-roadscene-mf-cpu.safetensors",
    sha256="af58a08efed698052d20c7cde9739311ec086361a7f77aa0d664e888f7576a25",
    description="the warm start of `default`: `centred` trained 4000 more steps (lr 1e-4, cosine; batch 1, 256x256 "
                "crops) with its base-band rule on (base_brightness 50), so that the learned weights adapt to "
                "the rule; `centred`'s recipe otherwise, 2-core CPU (configs/centred-bright-train.yaml); run with "
                "blend_temperature 0.5 (chosen on validation) and map_min_pool 2",
    trained_on="train/roadscene minus 8 held-out validation pairs (and synthetic multi-focus pairs made from "
               "their visible images); no test-set images; T chosen on those validation pairs plus "
               "medical/ct-mr-harvard",
    config="configs/centred-bright-train.yaml",
    # the trained model's last logged validation (at blend_temperature 1.0); at 0.5 and the other settings:
    # runs-log/val_centred-bright-train.txt
    validation=(("loss", 0.326236), ("sf", 13.5646), ("ei", 54.7078), ("qabf", 0.6341), ("mf_psnr", 55.6045)),
))

_register(ShippedWeights(
    name="centred-bright",
    file="fmm-pyramid-centred-bright-roadscene-mf-cpu.safetensors",
    sha256="fa607ed0fd4f62787f39ff6bd603aa6586736c1c5e11cab9151541f43c21b9bf",
    description="`centred`'s network and weights (one encoder for both sources, a local mutual mapping, maps "
                "centred on their global values, so that every selection comes from the maps' local variation; "
                "Laplacian-pyramid output, 4 bands) with a given rule added to the base band's selection: "
                "base_brightness 50, w = sigmoid(learned/T + 50 x (G_X - G_Y)) on the coarsest pyramid band, a soft "
                "brighter-source choice of the low frequencies; 50 chosen by mean rank over the RoadScene validation "
                "pairs AND a held-out CT/MR set (medical/ct-mr-harvard, CDDFuse's test set: never trained on, "
                "disjoint from the c01-c08 test pairs); blend_temperature 0.1 and map_min_pool 2 as `centred`. "
                "`default` on 2026-12-04 (fourth session) until `centred-bright-train2` replaced it (the same file)",
    trained_on="train/roadscene minus 8 held-out validation pairs (and synthetic multi-focus pairs made from "
               "their visible images); no test-set images; the base_brightness setting was chosen on those "
               "validation pairs plus medical/ct-mr-harvard (not a training set, not one of the target test sets)",
    config="configs/default-centred-cont.yaml",
    # as `centred`: the trained model's last logged validation (at blend_temperature 1.0, base_brightness 0);
    # with the stored settings: runs-log/val_base_brightness_centred_combined.txt
    validation=(("loss", 0.237321), ("sf", 13.9097), ("ei", 56.8053), ("qabf", 0.6526), ("mf_psnr", 55.0752)),
))

_register(ShippedWeights(
    name="centred-6000",
    file="fmm-pyramid-centred-6000-roadscene-mf-cpu.safetensors",
    sha256="d55bcd32c068ef213a437cd7f2ebbc98e80d6691897113a76efdcb55b49751ef",
    description="the warm start of `centred`: `pyramid-long`'s network with ONE encoder for both sources "
                "(shared_encoder), a local mutual mapping (attn_local_sigma 1.5) and maps CENTRED on their global "
                "values (map_center: global-mean maps blend the sources 1/2, so the selection comes from the maps' "
                "local variation); `pyramid-long`'s recipe, 6000 steps at lr 3e-4 from `pyramid-long` (batch 1, 256x256 "
                "crops), 2-core CPU (configs/default-centred.yaml); run with blend_temperature 0.1 and map_min_pool "
                "2 (as `pyramid-long`; T chosen on validation)",
    trained_on="train/roadscene minus 8 held-out validation pairs (and synthetic multi-focus pairs made from "
               "their visible images); no test-set images",
    config="configs/default-centred.yaml",
    # the trained model's last logged validation (at blend_temperature 1.0); at 0.1:
    # SF 14.1445, EI 58.4024, Qabf 0.6417, MF PSNR 54.9708, black PSNR 26.3586 (runs-log/val_default-centred.txt)
    validation=(("loss", 0.249997), ("sf", 13.9117), ("ei", 56.831), ("qabf", 0.6467), ("mf_psnr", 54.7394)),
))

_register(ShippedWeights(
    name="pyramid",
    file="fmm-pyramid-roadscene-mf-cpu.safetensors",
    sha256="f121c41e9691a5ff5c7808bbdea383a4cd0417ca84129e01626ec0248802e639",
    description="the previous default (until 2026-12-02; the same file) and the warm start of `blackout`: FMM depth 3, "
                "projected + positional mapping, Laplacian-pyramid output (4 bands); Var-SSIM + 5.0 max-gradient "
                "loss; RoadScene IR-VIS + 30% synthetic multi-focus pairs; warm-started from `blend` (3000 steps) "
                "+ 1500 steps, 2-core CPU (configs/pyramid-g5.yaml); run with blend_temperature 0.25. Takes an "
                "all-black region of its first input as content (docs/training.md)",
    trained_on="train/roadscene minus 8 held-out validation pairs (and synthetic multi-focus pairs made from "
               "their visible images); no test-set images",
    config="configs/pyramid-g5.yaml",
    # at 0.25: SF 13.9467, EI 56.7938, Qabf 0.6632, MF PSNR 54.2320 (runs-log/val_temperature_default.txt)
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
    validation=(("loss", 0.088299), ("sf", 12.9958), ("ei", 53.064), ("qabf", 0.6216), ("mf_psnr", 48.1047)),
))

_register(ShippedWeights(
    name="paper",
    file="fmm-roadscene-cpu-9000.safetensors",
    sha256="2d730e473996a16c4bfd22ff11bd452d9b69fa6a09de5f8fb18c7cdf0dd78f2b",
    description="the paper's recipe (FMM depth 3, raw dot-product mapping, direct output, Var-SSIM, Adam 1e-4 "
                "constant), IR-VIS only; 9000 steps (batch 4, 128x128 crops; `pyramid-long`'s budget) on RoadScene, "
                "2-core CPU: `paper-3000` (configs/cpu.yaml) + 6000 steps of the same recipe on unseen samples "
                "(configs/paper-cont.yaml)",
    trained_on="train/roadscene minus 8 held-out validation pairs; no test-set images",
    config="configs/paper-cont.yaml",
    validation=(("loss", 0.062182), ("sf", 13.3653), ("ei", 55.4884), ("qabf", 0.6036), ("mf_psnr", 30.6374)),
))


_register(ShippedWeights(
    name="paper-3000",
    file="fmm-roadscene-cpu.safetensors",
    sha256="bb931187de774d7aa61aeeb9e5eb89532666041a7846a53d84a61aa2b1ee3266",
    description="`paper` as first shipped (the first shipped default; the same file) and the warm start of "
                "`paper`: the paper's recipe (FMM depth 3, raw dot-product mapping, direct output, Var-SSIM, "
                "Adam 1e-4), IR-VIS only; 3000 steps (batch 4, 128x128 crops) on RoadScene, 2-core CPU "
                "(configs/cpu.yaml)",
    trained_on="train/roadscene minus 8 held-out validation pairs; no test-set images",
    config="configs/cpu.yaml",
))
