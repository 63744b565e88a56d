# Threading and lifetime conventions shared with libmultiprocess peers.
#
# Written for this project. The file id, names and ordinals are the ones
# libmultiprocess uses, so the ids the compiler derives from them (ThreadMap
# 0xee5e37179ad9dc9d, Thread 0x81c1e2600d0b56c5, Context 0x9c44e6645d0b22c6
# and the annotations) match its `mp/proxy.capnp` and its peers interoperate.
@0xcc316e3f71a040fb;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("mp");

# Extra include for generated C++ proxy headers (unused by TypeScript).
annotation include(file): Text;
# Extra include for generated C++ type hooks (unused by TypeScript).
annotation includeTypes(file): Text;
# Native class an interface or struct stands for.
annotation wrap(interface, struct): Text;
# Native arguments per field; 0 means filled implicitly (Context, ThreadMap).
annotation count(param, struct, interface): Int32;
# The result field carries a thrown exception of the named type.
annotation exception(param): Text;
# Native name when it differs from the schema name.
annotation name(field, method): Text;
# Same as count(0).
annotation skip(field): Void;

# Mints server-side threads (strands) for a connection.
interface ThreadMap $count(0) {
  makeThread @0 (name :Text) -> (result :Thread);
  makePool @1 (count :UInt32) -> ();
}

# A server-side strand: calls addressed to it run one at a time, in order.
interface Thread {
  getName @0 () -> (result :Text);
}

# Hidden first parameter of methods that run on a thread.
struct Context $count(0) {
  thread @0 :Thread;
  callbackThread @1 :Thread;
}
