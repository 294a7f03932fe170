#!/usr/bin/env bash
# The Docker image's instruction set against this machine's, in one run:
# training and Predict throughput of the binaries built with
# BNMLP_MARCH=native (the release preset) and with BNMLP_MARCH=LEVEL (the
# image's default, x86-64-v3), side by side on this machine.
#
#   bench/compare_march.sh [--level x86-64-v3] [--rounds 3] [--epochs 3]
#                          [--threads 2] [--seconds 3] [--coretype NAME]
#
# Builds train_bnmlp, bnmlp-server and bnmlp_predict_load in build/release
# and in build/march-LEVEL (Release, no tests), then `rounds` times, in
# alternation: train_bnmlp (784-256-128-10, batch 128, SGD, Fashion-MNIST,
# median samples/s over epochs 2..N) of each build, and bnmlp_predict_load
# (batch 64 with 8 calls in flight, and batch 1 with 8 in flight) against
# each build's bnmlp-server. Prints the medians and LEVEL/native ratios of
# throughput (per wall second) and of work per CPU second (training: the
# process's user + system time for the whole run; Predict: calls per second
# of the server's CPU). On a busy machine the wall-clock figures swing with
# the other load; the CPU-time ones much less (use --threads 1 there: idle
# compute threads spinning on a wait would count as work).
# OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset for every side, so
# OpenBLAS picks its kernels for this CPU in both; --coretype NAME sets
# OPENBLAS_CORETYPE=NAME for both instead (e.g. SkylakeX where OpenBLAS
# 0.3.21 does not know the CPU and falls back to its SSE3 Prescott kernels:
# with fast matrix products, the code BNMLP_MARCH compiles weighs most).
set -euo pipefail
cd "$(dirname "$0")/.."
level=x86-64-v3 rounds=3 epochs=3 threads=2 seconds=3 coretype=""
while (($#)); do
  case "$1" in
    --level) level=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --coretype) coretype=$2; shift 2 ;;
    *) echo "unknown argument $1 (usage: see the top of $0)" >&2; exit 2 ;;
  esac
done
source bench/common.sh
bench_work_dir compare_march
out=$work
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
targets=(train_bnmlp bnmlp-server bnmlp_predict_load)

cmake --preset release "${launcher[@]}" >/dev/null
cmake --build --preset release -j2 --target "${targets[@]}" >/dev/null
other="build/march-$level"
cmake -S . -B "$other" -DCMAKE_BUILD_TYPE=Release -DBNMLP_MARCH="$level" \
  -DBNMLP_BUILD_TESTS=OFF "${launcher[@]}" >/dev/null
cmake --build "$other" -j2 --target "${targets[@]}" >/dev/null
declare -A tree=([native]=build/release ["$level"]="$other")
sides=(native "$level")

blas_env=(env)  # --coretype pins the kernels for both sides
if [[ -n "$coretype" ]]; then blas_env+=("OPENBLAS_CORETYPE=$coretype"); fi
echo "OpenBLAS kernels: ${coretype:-chosen by OpenBLAS (OPENBLAS_CORETYPE unset)}"
for ((r = 1; r <= rounds; r++)); do
  for side in "${sides[@]}"; do
    echo "== round $r: train_bnmlp, $side"
    TIMEFORMAT="%U %S"
    { time "${blas_env[@]}" "${tree[$side]}/bench/train_bnmlp" --epochs "$epochs" \
      --threads "$threads" --json "$out/train-$side-$r.json" | tail -n 2; } \
      2>"$out/train-$side-$r.cpu"
    echo "CPU user + system: $(awk '{ print $1 + $2 }' "$out/train-$side-$r.cpu") s"
  done
  for side in "${sides[@]}"; do
    echo "== round $r: bnmlp_predict_load against the $side bnmlp-server"
    "${blas_env[@]}" build/release/bench/load/bnmlp_predict_load \
      --server_binary "${tree[$side]}/server/bnmlp-server" \
      --server_flags "--compute_threads=$threads" --batches 64,1 --in_flight 8 \
      --seconds "$seconds" 2>/dev/null | tee "$out/predict-$side-$r.txt" | grep '^| Predict'
  done
done

python3 - "$out" "$rounds" "$level" <<'PY'
import json, statistics, sys
out, rounds, level = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def train(side):
    rates, cpu = [], []
    for r in range(1, rounds + 1):
        epochs = json.load(open(f"{out}/train-{side}-{r}.json"))["epochs"]
        rates += [e["samples_per_s"] for e in epochs[1:] or epochs]
        user, system = map(float, open(f"{out}/train-{side}-{r}.cpu").read().split()[-2:])
        cpu.append(user + system)
    # Work per CPU second, relative: the same run's work on both sides.
    return statistics.median(rates), 1 / statistics.median(cpu)
def predict(side, batch):
    rates, per_cpu = [], []
    for r in range(1, rounds + 1):
        for line in open(f"{out}/predict-{side}-{r}.txt"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) == 8 and cells[0] == "Predict" and cells[1] == str(batch):
                rates.append(float(cells[3]))
                per_cpu.append(float(cells[3]) / float(cells[6]))
    return statistics.median(rates), statistics.median(per_cpu)
native_train, level_train = train("native"), train(level)
rows = [("training samples/s (wall)", native_train[0], level_train[0]),
        ("training runs per CPU-hour", 3600 * native_train[1], 3600 * level_train[1])]
for batch in (64, 1):
    native, other = predict("native", batch), predict(level, batch)
    rows.append((f"Predict batch {batch}, 8 in flight: calls/s", native[0], other[0]))
    rows.append((f"  calls per server CPU-second", native[1], other[1]))
print(f"\n| {'median of ' + str(rounds) + ' rounds':<40} | {'native':>10} | {level:>10} | {level}/native |")
print(f"|{'-' * 42}|{'-' * 12}|{'-' * 12}|{'-' * (len(level) + 9)}|")
for name, native, other in rows:
    print(f"| {name:<40} | {native:>10,.0f} | {other:>10,.0f} | {other / native:>{len(level) + 7}.3f} |")
PY
