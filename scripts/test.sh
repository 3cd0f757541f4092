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
