#!/usr/bin/env bash
# Uploads and trains on a large synthetic dataset (default 1,000,000 x 784
# float32 features = 3.1 GB, plus labels) through a server limited to 4 MiB
# messages, with a model store, and reports the server's peak RSS against
# the data size, the upload rate, the training throughput and the time to
# reload the dataset at startup.
#
#   bench/dataset_scale.sh [build_dir] [rows]      (default build/release, 1000000)
#
# The data is generated on the client side (random IDX bytes into a
# temporary directory, deleted afterwards); nothing big is committed.
# Needs about 2 x data of RAM (client + server) and 1.25 x data of disk.
set -euo pipefail
source "$(dirname "$0")/common.sh"

BUILD=${1:-build/release}
ROWS=${2:-1000000}
FEATURES=784
SERVER=$BUILD/server/bnmlp-server
CLI=$BUILD/client/bnmlp
for binary in "$SERVER" "$CLI"; do
  [[ -x $binary ]] || { echo "missing $binary: build it first" >&2; exit 1; }
done

bench_work_dir dataset_scale

# IDX files: images (ubyte, [rows, 28, 28]) and labels (ubyte, [rows]).
python3 - "$work" "$ROWS" <<'PY'
import os, struct, sys
work, rows = sys.argv[1], int(sys.argv[2])
with open(os.path.join(work, "images.idx"), "wb") as f:
    f.write(struct.pack(">IIII", 0x00000803, rows, 28, 28))
    left = rows * 784
    while left:
        n = min(left, 64 << 20)
        f.write(os.urandom(n))
        left -= n
with open(os.path.join(work, "labels.idx"), "wb") as f:
    f.write(struct.pack(">II", 0x00000801, rows))
    f.write(bytes(b % 10 for b in os.urandom(rows)))
PY

DATA_BYTES=$((ROWS * (FEATURES + 1) * 4))
start_server() {
  bench_start_server server "$SERVER" --max_message_bytes=4194304 \
    --max_dataset_bytes=$((DATA_BYTES + (1 << 20))) --model_dir="$work/store"
}
peak_rss() { awk '/VmHWM/ {print $2 * 1024}' "/proc/$server_pid/status"; }
now() { date +%s.%N; }
gb() { awk -v b="$1" 'BEGIN {printf "%.2f GB", b / 1e9}'; }

start_server
CLI_ARGS=(--server "$server_address")
t0=$(now)
"$CLI" "${CLI_ARGS[@]}" upload --name big --images "$work/images.idx" \
  --labels "$work/labels.idx" >"$work/upload.out"
t1=$(now)
RSS_UPLOAD=$(peak_rss)
"$CLI" "${CLI_ARGS[@]}" create --name m --layers 784-128-10 --seed 1 >/dev/null
t2=$(now)
"$CLI" "${CLI_ARGS[@]}" train --name m --dataset big --epochs 1 \
  --batch_size 256 >"$work/train.out"
t3=$(now)
RSS_TRAIN=$(peak_rss)
bench_stop_server "$server_pid"

t4=$(now)
start_server
"$CLI" --server "$server_address" datasets >"$work/reload.out"
t5=$(now)
RSS_RELOAD=$(peak_rss)
bench_stop_server "$server_pid"

cat "$work/upload.out"
tail -1 "$work/train.out"
echo "rows $ROWS x $FEATURES, data (features + labels) $(gb "$DATA_BYTES")"
awk -v s="$(echo "$t1 - $t0" | bc)" -v b="$DATA_BYTES" \
  'BEGIN {printf "upload (client load + send + server check + durable write): %.1f s, %.1f MB/s\n", s, b / s / 1e6}'
echo "train 1 epoch (784-128-10, batch 256): $(echo "$t3 - $t2" | bc) s"
echo "restart + reload from the store: $(echo "$t5 - $t4" | bc) s"
for phase in UPLOAD TRAIN RELOAD; do
  var=RSS_$phase
  awk -v p="$phase" -v r="${!var}" -v b="$DATA_BYTES" \
    'BEGIN {printf "server peak RSS after %-6s %s = %.3f x data\n", tolower(p), sprintf("%.2f GB", r / 1e9), r / b}'
done
