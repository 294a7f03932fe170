#!/usr/bin/env bash
# ctest label `docker`: the Docker image's runtime stage has every shared
# library the binaries need. No Docker engine is needed: the binaries of
# this build tree link the same Debian libraries as the image's (portable
# preset) ones.
#
#   runtime_libraries_test.sh DOCKERFILE BINARY...
#
# Checks, for each BINARY:
#   - `ldd` resolves every library (none "not found");
#   - `dpkg-query -S` maps every library to the Debian package owning it;
#   - that package is in the image: in the Dockerfile's RUNTIME_PACKAGES, or
#     something apt installs with them (their Depends/Pre-Depends, recursively),
#     or part of debian:bookworm-slim. The slim image is debootstrap's minbase
#     variant: the Priority "required" packages plus their dependencies,
#     computed here the same way.
# And that every package in RUNTIME_PACKAGES owns at least one of those
# libraries: the runtime stage installs runtime libraries only.
# The dependency closures come from this machine's dpkg database (apt-cache
# --installed), which is the bookworm those libraries were built against.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/dockerfile.sh"

if (($# < 2)); then
  echo "usage: $0 DOCKERFILE BINARY..." >&2
  exit 2
fi
dockerfile="$1"
shift
binaries=("$@")

failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

is_installed() {
  [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" == installed ]]
}

# The installed packages that `packages` pull in through Depends and
# Pre-Depends, recursively (including themselves), one per line.
# Conservative: only packages installed here count, so one the real image
# would have but this machine lacks makes the test fail, never pass.
dependency_closure() {
  apt-cache depends --recurse --installed --no-recommends --no-suggests \
    --no-conflicts --no-breaks --no-replaces --no-enhances "$@" |
    grep -v -e '^[[:space:]]' -e '^<' | sed 's/:.*//' | sort -u
}

# The seeds of debootstrap --variant=minbase (what debian:bookworm-slim is
# built from): every installed package with Priority "required".
required_packages() {
  dpkg-query -W -f='${Package} ${Priority} ${db:Status-Status}\n' |
    awk '$2 == "required" && $3 == "installed" { print $1 }'
}

# The paths under which dpkg may know `library`, a path ldd printed, whose
# canonical path is `resolved`. ldd prints the path it loaded, which may be
# a usrmerge alias (/lib for /usr/lib) or an update-alternatives symlink
# that no package owns (libopenblas.so.0), so: the path, then its target,
# each with and without the /usr prefix, most specific first.
owner_candidates() {
  local library="$1" resolved="$2" path
  for path in "$library" "$resolved"; do
    printf '%s\n' "$path"
    if [[ "$path" == /usr/* ]]; then
      printf '%s\n' "${path#/usr}"
    else
      printf '%s\n' "/usr$path"
    fi
  done
}

# Prints "path package" for each of `paths` that a package owns. One
# dpkg-query for all of them: each call scans every package's file list.
owners_of_paths() {
  # Exit status 1 only means some paths have no owner.
  dpkg-query -S "$@" 2>/dev/null | grep -v '^diversion ' |
    sed -n 's/^\([^:,]*\)[^/]* \(\/.*\)$/\2 \1/p' || true
}

# The absolute paths of the libraries ldd reports for `binary`; fails on
# libraries ldd cannot find.
libraries_of() {
  local binary="$1" ldd_output line status=0
  if ! ldd_output="$(ldd "$binary" 2>&1)"; then
    echo "ldd $binary failed: $ldd_output" >&2
    return 1
  fi
  while IFS= read -r line; do
    if [[ "$line" == *"not found"* ]]; then
      echo "$binary: ldd cannot find a library:${line}" >&2
      status=1
    elif [[ "$line" =~ =\>[[:space:]]+(/[^[:space:]]+) ||
      "$line" =~ ^[[:space:]]*(/[^[:space:]]+)[[:space:]]+\( ]]; then
      printf '%s\n' "${BASH_REMATCH[1]}"
    fi # else the vDSO, which the kernel provides
  done <<<"$ldd_output"
  return "$status"
}

packages_text="$(dockerfile_runtime_packages "$dockerfile")"
mapfile -t runtime_packages <<<"$packages_text"
echo "RUNTIME_PACKAGES (${dockerfile}): ${runtime_packages[*]}"

for package in "${runtime_packages[@]}"; do
  if ! is_installed "$package"; then
    fail "RUNTIME_PACKAGES names '$package', which is not an installed package" \
      "here; the image would install something the binaries were not built" \
      "against (a typo, or scripts/install-deps misses its -dev package)"
  fi
done

declare -A in_image=() # package -> why the image has it
mapfile -t required < <(required_packages)
if ((${#required[@]} == 0)); then
  fail "dpkg reports no Priority: required packages; is this Debian?"
fi
for package in $(dependency_closure "${required[@]}"); do
  in_image["$package"]="debian:bookworm-slim"
done
for package in $(dependency_closure "${runtime_packages[@]}"); do
  in_image["$package"]="dependency of RUNTIME_PACKAGES"
done
for package in "${runtime_packages[@]}"; do
  in_image["$package"]="RUNTIME_PACKAGES"
done

declare -A needed_by=() # library path -> the binaries that load it
for binary in "${binaries[@]}"; do
  if [[ ! -x "$binary" ]]; then
    fail "$binary: no such executable (build the bnmlp-server and bnmlp targets)"
    continue
  fi
  if ! libraries_text="$(libraries_of "$binary")"; then
    fail "$binary: ldd did not resolve every library (see above)"
  fi
  mapfile -t libraries <<<"$libraries_text"
  if ((${#libraries[@]} < 2)); then
    fail "$binary: ldd reported almost no libraries: ${libraries[*]}"
  fi
  for library in "${libraries[@]}"; do
    [[ -n "$library" ]] && needed_by["$library"]+="${binary##*/} "
  done
done

declare -A candidates_of=() # library path -> its owner_candidates
declare -A path_owner=()    # candidate path -> package
if ((${#needed_by[@]} == 0)); then
  echo "$failures check(s) failed; no libraries to check" >&2
  exit 1
fi
mapfile -t all_libraries < <(printf '%s\n' "${!needed_by[@]}")
mapfile -t all_resolved < <(readlink -f "${all_libraries[@]}")
for i in "${!all_libraries[@]}"; do
  candidates_of["${all_libraries[i]}"]="$(owner_candidates "${all_libraries[i]}" "${all_resolved[i]}")"
done
# shellcheck disable=SC2046 # one candidate path per word, on purpose
while read -r path package; do
  path_owner["$path"]="$package"
done < <(owners_of_paths $(printf '%s\n' "${candidates_of[@]}" | sort -u))

declare -A library_owner=() # library path -> package
declare -A used_packages=() # package -> 1
for library in "${!needed_by[@]}"; do
  owner="?"
  for path in ${candidates_of[$library]}; do
    if [[ -n "${path_owner[$path]:-}" ]]; then
      owner="${path_owner[$path]}"
      break
    fi
  done
  library_owner["$library"]="$owner"
  users="${needed_by[$library]% }"
  if [[ "$owner" == "?" ]]; then
    fail "$users needs $library, which no Debian package owns" \
      "(a library built or copied by hand is not in the image)"
    continue
  fi
  used_packages["$owner"]=1
  if [[ -z "${in_image[$owner]:-}" ]]; then
    fail "$users needs $library from package '$owner', which the runtime" \
      "stage does not install: add '$owner' to RUNTIME_PACKAGES in $dockerfile"
  fi
done

echo "library -> package (why the image has it):"
for library in $(printf '%s\n' "${!library_owner[@]}" | sort); do
  owner="${library_owner[$library]}"
  printf '  %-58s %-24s %s\n' "$library" "$owner" "${in_image[$owner]:-MISSING}"
done

for package in "${runtime_packages[@]}"; do
  if [[ -z "${used_packages[$package]:-}" ]]; then
    fail "RUNTIME_PACKAGES names '$package', but no library of ${binaries[*]}" \
      "comes from it: remove it (the runtime stage ships runtime libraries only)"
  fi
done

if ((failures > 0)); then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "PASS: every library of ${#binaries[@]} binaries is in the runtime stage"
