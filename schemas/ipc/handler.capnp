# A registration returned by the `handle...` methods (Chain.handleNotifications,
# Node.handleNotifyBlockTip), named and shaped after Bitcoin Core's
# `interfaces::Handler`.
#
# This project's own file id: the interface is not Bitcoin Core's, so it does
# not claim Core's ids.
@0xbc83c0b3b182676b;

using Proxy = import "/mp/proxy.capnp";

interface Handler {
  # Disconnects (as `disconnect`) and releases the handler at once.
  destroy @0 (context :Proxy.Context) -> ();
  # Stops the notifications: no call reaches the registered callback once
  # this returns. Releasing the handler does the same.
  disconnect @1 (context :Proxy.Context) -> ();
}
