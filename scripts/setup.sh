#!/usr/bin/env bash
# Installs everything ticketsr needs on a fresh Debian machine with rustup, Node and npm:
# the wasm target, wasm-bindgen-cli at the version in Cargo.lock, Chromium and its driver,
# ffmpeg, the Vulkan software driver (lavapipe), and the npm packages of tests/.
# Idempotent: what is already there is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v chromium >/dev/null || need_apt+=(chromium)
command -v chromedriver >/dev/null || need_apt+=(chromium-driver)
command -v ffmpeg >/dev/null || need_apt+=(ffmpeg)
[ -e /usr/share/vulkan/icd.d/lvp_icd.x86_64.json ] || ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1 || need_apt+=(mesa-vulkan-drivers)
ldconfig -p | grep -q libvulkan.so.1 || need_apt+=(libvulkan1)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: apt-get install ${need_apt[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need_apt[@]}"
fi

rustup target list --installed | grep -q wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

# wasm-bindgen-cli must match the wasm-bindgen crate exactly.
wb_version=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/"/, "", $3); print $3}' Cargo.lock)
if ! wasm-bindgen --version 2>/dev/null | grep -q " $wb_version\$"; then
  echo "setup: cargo install wasm-bindgen-cli $wb_version"
  cargo install wasm-bindgen-cli --version "$wb_version"
fi

if [ ! -d tests/node_modules ] || [ tests/package-lock.json -nt tests/node_modules ]; then
  (cd tests && npm ci --no-audit --no-fund)
fi
