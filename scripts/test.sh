#!/usr/bin/env bash
# `npm test`: every check CI runs. Long simulations: RINGLET_SEEDS=20000 npm test
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy (warnings are errors)"
cargo clippy --all-targets --release -- -D warnings
echo "== cargo test --release (unit, property, scenario and simulation tests)"
cargo test --release --all-targets
echo "== simulation summary"
cargo test --release --test sim_seeds -- --nocapture 2>&1 | grep -E "seeds from|test result"
echo "== fuzzing: every decoder for ${RINGLET_FUZZ_SECONDS:-20} s each (long run: scripts/fuzz.sh 3600)"
bash scripts/fuzz.sh "${RINGLET_FUZZ_SECONDS:-20}"

# ---- the browser and Node.js node (src/wasm, js/, tests/wasm_*, tests/js, tests/e2e) -------
phase() { echo "== $1"; phase_start=$(date +%s); }
phase_done() { echo "   ($(( $(date +%s) - phase_start )) s)"; }
phase "cargo clippy for wasm32 (warnings are errors)"
cargo clippy --target wasm32-unknown-unknown --lib -- -D warnings
cargo clippy --target wasm32-unknown-unknown --lib --features teaching -- -D warnings
phase_done
phase "build: relay, wasm package (pkg/)"
cargo build --release --bin ringlet-relay --quiet
bash scripts/build-wasm.sh
phase_done
phase "wasm-bindgen tests in Node.js (values, memory and JS-engine storage conformance)"
cargo test --target wasm32-unknown-unknown --test wasm_values --test wasm_storage_memory --test wasm_storage_js
phase_done
phase "wasm-bindgen tests in headless Chromium (IndexedDB storage conformance)"
CHROMEDRIVER=/usr/bin/chromedriver cargo test --target wasm32-unknown-unknown --test wasm_storage_idb
phase_done
phase "type-check the package's declarations (tsc --strict on tests/types/usage.ts)"
npx --no-install tsc -p tests/types/tsconfig.json
phase_done
phase "JS tests of the package in Node.js against a real relay (node --test)"
node --test tests/js/
phase_done
phase "end-to-end tests: Chromium tabs, WebRTC, a Node.js node, the relay (node --test + playwright-core)"
# In a loopback-only network namespace where possible (WebRTC then sees only 127.0.0.1).
bash scripts/loopback-netns.sh node --test tests/e2e/
phase_done
phase "edge worker tests: the relay and edge node in a Durable Object on workerd (miniflare), Chromium tabs"
node --test --test-concurrency=1 tests/edge/
phase_done
bash scripts/test-page.sh
