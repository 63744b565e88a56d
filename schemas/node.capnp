# The node component's interfaces: a toy block chain, shaped like Bitcoin
# Core's `ipc/capnp/init.capnp` and `chain.capnp`. Implemented by
# components/node/; the wallet and the gui call it only through `Chain`.
@0xcc070e194f6aea4e;

using Proxy = import "/mp/proxy.capnp";

# Bootstrap interface of the node process.
interface NodeInit {
  construct @0 (threadMap :Proxy.ThreadMap) -> (threadMap :Proxy.ThreadMap);
  # The node's chain.
  makeChain @1 (context :Proxy.Context) -> (result :Chain);
}

# The chain: blocks 0..height, each paying its subsidy to one address.
interface Chain {
  destroy @0 (context :Proxy.Context) -> ();
  # Height of the tip; -1 while the chain is empty.
  getHeight @1 (context :Proxy.Context) -> (result :Int32);
  # The 32-byte hash of the block at `height`; an error when out of range.
  getBlockHash @2 (context :Proxy.Context, height :Int32) -> (result :Data, error :Text $Proxy.exception("std::exception"));
  # Mines `count` blocks (1 to 1000) paying `address`; returns the new height.
  generateToAddress @3 (context :Proxy.Context, count :Int32, address :Text) -> (result :Int32, error :Text $Proxy.exception("std::exception"));
  # The coinbases paying any of `addresses`, in height order.
  getCoinbases @4 (context :Proxy.Context, addresses :List(Text)) -> (result :List(Coinbase));
}

# The subsidy one block paid.
struct Coinbase {
  height @0 :Int32;
  address @1 :Text;
  # In units of 10^-8 coin.
  amount @2 :Int64;
}
