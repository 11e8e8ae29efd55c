#!/usr/bin/env bash
# Runs every test on a fresh machine: native unit and integration tests (CPU backend and
# Vulkan through lavapipe), the wasm tests in headless Chromium on WebGPU, and the
# Playwright end-to-end tests of the demo page. Native tests run first: a failure stops the
# run before the wasm build. Prints each phase's wall time, the ten slowest tests and one
# closing count; the logs and the phase table go to tests/output/ci/ (docs/ci.md).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/cache.sh
# A fresh clone has a new path, so its incremental state could never be reused.
export CARGO_INCREMENTAL=0
logs=tests/output/ci
rm -rf "$logs" && mkdir -p "$logs"
started=$SECONDS
current=""

# One line per phase in $logs/phases.tsv: name, seconds, result.
phase() {
  local name=$1 log t0=$SECONDS
  shift
  current=$name
  log="$logs/$(echo "$name" | tr -c 'a-z0-9\n' '-').log"
  echo "== $name"
  "$@" 2>&1 | tee "$log"
  printf '%s\t%s\tok\n' "$name" $((SECONDS - t0)) >> "$logs/phases.tsv"
  current=""
}

# A phase that runs in the background beside the next ones (its own log), and the wait
# for it: only one at a time.
background() {
  bg_name=$1 bg_start=$SECONDS
  shift
  echo "== $bg_name: started in the background"
  # A session of its own, so that a failure elsewhere stops it with every compiler it started.
  setsid bash -c '"$@" > "$0/background.log" 2>&1; echo $? > "$0/background.rc"' "$logs" "$@" &
  bg_pid=$!
}
wait_background() {
  local t0=$SECONDS rc
  current="$bg_name (waiting)"
  echo "== $bg_name: waiting for it"
  wait "$bg_pid" || true
  bg_pid=""
  cat "$logs/background.log"
  rc=$(cat "$logs/background.rc")
  mv "$logs/background.log" "$logs/$(echo "$bg_name" | tr -c 'a-z0-9\n' '-').log"
  printf '%s\t%s\t%s\n' "$bg_name (background, from $((bg_start - started)) s)" $((SECONDS - bg_start)) "$([ "$rc" = 0 ] && echo ok || echo FAILED)" >> "$logs/phases.tsv"
  printf '%s\t%s\tok\n' "  of which waited for" $((SECONDS - t0)) >> "$logs/phases.tsv"
  [ "$rc" = 0 ] && current=""
  return "$rc"
}
bg_pid=""

report() {
  local status=$?
  # A failure stops a background build too.
  [ -n "$bg_pid" ] && kill -- "-$bg_pid" 2>/dev/null || true
  [ -n "$current" ] && printf '%s\t%s\tFAILED\n' "$current" "?" >> "$logs/phases.tsv"
  printf '%s\t%s\t%s\n' total $((SECONDS - started)) "$([ $status = 0 ] && echo ok || echo FAILED)" >> "$logs/phases.tsv"
  node scripts/test-report.mjs "$logs" || true
  exit $status
}
trap report EXIT

phase "setup" scripts/setup.sh
# The wasm build needs nothing native: it starts now and fills the cores the native build
# leaves idle (one crate at a time, often). A native failure stops the run, and it, at once.
background "wasm build" cargo build --release --target wasm32-unknown-unknown -p ticketsr --example browser
phase "native build" cargo test -p ticketsr --no-run
phase "native tests" cargo nextest run -p ticketsr
wait_background
# The package (wasm-opt: minutes on one core) is built beside the wasm tests, which run the
# example built above.
background "browser package" scripts/build-web.sh
# The runner (.cargo/config.toml) reads crate/webdriver.json from its working directory.
phase "wasm tests (headless Chromium, WebGPU on SwiftShader)" \
  env --chdir=crate CHROMEDRIVER="$(command -v chromedriver)" WASM_BINDGEN_TEST_TIMEOUT=600 \
  cargo run --release --target wasm32-unknown-unknown -p ticketsr --example browser
wait_background
for file in tests/e2e/*.test.mjs; do
  phase "e2e $(basename "$file" .test.mjs)" node --test --test-reporter=spec "$file"
done
