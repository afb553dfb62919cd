#!/usr/bin/env bash
# Mail import against the limit probe, on the same file, in one run (issue 17's bench):
# `salvage import` of an incident whose only source is the mbox, and
# ../shared/bench/mboxbench (split + parse with mail-parser and rayon, no extraction),
# alternated ROUNDS times. Prints each time, peak memory and CPU, and the ratio of the
# medians. Not a test: run it by hand on a quiet machine.
#
#   scripts/bench_mail.sh MBOX MAPPING [ROUNDS]
#   e.g. scripts/bench_mail.sh /tmp/mission/incident/mail/app.mbox mappings/bookly/email.toml 3
#
# Generate a mission-density archive with
#   salvage samples generate --businesses 1600 --density mission --out /tmp/mission/incident
set -euo pipefail
if [[ $# -lt 2 || $# -gt 3 ]]; then
  echo "usage: $0 MBOX MAPPING [ROUNDS]" >&2
  exit 2
fi
mbox=$(realpath "$1") mapping=$(realpath "$2") rounds=${3:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$HOME/.cache/salvage-target}
(cd "$root" && CARGO_TARGET_DIR=$target cargo build --release --quiet)
CARGO_TARGET_DIR=$target cargo build --release --quiet --manifest-path "$root/../shared/bench/mboxbench/Cargo.toml"
salvage=$target/release/salvage probe=$target/release/mboxbench
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/incident.toml" <<TOML
name = "bench-mail"
incident_at = "2026-11-20T14:30:00Z"
[[sources]]
name = "mail"
kind = "email"
path = "$mbox"
mapping = "$mapping"
TOML
size=$(stat -c %s "$mbox")
printf '%-8s %5s %9s %8s %8s %6s\n' what round seconds MB/s peak_MB cpu
declare -a s_times p_times
for r in $(seq 1 "$rounds"); do
  rm -rf "$work/ws"
  /usr/bin/time -f '%e %M %P' -o "$work/t" "$salvage" -q import "$work/incident.toml" --workspace "$work/ws" >/dev/null
  read -r e m p < "$work/t"
  s_times+=("$e")
  printf '%-8s %5d %9.2f %8.0f %8d %6s\n' salvage "$r" "$e" "$(awk -v s="$size" -v e="$e" 'BEGIN {print s / 1e6 / e}')" $((m / 1024)) "$p"
  /usr/bin/time -f '%e %M %P' -o "$work/t" "$probe" "$mbox" >/dev/null
  read -r e m p < "$work/t"
  p_times+=("$e")
  printf '%-8s %5d %9.2f %8.0f %8d %6s\n' mboxbench "$r" "$e" "$(awk -v s="$size" -v e="$e" 'BEGIN {print s / 1e6 / e}')" $((m / 1024)) "$p"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ms=$(median "${s_times[@]}") mp=$(median "${p_times[@]}")
echo "file: $mbox ($((size / 1000000)) MB)"
echo "median: salvage import $ms s, mboxbench $mp s, ratio $(awk -v a="$ms" -v b="$mp" 'BEGIN {printf "%.2f", a / b}') (aim <= 2)"
