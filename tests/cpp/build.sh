#!/usr/bin/env bash
# Builds the C++ interop peers.  Usage: tests/cpp/build.sh [outdir]
# outdir defaults to tests/cpp/build; the binaries end up at <outdir>/peer
# (testing.capnp), <outdir>/mp_peer (conformance.capnp, libmultiprocess-style)
# and <outdir>/mining_client (Bitcoin Core's IPC schemas, ipc/*.capnp).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
schemas="$(cd "$here/../../schemas" && pwd)"
examples="$(cd "$here/../../examples/schemas" && pwd)"
runtime_schemas="$(cd "$here/../../runtime/schema" && pwd)"
out="${1:-$here/build}"

die() { echo "build.sh: $*" >&2; exit 1; }
command -v capnp >/dev/null || die "capnp compiler not found"
command -v g++ >/dev/null || die "g++ not found"
# Assigned separately so a pkg-config failure stops the script (set -e).
capnp_flags="$(pkg-config --cflags --libs capnp-rpc)" || die "pkg-config cannot find capnp-rpc"

mkdir -p "$out"
out="$(cd "$out" && pwd)"

capnp compile -oc++:"$out" --src-prefix="$examples" "$examples/testing.capnp"

# shellcheck disable=SC2086  # capnp_flags is a list of flags
g++ -O2 -std=c++17 -Wall -I"$out" \
  "$here/peer.c++" "$out/testing.capnp.c++" \
  -o "$out/peer" $capnp_flags -pthread

echo "built $out/peer"

# conformance.capnp imports /mp/proxy.capnp and /mapping.capnp (the
# runtime's, found through -I runtime/schema/, as Bitcoin Core's schemas find
# libmultiprocess's); proxy.capnp imports /capnp/c++.capnp from capnp's
# default import path.
capnp compile -oc++:"$out" --src-prefix="$runtime_schemas" \
  "$runtime_schemas/mp/proxy.capnp" "$runtime_schemas/mapping.capnp"
capnp compile -oc++:"$out" -I"$runtime_schemas" --src-prefix="$examples" "$examples/conformance.capnp"

# shellcheck disable=SC2086  # capnp_flags is a list of flags
g++ -O2 -std=c++17 -Wall -I"$out" \
  "$here/mp_peer.c++" "$out/mp/proxy.capnp.c++" "$out/mapping.capnp.c++" "$out/conformance.capnp.c++" \
  -o "$out/mp_peer" $capnp_flags -pthread

echo "built $out/mp_peer"

# The node's schemas (Bitcoin Core's ids) for a Bitcoin Core-style mining
# client; it hashes with OpenSSL's libcrypto, which libcapnp-dev depends on.
crypto_flags="$(pkg-config --cflags --libs libcrypto)" || die "pkg-config cannot find libcrypto"
capnp compile -oc++:"$out" -I"$runtime_schemas" -I"$schemas" --src-prefix="$schemas" \
  "$schemas"/ipc/*.capnp

# shellcheck disable=SC2086  # the flags are lists of flags
g++ -O2 -std=c++17 -Wall -I"$out" \
  "$here/mining_client.c++" "$out"/ipc/*.capnp.c++ "$out/mp/proxy.capnp.c++" \
  -o "$out/mining_client" $capnp_flags $crypto_flags -pthread

echo "built $out/mining_client"
