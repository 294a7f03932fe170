#!/usr/bin/env bash
# What the model store costs training: the demo's run (784-256-128-10, 10
# epochs of Fashion-MNIST, batch 64, Adam) on a server without --model_dir
# and on one with it, alternated `rounds` times in one run so that both
# sides see the same machine. Prints each run's training seconds (the done
# message's elapsed_seconds) and the median ratio store / memory.
#
# Usage: bench/store_persist_cost.sh [build_dir] [rounds] [epochs]
#   build_dir defaults to build/release; rounds to 3; epochs to 10.
# Needs Debian's dataset-fashion-mnist (as the demo does).
set -euo pipefail
build="${1:-build/release}"
rounds="${2:-3}"
epochs="${3:-10}"
server_bin="$build/server/bnmlp-server"
cli_bin="$build/client/bnmlp"
source "$(dirname "$0")/common.sh"
bench_work_dir store_persist_cost

# run <label> [server flags...]: prints the training seconds.
run() {
  local label="$1"; shift
  bench_start_server "server-$label" "$server_bin" "$@"
  local c=("$cli_bin" --server "$server_address")
  "${c[@]}" create --name fm --layers 784-256-128-10 --seed 0 > /dev/null
  "${c[@]}" --json train --name fm --fashion_mnist --epochs "$epochs" \
    --batch_size 64 --optimizer adam --learning_rate 0.001 --shuffle_seed 0 \
    > "$work/train-$label.json"
  bench_stop_server "$server_pid"
  tail -n 1 "$work/train-$label.json" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["done"]["elapsedSeconds"])'
}

memory=(); store=()
for r in $(seq 1 "$rounds"); do
  m="$(run "memory-$r")"
  rm -rf "$work/store"
  s="$(run "store-$r" --model_dir="$work/store")"
  w="$(awk '/event=store_version_written/ { sub("ms=", "", $NF); ms += $NF } END { printf "%.3f", ms / 1000 }' "$work/server-store-$r.log")"
  echo "round $r: memory ${m}s  store ${s}s  (store writer thread busy ${w}s)"
  memory+=("$m"); store+=("$s")
done
bytes="$(ls -l "$work"/store/models/fm/v*.bnmlp | awk 'NR==1{print $5}')"
python3 - "$bytes" "${memory[*]}" "${store[*]}" <<'PY'
import statistics, sys
size = int(sys.argv[1]); m = [float(v) for v in sys.argv[2].split()]; s = [float(v) for v in sys.argv[3].split()]
ratios = sorted(b / a for a, b in zip(m, s))
print(f"version file: {size/1e6:.2f} MB (parameters, running statistics, Adam moments)")
print(f"median training seconds: memory {statistics.median(m):.2f}, store {statistics.median(s):.2f}")
print(f"store / memory: median {statistics.median(ratios):.4f} (runs: {', '.join(f'{r:.4f}' for r in ratios)})")
PY
