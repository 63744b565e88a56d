# The gui process's bootstrap interface, served to the launcher that spawns
# it (over the spawn channel only). The gui reaches the node itself, through
# `-ipcconnect`.
#
# This project's own interface and file id.
@0xcb55a5728e289163;

using Proxy = import "/mp/proxy.capnp";
using Supervision = import "supervision.capnp";

interface GuiInit {
  construct @0 (threadMap :Proxy.ThreadMap) -> (threadMap :Proxy.ThreadMap);
  # Serves the web interface (once per process) with `sessionToken` (at
  # least 32 characters; the launcher keeps it across the gui's restarts, so
  # an open page carries on) and the launcher's view of the components
  # (null: the components and IPC pages say none is available); returns
  # the URL with the token, which a browser trades for a cookie.
  start @1 (context :Proxy.Context, supervision :Supervision.Supervision, sessionToken :Text) -> (result :Text);
  # Tries to read the file or directory `path` from inside the gui process:
  # "" when it could, else the error. The sandbox's proof, for the launcher
  # and the tests.
  checkAccess @2 (context :Proxy.Context, path :Text) -> (result :Text);
}
