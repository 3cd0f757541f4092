#!/usr/bin/env bash
# Build the browser and Node.js package into pkg/: cargo (wasm32, profile wasm-release), the
# wasm-bindgen CLI at the crate's exact version, then wasm-opt -Oz from the npm package
# `binaryen`. Installs what is missing first; running it twice does no extra work.
set -euo pipefail
cd "$(dirname "$0")/.."

# The wasm-bindgen crate version pinned in Cargo.toml; the CLI must match it exactly.
WB_VERSION=$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)".*/\1/p' Cargo.toml)

if command -v rustup >/dev/null 2>&1 && ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  echo "build-wasm: adding the rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WB_VERSION" ]; then
  echo "build-wasm: installing wasm-bindgen-cli $WB_VERSION (about two minutes)"
  cargo install wasm-bindgen-cli --version "$WB_VERSION" --locked
fi
if [ ! -x node_modules/.bin/wasm-opt ] || [ ! -d node_modules/ws ]; then
  echo "build-wasm: npm install"
  npm install --no-audit --no-fund
fi

# One module per audience: pkg/ is the replica (the npm package, the edge worker, live mode);
# pkg/teaching/ adds the teaching page's simulator binding (cargo feature `teaching`).
OUT=target/wasm32-unknown-unknown/wasm-release/ringlet.wasm
build() { # build <features> <copy of the wasm>
  cargo rustc --lib --profile wasm-release --target wasm32-unknown-unknown --crate-type cdylib \
    ${1:+--features "$1"} --quiet
  cp "$OUT" "$2"
}
mkdir -p target/wasm-modules/replica target/wasm-modules/teaching
build "" target/wasm-modules/replica/ringlet.wasm
build teaching target/wasm-modules/teaching/ringlet.wasm

# wasm-bindgen and wasm-opt one module into `dir` (staged in `dir.tmp`).
bindgen() { # bindgen <wasm> <dir>
  rm -rf "$2.tmp" && mkdir -p "$2.tmp"
  wasm-bindgen "$1" --out-dir "$2.tmp" --target web --no-typescript
  node_modules/.bin/wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
    --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
    "$2.tmp/ringlet_bg.wasm" -o "$2.tmp/ringlet_bg.opt.wasm"
  mv "$2.tmp/ringlet_bg.opt.wasm" "$2.tmp/ringlet_bg.wasm"
}

# Regenerate pkg/ only when a module or the JS entry changed.
STAMP=pkg/.stamp
want=$(cat target/wasm-modules/replica/ringlet.wasm target/wasm-modules/teaching/ringlet.wasm js/index.js js/index.d.ts | cksum)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && [ -f pkg/ringlet_bg.wasm ] && [ -f pkg/teaching/ringlet_bg.wasm ]; then
  echo "build-wasm: pkg/ is up to date"
else
  bindgen target/wasm-modules/replica/ringlet.wasm pkg
  bindgen target/wasm-modules/teaching/ringlet.wasm pkg.tmp/teaching
  mv pkg.tmp/teaching.tmp pkg.tmp/teaching
  # The served copy of the JS entry: the page imports /pkg/index.js, which finds the glue at
  # ../pkg/ringlet.js exactly as js/index.js does from the package.
  cp js/index.js js/index.d.ts pkg.tmp/
  rm -rf pkg && mv pkg.tmp pkg
  echo "$want" > "$STAMP"
fi
for m in pkg/ringlet_bg.wasm pkg/teaching/ringlet_bg.wasm; do
  raw=$(wc -c < "$m")
  gz=$(gzip -9 -c "$m" | wc -c)
  echo "build-wasm: $m $((raw / 1024)) KB raw, $((gz / 1024)) KB gzipped"
done
gz=$(gzip -9 -c pkg/ringlet_bg.wasm | wc -c)
if [ "$gz" -gt $((250 * 1024)) ]; then echo "build-wasm: warning: the replica's module is over the 250 KB gzipped budget" >&2; fi
