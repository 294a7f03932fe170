#!/usr/bin/env bash
# Training throughput, ours vs PyTorch, in one run on this machine.
#
#   bench/compare_torch.sh [--arch 784-256-128-10] [--batch 128] [--epochs 3]
#                          [--opt sgd|adam] [--rounds 1]
#
# Builds the release preset's train_bnmlp, measures the FMA peak with
# ../shared/baselines/peak.cpp, then alternates ours and
# ../shared/baselines/torch_bnmlp.py (same architecture, batch, optimizer,
# epochs, data) `rounds` times, and prints the median samples/s of each,
# their ratio, and our effective GFLOP/s against the peak. Needs
# `scripts/install-deps --bench` (python3-torch with a threaded OpenBLAS).
# OPENBLAS_CORETYPE is unset for both, so each uses the kernels OpenBLAS
# picks for this CPU (BASELINES.md).
set -euo pipefail
cd "$(dirname "$0")/.."
arch=784-256-128-10 batch=128 epochs=3 opt=sgd rounds=1
while (($#)); do
  case "$1" in
    --arch) arch=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --opt) opt=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
shared=../shared/baselines
source bench/common.sh
bench_work_dir compare_torch
out=$work

scripts/install-deps --bench
cmake --preset release >/dev/null
cmake --build --preset release -j2 --target train_bnmlp >/dev/null
g++ -O3 -march=native -std=c++17 -pthread "$shared/peak.cpp" -o "$out/peak"

echo "== FMA peak (../shared/baselines/peak.cpp)"
"$out/peak" | tee "$out/peak.txt"
peak=$(awk '/AVX-512 zmm, 2 threads/ {for (i = 1; i < NF; i++) if ($i == "median") print $(i + 1)}' "$out/peak.txt")

for ((r = 1; r <= rounds; r++)); do
  echo "== round $r: bnmlp"
  build/release/bench/train_bnmlp --arch "$arch" \
    --batch "$batch" --epochs "$epochs" --opt "$opt" --json "$out/ours$r.json"
  echo "== round $r: PyTorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)')"
  /usr/bin/python3 "$shared/torch_bnmlp.py" train \
    --arch "$arch" --batch "$batch" --epochs "$epochs" --opt "$opt" --seed 0 \
    --threads 1 --json "$out/torch$r.json"
done

/usr/bin/python3 - "$out" "$rounds" "${peak:-0}" <<'PY'
import json, statistics, sys
out, rounds, peak = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
def rates(prefix):
    v = []
    for r in range(1, rounds + 1):
        epochs = json.load(open(f"{out}/{prefix}{r}.json"))["epochs"]
        v += [e["samples_per_s"] for e in epochs[1:] or epochs]  # skip warm-up epoch
    return v
ours, torch = rates("ours"), rates("torch")
o, t = statistics.median(ours), statistics.median(torch)
flops = json.load(open(f"{out}/ours1.json"))["flops_per_sample"]
print(f"\nmedian samples/s over epochs 2..N: bnmlp {o:,.0f}  PyTorch {t:,.0f}  ratio {o / t:.2f}x")
print(f"bnmlp effective {o * flops / 1e9:.0f} GFLOP/s", end="")
print(f" = {100 * o * flops / 1e9 / peak:.0f}% of the measured 2-thread FMA peak ({peak:.0f} GFLOP/s)" if peak else "")
PY
