#!/usr/bin/env bash
# Fuzzes the loaders and the planner (fuzz/README.md): seeds each target from the bundled
# files, runs it for SECONDS, keeps a minimized corpus in fuzz/corpus/TARGET and copies any
# input it failed on to fuzz/regressions/TARGET, which CI replays as ordinary tests.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]      default: 600 s, every target, one after another
#
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). Not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(model_file content_pack tfjs_model graph_analysis patch_plan)

source scripts/cache.sh
export CARGO_TARGET_DIR="$TICKETSR_CACHE/fuzz-target"
seeds="$TICKETSR_CACHE/fuzz-seeds"
logs=tests/output/fuzz
mkdir -p "$logs"

# Seeds, outside the repository: the bundled files are there already. The corpus kept
# holds entries of at most 4 KiB (about 1 MB in all; the rest is regrown by the next run).
python3 - "$seeds" <<'EOF'
import glob, json, os, shutil, struct, sys
out = sys.argv[1]
def put(target, name, data):
    os.makedirs(f"{out}/{target}", exist_ok=True)
    open(f"{out}/{target}/{name}", "wb").write(data)
for path in glob.glob("web/models/*.safetensors"):
    data = open(path, "rb").read()
    put("model_file", os.path.basename(path), data)
    n = struct.unpack("<Q", data[:8])[0]
    put("graph_analysis", os.path.basename(path) + ".json", json.loads(data[8:8 + n])["__metadata__"]["graph"].encode())
for path in glob.glob("web/media/*.tsrpack"):
    put("content_pack", os.path.basename(path), open(path, "rb").read())
# TF.js: model.json, then its shards, NUL-separated (fuzz/targets.rs).
for path in glob.glob("tests/node_modules/@upscalerjs/*/models/**/model.json", recursive=True):
    root = json.load(open(path))
    shards = [open(os.path.join(os.path.dirname(path), p), "rb").read() for g in root["weightsManifest"] for p in g["paths"]]
    if sum(map(len, shards)) < 1 << 20:
        put("tfjs_model", path.split("/")[3] + "-" + path.split("/")[-2], b"\0".join([open(path, "rb").read()] + shards))
small = {"format": "layers-model", "modelTopology": {"model_config": {"class_name": "Functional", "config": {"layers": [
    {"class_name": "InputLayer", "name": "in", "config": {"batch_input_shape": [None, None, None, 3]}, "inbound_nodes": []},
    {"class_name": "Conv2D", "name": "c", "config": {"filters": 3, "kernel_size": [3, 3], "strides": [1, 1], "padding": "same", "activation": "relu", "use_bias": True}, "inbound_nodes": [[["in", 0, 0, {}]]]},
    {"class_name": "UpSampling2D", "name": "up", "config": {"size": [2, 2], "interpolation": "nearest"}, "inbound_nodes": [[["c", 0, 0, {}]]]},
    {"class_name": "Add", "name": "sum", "config": {}, "inbound_nodes": [[["up", 0, 0, {}], ["up", 0, 0, {}]]]}],
    "output_layers": [["sum", 0, 0]]}}},
    "weightsManifest": [{"paths": ["a.bin"], "weights": [
        {"name": "c/kernel", "shape": [3, 3, 3, 3], "dtype": "float32", "quantization": {"dtype": "uint8", "min": -1.0, "scale": 0.01}},
        {"name": "c/bias", "shape": [3], "dtype": "float32", "quantization": {"dtype": "float16"}}]}]}
put("tfjs_model", "small", json.dumps(small).encode() + b"\0" + bytes(range(27)) + bytes(6))
# Patch plans: width, height, patch, halo, tile side, then selected indices (u16 LE).
for name, words in {"clustered": [64, 48, 8, 4, 32, 0, 1, 8, 9, 10, 17], "scattered": [200, 120, 16, 39, 64, 0, 12, 30, 5, 77],
                    "all": [40, 40, 8, 2, 16] + list(range(25)), "edge": [9, 7, 4, 100, 4, 5, 0]}.items():
    put("patch_plan", name, struct.pack(f"<{len(words)}H", *words))
EOF

cargo +nightly fuzz build -O -a -s none
status=0
for t in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
  echo "== $t: $seconds s"
  # -rss_limit_mb: the allocator in targets.rs bounds the heap much lower; this catches the rest.
  cargo +nightly fuzz run -O -a -s none "$t" "fuzz/corpus/$t" "$seeds/$t" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=1048576 -print_final_stats=1 \
    -artifact_prefix="fuzz/artifacts/$t/" 2>&1 | tee "$logs/$t.log" | grep -E '^#[0-9]+ *(pulse|DONE)|^stat::|ERROR|panicked' || true
  cargo +nightly fuzz cmin -O -a -s none "$t" "fuzz/corpus/$t" -- -max_len=1048576 > "$logs/$t.cmin.log" 2>&1
  find "fuzz/corpus/$t" -type f -size +4096c -delete
  if compgen -G "fuzz/artifacts/$t/*" > /dev/null; then
    mkdir -p "fuzz/regressions/$t" && cp fuzz/artifacts/"$t"/* "fuzz/regressions/$t/" && status=1
    echo "$t: failing inputs copied to fuzz/regressions/$t" >&2
  fi
done
exit $status
