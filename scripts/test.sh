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

# A phase's name as a file name.
slug() { echo "$1" | tr -c 'a-z0-9\n' '-'; }

# One line per phase in $logs/phases.tsv: name, seconds, result.
phase() {
  local name=$1 t0=$SECONDS
  shift
  current=$name
  echo "== $name"
  "$@" 2>&1 | tee "$logs/$(slug "$name").log"
  printf '%s\t%s\tok\n' "$name" $((SECONDS - t0)) >> "$logs/phases.tsv"
  current=""
}

# Phases that run in the background beside the next ones, each with its own log and exit
# status, and the wait for one of them.
declare -A bg_pid bg_start
background() {
  local name=$1
  shift
  bg_start[$name]=$SECONDS
  echo "== $name: started in the background"
  # A session of its own, so that a failure elsewhere stops it with every compiler it started.
  setsid bash -c '"$@" > "$0.log" 2>&1; echo $? > "$0.rc"' "$logs/bg-$(slug "$name")" "$@" &
  bg_pid[$name]=$!
}
wait_background() {
  local name=$1 t0=$SECONDS rc bg
  bg="$logs/bg-$(slug "$name")"
  current="$name (waiting)"
  echo "== $name: waiting for it"
  wait "${bg_pid[$name]}" || true
  unset "bg_pid[$name]"
  cat "$bg.log"
  rc=$(cat "$bg.rc")
  mv "$bg.log" "$logs/$(slug "$name").log"
  printf '%s\t%s\t%s\n' "$name (background, from $((bg_start[$name] - started)) s)" $((SECONDS - bg_start[$name])) "$([ "$rc" = 0 ] && echo ok || echo FAILED)" >> "$logs/phases.tsv"
  printf '%s\t%s\tok\n' "  of which waited for" $((SECONDS - t0)) >> "$logs/phases.tsv"
  [ "$rc" = 0 ] && current=""
  return "$rc"
}

report() {
  local status=$?
  # A failure stops the background builds too.
  for pid in "${bg_pid[@]}"; do kill -- "-$pid" 2>/dev/null || true; done
  [ -n "$current" ] && printf '%s\t%s\tFAILED\n' "$current" "?" >> "$logs/phases.tsv"
  printf '%s\t%s\t%s\n' total $((SECONDS - started)) "$([ $status = 0 ] && echo ok || echo FAILED)" >> "$logs/phases.tsv"
  node scripts/test-report.mjs "$logs" || true
  exit $status
}
trap report EXIT

phase "setup" scripts/setup.sh
# The wasm side needs nothing native: it starts now and fills the cores the native build
# leaves idle (one crate at a time, often). The shipped module comes first; its packaging
# (wasm-opt: minutes on one thread) then runs beside the build of the wasm tests, the
# native build and the wasm tests. A native failure stops the run, and them, at once.
background "wasm build" bash -c 'scripts/build-web.sh module && touch "$0" &&
  cargo build --release --target wasm32-unknown-unknown -p ticketsr --example browser' "$logs/module.built"
background "browser package" bash -c 'until [ -e "$0" ]; do [ -e "$1" ] && exit 1; sleep 1; done
  scripts/build-web.sh package' "$logs/module.built" "$logs/bg-$(slug "wasm build").rc"
phase "native build" cargo test --workspace --no-run
phase "native tests" cargo nextest run --workspace
wait_background "wasm build"
# The runner (.cargo/config.toml) reads crate/webdriver.json from its working directory.
phase "wasm tests (headless Chromium, WebGPU on SwiftShader)" \
  env --chdir=crate CHROMEDRIVER="$(command -v chromedriver)" WASM_BINDGEN_TEST_TIMEOUT=600 \
  cargo run --release --target wasm32-unknown-unknown -p ticketsr --example browser
wait_background "browser package"
# The demo, embed and video tests run against the deployable site (dist/), as a host serves it.
phase "site" scripts/build-site.sh --no-package
for file in tests/e2e/*.test.mjs; do
  phase "e2e $(basename "$file" .test.mjs)" node --test --test-reporter=spec "$file"
done
# The GPU benchmark's every step, on the CPU and SwiftShader at tiny sizes: the script a
# GPU holder runs must not be found broken on the day (docs/performance.md).
phase "gpu-bench dry run" scripts/gpu-bench.sh --dry-run
