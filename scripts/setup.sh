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
