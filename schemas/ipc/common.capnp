# Types shared by the node's IPC interfaces, as Bitcoin Core's
# `src/ipc/capnp/common.capnp` declares them.
#
# Written for this project with Bitcoin Core's file id and names, so the ids
# the compiler derives from them (BlockRef 0xb3be4b8949350369, Pair
# 0x8ef2f6fc4199a71e) equal Core's and its IPC clients interoperate.
@0xcd2c6232cb484a28;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("ipc::capnp::messages");

# A block of the active chain: its hash (32 bytes, internal byte order, so
# reversed from how RPC displays it) and height.
struct BlockRef {
  hash @0 :Data;
  height @1 :Int32;
}

# One entry of a map: `List(Pair(K, V))` crosses as a `Map<K, V>`. Cap'n
# Proto binds generic parameters to pointer types only (Text, Data, lists,
# structs, interfaces).
struct Pair(Key, Value) {
  key @0 :Key;
  value @1 :Value;
}
