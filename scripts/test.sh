#!/usr/bin/env bash
# `npm test`: every check CI runs, phase by phase with the time each took.
#   RINGLET_SEEDS=20000 npm test         a nightly-sized simulation (default 1000 seeds)
#   RINGLET_FUZZ_SECONDS=300 npm test    longer fuzzing per decoder (default 10 s)
set -euo pipefail
cd "$(dirname "$0")/.."
suite_start=$(date +%s)
timings=()
phase() { echo "== $1"; phase_name="$1"; phase_start=$(date +%s); }
phase_done() {
  local s=$(( $(date +%s) - phase_start ))
  echo "   ($s s)"
  timings+=("$(printf '%5d s  %s' "$s" "${phase_name%% (*}")")
}

phase "set-up: install what is missing (scripts/setup.sh test)"
bash scripts/setup.sh test
phase_done

phase "cargo fmt --check"
cargo fmt --all -- --check
phase_done
phase "cargo clippy, native and wasm32 (warnings are errors)"
cargo clippy --all-targets --release -- -D warnings
cargo clippy --target wasm32-unknown-unknown --lib -- -D warnings
cargo clippy --target wasm32-unknown-unknown --lib --features teaching -- -D warnings
phase_done
phase "cargo test --release (unit, property, scenario, relay and ${RINGLET_SEEDS:-1000} simulated seeds; benches as smoke runs)"
# The benches run once, small (RINGLET_SCALE); `cargo bench` runs them at full size.
rm -f target/tmp/sim_seeds_summary.txt
RINGLET_SCALE="${RINGLET_SCALE:-10,100,1000}" cargo test --release --all-targets
echo "   simulation: $(cat target/tmp/sim_seeds_summary.txt)"
phase_done
phase "fuzzing: every decoder for ${RINGLET_FUZZ_SECONDS:-10} s (long run: scripts/fuzz.sh 3600)"
bash scripts/fuzz.sh "${RINGLET_FUZZ_SECONDS:-10}"
phase_done

# ---- the browser and Node.js node (src/wasm, js/, tests/wasm_*, tests/js, tests/e2e) -------
# The JS, end-to-end, edge and page tests listen on fixed 127.0.0.1 ports. Each phase runs in a
# loopback-only network namespace of its own where the machine allows it, so two runs at once
# (a fresh-check beside a developer's run) never meet, and WebRTC sees only 127.0.0.1.
in_netns() { bash scripts/loopback-netns.sh "$@"; }
phase "build: relay, wasm package (pkg/)"
cargo build --release --bin ringlet-relay --quiet
bash scripts/build-wasm.sh
phase_done
phase "wasm-bindgen tests in Node.js (values, memory and JS-engine storage conformance)"
cargo test --target wasm32-unknown-unknown --test wasm_node
phase_done
phase "wasm-bindgen tests in headless Chromium (IndexedDB storage conformance)"
CHROMEDRIVER=/usr/bin/chromedriver cargo test --target wasm32-unknown-unknown --test wasm_storage_idb
phase_done
phase "type-check the package's declarations (tsc --strict on tests/types/usage.ts)"
npx --no-install tsc -p tests/types/tsconfig.json
phase_done
phase "JS tests of the package in Node.js against a real relay (node --test)"
in_netns node --test tests/js/
phase_done
phase "end-to-end tests: Chromium tabs, WebRTC, a Node.js node, the relay (node --test + playwright-core)"
in_netns node --test tests/e2e/
phase_done
phase "edge worker tests: the relay and edge node in a Durable Object on workerd (miniflare), Chromium tabs"
in_netns node --test --test-concurrency=1 tests/edge/
phase_done
phase "teaching page tests (www/index.html in Chromium)"
in_netns bash scripts/test-page.sh
phase_done

echo "== time per phase"
printf '%s\n' "${timings[@]}"
echo "   total $(( $(date +%s) - suite_start )) s"
