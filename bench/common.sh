# Sourced by the bench/*.sh scripts: OpenBLAS as a deployed server has it,
# a work directory, and bnmlp-server processes, all cleaned up on exit
# however the script ends.
#
#   bench_work_dir NAME      sets $work to a new directory /tmp/NAME.XXXXXX
#   bench_start_server NAME BINARY [FLAGS...]
#                            starts BINARY on a free loopback port, its
#                            output appended to $work/NAME.log; sets
#                            $server_pid and $server_address; exits with
#                            the log if the server has not started in 30 s
#   bench_stop_server PID    SIGTERM, then waits for the process to exit
# On exit every server still running is stopped and $work is removed.

# This machine exports both, which slows OpenBLAS; a deployed server has
# neither (BASELINES.md), so every side of every benchmark runs without.
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE

work=""
bench_server_pids=()

bench_cleanup() {
  local pid
  for pid in "${bench_server_pids[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [[ -n "$work" ]]; then rm -rf "$work"; fi
}
trap bench_cleanup EXIT

bench_work_dir() { work="$(mktemp -d "/tmp/$1.XXXXXX")"; }

bench_start_server() {
  local name="$1" binary="$2" attempt
  shift 2
  rm -f "$work/$name.port"
  "$binary" --listen_address=127.0.0.1:0 --port_file="$work/$name.port" "$@" \
    >>"$work/$name.log" 2>&1 &
  server_pid=$!
  bench_server_pids+=("$server_pid")
  for attempt in $(seq 1 300); do
    [[ -s "$work/$name.port" ]] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  if [[ ! -s "$work/$name.port" ]]; then
    echo "bnmlp-server ($name) did not start; its log:" >&2
    cat "$work/$name.log" >&2
    exit 1
  fi
  server_address="127.0.0.1:$(<"$work/$name.port")"
}

bench_stop_server() {
  local pid kept=()
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  for pid in "${bench_server_pids[@]}"; do
    if [[ $pid != "$1" ]]; then kept+=("$pid"); fi
  done
  bench_server_pids=("${kept[@]}")
}
