#!/usr/bin/env bash
# Reproduces docs/frontier.md: the frontier of the bundled x2 models ESPCN, WDSR-B and
# UpscalerJS RDN (MODELS adds more, e.g. psnr-small, the page's default, whose 2.6 M MACs
# per pixel make the run take 13 minutes here, most of it its two calibrated prunes) dense, channel-pruned by
# reconstruction at 25% and 50% (calibrated on 8 scikit-image photos) and on winning-ticket
# patches at keep 25% and 50% (gradient scorer, CONTEXT px of context around the tickets,
# 4 by default; CONTEXT= gives each model its full receptive radius), and bicubic, on the 4 other photos
# (central 256 px, x2), timed on this machine's CPU by the release build (median of 3 after a warm-up), in one
# run. Writes docs/frontier.svg and tests/output/frontier.json. Run scripts/setup.sh first.
# INPUTS replaces the 4 photos, e.g. with video frames (every 10th, 4 per clip):
#   INPUTS=".media/clips/bikes.mp4 .media/clips/bigbuckbunny.mp4" SVG=docs/frontier-frames.svg scripts/frontier.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/cache.sh
cargo build --quiet --release -p ticketsr-cli
bin="$CARGO_TARGET_DIR/release/ticketsr"
p=.media/photos
context=${CONTEXT-4}
mkdir -p tests/output
read -r -a inputs <<< "${INPUTS:-$p/astronaut.png $p/chelsea.png $p/coffee.png $p/rocket.jpg}"
"$bin" frontier "${inputs[@]}" --crop 256 \
  --models web/models/ticketsr-espcn-x2.safetensors web/models/ticketsr-wdsr-b-x2.safetensors \
           web/models/upscalerjs-rdn-x2.safetensors ${MODELS:-} \
  --sparsity 0.25,0.5 --calibrate "$p/brick.png" "$p/camera.png" "$p/coins.png" "$p/grass.png" "$p/gravel.png" \
    "$p/hubble_deep_field.jpg" "$p/moon.png" "$p/motorcycle_left.png" \
  --keep 0.25,0.5 ${context:+--context "$context"} --repeat "${REPEAT:-3}" --backend "${BACKEND:-cpu}" --svg "${SVG:-docs/frontier.svg}" --json > tests/output/frontier.json
python3 - <<'PY'
import json
v = json.load(open("tests/output/frontier.json"))
print(v["title"])
print("| configuration | ms | PSNR (dB) | on the front |")
print("|---|---:|---:|:-:|")
for p in v["points"]:
    q = p["point"]
    print(f"| {p['label']} | {q['ms']:.0f} | {q['psnr']:.2f} | {'yes' if q['on_front'] else ''} |")
print()
for b in v["budgets"]:
    print(f"- within {b['ms']:.0f} ms: {b['best']} ({b['best_psnr']:.2f} dB); best dense: {b['dense']} ({b['dense_psnr']:.2f} dB)")
PY
