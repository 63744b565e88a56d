# Bitcoin Core's notification commands (`-startupnotify`, `-blocknotify`,
# `-walletnotify`, `-shutdownnotify`, `-alertnotify`) for components that
# may not start processes. A sandboxed node or wallet process reports each
# event to a `Notifier` its launcher hands it (`Init.setNotifier`); the
# launcher holds the command lines, read from the user's options, and runs
# them. A component only says what happened, in values the holder checks
# and formats itself (hashes as 32 bytes, the wallet name shell-escaped, an
# alert only in Core's words for the warnings the node raises, sanitized
# and quoted), so a compromised one can neither choose a command
# nor put shell syntax or words of its own into one.
#
# This project's own file id: there is no Bitcoin Core counterpart.
@0xca1ee0992197b5f3;

using Proxy = import "/mp/proxy.capnp";

interface Notifier {
  # The component finished starting (`-startupnotify`).
  startup @0 (context :Proxy.Context) -> ();
  # The best block changed to `hash`, 32 bytes in internal byte order,
  # outside initial block download (`-blocknotify`).
  blockTip @1 (context :Proxy.Context, hash :Data) -> ();
  # A transaction of wallet `wallet` was added or changed (`-walletnotify`):
  # `txid` in internal byte order; `blockHash` (32 bytes) and `height` of
  # the block holding it, or an empty `blockHash` and -1 when none does.
  walletTransaction @2 (context :Proxy.Context, wallet :Text, txid :Data, blockHash :Data, height :Int32) -> ();
  # The component is about to shut down (`-shutdownnotify`); returns once
  # the commands have finished, as bitcoind waits for them.
  shutdown @3 (context :Proxy.Context) -> ();
  # The node raised a warning (`-alertnotify`): `message` is its text, which
  # the holder takes only in Core's words for the warnings the node raises
  # (`Unknown new rules activated (versionbit N)`, once per run of the node;
  # the invalid chain's, each time it is set again), sanitized and quoted
  # (Core's `AlertNotify`).
  alert @4 (context :Proxy.Context, message :Text) -> ();
}
