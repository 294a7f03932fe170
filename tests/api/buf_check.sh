#!/usr/bin/env bash
# The API's conventions, checked with buf (tools/: the pinned npm package):
#  1. `buf lint` under STANDARD rules is clean (proto/buf.yaml);
#  2. the only lint waivers are the ones proto/buf.yaml lists: the
#     resource-returning RPCs (CreateModel, GetModel, GetDataset), nowhere
#     else;
#  3. `buf breaking` against the frozen v1 image (proto/v1-baseline.binpb):
#     additions are fine, anything that breaks a v1 client fails.
# A missing buf fails the test: it never skips.
#   tests/api/buf_check.sh [SOURCE_DIR]
set -euo pipefail
source_dir=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
buf="$source_dir/tools/node_modules/.bin/buf"
if [[ ! -x "$buf" ]]; then
  echo "FAIL: $buf is missing: run scripts/install-deps (npm ci in tools/)" >&2
  exit 1
fi
cd "$source_dir/proto"

echo "== buf lint (STANDARD)"
"$buf" lint

echo "== lint waivers"
# Each waiver comment must sit directly above one of those rpc lines, two
# rules each: 6 comments in all.
waivers=$(grep -c 'buf:lint:ignore' bnmlp/v1/bnmlp.proto || true)
if [[ "$waivers" != 6 ]]; then
  echo "FAIL: expected 6 buf:lint:ignore comments (CreateModel, GetModel," \
       "GetDataset; 2 rules each), found $waivers" >&2
  exit 1
fi
unexpected=$(awk '
  /buf:lint:ignore/ { pending = 1; next }
  pending && /^[[:space:]]*rpc / {
    if ($2 !~ /^(CreateModel|GetModel|GetDataset)\(/) print $2
    pending = 0
  }' bnmlp/v1/bnmlp.proto)
if [[ -n "$unexpected" ]]; then
  echo "FAIL: lint waived on RPCs not listed in proto/buf.yaml: $unexpected" >&2
  exit 1
fi

echo "== buf breaking against v1-baseline.binpb"
"$buf" breaking --against v1-baseline.binpb
echo "OK"
