# The wallet component's interfaces, shaped like Bitcoin Core's
# `ipc/capnp/wallet.capnp`. Implemented by components/wallet/, which reads
# the chain only through the `Chain` capability it is handed.
@0xe2b79937bfdd337e;

using Proxy = import "/mp/proxy.capnp";
using Node = import "node.capnp";

# Bootstrap interface of the wallet process.
interface WalletInit {
  construct @0 (threadMap :Proxy.ThreadMap) -> (threadMap :Proxy.ThreadMap);
  # A loader whose wallets read balances from `chain`.
  makeWalletLoader @1 (context :Proxy.Context, chain :Node.Chain) -> (result :WalletLoader);
}

# Creates and opens the wallets of the data directory.
interface WalletLoader {
  destroy @0 (context :Proxy.Context) -> ();
  # A new, empty wallet; an error when the name is invalid or taken.
  createWallet @1 (context :Proxy.Context, name :Text) -> (result :Wallet, error :Text $Proxy.exception("std::exception"));
  # An existing wallet; an error when the name is invalid or unknown.
  loadWallet @2 (context :Proxy.Context, name :Text) -> (result :Wallet, error :Text $Proxy.exception("std::exception"));
  # Names of the wallets in the data directory, sorted.
  listWallets @3 (context :Proxy.Context) -> (result :List(Text));
}

interface Wallet {
  destroy @0 (context :Proxy.Context) -> ();
  getName @1 (context :Proxy.Context) -> (result :Text);
  # A fresh receiving address, saved before it is returned.
  getNewAddress @2 (context :Proxy.Context) -> (result :Text);
  # Sum of the coinbases paying the wallet's addresses, in units of 10^-8 coin.
  getBalance @3 (context :Proxy.Context) -> (result :Int64);
  # The wallet's addresses, oldest first.
  listAddresses @4 (context :Proxy.Context) -> (result :List(Text));
}
