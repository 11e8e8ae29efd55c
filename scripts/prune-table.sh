#!/usr/bin/env bash
# Reproduces the quality table of docs/pruning.md: for the bundled ESPCN x2, WDSR-B x2 and
# UpscalerJS RDN x2, PSNR on the held-out astronaut photo after channel pruning (L1, global
# budget) at 25/50/75%, unstructured global magnitude pruning at 25/50/75% and 2:4, each
# without and with fine-tuning (STEPS steps, batch 8, 32 px LR patches, on the 11 other
# scikit-image photos of .media/photos); and, trained only: the dense model fine-tuned the
# same way (the control), gradual channel pruning to 50% (Chase's schedule, every 25
# steps) and a lottery ticket at 50% (2 rounds, STEPS per training). Writes JSON to
# tests/output/prune/ and prints a markdown table. Run scripts/setup.sh first.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/cache.sh
cargo build --quiet -p ticketsr-cli
bin="$CARGO_TARGET_DIR/debug/ticketsr"
out=tests/output/prune
mkdir -p "$out"
photo=web/media/astronaut-256.png
mapfile -t data < <(ls .media/photos/*.png .media/photos/*.jpg | grep -v astronaut)
steps=${STEPS:-200}
train=(--fine-tune "$steps" --batch 8 --patch 32 --lr 5e-4 --data "${data[@]}" --backend cpu)
for model in ticketsr-espcn-x2 ticketsr-wdsr-b-x2 upscalerjs-rdn-x2; do
  src=web/models/$model.safetensors
  $bin eval "$photo" --model "$src" --backend cpu --json > "$out/$model-dense.eval.json"
  while read -r name modes args; do
    for ft in ${modes//,/ }; do
      row="$model-$name-ft$ft"
      echo "$row" >&2
      extra=()
      [ "$ft" = 1 ] && extra=("${train[@]}")
      # shellcheck disable=SC2086
      $bin prune "$src" -o "$out/$row.safetensors" $args "${extra[@]}" --json > "$out/$row.json"
      $bin eval "$photo" --model "$out/$row.safetensors" --backend cpu --json > "$out/$row.eval.json"
    done
  done <<ROWS
dense-control 1 --method magnitude --sparsity 0
channel-25 0,1 --method channel --sparsity 0.25
channel-50 0,1 --method channel --sparsity 0.5
channel-75 0,1 --method channel --sparsity 0.75
gradual-50 1 --method channel --sparsity 0.5 --gradual 25
magnitude-25 0,1 --method magnitude --sparsity 0.25
magnitude-50 0,1 --method magnitude --sparsity 0.5
magnitude-75 0,1 --method magnitude --sparsity 0.75
lottery-50 1 --method magnitude --sparsity 0.5 --lottery 2
two-of-four 0,1 --method two-of-four
ROWS
done
python3 - "$out" <<'PY'
import json, sys, os
out = sys.argv[1]
def load(name):
    with open(os.path.join(out, name)) as f:
        return json.load(f)
print("| model | pruning | parameters | nonzero | MACs / out px | file bytes | PSNR no FT | PSNR FT |")
print("|---|---|---:|---:|---:|---:|---:|---:|")
for model in ["ticketsr-espcn-x2", "ticketsr-wdsr-b-x2", "upscalerjs-rdn-x2"]:
    dense = load(f"{model}-dense.eval.json")
    first = load(f"{model}-dense-control-ft1.json")["before"]
    ctl = load(f"{model}-dense-control-ft1.eval.json")["model"]["psnr_rgb"]
    print(f"| {model} | none (bicubic {dense['bicubic']['psnr_rgb']:.2f}) | {first['parameters']} | {first['nonzero']} | {first['macsPerOutputPixel']:.0f} | {first['bytes']} | {dense['model']['psnr_rgb']:.2f} | {ctl:.2f} |")
    for name in ["channel-25", "channel-50", "channel-75", "gradual-50", "magnitude-25", "magnitude-50", "magnitude-75", "lottery-50", "two-of-four"]:
        a = load(f"{model}-{name}-ft1.json")["after"]
        p0 = f"{load(f'{model}-{name}-ft0.eval.json')['model']['psnr_rgb']:.2f}" if os.path.exists(os.path.join(out, f"{model}-{name}-ft0.eval.json")) else "–"
        p1 = load(f"{model}-{name}-ft1.eval.json")["model"]["psnr_rgb"]
        print(f"| | {name} | {a['parameters']} | {a['nonzero']} | {a['macsPerOutputPixel']:.0f} | {a['bytes']} | {p0} | {p1:.2f} |")
PY
