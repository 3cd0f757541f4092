#!/usr/bin/env bash
# The README's two commands as a new user meets them: a clean clone of HEAD in a temporary
# folder, an empty CARGO_HOME for the project's tools (the Rust toolchains stay: rustup's
# proxies are linked in) and an empty npm cache; then `npm start` until it serves the teaching
# page and the wasm package, then `npm test`. Prints the time of each. What it cannot empty:
# packages apt-get installed system-wide (Debian's chromium and chromium-driver).
#
#   bash scripts/fresh-check.sh            # both commands
#   FRESH_SKIP_TEST=1 bash scripts/fresh-check.sh   # only `npm start`
#   FRESH_KEEP=1 ...                       # keep the temporary folder even when it passes
#   FRESH_PORT=18080 ...                   # where the clone's `npm start` listens
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
port="${FRESH_PORT:-18080}"
work=$(mktemp -d /tmp/ringlet-fresh.XXXXXX)
server=""
cleanup() {
  local rc=$?
  if [ -n "$server" ]; then kill -- -"$server" 2>/dev/null || kill "$server" 2>/dev/null || true; fi
  if [ "$rc" = 0 ] && [ -z "${FRESH_KEEP:-}" ]; then rm -rf "$work"; else echo "fresh-check: kept $work"; fi
}
trap cleanup EXIT

echo "fresh-check: clone of $(git -C "$repo" rev-parse --short HEAD) in $work/ringlet"
git clone -q "$repo" "$work/ringlet"

# Empty tool folders: the project's tools (wasm-bindgen-cli, cargo-fuzz) and crates come anew.
export CARGO_HOME="$work/cargo-home"
mkdir -p "$CARGO_HOME/bin"
rustup_bin=$(command -v rustup) || { echo "fresh-check: needs rustup" >&2; exit 2; }
export RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
for b in cargo rustc rustdoc rustup cargo-clippy clippy-driver cargo-fmt rustfmt; do
  ln -s "$rustup_bin" "$CARGO_HOME/bin/$b"
done
clean_path=$(tr ':' '\n' <<<"$PATH" | grep -vx "$(dirname "$rustup_bin")" | grep -v '/\.cargo/bin$' | paste -sd:)
export PATH="$CARGO_HOME/bin:$clean_path"
export npm_config_cache="$work/npm-cache"
unset CARGO_TARGET_DIR
for tool in wasm-bindgen cargo-fuzz; do
  if command -v "$tool" >/dev/null 2>&1; then
    echo "fresh-check: $tool is still on PATH at $(command -v "$tool"); it would not be fresh" >&2
    exit 2
  fi
done
cd "$work/ringlet"

# ---- npm start, until the page and the wasm package are served -----------------------------
echo "fresh-check: npm start (log: $work/npm-start.log)"
t0=$(date +%s)
setsid env RINGLET_LISTEN="127.0.0.1:$port" npm start >"$work/npm-start.log" 2>&1 &
server=$!
until curl -sf "http://127.0.0.1:$port/" -o /dev/null && curl -sf "http://127.0.0.1:$port/pkg/ringlet_bg.wasm" -o /dev/null; do
  if ! kill -0 "$server" 2>/dev/null; then
    tail -30 "$work/npm-start.log" >&2
    echo "fresh-check: npm start exited before serving the page" >&2
    exit 1
  fi
  if [ $(( $(date +%s) - t0 )) -gt 1800 ]; then echo "fresh-check: npm start served nothing in 30 minutes" >&2; exit 1; fi
  sleep 2
done
start_s=$(( $(date +%s) - t0 ))
start_setup=$(sed -n 's/^setup: serve set-up done in \([0-9]*\) s$/\1/p' "$work/npm-start.log" | head -1)
echo "fresh-check: npm start served http://127.0.0.1:$port/ after $start_s s (its set-up: ${start_setup:-0} s)"
kill -- -"$server" 2>/dev/null || true
wait "$server" 2>/dev/null || true
server=""

# ---- npm test ---------------------------------------------------------------------------------
if [ -n "${FRESH_SKIP_TEST:-}" ]; then exit 0; fi
echo "fresh-check: npm test (log: $work/npm-test.log)"
t0=$(date +%s)
if ! npm test >"$work/npm-test.log" 2>&1; then
  tail -60 "$work/npm-test.log" >&2
  echo "fresh-check: npm test FAILED after $(( $(date +%s) - t0 )) s" >&2
  exit 1
fi
test_s=$(( $(date +%s) - t0 ))
test_setup=$(sed -n 's/^ *\([0-9]*\) s  set-up.*/\1/p' "$work/npm-test.log" | head -1)
sed -n '/^== time per phase/,$p' "$work/npm-test.log"
echo
echo "| fresh machine (clean clone, empty CARGO_HOME and npm cache) | time |"
echo "| --- | --- |"
echo "| \`npm start\` until the page is served | $start_s s (set-up ${start_setup:-0} s) |"
echo "| \`npm test\` afterwards | $test_s s (set-up of the test tools ${test_setup:-?} s; tests $(( test_s - ${test_setup:-0} )) s) |"
