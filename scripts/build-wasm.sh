#!/usr/bin/env bash
# Build the browser and Node.js package into pkg/: cargo (wasm32, profile wasm-release), the
# wasm-bindgen CLI at the crate's exact version, then wasm-opt -Oz from the npm package
# `binaryen`. Installs what is missing first (scripts/setup.sh serve); running it twice does no
# extra work.
set -euo pipefail
cd "$(dirname "$0")/.."


# The wasm target, the wasm-bindgen CLI at the pinned version and wasm-opt, when missing.
bash scripts/setup.sh serve
WASM_OPT=node_modules/.bin/wasm-opt
[ -x "$WASM_OPT" ] || WASM_OPT=target/npm-tools/node_modules/.bin/wasm-opt

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
  "$WASM_OPT" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
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
