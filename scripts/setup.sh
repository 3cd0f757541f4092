#!/usr/bin/env bash
# Install what is missing on this machine, and nothing else. Idempotent: every step checks
# first, so a second run does nothing.
#
#   scripts/setup.sh serve   what `npm start` needs: the wasm target, the wasm-bindgen CLI,
#                            the npm packages that serving and building need (ws, binaryen)
#   scripts/setup.sh edge    what `npm run edge` and `npm run bench:sync` need: `serve`, plus every devDependency
#                            (miniflare and its workerd)
#   scripts/setup.sh test    all of that, plus what `npm test` needs: clippy and rustfmt, the
#                            nightly toolchain and cargo-fuzz, Chromium and its driver,
#                            iproute2 (the default)
#
# A step that cannot work on this machine stops with one line saying what to do, and exit 2.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-test}"
case "$mode" in serve | edge | test) ;; *) echo "usage: scripts/setup.sh [serve|edge|test]" >&2; exit 64 ;; esac

fail() { echo "setup: $*" >&2; exit 2; }
say() { echo "setup: $*"; }
t0=$(date +%s)

# `cargo install` with the crate's lock file first; where that lock names a version the registry
# does not serve (wasm-bindgen-cli 0.2.130's names a yanked webpki-roots), resolve afresh.
cargo_install() { # cargo_install <crate> [--version V]
  local log
  log=$(mktemp)
  if cargo install "$@" --locked >"$log" 2>&1; then rm -f "$log"; return 0; fi
  say "'cargo install $* --locked' failed ($(grep -m1 -E '^error' "$log" || tail -1 "$log")); retrying without --locked"
  rm -f "$log"
  cargo install "$@" || fail "'cargo install $*' failed; see the output above"
}

apt_install() { # apt_install <package>...
  command -v apt-get >/dev/null 2>&1 || fail "install $* with your package manager (no apt-get here)"
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || fail "apt-get install $* needs root (no sudo here)"
    sudo=sudo
  fi
  say "apt-get install $*"
  $sudo apt-get update -qq || fail "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null || fail "apt-get install $* failed"
}

# ---- both: Rust for wasm32, the wasm-bindgen CLI, Node.js -------------------------------------
command -v cargo >/dev/null 2>&1 || fail "cargo is missing; install Rust with rustup first (https://rustup.rs)"
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || fail "Node.js 20+ and npm are needed"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || fail "Node.js 20 or newer is needed (found $(node --version))"
if command -v rustup >/dev/null 2>&1; then
  if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    say "adding the rust target wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown
  fi
elif ! rustc --print target-libdir --target wasm32-unknown-unknown >/dev/null 2>&1; then
  fail "the rust target wasm32-unknown-unknown is missing (rustup target add wasm32-unknown-unknown)"
fi
# The wasm-bindgen CLI (and its test runner) must be exactly the crate's pinned version.
wb_version=$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)".*/\1/p' Cargo.toml)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$wb_version" ]; then
  say "installing wasm-bindgen-cli $wb_version (about five minutes on 2 cores)"
  cargo_install wasm-bindgen-cli --version "$wb_version"
  [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" = "$wb_version" ] ||
    fail "wasm-bindgen $wb_version was installed but is not first on PATH (add \$CARGO_HOME/bin to PATH)"
fi

# ---- npm packages -----------------------------------------------------------------------------
if [ "$mode" = serve ]; then
  # Serving needs ws (the Node.js host's relay client) and binaryen's wasm-opt (for pkg/), not
  # Playwright, miniflare/workerd or TypeScript. binaryen is a devDependency (an npm user of
  # ringlet never needs it), so it goes into target/npm-tools/ at the lock file's version.
  if [ ! -d node_modules/ws ]; then
    say "npm install --omit=dev"
    npm install --omit=dev --no-audit --no-fund
  fi
  if [ ! -x node_modules/.bin/wasm-opt ] && [ ! -x target/npm-tools/node_modules/.bin/wasm-opt ]; then
    binaryen=$(node -p 'require("./package-lock.json").packages["node_modules/binaryen"].version')
    say "npm install binaryen@$binaryen (wasm-opt) into target/npm-tools/"
    npm install --prefix target/npm-tools --no-save --no-package-lock --no-audit --no-fund "binaryen@$binaryen"
  fi
else
  # Every dependency of package.json at a matching version (`npm ls` fails otherwise).
  if ! npm ls --depth=0 >/dev/null 2>&1; then
    say "npm install"
    npm install --no-audit --no-fund
  fi
fi

if [ "$mode" = test ]; then
  # ---- lints ------------------------------------------------------------------------------------
  if command -v rustup >/dev/null 2>&1; then
    installed=$(rustup component list --installed 2>/dev/null || true)
    for c in clippy rustfmt; do
      if ! grep -q "^$c" <<<"$installed"; then
        say "adding rustup component $c"
        rustup component add "$c"
      fi
    done
  fi
  # ---- fuzzing (scripts/fuzz.sh): cargo-fuzz needs a nightly toolchain ---------------------------
  command -v rustup >/dev/null 2>&1 || fail "rustup is needed for the nightly toolchain that cargo-fuzz uses"
  if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    say "installing the nightly toolchain for cargo-fuzz (minimal profile)"
    rustup toolchain install nightly --profile minimal
  fi
  if ! cargo fuzz --version >/dev/null 2>&1; then
    say "installing cargo-fuzz (about two minutes)"
    cargo_install cargo-fuzz
  fi
  # ---- Debian's Chromium and its driver: the IndexedDB, end-to-end and page tests --------------
  if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    apt_install chromium chromium-driver
  fi
  # `ip` (iproute2) brings up loopback in the end-to-end tests' network namespace
  # (scripts/loopback-netns.sh); without it those tests run on the host's loopback.
  if ! command -v ip >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    ( apt_install iproute2 ) || say "iproute2 could not be installed; the end-to-end tests use the host's loopback"
  fi
fi
elapsed=$(( $(date +%s) - t0 ))
[ "$elapsed" -lt 2 ] || say "$mode set-up done in $elapsed s"
