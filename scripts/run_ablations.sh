#!/usr/bin/env bash
# Train every ablation variant of issue 11 (configs/ablation/*.yaml), one after another, with the
# same budget. Seed 0 of all seven variants first (Tables 4-7), then seeds 1 and 2 of the four
# variants in Tables 5 and 6. A finished run (final.safetensors present) is skipped; an
# interrupted one continues from its checkpoint (--resume). Needs MUTUALFUSE_DATA (or --data-root).
#   usage: scripts/run_ablations.sh [OUT_ROOT]      (default runs/ablation)
set -euo pipefail
cd "$(dirname "$0")/.."
out_root=${1:-runs/ablation}
py=${PYTHON:-.venv/bin/python}
jobs=()
for v in vifnet-mean-concat mean-concat var-concat var-add var-mapping var-mapping-d4 var-mapping-d5; do
  jobs+=("$v 0")
done
for s in 1 2; do
  for v in mean-concat var-concat var-add var-mapping; do jobs+=("$v $s"); done
done
for job in "${jobs[@]}"; do
  read -r v s <<<"$job"
  out="$out_root/$v-s$s"
  if [[ -f "$out/final.safetensors" ]]; then echo "done already: $out"; continue; fi
  echo "== $(date -u +%H:%M:%S) training $v seed $s -> $out"
  "$py" -m mutualfuse train --config "configs/ablation/$v.yaml" --seed "$s" -o "$out" --resume --no-progress
done
echo "== $(date -u +%H:%M:%S) all ablation runs done"
