#!/usr/bin/env bash
# What one read-only replica serves (DESIGN.md section 7, docs/store.md
# "Scaling out"): a writer creates load-784 (784-256-128-10) in a store, a
# --read_only replica on the same directory picks it up, and
# bnmlp_predict_load measures Predict on the replica and then, in the same
# run, on the writer (same machine, same settings: the ratio is the figure).
# Usage: bench/replica_throughput.sh [build_dir] [extra bnmlp_predict_load flags]
set -euo pipefail
build="${1:-build/release}"; shift || true
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
work="$(mktemp -d /tmp/replica_throughput.XXXXXX)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
start() {  # start <name> [flags...]: sets $port
  local name="$1"; shift
  "$build/server/bnmlp-server" --listen_address=127.0.0.1:0 \
    --port_file="$work/$name.port" "$@" > "$work/$name.log" 2>&1 &
  pids+=($!); last_pid=$!
  for _ in $(seq 1 300); do [[ -s "$work/$name.port" ]] && break; sleep 0.1; done
  port="$(cat "$work/$name.port")"
}
start writer --model_dir="$work/store"; writer_port=$port; writer_pid=$last_pid
"$build/client/bnmlp" --server "127.0.0.1:$writer_port" create --name load-784 \
  --layers 784-256-128-10 --seed 1 > /dev/null
start replica --model_dir="$work/store" --read_only --poll_seconds=2
replica_port=$port; replica_pid=$last_pid
load="$build/bench/load/bnmlp_predict_load"
echo "== read-only replica"
"$load" --server="127.0.0.1:$replica_port" --server_pid="$replica_pid" --create_model=false "$@"
echo "== writer (same store, same run)"
"$load" --server="127.0.0.1:$writer_port" --server_pid="$writer_pid" --create_model=false "$@"
