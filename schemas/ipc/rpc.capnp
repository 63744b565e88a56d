# Bitcoin Core's Rpc interface (`src/ipc/capnp/rpc.capnp`, master; what
# `bitcoin-cli -ipcconnect` calls through `Init.makeRpc`).
#
# Written for this project with Bitcoin Core's file id, names, ordinals and
# types, so Rpc's type id (0xacb1d37f0a713129) equals Core's.
@0x9c3505dc45e146ac;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("ipc::capnp::messages");

using Proxy = import "/mp/proxy.capnp";

interface Rpc {
  # Runs one JSON-RPC request (`request` is its JSON text, `uri` the HTTP
  # path such as "/" or "/wallet/<name>", `user` the authenticated user) and
  # returns the JSON reply text, as the HTTP server would send it.
  executeRpc @0 (context :Proxy.Context, request :Text, uri :Text, user :Text) -> (result :Text);
}
