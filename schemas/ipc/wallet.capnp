# A wallet process's wallets as the node's JSON-RPC reaches them.
#
# Bitcoin Core's `interfaces::WalletLoader` and `interfaces::Wallet` expose
# some sixty typed methods each, and its wallet RPCs are registered with the
# node one command at a time (`Chain.handleRpc`). Here a wallet process
# hands the node one `WalletLoader` (through `Chain.handleWalletLoader`),
# and the node routes each wallet JSON-RPC call to it: the node keeps what
# is the same for every RPC method (named parameters, argument counts and
# types, amounts read exactly from their text, help texts, `/wallet/<name>`
# routing and its -18/-19 errors), the wallet runs the method. Arguments
# and results cross as JSON text, so a method added to the wallet needs no
# schema change, and nothing secret ever crosses: the wallet answers with
# public data (addresses, txids, balances, public descriptors) only,
# except `listdescriptors true`, which the user asks for.
#
# This project's own file id: there is no Bitcoin Core counterpart.
@0xf7d550173223fe00;

using Proxy = import "/mp/proxy.capnp";

interface WalletLoader {
  # Releases the object at once.
  destroy @0 (context :Proxy.Context) -> ();
  # The names of the wallets loaded in this process, sorted.
  listWallets @1 (context :Proxy.Context) -> (result :List(Text));
  # Runs wallet JSON-RPC `method` with `params`, a JSON array of its
  # arguments in positional order (`null` for one not given; amounts as
  # integers of satoshis), on the loaded wallet `wallet` when `hasWallet`,
  # else on the only wallet loaded (-18 when none is, -19 when several are,
  # as bitcoind answers a request naming none); loader methods such as
  # `createwallet` ignore it, `unloadwallet` takes it as the wallet to
  # unload. `result` is JSON
  # text: `{"result": <value>}`, or `{"error": {"code": <int>, "message":
  # <text>}}` with bitcoind's code and text.
  executeRpc @2 (context :Proxy.Context, method :Text, params :Text, wallet :Text, hasWallet :Bool) -> (result :Text);
  # The node is shutting down (Bitcoin Core's `ChainClient::stop`): the
  # wallet process, told before the connection closes, then ends cleanly
  # when it does, or waits for the next node (`-ipcreattach`), instead of
  # taking the node's going as a failure.
  stop @3 (context :Proxy.Context) -> ();
  # Holds the wallet process's clock at `time` (UNIX seconds; 0: the
  # system's time again), as the node's `setmocktime` holds its own
  # (Bitcoin Core's `ChainClient::setMockTime`).
  setMockTime @4 (context :Proxy.Context, time :Int64) -> ();
}

interface WalletSpawner {
  # Starts a wallet process for the node that holds this (a launcher's
  # capability: the node itself may not start processes). Returns once the
  # process runs; it then attaches with `Chain.handleWalletLoader`. The node
  # calls it when `createwallet` or `loadwallet` finds no wallet process, as
  # bitcoin-node spawns bitcoin-wallet.
  spawnWalletProcess @0 (context :Proxy.Context) -> ();
}
