#!/usr/bin/env bash
# The teaching page's tests (www/index.html): Playwright (playwright-core + Debian Chromium)
# against real relays on 127.0.0.1:8091-8093 serving www/ and pkg/. Builds the relay and the
# wasm package first when they are missing. RINGLET_SCREENSHOTS=1 also refreshes the README's and docs/teaching-page.md's
# screenshots in www/app/screenshots/.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x target/release/ringlet-relay ] || cargo build --release --bin ringlet-relay --quiet
[ -f pkg/ringlet_bg.wasm ] || bash scripts/build-wasm.sh
files=$(ls tests/e2e/page_*.mjs | grep -v page_support.mjs)
# One file at a time: each file starts a relay and a Chromium of its own. The tests wait for
# what they assert, so a busy machine makes them slower, not red; the page's frame times are
# a benchmark: node scripts/bench-page.mjs (npm run bench:page).
node --test --test-concurrency=1 $files
