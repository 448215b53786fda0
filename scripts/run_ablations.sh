#!/usr/bin/env bash
# Train every ablation variant of issue 11 (configs/ablation/*.yaml), one after another, with the
# same budget. Seed 0 of all seven variants first (Tables 4-7), then seeds 1 and 2 of the four
# variants in Tables 5 and 6. A finished run (final.safetensors present) is skipped; an
# interrupted one continues from its checkpoint (--resume). Several copies of this script may run
# at once (e.g. one per core): each run is claimed by a lock folder holding the claimant's PID.
#   usage: scripts/run_ablations.sh [--data-root DIR] [OUT_ROOT]
# The data root is --data-root DIR, else $MUTUALFUSE_DATA; OUT_ROOT (default: runs/ablation of
# this checkout) is relative to the current folder. Python: $PYTHON, else the checkout's
# .venv/bin/python, else python3. Bad input (no data root, an unknown option) is a one-line error
# with exit status 2 before anything is written.
set -euo pipefail
me="run_ablations.sh"
die() { echo "$me: error: $*" >&2; exit 2; }
data_root=${MUTUALFUSE_DATA:-}
out_root=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --data-root) [[ $# -ge 2 && -n "$2" ]] || die "--data-root needs a folder"; data_root=$2; shift 2 ;;
    --data-root=*) data_root=${1#--data-root=}; [[ -n "$data_root" ]] || die "--data-root needs a folder"; shift ;;
    --) shift; [[ $# -le 1 ]] || die "one OUT_ROOT at most (got: $*)"; [[ $# -eq 0 ]] || out_root=$1; break ;;
    -*) die "unknown option $1 (usage: scripts/run_ablations.sh [--data-root DIR] [OUT_ROOT])" ;;
    *) [[ -z "$out_root" ]] || die "one OUT_ROOT at most (got: $out_root $1)"; out_root=$1; shift ;;
  esac
done
[[ -n "$data_root" ]] || die "no data root: pass --data-root DIR or set MUTUALFUSE_DATA"
[[ -d "$data_root" ]] || die "$data_root: data root is not a folder"
[[ -d "$data_root/train/roadscene" ]] || die "$data_root: no train/roadscene in the data root (the ablations' training set)"
data_root=$(cd "$data_root" && pwd)
repo=$(cd "$(dirname "$0")/.." && pwd)
if [[ -z "$out_root" ]]; then out_root="$repo/runs/ablation"
elif [[ "$out_root" != /* ]]; then out_root="$PWD/$out_root"; fi
if [[ -n "${PYTHON:-}" ]]; then py=$PYTHON
elif [[ -x "$repo/.venv/bin/python" ]]; then py="$repo/.venv/bin/python"
else py=python3; fi
command -v "$py" >/dev/null 2>&1 || die "$py: no such Python (set PYTHON)"
[[ ! -e "$out_root" || -d "$out_root" ]] || die "$out_root: exists and is not a folder"
cd "$repo"
for v in vifnet-mean-concat mean-concat var-concat var-add var-mapping var-mapping-d4 var-mapping-d5; do
  [[ -f "configs/ablation/$v.yaml" ]] || die "configs/ablation/$v.yaml: no such config"
done
jobs=()
for v in vifnet-mean-concat mean-concat var-concat var-add var-mapping var-mapping-d4 var-mapping-d5; do
  jobs+=("$v 0")
done
for s in 1 2; do
  for v in mean-concat var-concat var-add var-mapping; do jobs+=("$v $s"); done
done
mkdir -p "$out_root"
lock=""
trap '[[ -n "$lock" ]] && rm -rf "$lock"' EXIT
for job in "${jobs[@]}"; do
  read -r v s <<<"$job"
  out="$out_root/$v-s$s"
  if [[ -f "$out/final.safetensors" ]]; then echo "done already: $out"; continue; fi
  lock="$out_root/.lock-$v-s$s"
  if ! mkdir "$lock" 2>/dev/null; then
    owner=$(cat "$lock/pid" 2>/dev/null || echo "")
    if [[ -n "$owner" && "$owner" != "$$" ]] && kill -0 "$owner" 2>/dev/null; then
      echo "running elsewhere (pid $owner): $out"; lock=""; continue
    fi
    echo "stale lock, taking over: $out"
  fi
  echo $$ > "$lock/pid"
  echo "== $(date -u +%H:%M:%S) training $v seed $s -> $out"
  "$py" -m mutualfuse train --config "configs/ablation/$v.yaml" --data-root "$data_root" --seed "$s" -o "$out" \
    --resume --no-progress
  rm -rf "$lock"
  lock=""
done
echo "== $(date -u +%H:%M:%S) all ablation runs done (here)"
