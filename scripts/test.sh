#!/usr/bin/env bash
# Runs every test on a fresh machine: native unit and integration tests (CPU backend and
# Vulkan through lavapipe), the wasm tests in headless Chromium on WebGPU, and the
# Playwright end-to-end tests of the demo page.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

echo "== native tests"
cargo test -p ticketsr

echo "== wasm tests in headless Chromium (WebGPU through SwiftShader)"
CHROMEDRIVER=$(command -v chromedriver) WASM_BINDGEN_TEST_TIMEOUT=600 \
  cargo test --release --target wasm32-unknown-unknown -p ticketsr --test browser

echo "== browser package"
scripts/build-web.sh

echo "== end-to-end tests of the page"
(cd tests && node --test --test-concurrency=1 e2e/)
