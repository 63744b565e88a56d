# Bitcoin Core's Echo interface (`src/ipc/capnp/echo.capnp`): a round trip
# through another process, used by `echoipc` and by IPC clients to check a
# connection.
#
# Written for this project with Bitcoin Core's file id, names, ordinals and
# types, so Echo's type id (0xd36b89640dc94399) equals Core's.
@0x888b4f7f51e691f7;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("ipc::capnp::messages");

using Proxy = import "/mp/proxy.capnp";

interface Echo {
  # Releases the object at once.
  destroy @0 (context :Proxy.Context) -> ();
  # Returns `echo` unchanged.
  echo @1 (context :Proxy.Context, echo :Text) -> (result :Text);
}
