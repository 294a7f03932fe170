#!/usr/bin/env bash
# ctest label `rootfs`: proves the Docker image's runtime stage works, with
# no Docker engine. It replays docker/Dockerfile's `runtime` stage in a
# chroot, the way `docker build` and `docker run` would:
#   FROM debian:bookworm-slim  debootstrap --variant=minbase bookworm (what
#                              the slim image is built from), with the slim
#                              image's apt sources
#   ARG, RUN                   run with /bin/sh -c inside the root filesystem
#                              (apt-get installs RUNTIME_PACKAGES, useradd)
#   COPY --from=build          copies this build tree's bnmlp-server and
#                              bnmlp to the Dockerfile's destination (the
#                              sources must have the same paths in the build
#                              stage's tree as in this one: server/..., ...)
#   USER, EXPOSE, HEALTHCHECK, ENTRYPOINT, CMD
#                              then start ENTRYPOINT + CMD with chroot as
#                              USER, run the HEALTHCHECK command, create and
#                              train a small model through the CLI, and stop
#                              the server with SIGTERM, expecting exit 0.
# The chroot shares the host's network, so the server gets
# `--listen_address=127.0.0.1:0 --port_file=...` appended to CMD (absl
# flags: the last value wins) and the HEALTHCHECK is pointed at that port.
#
#   rootfs_test.sh --dockerfile F --build_dir DIR --server BIN --cli BIN
#                  --cache_dir DIR
#
# Needs root, debootstrap and network access to the Debian mirror. The
# root filesystem after debootstrap and the RUN instructions before the
# first COPY is cached in DIR, keyed by a hash of those instructions (so of
# RUNTIME_PACKAGES) and the mirror: the first run takes minutes, a rerun
# seconds. Environment: BNMLP_DEBIAN_MIRROR (default
# http://deb.debian.org/debian, the mirror this project's machines use),
# BNMLP_DEBIAN_SECURITY_MIRROR (default http://deb.debian.org/debian-security).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/dockerfile.sh"

readonly kSuite=bookworm
readonly kBaseImage=debian:bookworm-slim
# Docker's default PATH for Linux containers.
readonly kDockerPath=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
readonly kPortFile=/tmp/bnmlp-rootfs-test.port
readonly kStartupSeconds=30
readonly kShutdownSeconds=30
mirror="${BNMLP_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
security_mirror="${BNMLP_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"

log() { printf '[rootfs %4ds] %s\n' "$SECONDS" "$*"; }
die() {
  printf '[rootfs %4ds] FAIL: %s\n' "$SECONDS" "$*" >&2
  exit 1
}

dockerfile="" build_dir="" server_binary="" cli_binary="" cache_dir=""
while (($# > 0)); do
  case "$1" in
    --dockerfile) dockerfile="$2" ;;
    --build_dir) build_dir="$2" ;;
    --server) server_binary="$2" ;;
    --cli) cli_binary="$2" ;;
    --cache_dir) cache_dir="$2" ;;
    *) die "unknown argument '$1' (usage: see the top of $0)" ;;
  esac
  shift 2
done
[[ -f "$dockerfile" ]] || die "--dockerfile: no such file '$dockerfile'"
[[ -x "$server_binary" ]] || die "--server: no executable '$server_binary' (build bnmlp-server)"
[[ -x "$cli_binary" ]] || die "--cli: no executable '$cli_binary' (build bnmlp)"
[[ -n "$cache_dir" ]] || die "--cache_dir is required"
[[ "$server_binary" == "$build_dir"/* && "$cli_binary" == "$build_dir"/* ]] ||
  die "--build_dir '$build_dir' must contain --server and --cli"
((EUID == 0)) || die "needs root (debootstrap, chroot, mount); run as root, as CI does"
for tool in debootstrap chroot mount umount findmnt flock sha256sum; do
  command -v "$tool" >/dev/null || die "needs '$tool' (scripts/install-deps installs debootstrap)"
done
mkdir -p "$cache_dir"
cache_dir="$(cd "$cache_dir" && pwd -P)"

# --- Mounts, processes and cleanup -------------------------------------------

# Unmounts everything mounted at or below `dir`, deepest first (also what a
# killed earlier run or debootstrap left behind).
unmount_below() {
  local dir="$1" target
  findmnt --list --noheadings --output TARGET | awk -v d="$dir" \
    'index($0, d "/") == 1 || $0 == d' | sort -r | while read -r target; do
    umount "$target" || umount --lazy "$target" || log "cannot unmount $target"
  done
}

# Deletes a root filesystem tree. Everything below it is unmounted first,
# and rm never crosses into another file system: a bind mount left over
# must never lead it into the host's /proc or /dev.
remove_tree() {
  local dir="$1"
  [[ -e "$dir" ]] || return 0
  unmount_below "$dir"
  if findmnt --list --noheadings --output TARGET | grep -q -F "$dir/"; then
    die "cannot unmount everything below $dir; not deleting it"
  fi
  rm -rf --one-file-system "$dir"
}

server_pid=""
work_root=""
build_root=""

# Whether the server has not exited (an exited child stays a zombie, which
# `kill -0` still finds, until `wait` reaps it).
server_running() {
  local stat
  stat="$(cat "/proc/$server_pid/stat" 2>/dev/null)" || return 1
  [[ "$(cut -d' ' -f3 <<<"$stat")" != Z ]]
}

cleanup() {
  local status=$?
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    log "killing the server (pid $server_pid)"
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [[ -n "$build_root" ]]; then unmount_below "$build_root"; fi
  if [[ -n "$work_root" ]]; then
    unmount_below "$work_root"
    if ((status == 0)); then
      remove_tree "$work_root"
    elif [[ -d "$work_root" ]]; then
      log "kept the failed run's root filesystem for inspection: $work_root"
    fi
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- Running commands inside the root filesystem ------------------------------

# Sets `chroot_argv` to a command line that runs `command...` chrooted into
# `root` as `userspec` (uid:gid), with a container's environment: Docker's
# PATH, HOME, plus any NAME=value words before the `--`. chroot and env
# exec, so the command keeps the pid the shell reports.
chroot_command() {
  local root="$1" userspec="$2" home="$3"
  shift 3
  chroot_argv=(chroot --userspec="$userspec" "$root" /usr/bin/env -i
    PATH="$kDockerPath" HOME="$home")
  while [[ "$1" != -- ]]; do
    chroot_argv+=("$1")
    shift
  done
  shift
  chroot_argv+=("$@")
}

# Runs chroot_command's command line in the foreground.
in_root() {
  chroot_command "$@"
  "${chroot_argv[@]}"
}

# Prints "uid:gid:home" for a Docker USER value (name, uid, name:group or
# uid:gid) as the image's /etc/passwd and /etc/group resolve it.
resolve_user() {
  local root="$1" spec="$2" user group entry uid gid home="/"
  user="${spec%%:*}"
  group=""
  if [[ "$spec" == *:* ]]; then group="${spec#*:}"; fi
  if [[ "$user" =~ ^[0-9]+$ ]]; then
    entry="$(awk -F: -v u="$user" '$3 == u' "$root/etc/passwd" | head -n 1)"
    uid="$user"
  else
    entry="$(awk -F: -v u="$user" '$1 == u' "$root/etc/passwd" | head -n 1)"
    [[ -n "$entry" ]] || die "USER $spec: no user '$user' in the image's /etc/passwd"
    uid="$(cut -d: -f3 <<<"$entry")"
  fi
  gid=0
  if [[ -n "$entry" ]]; then
    gid="$(cut -d: -f4 <<<"$entry")"
    home="$(cut -d: -f6 <<<"$entry")"
  fi
  if [[ "$group" =~ ^[0-9]+$ ]]; then
    gid="$group"
  elif [[ -n "$group" ]]; then
    gid="$(awk -F: -v g="$group" '$1 == g { print $3 }' "$root/etc/group")"
    [[ -n "$gid" ]] || die "USER $spec: no group '$group' in the image's /etc/group"
  fi
  printf '%s:%s:%s\n' "$uid" "$gid" "$home"
}

# --- Replaying the runtime stage ----------------------------------------------

declare -A build_args=()
image_user="0:0:/root"
exposed_port=""
healthcheck=()
entrypoint=()
default_command=()

# RUN sees the stage's ARGs and, like Docker's predefined ARGs, the proxy
# settings of the environment.
run_instruction() {
  local root="$1" command="$2" env_words=() name
  for name in "${!build_args[@]}"; do env_words+=("$name=${build_args[$name]}"); done
  for name in http_proxy https_proxy ftp_proxy no_proxy all_proxy \
    HTTP_PROXY HTTPS_PROXY FTP_PROXY NO_PROXY ALL_PROXY; do
    if [[ -n "${!name:-}" ]]; then env_words+=("$name=${!name}"); fi
  done
  log "RUN $command"
  in_root "$root" "${image_user%:*}" "${image_user##*:}" "${env_words[@]}" -- \
    /bin/sh -c "$command" || die "RUN failed: $command"
}

# COPY --from=build SRC... DEST: each SRC must be one of the binaries this
# test was given, at the same path below its build tree (e.g.
# /src/build/portable/server/bnmlp-server for build_dir/server/bnmlp-server).
copy_instruction() {
  local root="$1" words source destination target
  read -r -a words <<<"$2"
  [[ "${words[0]}" == --from=build ]] ||
    die "COPY ${words[*]}: only 'COPY --from=build SRC... DEST' is replayed"
  destination="${words[-1]}"
  for source in "${words[@]:1:${#words[@]}-2}"; do
    target="$destination"
    if [[ "$destination" == */ ]]; then target+="${source##*/}"; fi
    log "COPY ${source##*/} -> $target"
    mkdir -p "$root$(dirname "$target")"
    case "$source" in
      */"${server_binary#"$build_dir"/}") cp "$server_binary" "$root$target" ;;
      */"${cli_binary#"$build_dir"/}") cp "$cli_binary" "$root$target" ;;
      *) die "COPY $source: not one of this build's ${server_binary#"$build_dir"/}" \
        "and ${cli_binary#"$build_dir"/} (did the build tree's layout change?)" ;;
    esac
  done
}

# HEALTHCHECK [--option=value...] CMD ["exec", "form"]
healthcheck_instruction() {
  local rest="$1"
  while [[ "$rest" =~ ^--[a-z-]+=[^[:space:]]+[[:space:]]+(.*)$ ]]; do
    rest="${BASH_REMATCH[1]}"
  done
  [[ "$rest" =~ ^CMD[[:space:]]+(.*)$ ]] ||
    die "HEALTHCHECK: expected [--option=value...] CMD [\"...\"], got: $1"
  parse_exec_form "${BASH_REMATCH[1]}" healthcheck || die "HEALTHCHECK CMD: see above"
}

# Applies one runtime-stage instruction to `root`; RUNs only if `execute_runs`
# is 1 (0 replays only the configuration, over a cached root filesystem).
apply_instruction() {
  local root="$1" instruction="$2" execute_runs="$3" keyword rest
  keyword="${instruction%%[[:space:]]*}"
  rest="${instruction#"$keyword"}"
  rest="${rest#"${rest%%[![:space:]]*}"}"
  case "$keyword" in
    FROM) ;;
    ARG)
      if [[ "$rest" =~ ^([A-Za-z_][A-Za-z0-9_]*)=\"([^\"]*)\"$ ||
        "$rest" =~ ^([A-Za-z_][A-Za-z0-9_]*)=([^[:space:]\"]*)$ ]]; then
        build_args["${BASH_REMATCH[1]}"]="${BASH_REMATCH[2]}"
      else
        die "ARG $rest: expected NAME=\"value\""
      fi
      ;;
    RUN) if ((execute_runs)); then run_instruction "$root" "$rest"; fi ;;
    COPY) copy_instruction "$root" "$rest" ;;
    USER) image_user="$(resolve_user "$root" "$rest")" ;;
    EXPOSE)
      [[ "$rest" =~ ^([0-9]+)(/tcp)?$ ]] || die "EXPOSE $rest: expected one TCP port"
      exposed_port="${BASH_REMATCH[1]}"
      ;;
    HEALTHCHECK) healthcheck_instruction "$rest" ;;
    ENTRYPOINT) parse_exec_form "$rest" entrypoint || die "ENTRYPOINT: see above" ;;
    CMD) parse_exec_form "$rest" default_command || die "CMD: see above" ;;
    *) die "the runtime stage uses '$keyword', which this test does not replay; extend $0" ;;
  esac
}

# debian:bookworm-slim's apt sources over debootstrap's minbase (bookworm,
# -updates, -security; debootstrap writes only the first), so RUN's apt
# installs what the image's would.
use_slim_image_sources() {
  local root="$1"
  rm -f "$root/etc/apt/sources.list"
  cat >"$root/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: $kSuite $kSuite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security_mirror
Suites: $kSuite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
}

# What Docker provides in every container: name resolution files, /proc and
# the basic devices (debootstrap run inside a container can leave bind-mount
# placeholders instead of device nodes).
provide_container_files() {
  local root="$1" device major_minor
  for device in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
    if [[ ! -c "$root/dev/${device%%:*}" ]]; then
      major_minor="${device#*:}"
      rm -f "$root/dev/${device%%:*}"
      mknod -m 666 "$root/dev/${device%%:*}" c "${major_minor%:*}" "${major_minor#*:}"
    fi
  done
  cp -L /etc/resolv.conf "$root/etc/resolv.conf"
  printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' \
    >"$root/etc/hosts"
  if ! findmnt --noheadings "$root/proc" >/dev/null; then
    mount -t proc proc "$root/proc"
  fi
}

# --- The test -----------------------------------------------------------------

stage_text="$(dockerfile_stage "$dockerfile" runtime)" || die "see above"
mapfile -t instructions <<<"$stage_text"
[[ "${instructions[0]}" =~ ^FROM[[:space:]]+${kBaseImage}[[:space:]] ]] ||
  die "the runtime stage starts '${instructions[0]}'; this test builds $kBaseImage only"
cached_count=0 # the instructions before the first COPY go into the cache
while ((cached_count < ${#instructions[@]})) &&
  [[ "${instructions[cached_count]}" != COPY* ]]; do
  cached_count=$((cached_count + 1))
done

exec 9>"$cache_dir/lock"
if ! flock --nonblock 9; then
  log "waiting for another rootfs test using $cache_dir"
  flock 9
fi

cache_key="$(printf '%s\n' v1 "$kSuite" "$mirror" "$security_mirror" \
  "${instructions[@]:0:cached_count}" | sha256sum | cut -c1-16)"
cached_root="$cache_dir/rootfs-$cache_key"
if [[ -d "$cached_root" ]]; then
  log "reusing the cached root filesystem $cached_root"
  for instruction in "${instructions[@]:0:cached_count}"; do
    apply_instruction "$cached_root" "$instruction" 0
  done
else
  for stale in "$cache_dir"/rootfs-*; do
    if [[ -e "$stale" ]]; then
      log "removing $stale (another package list, or interrupted)"
      remove_tree "$stale"
    fi
  done
  build_root="$cached_root.partial"
  log "debootstrap --variant=minbase $kSuite from $mirror (a few minutes)"
  debootstrap --variant=minbase "$kSuite" "$build_root" "$mirror" ||
    die "debootstrap failed (network? mirror $mirror? see above)"
  use_slim_image_sources "$build_root"
  provide_container_files "$build_root"
  for instruction in "${instructions[@]:0:cached_count}"; do
    apply_instruction "$build_root" "$instruction" 1
  done
  # Docker's Debian images delete downloaded .debs after each install.
  in_root "$build_root" 0:0 /root -- apt-get clean
  unmount_below "$build_root"
  mv "$build_root" "$cached_root"
  build_root=""
  log "cached the root filesystem as $cached_root ($(du -sh "$cached_root" | cut -f1))"
fi

work_root="$cache_dir/run"
remove_tree "$work_root"
log "copying the cached root filesystem to $work_root"
cp -a "$cached_root" "$work_root"
provide_container_files "$work_root"
for instruction in "${instructions[@]:cached_count}"; do
  apply_instruction "$work_root" "$instruction" 1
done

# The image's configuration, checked before it is used.
((${#entrypoint[@]} > 0)) || die "the runtime stage has no ENTRYPOINT"
[[ -n "$exposed_port" ]] || die "the runtime stage has no EXPOSE"
((${#healthcheck[@]} > 0)) || die "the runtime stage has no HEALTHCHECK CMD"
IFS=: read -r uid gid home <<<"$image_user"
((uid != 0)) || die "the image runs as root (USER is missing or 0)"
userspec="$uid:$gid"

rm -f "$work_root$kPortFile"
server_command=("${entrypoint[@]}" "${default_command[@]}"
  --listen_address=127.0.0.1:0 "--port_file=$kPortFile")
log "starting, as $userspec: ${server_command[*]}"
server_log="$cache_dir/server.log"
chroot_command "$work_root" "$userspec" "$home" -- "${server_command[@]}"
"${chroot_argv[@]}" >"$server_log" 2>&1 &
server_pid=$!
for ((tenth = 0; tenth < kStartupSeconds * 10; tenth++)); do
  [[ -s "$work_root$kPortFile" ]] && break
  server_running ||
    die "the server exited during startup: $(cat "$server_log")"
  sleep 0.1
done
[[ -s "$work_root$kPortFile" ]] ||
  die "the server wrote no port file within ${kStartupSeconds}s: $(cat "$server_log")"
port="$(<"$work_root$kPortFile")"
log "the server listens on 127.0.0.1:$port"

# The process is chrooted and runs as the image's user, not as root.
[[ "$(readlink "/proc/$server_pid/root")" == "$work_root" ]] ||
  die "the server's root is $(readlink "/proc/$server_pid/root"), not $work_root"
read -r _ real_uid effective_uid _ < <(grep '^Uid:' "/proc/$server_pid/status")
[[ "$real_uid" == "$uid" && "$effective_uid" == "$uid" ]] ||
  die "the server runs as uid $real_uid/$effective_uid, expected the image's $uid"

# The health check, pointed at the test's port instead of the exposed one.
health_command=()
for word in "${healthcheck[@]}"; do
  health_command+=("${word//:$exposed_port/:$port}")
done
[[ "${health_command[*]}" != "${healthcheck[*]}" ]] ||
  die "the HEALTHCHECK (${healthcheck[*]}) does not name the exposed port $exposed_port"
log "HEALTHCHECK, as $userspec: ${health_command[*]}"
in_root "$work_root" "$userspec" "$home" -- "${health_command[@]}" ||
  die "the HEALTHCHECK failed (exit $?); server log: $(cat "$server_log")"

# Training exercises the image's OpenBLAS and the CLI's file reading.
cli=(bnmlp --server "127.0.0.1:$port")
for ((row = 0; row < 12; row++)); do
  printf '%d.0,%d.5,0.%d,1.%d,%d\n' $((row % 3)) $((row % 2)) "$row" \
    $((row * 7 % 10)) $((row % 3))
done >"$work_root/tmp/smoke.csv"
log "creating, training and querying a 4-8-3 model through the CLI"
in_root "$work_root" "$userspec" "$home" -- "${cli[@]}" create --name smoke \
  --layers 4-8-3 --seed 1 || die "bnmlp create failed"
in_root "$work_root" "$userspec" "$home" -- "${cli[@]}" train --name smoke \
  --train_csv /tmp/smoke.csv --epochs 2 --batch_size 4 || die "bnmlp train failed"
in_root "$work_root" "$userspec" "$home" -- "${cli[@]}" predict --name smoke \
  --csv /tmp/smoke.csv --limit 3 || die "bnmlp predict failed"

log "stopping the server with SIGTERM"
kill -TERM "$server_pid"
for ((tenth = 0; tenth < kShutdownSeconds * 10; tenth++)); do
  server_running || break
  sleep 0.1
done
if server_running; then
  die "the server still runs ${kShutdownSeconds}s after SIGTERM"
fi
server_status=0
wait "$server_pid" || server_status=$?
server_pid=""
echo "--- server log"
cat "$server_log"
echo "---"
((server_status == 0)) || die "the server exited with status $server_status after SIGTERM"
log "PASS: the runtime stage's root filesystem runs bnmlp-server and its health check as uid $uid"
