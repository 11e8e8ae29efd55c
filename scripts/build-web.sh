#!/usr/bin/env bash
# Builds the browser package: the wasm library in release, its JS bindings (pkg/), and
# an optimised module (wasm-opt from npm's binaryen; Debian's is too old).
#
#   scripts/build-web.sh           both steps
#   scripts/build-web.sh module    only the wasm module (cargo)
#   scripts/build-web.sh package   only pkg/ from the module built last
#
# scripts/test.sh runs the steps apart, so that wasm-opt (minutes on one thread) runs
# beside the wasm tests' build instead of after it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/cache.sh
step=${1:-all}
case $step in all | module | package) ;; *) echo "usage: $0 [module|package]" >&2; exit 2 ;; esac
if [ "$step" != package ]; then
  # The same profile, features and panic strategy as the wasm tests (cargo run --example
  # browser), so both use one build of the dependencies; only ticketsr itself compiles again.
  cargo rustc --release --lib --target wasm32-unknown-unknown -p ticketsr --crate-type cdylib
fi
[ "$step" = module ] && exit 0
wasm="$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/ticketsr.wasm"
wasm_opt=(tests/node_modules/.bin/wasm-opt -O3 --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext
  --enable-mutable-globals --enable-reference-types --enable-multivalue --enable-simd)

# wasm-bindgen and wasm-opt (minutes: binaryen.js runs on one thread) depend only on the
# module, their versions and flags, so their output is kept under a hash of those: a fresh
# clone whose module is byte for byte the last one's skips them.
# __wbg_reset_state: a fresh instance after the module traps (crate/js/revive.js).
bindgen=(wasm-bindgen --target web --experimental-reset-state-function --out-dir pkg --out-name ticketsr)
key=$({ sha256sum < "$wasm"; wasm-bindgen --version; echo "${bindgen[*]}"; "${wasm_opt[0]}" --version; echo "${wasm_opt[*]}"; } | sha256sum | cut -c1-16)
cached="$TICKETSR_CACHE/pkg/$key"
rm -rf pkg
if [ -f "$cached/ticketsr_bg.wasm" ]; then
  echo "pkg: wasm-bindgen and wasm-opt output from the cache ($cached)"
  cp -r "$cached" pkg
else
  "${bindgen[@]}" "$wasm"
  "${wasm_opt[@]}" pkg/ticketsr_bg.wasm -o pkg/ticketsr_bg.wasm
  mkdir -p "$TICKETSR_CACHE/pkg"
  rm -rf "$cached.tmp" && cp -r pkg "$cached.tmp" && mv "$cached.tmp" "$cached"
  # Keep the three newest.
  ls -dt "$TICKETSR_CACHE"/pkg/*/ | tail -n +4 | xargs -r rm -rf
fi
cp crate/js/ticket-sr.js crate/js/revive.js crate/js/frames.js crate/js/bridge.js crate/js/threads.js crate/js/threads.d.ts crate/js/threads-worker.js pkg/
node scripts/package-json.mjs
raw=$(stat -c %s pkg/ticketsr_bg.wasm)
gz=$(gzip -9 -c pkg/ticketsr_bg.wasm | wc -c)
echo "pkg/ticketsr_bg.wasm: $raw bytes, $gz gzipped"
