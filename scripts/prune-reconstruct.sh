#!/usr/bin/env bash
# Reproduces the data-aware channel pruning table of docs/pruning.md: for the bundled
# ESPCN x2, WDSR-B x2 and UpscalerJS RDN x2, and UpscalerJS esrgan-legacy div2k x2
# (converted from npm here; no test was tuned on it), PSNR on the held-out astronaut photo
# after channel pruning by reconstruction (--criterion reconstruction, calibrated on the
# 11 other scikit-image photos of .media/photos) at 25/50/75% without training, and at 50%
# with STEPS (default 1000) of recovery by distillation (the unpruned model's output on
# the same photos, downscaled, as the target; batch 8, 32 px LR patches, lr 5e-4).
# DISTILL lists the models that get the distillation row (default: all but div2k, whose
# 2.6 M MACs per pixel make 1000 steps take hours here; its 75% row is left out too). Writes JSON to tests/output/prune/
# and prints a markdown table. MODELS picks some of the four (e.g. MODELS=esrgan-legacy-div2k-x2).
# Run scripts/setup.sh first.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/cache.sh
cargo build --quiet --release -p ticketsr-cli
bin="$CARGO_TARGET_DIR/release/ticketsr"
out=tests/output/prune
mkdir -p "$out"
photo=web/media/astronaut-256.png
mapfile -t others < <(ls .media/photos/*.png .media/photos/*.jpg | grep -v astronaut)
steps=${STEPS:-1000}
distill=${DISTILL:-ticketsr-espcn-x2 ticketsr-wdsr-b-x2 upscalerjs-rdn-x2}
div2k=$out/esrgan-legacy-div2k-x2.safetensors
$bin convert tests/node_modules/@upscalerjs/esrgan-legacy/models/div2k/x2/model.json -o "$div2k" --input-range 1 \
  --name esrgan-legacy-div2k-x2 --source "npm @upscalerjs/esrgan-legacy@1.0.0" --licence MIT --json > /dev/null
eval_json() { $bin eval "$photo" --model "$1" --backend cpu --json > "$2"; }
models=${MODELS:-ticketsr-espcn-x2 ticketsr-wdsr-b-x2 upscalerjs-rdn-x2 esrgan-legacy-div2k-x2}
for model in $models; do
  src=web/models/$model.safetensors
  [ -f "$src" ] || src=$div2k
  eval_json "$src" "$out/$model-dense.eval.json"
  sparsities="25 50 75"
  # div2k's 2.6 M MACs per pixel make each prune take minutes here: 75% is left out.
  [ "$model" = esrgan-legacy-div2k-x2 ] && sparsities="25 50"
  for s in $sparsities; do
    row="$model-recon-$s"
    echo "$row" >&2
    start=$(date +%s.%N)
    $bin prune "$src" -o "$out/$row.safetensors" --method channel --criterion reconstruction --sparsity "0.$s" \
      --calibrate "${others[@]}" --backend cpu --json > "$out/$row.json"
    echo "{\"seconds\": $(echo "$(date +%s.%N) - $start" | bc)}" > "$out/$row.time.json"
    eval_json "$out/$row.safetensors" "$out/$row.eval.json"
  done
  if [[ " $distill " == *" $model "* ]]; then
    row="$model-recon-50-distill"
    echo "$row" >&2
    $bin prune "$src" -o "$out/$row.safetensors" --method channel --criterion reconstruction --sparsity 0.5 \
      --calibrate "${others[@]}" --fine-tune "$steps" --distill --batch 8 --patch 32 --lr 5e-4 --data "${others[@]}" \
      --backend cpu --json > "$out/$row.json"
    eval_json "$out/$row.safetensors" "$out/$row.eval.json"
  fi
done
python3 - "$out" "$steps" $models <<'PY'
import json, sys, os
out, steps, models = sys.argv[1], sys.argv[2], sys.argv[3:]
def load(name):
    path = os.path.join(out, name)
    return json.load(open(path)) if os.path.exists(path) else None
def psnr(name):
    e = load(name)
    return e["model"]["psnr_rgb"] if e else None
print(f"| model | dense (bicubic) | 25% | 50% | 75% | 50% + {steps} distillation steps | parameters at 25 / 50 / 75% | seconds to prune (25%) |")
print("|---|---|---:|---:|---:|---:|---|---:|")
for model in models:
    dense = load(f"{model}-dense.eval.json")
    d = dense["model"]["psnr_rgb"]
    cell = lambda p: "–" if p is None else f"{p:.2f} ({p - d:+.2f})"
    params = " / ".join(str(load(f"{model}-recon-{s}.json")["after"]["parameters"]) if load(f"{model}-recon-{s}.json") else "–" for s in (25, 50, 75))
    first = load(f"{model}-recon-25.json")["before"]["parameters"]
    secs = load(f"{model}-recon-25.time.json")["seconds"]
    print(f"| {model} ({first} parameters) | {d:.2f} ({dense['bicubic']['psnr_rgb']:.2f}) | {cell(psnr(f'{model}-recon-25.eval.json'))} | {cell(psnr(f'{model}-recon-50.eval.json'))} | {cell(psnr(f'{model}-recon-75.eval.json'))} | {cell(psnr(f'{model}-recon-50-distill.eval.json'))} | {params} | {secs:.1f} |")
PY
