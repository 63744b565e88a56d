#!/usr/bin/env bash
# Builds the C++ interop peer.  Usage: tests/cpp/build.sh [outdir]
# outdir defaults to tests/cpp/build; the binary ends up at <outdir>/peer.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
schemas="$(cd "$here/../../schemas" && pwd)"
out="${1:-$here/build}"

die() { echo "build.sh: $*" >&2; exit 1; }
command -v capnp >/dev/null || die "capnp compiler not found"
command -v g++ >/dev/null || die "g++ not found"
# Assigned separately so a pkg-config failure stops the script (set -e).
capnp_flags="$(pkg-config --cflags --libs capnp-rpc)" || die "pkg-config cannot find capnp-rpc"

mkdir -p "$out"
out="$(cd "$out" && pwd)"

capnp compile -oc++:"$out" --src-prefix="$schemas" "$schemas/testing.capnp"

# shellcheck disable=SC2086  # capnp_flags is a list of flags
g++ -O2 -std=c++17 -Wall -I"$out" \
  "$here/peer.c++" "$out/testing.capnp.c++" \
  -o "$out/peer" $capnp_flags -pthread

echo "built $out/peer"
