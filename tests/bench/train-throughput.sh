#!/usr/bin/env bash
# Training throughput of ticketsr's trainer (burn's autodiff on the Flex CPU backend, with
# the convolution gradients of cpu::conv_grad) against PyTorch's CPU training of the same
# WDSR-B, on this machine, one after the other (never concurrently).
# ticketsr's time per step is the difference between a long and a short run, so start-up
# and the first steps' warm-up cancel out. PyTorch comes from PyPI into .media/torch-venv.
# Usage: tests/bench/train-throughput.sh [BLOCKS CHANNELS EXPANSION] (default 4 16 4)
set -euo pipefail
cd "$(dirname "$0")/../.."
blocks=${1:-4} channels=${2:-16} expansion=${3:-4}
scale=2 batch=16 patch=32 short=10 long=40
[ -x .media/torch-venv/bin/python ] || { python3 -m venv .media/torch-venv && .media/torch-venv/bin/pip install --quiet torch numpy; }
source scripts/cache.sh
# The release build, as the README's `cargo run --release` gives users (the debug profile
# builds ticketsr itself at opt-level 1, for CI's compile time).
cargo build --release --quiet -p ticketsr-cli
bin="$CARGO_TARGET_DIR/release/ticketsr"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
$bin build wdsr --scale $scale --blocks "$blocks" --channels "$channels" --expansion "$expansion" -o "$tmp/init.safetensors" --json >/dev/null
run() {
  $bin train web/media/astronaut-256.png --init "$tmp/init.safetensors" -o "$tmp/out.safetensors" \
    --steps "$1" --batch $batch --patch $patch --backend cpu --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["minutes"] * 60)'
}
t_short=$(run $short)
t_long=$(run $long)
python3 - "$t_short" "$t_long" <<PY
import json, sys
s, l = map(float, sys.argv[1:])
per_step = (l - s) / ($long - $short)
print(json.dumps({"framework": "ticketsr (burn autodiff, Flex CPU, cpu::conv_gemm)", "seconds_per_step": per_step,
                  "lr_pixels_per_second": $batch * $patch ** 2 / per_step}))
PY
.media/torch-venv/bin/python tests/bench/torch_wdsr.py --scale $scale --blocks "$blocks" --channels "$channels" \
  --expansion "$expansion" --batch $batch --patch $patch
