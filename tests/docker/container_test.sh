#!/usr/bin/env bash
# ctest label `container`: builds docker/Dockerfile for real with podman and
# proves the image works:
#   - base images debian:bookworm and debian:bookworm-slim made with
#     debootstrap (no image registry is needed), cached in --cache_dir;
#   - `podman build --format docker` (the OCI format would drop the
#     HEALTHCHECK); the build's layers and its ccache stay in the cache, so
#     only what changed is rebuilt;
#   - the image's configuration: numeric non-root USER 10001, HEALTHCHECK,
#     EXPOSE 50051, ENTRYPOINT bnmlp-server;
#   - a container started with the image's default command (read-only root
#     filesystem, no capabilities), its port published on a free loopback
#     port: `podman healthcheck run` passes,
#     the server process runs as uid 10001; a model is created, trained and
#     queried with the image's own CLI (podman exec) and another from the
#     host with this build's CLI, each seeing the other's;
#   - `podman stop` (SIGTERM): exit status 0 and the server's event=stopped
#     line;
#   - docker/compose.yaml through podman-compose: the `server` service comes
#     up healthy and answers the host's CLI.
#
#   container_test.sh --source_dir DIR --cli BIN --work_dir DIR --cache_dir DIR
#
# Needs root (rootful podman, debootstrap) and network access to the Debian
# mirror; scripts/install-deps installs podman, runc, debootstrap and
# podman-compose. The first run takes minutes (debootstrap, the build
# stage's apt-get, the compile); a rerun with the same sources takes well
# under a minute. Runs with the same --cache_dir take turns (a lock).
# Environment: BNMLP_DEBIAN_MIRROR (default http://deb.debian.org/debian),
# BNMLP_DEBIAN_SECURITY_MIRROR (default http://deb.debian.org/debian-security).
#
# Settings this test makes for podman, in files of its own (the host's
# podman configuration is neither read for storage nor changed):
#   runtime runc, cgroup_manager cgroupfs   crun refuses hybrid cgroup mounts
#   default_ulimits nofile = the hard       podman's defaults (1048576) exceed
#   limit, nproc = 4096                     the hard limits; conmon itself
#                                           runs with nproc 32768 here
#   storage under --cache_dir               cached images and layers, apart
#                                           from the host's own
#   BUILDAH_FORMAT=docker                   also for podman-compose's builds
set -euo pipefail

readonly kImage=localhost/bnmlp-test:latest
readonly kBuildImage=localhost/bnmlp-test-build:latest
readonly kContainer=bnmlp-test-server
readonly kComposeProject=bnmlptest
readonly kUid=10001
readonly kPort=50051
readonly kHealthySeconds=60
readonly kStopSeconds=30
readonly kSuite=bookworm
mirror="${BNMLP_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
security_mirror="${BNMLP_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"

log() { printf '[container %4ds] %s\n' "$SECONDS" "$*"; }
die() {
  printf '[container %4ds] FAIL: %s\n' "$SECONDS" "$*" >&2
  exit 1
}

source_dir="" cli_binary="" work_dir="" cache_dir=""
while (($# > 0)); do
  case "$1" in
    --source_dir) source_dir="$2" ;;
    --cli) cli_binary="$2" ;;
    --work_dir) work_dir="$2" ;;
    --cache_dir) cache_dir="$2" ;;
    *) die "unknown argument '$1' (usage: see the top of $0)" ;;
  esac
  shift 2
done
[[ -f "$source_dir/docker/Dockerfile" ]] || die "--source_dir: no docker/Dockerfile in '$source_dir'"
[[ -f "$source_dir/docker/compose.yaml" ]] || die "--source_dir: no docker/compose.yaml in '$source_dir'"
[[ -x "$cli_binary" ]] || die "--cli: no executable '$cli_binary' (build bnmlp)"
[[ -n "$work_dir" && -n "$cache_dir" ]] || die "--work_dir and --cache_dir are required"
((EUID == 0)) || die "needs root (rootful podman, debootstrap); run as root, as CI does"
for tool in podman runc debootstrap podman-compose python3 flock sha256sum; do
  command -v "$tool" >/dev/null ||
    die "needs '$tool': scripts/install-deps installs podman, runc, debootstrap, podman-compose"
done
mkdir -p "$work_dir" "$cache_dir"
work_dir="$(cd "$work_dir" && pwd -P)"
cache_dir="$(cd "$cache_dir" && pwd -P)"

# --- podman's configuration ----------------------------------------------------

# Runtime state goes where podman keeps its own (/run), in a directory of
# this cache's: a second storage must not share the host podman's state.
run_dir="/run/bnmlp-container-test/$(printf '%s' "$cache_dir" | sha256sum | cut -c1-12)"
mkdir -p "$run_dir"
export CONTAINERS_CONF="$work_dir/containers.conf"
cat >"$CONTAINERS_CONF" <<EOF
[containers]
default_ulimits = ["nofile=$(ulimit -Hn):$(ulimit -Hn)", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = "$run_dir/libpod"
[network]
network_config_dir = "$cache_dir/networks"
EOF
export CONTAINERS_STORAGE_CONF="$work_dir/storage.conf"
cat >"$CONTAINERS_STORAGE_CONF" <<EOF
[storage]
driver = "overlay"
graphroot = "$cache_dir/storage"
runroot = "$run_dir/storage"
EOF
export BUILDAH_FORMAT=docker
mkdir -p "$cache_dir/networks"

exec 9>"$cache_dir/lock"
if ! flock --nonblock 9; then
  log "waiting for another container test using $cache_dir"
  flock 9
fi
log "$(podman --version), $(runc --version | head -n 1), podman-compose $(podman-compose version 2>/dev/null | sed -n 's/^podman-composer* version *//p' | head -n 1)"

# --- Cleanup -------------------------------------------------------------------

compose() {
  (cd "$source_dir" && podman-compose -p "$kComposeProject" -f docker/compose.yaml "$@")
}

# Removes what a run starts (also what a killed earlier run left behind).
remove_containers() {
  podman rm --force --time 0 "$kContainer" >/dev/null 2>&1 || true
  compose down >/dev/null 2>&1 || true
  podman ps --all --quiet --filter "name=^${kComposeProject}_" |
    xargs --no-run-if-empty podman rm --force --time 0 >/dev/null 2>&1 || true
  podman network rm --force "${kComposeProject}_default" >/dev/null 2>&1 || true
}

cleanup() {
  local status=$?
  if ((status != 0)) && podman container exists "$kContainer" 2>/dev/null; then
    echo "--- log of $kContainer"
    podman logs "$kContainer" 2>&1 | tail -n 30 || true
  fi
  remove_containers
  # Dangling layers of earlier builds; the tagged images (the test image,
  # the build stage, the base images) and their layers stay as the cache.
  podman image prune --force >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
remove_containers

# --- Base images from debootstrap ------------------------------------------------

# debian:bookworm's apt sources (bookworm, -updates, -security; debootstrap
# writes only the first) and the apt settings of Docker's Debian images: no
# caches or translations left in layers.
configure_like_docker_debian() {
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
  cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  echo 'Acquire::Languages "none";' >"$root/etc/apt/apt.conf.d/docker-no-languages"
  rm -rf "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
    "$root"/var/lib/apt/lists/*
}

# What the -slim variant leaves out: documentation, manuals, locales.
make_slim() {
  local root="$1"
  mkdir -p "$root/etc/dpkg/dpkg.cfg.d"
  cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
EOF
  find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  rm -rf "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/lintian/*
  find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias \
    -exec rm -rf {} +
}

# The images are labelled with what they were made from; another mirror or
# suite makes them again.
base_key="$(printf '%s\n' v1 "$kSuite" "$mirror" "$security_mirror" | sha256sum | cut -c1-16)"
base_image_current() {
  [[ "$(podman image inspect --format '{{index .Labels "bnmlp.test.base"}}' \
    "docker.io/library/$1" 2>/dev/null)" == "$base_key" ]]
}
if base_image_current debian:bookworm && base_image_current debian:bookworm-slim; then
  log "base images debian:bookworm and debian:bookworm-slim: cached"
else
  rootfs="$cache_dir/rootfs.partial"
  rm -rf --one-file-system "$rootfs"
  log "debootstrap --variant=minbase $kSuite from $mirror (a few minutes)"
  debootstrap --variant=minbase "$kSuite" "$rootfs" "$mirror" >"$work_dir/debootstrap.log" 2>&1 ||
    die "debootstrap failed (network? mirror $mirror?): $(tail -n 20 "$work_dir/debootstrap.log")"
  configure_like_docker_debian "$rootfs"
  for variant in bookworm bookworm-slim; do
    if [[ "$variant" == bookworm-slim ]]; then make_slim "$rootfs"; fi
    tar -C "$rootfs" -c . | podman import --quiet \
      --change "LABEL bnmlp.test.base=$base_key" --change 'CMD ["bash"]' \
      - "docker.io/library/debian:$variant" >/dev/null ||
      die "podman import of debian:$variant failed"
  done
  rm -rf --one-file-system "$rootfs"
  log "imported docker.io/library/debian:bookworm and :bookworm-slim"
fi

# --- The build -------------------------------------------------------------------

log "podman build --format docker -f docker/Dockerfile (log: $work_dir/build.log)"
build_start=$SECONDS
# Each line of podman's output with the seconds since the build started.
build() {
  (cd "$source_dir" && podman build --format docker --pull=never --network=host \
    -f docker/Dockerfile "$@" . 2>&1) | while IFS= read -r line; do
    printf '%4d %s\n' "$((SECONDS - build_start))" "$line"
  done
  return "${PIPESTATUS[0]}"
}
build -t "$kImage" >"$work_dir/build.log" ||
  die "podman build failed: $(tail -n 40 "$work_dir/build.log")"
# The build stage tagged too (all cached by now), so that pruning dangling
# layers keeps it: a rerun with the same sources rebuilds nothing.
build --target build -t "$kBuildImage" >>"$work_dir/build.log" ||
  die "podman build --target build failed: $(tail -n 20 "$work_dir/build.log")"
log "built $kImage in $((SECONDS - build_start)) s," \
  "$(podman image inspect --format '{{.Size}}' "$kImage" | awk '{ printf "%.0f MB", $1 / 1e6 }')"

# --- The image's configuration ------------------------------------------------------

inspect() { podman image inspect --format "$1" "$kImage"; }
user="$(inspect '{{.Config.User}}')"
[[ "$user" =~ ^([0-9]+)(:[0-9]+)?$ ]] ||
  die "the image's USER is '$user', not numeric (Kubernetes' runAsNonRoot cannot check a name)"
((BASH_REMATCH[1] == kUid)) || die "the image's USER is '$user', expected $kUid"
healthcheck="$(inspect '{{json .Config.Healthcheck}}')"
[[ "$healthcheck" == *'"Test":'*bnmlp*health* ]] ||
  die "the image has no HEALTHCHECK running 'bnmlp health' (got $healthcheck;" \
    "an OCI-format build drops it: build with --format docker)"
[[ "$(inspect '{{json .Config.ExposedPorts}}')" == *"\"$kPort/tcp\""* ]] ||
  die "the image does not EXPOSE $kPort: $(inspect '{{json .Config.ExposedPorts}}')"
[[ "$(inspect '{{json .Config.Entrypoint}}')" == '["bnmlp-server"]' ]] ||
  die "the image's ENTRYPOINT is $(inspect '{{json .Config.Entrypoint}}'), expected [\"bnmlp-server\"]"
log "image: USER $user, EXPOSE $kPort, ENTRYPOINT bnmlp-server, HEALTHCHECK $healthcheck," \
  "march $(inspect '{{index .Config.Labels "bnmlp.march"}}')"

# --- Running the image -------------------------------------------------------------

# Polls `podman healthcheck run` (there is no systemd timer to run it).
wait_healthy() {
  local container="$1" attempt
  for ((attempt = 0; attempt < kHealthySeconds; attempt++)); do
    if podman healthcheck run "$container" >/dev/null 2>&1; then return 0; fi
    if [[ "$(podman inspect --format '{{.State.Running}}' "$container")" != true ]]; then
      die "$container exited: $(podman logs "$container" 2>&1 | tail -n 20)"
    fi
    sleep 1
  done
  die "$container: the HEALTHCHECK did not pass within ${kHealthySeconds}s"
}

log "podman run $kImage (default command, read-only, no capabilities; port $kPort on a free loopback port)"
# podman's own stderr (it cannot install health check timers without
# systemd, and says so) goes to a log.
podman_log="$work_dir/podman.log"
: >"$podman_log"
# Locked down as docker/k8s runs it (read-only root filesystem, no
# capabilities, no privilege escalation): the server needs none of them.
podman run --detach --name "$kContainer" --publish "127.0.0.1::$kPort" \
  --read-only --cap-drop ALL --security-opt no-new-privileges "$kImage" \
  >/dev/null 2>>"$podman_log" || die "podman run failed: $(tail -n 5 "$podman_log")"
wait_healthy "$kContainer"
[[ "$(podman inspect --format '{{.State.Health.Status}}' "$kContainer")" == healthy ]] ||
  die "the HEALTHCHECK passed, but podman reports $(podman inspect --format '{{.State.Health.Status}}' "$kContainer")"
host_port="$(podman port "$kContainer" "$kPort/tcp" | head -n 1)"
host_port="${host_port##*:}"
[[ "$host_port" =~ ^[0-9]+$ ]] || die "podman port: no host port for $kPort ($host_port)"
log "HEALTHCHECK passes; published on 127.0.0.1:$host_port"

# The container's first process is the server itself (no init), as uid 10001.
pid="$(podman inspect --format '{{.State.Pid}}' "$kContainer")"
[[ "$(cat "/proc/$pid/comm")" == bnmlp-server ]] ||
  die "the container's process $pid is '$(cat "/proc/$pid/comm")', not bnmlp-server"
read -r _ real_uid effective_uid _ < <(grep '^Uid:' "/proc/$pid/status")
[[ "$real_uid" == "$kUid" && "$effective_uid" == "$kUid" ]] ||
  die "bnmlp-server runs as uid $real_uid/$effective_uid, expected $kUid"
[[ "$(podman exec "$kContainer" id -u)" == "$kUid" ]] || die "podman exec does not run as $kUid"
log "bnmlp-server is the container's process $pid, running as uid $kUid"

# Two Gaussian-ish blobs in 2-D, one per class: any working model separates
# them. A header line, as a spreadsheet writes it.
toy_csv() {
  awk -v seed="$1" 'BEGIN { srand(seed); print "x1,x2,label"
    for (i = 0; i < 400; i++) { c = i % 2; m = c ? 1.5 : -1.5
      printf "%.4f,%.4f,%d\n", m + rand() - 0.5, m + rand() - 0.5, c } }'
}
accuracy_of() { grep -oE '"accuracy": *[0-9.]+' <<<"$1" | grep -oE '[0-9.]+$'; }
expect_accurate() {
  local what="$1" output="$2" accuracy
  accuracy="$(accuracy_of "$output")"
  [[ -n "$accuracy" ]] || die "$what: no accuracy in: $output"
  awk -v a="$accuracy" 'BEGIN { exit !(a >= 0.95) }' ||
    die "$what: accuracy $accuracy < 0.95 on two separable blobs"
  log "$what: accuracy $accuracy"
}

# Listening on 0.0.0.0 with no tokens file, the server generated a writer
# token into its store (docs/security.md): calls need it, health does not.
kTokenFile=/var/lib/bnmlp/server_token
host_token="$work_dir/server_token"
(umask 077 && podman exec "$kContainer" cat "$kTokenFile" >"$host_token") ||
  die "no generated token at $kTokenFile in the container"
in_image_cli() {
  podman exec --interactive "$kContainer" bnmlp --server "127.0.0.1:$kPort" \
    --token_file "$kTokenFile" "$@"
}
host_cli() { "$cli_binary" --server "127.0.0.1:$host_port" --token_file "$host_token" "$@"; }
if "$cli_binary" --server "127.0.0.1:$host_port" list >/dev/null 2>&1; then
  die "the container answered ListModels without a token"
fi
log "the server generated a token into its store; calls without it are refused"

log "the image's CLI (podman exec): create, train, predict model 'inside'"
in_image_cli create --name inside --layers 2-16-2 --seed 1 || die "bnmlp create (in the image) failed"
toy_csv 1 | in_image_cli train --name inside --train_csv - --epochs 10 --batch_size 20 ||
  die "bnmlp train (in the image) failed"
expect_accurate "predict in the image" \
  "$(toy_csv 2 | in_image_cli predict --name inside --csv - --summary --json)"

log "the host's CLI ($cli_binary): create, train, predict model 'outside'"
host_cli health || die "bnmlp health from the host failed"
host_cli create --name outside --layers 2-8-2 --seed 2 || die "bnmlp create (host) failed"
toy_csv 3 | host_cli train --name outside --train_csv - --epochs 10 --batch_size 20 ||
  die "bnmlp train (host) failed"
expect_accurate "predict from the host" \
  "$(toy_csv 4 | host_cli predict --name outside --csv - --summary --json)"
# One server: each side sees the other's model.
expect_accurate "the host predicting with 'inside'" \
  "$(toy_csv 5 | host_cli predict --name inside --csv - --summary --json)"
models="$(in_image_cli list)"
[[ "$models" == *inside* && "$models" == *outside* ]] ||
  die "bnmlp list in the image does not show both models: $models"

log "podman stop (SIGTERM, up to ${kStopSeconds}s before SIGKILL)"
podman stop --time "$kStopSeconds" "$kContainer" >/dev/null 2>>"$podman_log" ||
  die "podman stop failed: $(tail -n 5 "$podman_log")"
exit_code="$(podman inspect --format '{{.State.ExitCode}}' "$kContainer")"
server_log="$(podman logs "$kContainer" 2>&1)"
((exit_code == 0)) ||
  die "bnmlp-server exited with $exit_code after SIGTERM (137: killed): $(tail -n 10 <<<"$server_log")"
grep -q 'event=stopped' <<<"$server_log" ||
  die "no event=stopped line in the server's log: $(tail -n 10 <<<"$server_log")"
log "stopped: exit status 0, $(grep -o 'event=stopped.*' <<<"$server_log" | head -n 1)"
podman rm "$kContainer" >/dev/null 2>>"$podman_log"

# --- docker/compose.yaml -------------------------------------------------------------

# podman-compose 1.0.3 (Debian 12) ignores `profiles`, `depends_on`
# conditions and `name:`, and exits 0 when podman fails: start only the
# server, name the project, check the container rather than the exit status.
compose_port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
log "podman-compose up -d --build server (BNMLP_PORT=$compose_port)"
BNMLP_PORT="$compose_port" compose up -d --build server >"$work_dir/compose.log" 2>&1 ||
  die "podman-compose up failed: $(tail -n 30 "$work_dir/compose.log")"
compose_container="${kComposeProject}_server_1"
podman container exists "$compose_container" ||
  die "podman-compose started no $compose_container: $(tail -n 30 "$work_dir/compose.log")"
wait_healthy "$compose_container"
"$cli_binary" --server "127.0.0.1:$compose_port" health ||
  die "the compose server does not answer on 127.0.0.1:$compose_port"
log "compose: $compose_container healthy, answering on 127.0.0.1:$compose_port"
compose down >>"$work_dir/compose.log" 2>&1 || true
! podman container exists "$compose_container" || die "podman-compose down left $compose_container"

log "PASS: the image builds, runs as uid $kUid, passes its HEALTHCHECK, trains" \
  "and predicts through both CLIs, stops cleanly on SIGTERM and runs from compose"
