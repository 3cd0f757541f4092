#!/usr/bin/env bash
# `npm start`: build everything, print one simulated seed's report, then serve the relay, the
# pages (www/) and the wasm package (pkg/) on http://127.0.0.1:8080/ until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build --release --bin ringlet-sim --bin ringlet-relay
./target/release/ringlet-sim --seed "${RINGLET_SEED:-1}"
bash scripts/build-wasm.sh
echo "open http://127.0.0.1:8080/ in a few tabs: each tab is a node of the cluster"
exec cargo run --release --bin ringlet-relay -- --listen 127.0.0.1:8080 --www www --pkg pkg
