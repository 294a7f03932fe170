# shellcheck shell=bash
# Reads docker/Dockerfile for the tests in this directory (sourced by bash).
# It understands the subset the Dockerfile uses: `FROM image AS name`
# stages, backslash line continuations, whole-line comments and `ARG
# NAME="value"`.

# Prints the Dockerfile's instructions one per line: continuation lines
# joined with a space, comments and blank lines dropped.
dockerfile_instructions() {
  local file="$1" line joined=""
  while IFS= read -r line || [[ -n "$line" ]]; do
    if [[ "$line" =~ ^[[:space:]]*(#|$) ]]; then continue; fi
    if [[ "$line" =~ ^(.*)\\[[:space:]]*$ ]]; then
      joined+="${BASH_REMATCH[1]} "
      continue
    fi
    joined+="$line"
    printf '%s\n' "$joined"
    joined=""
  done <"$file"
  if [[ -n "$joined" ]]; then printf '%s\n' "$joined"; fi
}

# Prints the instructions of stage `name`, its FROM line first. Fails if the
# Dockerfile has no such stage.
dockerfile_stage() {
  local file="$1" name="$2" instruction in_stage=0 found=0
  local from_pattern="^FROM[[:space:]]+[^[:space:]]+[[:space:]]+[Aa][Ss][[:space:]]+${name}[[:space:]]*$"
  while IFS= read -r instruction; do
    if [[ "$instruction" =~ ^FROM[[:space:]] ]]; then
      in_stage=0
      if [[ "$instruction" =~ $from_pattern ]]; then
        in_stage=1
        found=1
      fi
    fi
    if ((in_stage)); then printf '%s\n' "$instruction"; fi
  done < <(dockerfile_instructions "$file")
  if ((!found)); then
    echo "$file: no stage named '$name' (expected 'FROM <image> AS $name')" >&2
    return 1
  fi
}

# Prints the value of `ARG name="value"` (or name=value) in stage `stage`.
dockerfile_arg() {
  local file="$1" stage="$2" name="$3" instructions instruction
  instructions="$(dockerfile_stage "$file" "$stage")" || return 1
  while IFS= read -r instruction; do
    if [[ "$instruction" =~ ^ARG[[:space:]]+${name}=\"([^\"]*)\"[[:space:]]*$ ||
      "$instruction" =~ ^ARG[[:space:]]+${name}=([^[:space:]\"]*)[[:space:]]*$ ]]; then
      printf '%s\n' "${BASH_REMATCH[1]}"
      return 0
    fi
  done <<<"$instructions"
  echo "$file: stage '$stage' has no 'ARG $name=\"...\"'" >&2
  return 1
}

# Prints the runtime stage's package list (ARG RUNTIME_PACKAGES), one
# package per line. Fails if it is missing or empty.
dockerfile_runtime_packages() {
  local file="$1" packages
  packages="$(dockerfile_arg "$file" runtime RUNTIME_PACKAGES)" || return 1
  read -r -a packages <<<"$packages"
  if ((${#packages[@]} == 0)); then
    echo "$file: ARG RUNTIME_PACKAGES in stage 'runtime' is empty" >&2
    return 1
  fi
  printf '%s\n' "${packages[@]}"
}
