#!/usr/bin/env bash
# Train every ablation variant of issue 11 (configs/ablation/*.yaml), one after another, with the
# same budget. Seed 0 of all seven variants first (Tables 4-7), then seeds 1 and 2 of the four
# variants in Tables 5 and 6. A finished run (final.safetensors present) is skipped; an
# interrupted one continues from its checkpoint (--resume). Several copies of this script may run
# at once (e.g. one per core): each run is claimed by a lock folder holding the claimant's PID.
# Needs MUTUALFUSE_DATA (or --data-root).
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
mkdir -p "$out_root"
for job in "${jobs[@]}"; do
  read -r v s <<<"$job"
  out="$out_root/$v-s$s"
  lock="$out_root/.lock-$v-s$s"
  if [[ -f "$out/final.safetensors" ]]; then echo "done already: $out"; continue; fi
  if ! mkdir "$lock" 2>/dev/null; then
    owner=$(cat "$lock/pid" 2>/dev/null || echo "")
    if [[ -n "$owner" ]] && kill -0 "$owner" 2>/dev/null; then echo "running elsewhere (pid $owner): $out"; continue; fi
    echo "stale lock, taking over: $out"
  fi
  echo $$ > "$lock/pid"
  echo "== $(date -u +%H:%M:%S) training $v seed $s -> $out"
  "$py" -m mutualfuse train --config "configs/ablation/$v.yaml" --seed "$s" -o "$out" --resume --no-progress
  rm -rf "$lock"
done
echo "== $(date -u +%H:%M:%S) all ablation runs done (here)"
