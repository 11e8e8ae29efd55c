#!/usr/bin/env bash
# Native time per frame against channel sparsity: each bundled model channel-pruned (L1,
# global budget) at 0/25/50/75%, plus 50% magnitude and 2:4 for contrast, upscaling the
# 256x256 sample on the CPU backend (burn-flex) and on Vulkan (lavapipe here), median of
# REPS runs after a warm-up, by the release CLI (what users build). Prints a markdown table; JSON in tests/output/prune-time/.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/cache.sh
cargo build --quiet --release -p ticketsr-cli
bin="$CARGO_TARGET_DIR/release/ticketsr"
out=tests/output/prune-time
mkdir -p "$out"
reps=${REPS:-5}
photo=web/media/astronaut-256.png
echo "| model | pruning | parameters | MACs / out px | CPU ms | CPU ratio | Vulkan ms | Vulkan ratio |"
echo "|---|---|---:|---:|---:|---:|---:|---:|"
for model in ticketsr-espcn-x2 ticketsr-wdsr-b-x2 upscalerjs-rdn-x2; do
  dense_cpu=""; dense_gpu=""
  while read -r name args; do
    m=$out/$model-$name.safetensors
    # shellcheck disable=SC2086
    $bin prune web/models/$model.safetensors -o "$m" $args --json > "$out/$model-$name.json"
    read -r params macs < <(python3 -c "import json; a=json.load(open('$out/$model-$name.json'))['after']; print(a['parameters'], round(a['macsPerOutputPixel']))")
    cpu=$($bin upscale $photo -o "$out/out.png" --model "$m" --backend cpu --repeat "$reps" --json | python3 -c "import json,sys; print(round(json.load(sys.stdin)['median_ms'], 1))")
    gpu=$($bin upscale $photo -o "$out/out.png" --model "$m" --backend gpu --repeat "$reps" --json | python3 -c "import json,sys; print(round(json.load(sys.stdin)['median_ms'], 1))")
    dense_cpu=${dense_cpu:-$cpu}; dense_gpu=${dense_gpu:-$gpu}
    echo "| $model | $name | $params | $macs | $cpu | $(python3 -c "print(f'{$cpu/$dense_cpu:.2f}')") | $gpu | $(python3 -c "print(f'{$gpu/$dense_gpu:.2f}')") |"
  done <<ROWS
dense --method magnitude --sparsity 0
channel-25 --method channel --sparsity 0.25
channel-50 --method channel --sparsity 0.5
channel-75 --method channel --sparsity 0.75
magnitude-50 --method magnitude --sparsity 0.5
two-of-four --method two-of-four
ROWS
done
