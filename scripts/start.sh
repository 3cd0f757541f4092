#!/usr/bin/env bash
# `npm start`: install only what serving needs (scripts/setup.sh serve), build the relay and the
# wasm package, print one simulated seed's report, then serve the relay, the pages (www/) and
# the wasm package (pkg/) on http://127.0.0.1:8080/ until Ctrl-C.
#   RINGLET_LISTEN=127.0.0.1:9000 npm start    another address
#   RINGLET_SEED=42 npm start                  another seed for the report
set -euo pipefail
cd "$(dirname "$0")/.."
listen="${RINGLET_LISTEN:-127.0.0.1:8080}"
bash scripts/setup.sh serve
cargo build --release --bin ringlet-sim --bin ringlet-relay
./target/release/ringlet-sim --seed "${RINGLET_SEED:-1}"
bash scripts/build-wasm.sh
echo "open http://$listen/ for the teaching page; open http://$listen/live.html in a few tabs: each tab is a node"
exec ./target/release/ringlet-relay --listen "$listen" --www www --pkg pkg
