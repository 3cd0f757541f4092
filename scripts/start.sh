#!/usr/bin/env bash
# `npm start`: build, then run the cluster simulator on a few seeds and print what it saw.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build --release --bin ringlet-sim
./target/release/ringlet-sim --seed "${RINGLET_SEED:-1}"
