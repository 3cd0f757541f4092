#!/usr/bin/env bash
# The mutation check of issue 15: put back each fixed defect (feature `mutants`, never in a
# release build) and show that the simulator, with its default faults and checks, fails
# within the first RINGLET_MUTATION_SEEDS seeds (default 1000). Exits 1 if a defect survives.
#   bash scripts/mutation-check.sh                 every mutant
#   bash scripts/mutation-check.sh retry_forward   one
set -euo pipefail
cd "$(dirname "$0")/.."
seeds="${RINGLET_MUTATION_SEEDS:-1000}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --quiet --release --features mutants --bin ringlet-sim
sim="$CARGO_TARGET_DIR/release/ringlet-sim"
mutants=("$@")
if [ ${#mutants[@]} -eq 0 ]; then
  mutants=(count_responders retry_forward counter_tombstone actor_per_run)
fi
survived=0
printf '%-20s %s\n' "mutant" "first failing seed (of $seeds) and its first violation"
for m in "${mutants[@]}"; do
  out=$("$sim" --seeds "0..$seeds" --until-fail --mutant "$m" 2>&1) && rc=0 || rc=$?
  if [ "$rc" -eq 1 ] && first=$(grep -m1 '^first failing seed: ' <<<"$out"); then
    violation=$(grep -m1 'VIOLATION' <<<"$out" | sed 's/^ *VIOLATION: //' | cut -c1-110)
    printf '%-20s %-6s %s\n' "$m" "${first#first failing seed: }" "$violation"
  else
    printf '%-20s %s\n' "$m" "SURVIVED: no violation in $seeds seeds (exit $rc)"
    survived=1
  fi
done
exit "$survived"
