#!/usr/bin/env bash
# A short fuzzing pass for CI: builds the fuzz targets and runs each for FUZZ_SECONDS
# (default 20) from its seeded corpus. Any crash, hang (>10 s) or memory blow-up (>2 GB)
# fails. Without a nightly toolchain or cargo-fuzz it skips with a message and succeeds:
# it is optional, never a reason for CI to fail on a machine that cannot fuzz.
set -euo pipefail
cd "$(dirname "$0")"
secs="${FUZZ_SECONDS:-20}"

if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  echo "fuzz smoke: skipped (no nightly toolchain: rustup toolchain install nightly)"
  exit 0
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "fuzz smoke: skipped (no cargo-fuzz: cargo install cargo-fuzz)"
  exit 0
fi
if command -v python3 >/dev/null 2>&1; then
  python3 seed.py
else
  echo "fuzz smoke: no python3, corpora not seeded (targets start from what corpus/ holds)"
fi

# No sanitizer: the fuzzed code is safe Rust; panics, overflow checks, hangs and memory
# are what is looked for (see README.md).
cargo +nightly fuzz build -s none

# The largest input each target makes: as big as its seeds need, no bigger (a dump is
# read three times per input, a mapping compiles every regex).
max_len() {
  case "$1" in
    backup_sql) echo 4096 ;;
    mail_split | mail_import | stripe_csv | incident | mapping_*) echo 8192 ;;
    *) echo 32768 ;;
  esac
}

failed=()
for t in $(cargo +nightly fuzz list); do
  mkdir -p "corpus/$t" "artifacts/$t"
  echo "== fuzz $t (${secs}s)"
  if ! cargo +nightly fuzz run -s none "$t" "corpus/$t" -- \
      -max_total_time="$secs" -max_len="$(max_len "$t")" -rss_limit_mb=2048 -timeout=10 \
      -print_final_stats=1 -artifact_prefix="artifacts/$t/" 2>"artifacts/$t/smoke.log"; then
    tail -n 40 "artifacts/$t/smoke.log"
    failed+=("$t")
  else
    grep -E '^stat::(number_of_executed_units|peak_rss_mb)' "artifacts/$t/smoke.log" | tr '\n' ' '
    echo
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz smoke: FAILED: ${failed[*]} (inputs under fuzz/artifacts/<target>/)"
  exit 1
fi
echo "fuzz smoke: ok"
