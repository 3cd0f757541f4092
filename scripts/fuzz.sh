#!/usr/bin/env bash
# Fuzz every decoder for SECONDS seconds each (default 10): the wire decoder, the client context
# decoder, the relay's frame parser and the stored-record codec (fuzz/fuzz_targets/). Installs
# what it needs (a nightly toolchain, cargo-fuzz) when missing. Starts from the committed seed
# corpus (fuzz/corpus/<target>/, written by `cargo run --release --example fuzz_seeds`) plus
# what earlier runs found (target/fuzz-corpus/<target>/, not committed), and prints the
# executions each target reached. A crash stops the script with the failing input saved in
# fuzz/artifacts/<target>/ (replay: cargo +nightly fuzz run <target> <that file>).
#
#   scripts/fuzz.sh            # 10 s per target (what `npm test` runs)
#   scripts/fuzz.sh 3600       # the long run: one hour per target
#   FUZZ_TARGETS="wire_message" scripts/fuzz.sh 600
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-10}"

if ! command -v rustup >/dev/null 2>&1; then
  echo "fuzz: rustup is needed to install the nightly toolchain cargo-fuzz uses" >&2
  exit 1
fi
if ! rustup toolchain list | grep -q '^nightly'; then
  echo "fuzz: installing the nightly toolchain (minimal profile)"
  rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz (about two minutes)"
  cargo install cargo-fuzz --locked
fi

# No sanitizer: ringlet has no `unsafe` code, so AddressSanitizer would find nothing that a
# panic does not already report, while it halves the executions per second and doubles the
# build. Coverage guidance (SanitizerCoverage) stays on.
targets="${FUZZ_TARGETS:-wire_message client_context relay_frame stored_record}"
mkdir -p target
echo "fuzz: building the targets"
if ! cargo +nightly fuzz build --sanitizer none --fuzz-dir fuzz >target/fuzz-build.log 2>&1; then
  grep -E '^error' -A12 target/fuzz-build.log >&2 || tail -40 target/fuzz-build.log >&2
  echo "fuzz: the targets do not build (log: target/fuzz-build.log)" >&2
  exit 1
fi
summary=()
for t in $targets; do
  work="target/fuzz-corpus/$t"
  mkdir -p "$work"
  log="target/fuzz-corpus/$t.log"
  echo "fuzz: $t for $seconds s"
  if ! cargo +nightly fuzz run --sanitizer none --fuzz-dir fuzz "$t" "$work" "fuzz/corpus/$t" -- \
      -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1; then
    tail -40 "$log" >&2
    echo "fuzz: $t FAILED (log: $log; input in fuzz/artifacts/$t/)" >&2
    exit 1
  fi
  runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
  secs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\2/p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | awk '{print $2}')
  corpus=$(find "$work" -type f | wc -l)
  summary+=("$(printf '%-15s %12s executions in %5s s  (coverage %s edges, corpus %s)' "$t" "${runs:-?}" "${secs:-?}" "${cov:-?}" "$corpus")")
done
echo "fuzz: done, no crash"
printf '  %s\n' "${summary[@]}"
