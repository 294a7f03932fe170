#!/usr/bin/env bash
# Predict over loopback next to ONNX Runtime in process, on the same network
# (issue 12 section 2): PyTorch builds 784-256-128-10 with BatchNorm and
# exports it (bench/make_onnx_mlp.py); ONNX Runtime (onnxruntime-node, 2
# intra-op threads) runs that file (bench/ort_predict.js); bnmlp imports
# the same file and bnmlp_predict_load measures Predict on it, one call in
# flight. Then, in the same run, ONNX Runtime again (the machine drifts:
# each ratio is against the mean of the two ORT runs around it).
# Usage: bench/compare_onnxruntime.sh [build_dir] [seconds per measurement]
set -euo pipefail
build="${1:-build/release}"
seconds="${2:-3}"
batches=(256 64)
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/common.sh"
bench_work_dir compare_onnxruntime

/usr/bin/python3 "$here/make_onnx_mlp.py" "$work/mlp.onnx" 2>/dev/null
bench_start_server server "$build/server/bnmlp-server"
"$build/client/bnmlp" --server "$server_address" import --name load-784 \
  --file "$work/mlp.onnx" > /dev/null

ort() { node "$here/ort_predict.js" "$work/mlp.onnx" "$seconds" 2 "${batches[@]}"; }
ort | tee "$work/ort1"
"$build/bench/load/bnmlp_predict_load" --server="$server_address" \
  --server_pid="$server_pid" --create_model=false --in_flight=1 \
  --batches="$(IFS=,; echo "${batches[*]}")" --seconds="$seconds" | tee "$work/bnmlp"
ort | tee "$work/ort2"

echo
echo "| batch | bnmlp samples/s (loopback) | ONNX Runtime samples/s (in process, mean of 2) | ratio |"
echo "|---|---|---|---|"
for batch in "${batches[@]}"; do
  ort_rate="$(grep -h "batch=$batch " "$work/ort1" "$work/ort2" |
    sed 's/.*samples\/s=\([0-9]*\).*/\1/' | awk '{s += $1} END {print s / NR}')"
  calls="$(awk -F'|' -v b="$batch" '$2 ~ /Predict/ && $3 + 0 == b {print $5 + 0}' "$work/bnmlp")"
  awk -v b="$batch" -v c="$calls" -v o="$ort_rate" \
    'BEGIN {printf "| %d | %.0f | %.0f | %.2fx |\n", b, c * b, o, c * b / o}'
done
