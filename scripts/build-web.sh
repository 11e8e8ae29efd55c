#!/usr/bin/env bash
# Builds the browser package: the wasm library in release, its JS bindings (pkg/), and
# an optimised module (wasm-opt from npm's binaryen; Debian's is too old).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo rustc --release --lib --target wasm32-unknown-unknown -p ticketsr --crate-type cdylib
wasm-bindgen --target web --out-dir pkg --out-name ticketsr target/wasm32-unknown-unknown/release/ticketsr.wasm
tests/node_modules/.bin/wasm-opt -O3 --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals --enable-reference-types --enable-multivalue \
  pkg/ticketsr_bg.wasm -o pkg/ticketsr_bg.wasm
cp crate/js/ticket-sr.js pkg/ticket-sr.js
node scripts/package-json.mjs
raw=$(stat -c %s pkg/ticketsr_bg.wasm)
gz=$(gzip -9 -c pkg/ticketsr_bg.wasm | wc -c)
echo "pkg/ticketsr_bg.wasm: $raw bytes, $gz gzipped"
