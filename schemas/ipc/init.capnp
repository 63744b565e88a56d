# The node's bootstrap interface: Bitcoin Core's `Init`
# (`src/ipc/capnp/init.capnp`), so a Bitcoin Core IPC client connecting to
# `-ipcbind`'s socket finds what it expects, followed by this project's own
# methods.
#
# Written for this project with Bitcoin Core's file id and, for ordinals
# @0-@4, its names, ordinals and types, so Init's type id
# (0x8838c700ba5cba65) equals Core's. @0-@2 are v30.0's; @3 and @4 are
# master's (v30.0 has neither). Master moved makeMining from @2 to @3 because
# its Mining reuses v30.0's ordinals with other parameters; the ordinal, not
# the name, is what crosses the wire.
@0xf2c5cfa319406aa6;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("ipc::capnp::messages");

using Proxy = import "/mp/proxy.capnp";
using Echo = import "echo.capnp";
using Mining = import "mining.capnp";
using Rpc = import "rpc.capnp";
using Chain = import "chain.capnp";
using Node = import "node.capnp";
using Wallet = import "wallet.capnp";
using Notify = import "notify.capnp";

interface Init {
  # Exchanges ThreadMaps (libmultiprocess' special method; no Context).
  construct @0 (threadMap :Proxy.ThreadMap) -> (threadMap :Proxy.ThreadMap);
  # A new Echo object owned by the caller.
  makeEcho @1 (context :Proxy.Context) -> (result :Echo.Echo);
  # The v30.0 mining interface (mining.capnp).
  makeMining @2 (context :Proxy.Context) -> (result :Mining.Mining);
  # Master's makeMining: a Mining speaking master's later mining.capnp, whose
  # ordinals from @4 on differ from v30.0's. A node serving only v30.0's
  # interface answers it with an error saying so.
  makeMiningNext @3 (context :Proxy.Context) -> (result :Mining.Mining);
  # Master's JSON-RPC over IPC (`bitcoin-cli -ipcconnect`).
  makeRpc @4 (context :Proxy.Context) -> (result :Rpc.Rpc);

  # This project's own methods follow. New ones go after the last (the
  # wallet's makeWalletLoader comes next).

  # The chain, for a wallet.
  makeChain @5 (context :Proxy.Context) -> (result :Chain.Chain);
  # The node, for a user interface.
  makeNode @6 (context :Proxy.Context) -> (result :Node.Node);
  # The wallet process's loader, its wallets following `chain` (Core's
  # makeWalletLoader). Served by a wallet process; the node answers it with
  # an error.
  makeWalletLoader @7 (context :Proxy.Context, chain :Chain.Chain) -> (result :Wallet.WalletLoader);
  # Hands the node a way to start a wallet process at run time (for
  # `createwallet`/`loadwallet` with none attached); a later call replaces
  # it. Served by the node; a wallet process answers it with an error.
  setWalletSpawner @8 (context :Proxy.Context, spawner :Wallet.WalletSpawner) -> ();
  # Hands a node or wallet process the launcher's `Notifier`, which runs the
  # user's notification commands for it; a later call replaces it. Events
  # before the first wait for it (a bounded number).
  setNotifier @9 (context :Proxy.Context, notifier :Notify.Notifier) -> ();
}
