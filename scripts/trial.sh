#!/usr/bin/env bash
# One generated incident rebuilt twice, scored side by side: the full rebuild (every
# source) against the backup-only floor (`salvage run --source <backup>`), so a change to
# the merge shows what the other sources add on top of the backup.
#
#   scripts/trial.sh FLAVOUR BUSINESSES SEED [OUTDIR]     e.g. scripts/trial.sh bookly 15 31
#
# OUTDIR (default /tmp/trial-FLAVOUR-BUSINESSES-SEED) gets incident/, full/, floor/, their
# evaluations (full.json, floor.json) and logs; an earlier trial there is replaced.
# Uses $CARGO_TARGET_DIR/release/salvage (default ~/.cache/salvage-target, as .ci/run), built if missing.
set -euo pipefail

if [[ $# -lt 3 || $# -gt 4 ]]; then
  echo "usage: $0 FLAVOUR BUSINESSES SEED [OUTDIR]" >&2
  exit 2
fi
flavour=$1 businesses=$2 seed=$3
out=${4:-/tmp/trial-$flavour-$businesses-$seed}
root=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$HOME/.cache/salvage-target}
bin=$target/release/salvage

# Build when missing, or when too old to know `run --source`.
if [[ ! -x $bin ]] || ! "$bin" run --help 2>/dev/null | grep -q -- '--source'; then
  echo "building $bin" >&2
  (cd "$root" && CARGO_TARGET_DIR=$target cargo build --release --quiet)
fi

# The generator refuses a non-empty --out: start clean, but only remove a directory that
# an earlier trial made.
if [[ -e $out ]]; then
  if [[ ! -f $out/.salvage-trial ]] && [[ -n $(ls -A "$out") ]]; then
    echo "$0: $out exists and is not a trial directory; give another OUTDIR" >&2
    exit 1
  fi
  rm -rf -- "$out"
fi
mkdir -p "$out"
touch "$out/.salvage-trial"

# Runs a salvage command with its output in a log; shows the log's end if it fails.
step() {
  local log=$out/$1.log
  shift
  if ! "$bin" --quiet "$@" >"$log" 2>&1; then
    echo "$0: failed: salvage $* (log: $log)" >&2
    tail -n 20 "$log" >&2
    exit 1
  fi
}

step generate samples generate --businesses "$businesses" --seed "$seed" \
  --flavour "$flavour" --out "$out/incident"
incident=$out/incident/incident.toml

# The floor's sources: every source of kind "backup" in the generated incident file.
mapfile -t backups < <(python3 - "$incident" <<'EOF'
import sys, tomllib
with open(sys.argv[1], "rb") as f:
    inc = tomllib.load(f)
for s in inc.get("sources", []):
    if s.get("kind") == "backup":
        print(s["name"])
EOF
)
if [[ ${#backups[@]} -eq 0 ]]; then
  echo "$0: $incident has no source of kind \"backup\"" >&2
  exit 1
fi
floor_args=()
for b in "${backups[@]}"; do floor_args+=(--source "$b"); done

step run-full run "$incident" --out "$out/full"
step run-floor run "$incident" --out "$out/floor" "${floor_args[@]}"
for v in full floor; do
  step "evaluate-$v" evaluate --truth "$out/incident/truth.sqlite" \
    --recovered "$out/$v/recovered.sqlite" --json "$out/$v.json"
done

python3 - "$out" "$flavour $businesses businesses, seed $seed" "${backups[*]}" <<'EOF'
import json, sys
out, title, floor = sys.argv[1:4]
full, flo = (json.load(open(f"{out}/{v}.json")) for v in ("full", "floor"))
print(f"{title}: full rebuild vs backup-only floor ({floor})")
print(f"{'':<14}{'F1 full':>9}{'F1 floor':>10}{'evF1 full':>11}{'evF1 floor':>12}"
      f"{'dup% full':>11}{'dup% floor':>12}")
for a, b in zip(full["tables"], flo["tables"]):
    print(f"{a['table']:<14}{a['f1']:>9.3f}{b['f1']:>10.3f}"
          f"{a['evidenced_f1']:>11.3f}{b['evidenced_f1']:>12.3f}"
          f"{100 * a['duplicate_share']:>11.1f}{100 * b['duplicate_share']:>12.1f}")
print("(evF1: over the truth rows some surviving source holds)")
mf, mb = full["money"], flo["money"]
print(f"{'money exact %':<14}{100 * mf['share']:>9.1f}{100 * mb['share']:>10.1f}"
      f"   ({mf['exact']} vs {mb['exact']} of {mf['businesses']} businesses)")
print(f"{'ECE':<14}{full['calibration']['ece']:>9.4f}{flo['calibration']['ece']:>10.4f}")
print(f"details: {out}/full.json, {out}/floor.json")
EOF
