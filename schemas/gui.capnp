# The gui component's interface: a small status page over HTTP, reading the
# chain and the wallets through the capabilities `start` hands it.
# Implemented by components/gui/.
@0xc7d98cd6c20d6031;

using Proxy = import "/mp/proxy.capnp";
using Node = import "node.capnp";
using Wallet = import "wallet.capnp";

# Bootstrap interface of the gui process.
interface GuiInit {
  construct @0 (threadMap :Proxy.ThreadMap) -> (threadMap :Proxy.ThreadMap);
  # Serves the page on `listen` ("127.0.0.1:18480"); returns its URL. An
  # error when the address is invalid or taken, or when already started.
  start @1 (context :Proxy.Context, chain :Node.Chain, wallets :Wallet.WalletLoader, listen :Text) -> (result :Text, error :Text $Proxy.exception("std::exception"));
  # Stops serving and releases the capabilities; nothing when not started.
  stop @2 (context :Proxy.Context) -> ();
}
