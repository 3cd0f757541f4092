#!/usr/bin/env bash
# Install what the build and the tests need and is missing on this machine. Idempotent:
# every step checks first, so a second run does nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo is missing; install Rust with rustup first (https://rustup.rs)" >&2
  exit 1
fi
if command -v rustup >/dev/null 2>&1; then
  installed=$(rustup component list --installed 2>/dev/null || true)
  for c in clippy rustfmt; do
    if ! grep -q "^$c" <<<"$installed"; then
      echo "setup: adding rustup component $c"
      rustup component add "$c"
    fi
  done
fi

# ---- the browser and Node.js build (src/wasm, js/, pkg/) and its tests ----------------------
if command -v rustup >/dev/null 2>&1 && ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  echo "setup: adding the rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi
# The wasm-bindgen CLI (and its test runner) must be exactly the crate's pinned version.
wb_version=$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)".*/\1/p' Cargo.toml)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$wb_version" ]; then
  echo "setup: installing wasm-bindgen-cli $wb_version (about two minutes)"
  cargo install wasm-bindgen-cli --version "$wb_version" --locked
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "setup: Node.js 20+ and npm are needed" >&2
  exit 1
fi
for p in ws binaryen fake-indexeddb playwright-core miniflare; do
  if [ ! -d "node_modules/$p" ]; then
    echo "setup: npm install"
    npm install --no-audit --no-fund
    break
  fi
done
# Debian's Chromium and its driver, for the IndexedDB tests and the end-to-end tests.
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  if command -v apt-get >/dev/null 2>&1; then
    sudo=""
    if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1; then sudo=sudo; fi
    echo "setup: apt-get install chromium chromium-driver"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    echo "setup: install Chromium and chromedriver at /usr/bin (the browser tests need them)" >&2
    exit 1
  fi
fi
