#!/usr/bin/env bash
# What one read-only replica serves (DESIGN.md section 7, docs/store.md
# "Scaling out"): a writer creates load-784 (784-256-128-10) in a store, a
# --read_only replica on the same directory picks it up, and
# bnmlp_predict_load measures Predict on the replica and then, in the same
# run, on the writer (same machine, same settings: the ratio is the figure).
# Usage: bench/replica_throughput.sh [build_dir] [extra bnmlp_predict_load flags]
set -euo pipefail
build="${1:-build/release}"; shift || true
source "$(dirname "$0")/common.sh"
bench_work_dir replica_throughput
server="$build/server/bnmlp-server"
bench_start_server writer "$server" --model_dir="$work/store"
writer_address=$server_address writer_pid=$server_pid
"$build/client/bnmlp" --server "$writer_address" create --name load-784 \
  --layers 784-256-128-10 --seed 1 > /dev/null
bench_start_server replica "$server" --model_dir="$work/store" --read_only \
  --poll_seconds=2
replica_address=$server_address replica_pid=$server_pid
load="$build/bench/load/bnmlp_predict_load"
echo "== read-only replica"
"$load" --server="$replica_address" --server_pid="$replica_pid" --create_model=false "$@"
echo "== writer (same store, same run)"
"$load" --server="$writer_address" --server_pid="$writer_pid" --create_model=false "$@"
