#!/usr/bin/env bash
# What one bnmlp-server needs, for sizing containers (docs/kubernetes.md,
# "Resources"): its resident memory and CPU use when idle, while training
# the demo model (784-256-128-10 on Fashion-MNIST through the CLI, with the
# test set for validation), with the model loaded, and under a Predict load
# (bench/load/bnmlp_predict_load: batch 64 and batch 1, 8 calls in flight).
#
#   bench/server_footprint.sh [--build_dir build/release] [--epochs 10]
#                             [--threads 2] [--seconds 5]
#
# Memory is the server's VmRSS (now) and VmHWM (peak so far) from
# /proc/PID/status; CPU is its user + system time over the phase's wall
# time, in cores. Builds bnmlp-server, bnmlp and bnmlp_predict_load in the
# build directory first. OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset
# (bench/common.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=build/release epochs=10 threads=2 seconds=5
while (($#)); do
  case "$1" in
    --build_dir) build_dir=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    *) echo "unknown argument $1 (usage: see the top of $0)" >&2; exit 2 ;;
  esac
done
cmake --build "$build_dir" -j2 --target bnmlp-server bnmlp bnmlp_predict_load >/dev/null
source bench/common.sh
bench_work_dir server_footprint
bench_start_server server "$build_dir/server/bnmlp-server" \
  --worker_threads="$threads" --compute_threads="$threads"
cli=("$build_dir/client/bnmlp" --server "$server_address")

kib() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$server_pid/status"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$server_pid/stat"; }
ticks_per_second=$(getconf CLK_TCK)
rows=()
phase_start_ticks=0 phase_start_ns=0
begin_phase() { phase_start_ticks=$(cpu_ticks); phase_start_ns=$(date +%s%N); }
end_phase() {
  local wall cores
  wall=$(awk -v a="$phase_start_ns" -v b="$(date +%s%N)" 'BEGIN { print (b - a) / 1e9 }')
  cores=$(awk -v t="$(($(cpu_ticks) - phase_start_ticks))" -v hz="$ticks_per_second" -v w="$wall" \
    'BEGIN { printf "%.2f", t / hz / w }')
  rows+=("$(printf '| %-44s | %8d | %8d | %5s |' "$1" "$(($(kib VmRSS) / 1024))" \
    "$(($(kib VmHWM) / 1024))" "$cores")")
}

begin_phase; sleep 2; end_phase "idle, no models"

"${cli[@]}" create --name demo --layers 784-256-128-10 --seed 0 >/dev/null
begin_phase
"${cli[@]}" train --name demo --fashion_mnist --epochs "$epochs" --batch_size 128 \
  --lr_schedule cosine >"$work/train.log" 2>&1 || { cat "$work/train.log" >&2; exit 1; }
end_phase "training the demo model, $epochs epochs"
begin_phase; sleep 2; end_phase "demo model loaded, idle"

for batch in 64 1; do
  begin_phase
  "$build_dir/bench/load/bnmlp_predict_load" --server "$server_address" \
    --server_pid "$server_pid" --batches "$batch" --in_flight 8 --seconds "$seconds" \
    --warmup_seconds 0.5 >"$work/load-$batch.txt" 2>/dev/null
  end_phase "Predict batch $batch, 8 in flight ($(awk -F'|' '$2 ~ /Predict/ { gsub(/ /, "", $5); print $5 }' "$work/load-$batch.txt") calls/s)"
done

echo "bnmlp-server, --worker_threads=$threads --compute_threads=$threads ($(nproc) cores here)"
printf '| %-44s | %8s | %8s | %5s |\n' phase "RSS MiB" "peak MiB" cores
printf '|%s|%s|%s|%s|\n' "$(printf '%.0s-' {1..46})" "----------" "----------" "-------"
printf '%s\n' "${rows[@]}"
