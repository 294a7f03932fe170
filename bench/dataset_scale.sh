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
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE

BUILD=${1:-build/release}
ROWS=${2:-1000000}
FEATURES=784
SERVER=$BUILD/server/bnmlp-server
CLI=$BUILD/client/bnmlp
for binary in "$SERVER" "$CLI"; do
  [[ -x $binary ]] || { echo "missing $binary: build it first" >&2; exit 1; }
done

WORK=$(mktemp -d /tmp/dataset_scale.XXXXXX)
SERVER_PID=
cleanup() {
  [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

# IDX files: images (ubyte, [rows, 28, 28]) and labels (ubyte, [rows]).
python3 - "$WORK" "$ROWS" <<'PY'
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
  rm -f "$WORK/port"
  "$SERVER" --listen_address=127.0.0.1:0 --port_file="$WORK/port" \
    --max_message_bytes=4194304 --max_dataset_bytes=$((DATA_BYTES + (1 << 20))) \
    --model_dir="$WORK/store" 2>>"$WORK/server.log" &
  SERVER_PID=$!
  for _ in $(seq 600); do [[ -s $WORK/port ]] && break; sleep 0.1; done
  [[ -s $WORK/port ]] || { echo "server did not start" >&2; cat "$WORK/server.log" >&2; exit 1; }
}
peak_rss() { awk '/VmHWM/ {print $2 * 1024}' "/proc/$SERVER_PID/status"; }
stop_server() { kill "$SERVER_PID"; wait "$SERVER_PID" || true; SERVER_PID=; }
now() { date +%s.%N; }
gb() { awk -v b="$1" 'BEGIN {printf "%.2f GB", b / 1e9}'; }

start_server
CLI_ARGS=(--server "127.0.0.1:$(cat "$WORK/port")")
t0=$(now)
"$CLI" "${CLI_ARGS[@]}" upload --name big --images "$WORK/images.idx" \
  --labels "$WORK/labels.idx" >"$WORK/upload.out"
t1=$(now)
RSS_UPLOAD=$(peak_rss)
"$CLI" "${CLI_ARGS[@]}" create --name m --layers 784-128-10 --seed 1 >/dev/null
t2=$(now)
"$CLI" "${CLI_ARGS[@]}" train --name m --dataset big --epochs 1 \
  --batch_size 256 >"$WORK/train.out"
t3=$(now)
RSS_TRAIN=$(peak_rss)
stop_server

t4=$(now)
start_server
"$CLI" --server "127.0.0.1:$(cat "$WORK/port")" datasets >"$WORK/reload.out"
t5=$(now)
RSS_RELOAD=$(peak_rss)
stop_server

cat "$WORK/upload.out"
tail -1 "$WORK/train.out"
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
