# The node's chain as a wallet sees it: heights and blocks of the active
# chain, the data a rescan needs, the mempool's verdict on a transaction, fee
# rates, and notifications as blocks connect and transactions enter or leave
# the mempool. Named and shaped after Bitcoin Core's `interfaces::Chain` and
# `interfaces::Chain::Notifications`, simplified for this project.
#
# This project's own file id: these interfaces are not wire-compatible with
# Bitcoin Core's multiprocess branch, so they do not claim its ids.
#
# Conventions: hashes are 32 bytes in internal byte order (reversed from how
# RPC displays them); blocks and transactions are Data in Bitcoin's wire
# serialization, transactions with witness; amounts and fees are Int64
# satoshis, fee rates Int64 satoshis per 1000 virtual bytes. Methods that
# fail (a height out of range, say) throw; the caller gets the message.
@0x92d567f83bcb0d19;

using Proxy = import "/mp/proxy.capnp";
using Common = import "common.capnp";
using Handler = import "handler.capnp";
using Wallet = import "wallet.capnp";

interface Chain {
  # Releases the object at once.
  destroy @0 (context :Proxy.Context) -> ();
  # Height of the active tip (0 for the genesis block alone); absent only
  # while no block is loaded.
  getHeight @1 (context :Proxy.Context) -> (result :Int32, hasResult :Bool);
  # Hash of the active-chain block at `height`; throws when `height` is
  # outside 0..tip.
  getBlockHash @2 (context :Proxy.Context, height :Int32) -> (result :Data);
  # The active tip's hash and height, read together.
  getTip @3 (context :Proxy.Context) -> (result :Common.BlockRef, hasResult :Bool);
  # What the node knows of the block `hash`, on the active chain or not;
  # absent when it does not know the block.
  findBlock @4 (context :Proxy.Context, hash :Data) -> (result :FoundBlock, hasResult :Bool);
  # Height of the first hash of `locator` (newest first, as a wallet keeps
  # the blocks it has seen) that is on the active chain: where the wallet's
  # view and the node's fork. Absent when none is.
  findLocatorFork @5 (context :Proxy.Context, locator :List(Data)) -> (result :Int32, hasResult :Bool);
  # The block `hash` with its transactions; absent when the node does not
  # have it.
  getBlock @6 (context :Proxy.Context, hash :Data) -> (result :BlockInfo, hasResult :Bool);
  # The active-chain block at `height` with its transactions; absent when
  # `height` is outside 0..tip.
  getBlockAtHeight @7 (context :Proxy.Context, height :Int32) -> (result :BlockInfo, hasResult :Bool);
  # Active-chain blocks after `height` (height + 1 onwards, in order), at
  # most `maxCount` of them, fewer when their size would make the answer
  # too large: what a wallet rescans from. Empty once `height` is the tip.
  getBlocksSince @8 (context :Proxy.Context, height :Int32, maxCount :UInt32) -> (result :List(BlockInfo));
  # True while the node is still catching up.
  isInitialBlockDownload @9 (context :Proxy.Context) -> (result :Bool);
  # True when the transaction `txid` is in the mempool.
  isInMempool @10 (context :Proxy.Context, txid :Data) -> (result :Bool);
  # Submits `tx` to the mempool and relays it, refusing it when its fee
  # exceeds `maxTxFee` (0: no limit). `result` says whether it was accepted;
  # otherwise `error` is the reject reason, worded as `sendrawtransaction`
  # words it.
  broadcastTransaction @11 (context :Proxy.Context, tx :Data, maxTxFee :Int64) -> (error :Text, result :Bool);
  # Fee rate estimated to confirm within `numBlocks` blocks, and the target
  # the estimate is for (`returnedTarget`); `result` is 0 when the node has
  # no estimate yet.
  estimateSmartFee @12 (context :Proxy.Context, numBlocks :Int32, conservative :Bool) -> (result :Int64, returnedTarget :Int32);
  # The minimum fee rate the mempool relays.
  relayMinFee @13 (context :Proxy.Context) -> (result :Int64);
  # Registers `notifications`, called in event order, one call at a time,
  # for every later mempool and chain event, until the returned handler is
  # disconnected or released. A subscriber that falls too far behind is
  # dropped (the node logs it).
  handleNotifications @14 (context :Proxy.Context, notifications :ChainNotifications) -> (result :Handler.Handler);
  # Sends `transactionAddedToMempool` to `notifications` for each
  # transaction now in the mempool, then returns.
  requestMempoolTransactions @15 (context :Proxy.Context, notifications :ChainNotifications) -> ();
  # Returns once every notification queued before the call has been
  # delivered.
  waitForNotifications @16 (context :Proxy.Context) -> ();
  # As `waitForNotifications`, but only when the tip is no longer `oldTip`.
  waitForNotificationsIfTipChanged @17 (context :Proxy.Context, oldTip :Data) -> ();
  # Routes the node's wallet JSON-RPC calls (`/wallet/<name>`, and the
  # wallet methods at `/`) to `loader`'s wallets until the returned handler
  # is disconnected or released, or the loader's process goes (Core's
  # handleRpc, for a whole wallet process at once; see wallet.capnp).
  handleWalletLoader @18 (context :Proxy.Context, loader :Wallet.WalletLoader) -> (result :Handler.Handler);
  # Whether a transaction in the mempool spends an output of mempool
  # transaction `txid` (Core's hasDescendantsInMempool; false when `txid` is
  # not in the mempool).
  hasDescendantsInMempool @19 (context :Proxy.Context, txid :Data) -> (result :Bool);
  # The lowest fee rate the mempool now takes (sat/kvB): the min relay fee,
  # or higher after evictions (Core's mempoolMinFee).
  mempoolMinFee @20 (context :Proxy.Context) -> (result :Int64);
  # The fee rate (sat/kvB) a replacement must add for its own size
  # (-incrementalrelayfee; Core's relayIncrementalFee).
  relayIncrementalFee @21 (context :Proxy.Context) -> (result :Int64);
  # What a transaction spending each of `outpoints` must pay on top of its
  # own fee at `feeRate` for the output's unconfirmed ancestors to reach that
  # rate, as a miner would pick them (Core's calculateIndividualBumpFees, its
  # MiniMiner): one amount per outpoint, in order; 0 for a confirmed output,
  # or one whose ancestors reach the rate already. A mempool transaction
  # spending one of the outputs is taken to be replaced: it and its
  # descendants are left out, and their own outputs count 0. Empty when the
  # outputs' mempool cluster is too large to reckon (over 500 transactions);
  # more than 10,000 outpoints are refused.
  calculateIndividualBumpFees @22 (context :Proxy.Context, outpoints :List(OutPoint), feeRate :Int64) -> (result :List(Int64));
  # The same for one transaction spending all of `outpoints`, each ancestor
  # counted once (Core's calculateCombinedBumpFee); no result when the
  # cluster is too large.
  calculateCombinedBumpFee @23 (context :Proxy.Context, outpoints :List(OutPoint), feeRate :Int64) -> (result :Int64, hasResult :Bool);
  # The active-chain blocks from `fromHeight` whose BIP 157 basic filter
  # may hold one of `scripts` (Core's blockFilterMatchesAny, over a range: a
  # wallet's rescan reads only those blocks). A filter may match a script it
  # does not hold (about 1 in 784,931), never miss one. The range ends at
  # `toHeight`, the tip, 10,000 blocks, a block not indexed yet, or when the
  # call's work (scripts hashed and filter elements read, 200,000) runs out;
  # `lastHeight` says where. No result without `-blockfilterindex`, when the
  # first block is not indexed, or for more than 200,000 scripts.
  blockFilterMatches @24 (context :Proxy.Context, fromHeight :Int32, toHeight :Int32, scripts :List(Data)) -> (result :FilterMatches, hasResult :Bool);
  # The fee rate (sat/kvB) below whose cost of spending an output is dust
  # (-dustrelayfee; Core's relayDustFee): a wallet makes no such output.
  relayDustFee @25 (context :Proxy.Context) -> (result :Int64);
  # For each of `txids`, its in-mempool ancestors (itself included) and the
  # most descendants one of its ancestors without in-mempool parents has
  # (Core's getTransactionAncestry: the chain a child of it would lengthen);
  # 0 and 0 for one not in the mempool. More than 10,000 txids are refused.
  getTransactionAncestry @26 (context :Proxy.Context, txids :List(Data)) -> (result :List(Ancestry));
  # The mempool's -limitancestorcount and -limitdescendantcount (Core's
  # getPackageLimits): a wallet spends no coin whose chain would break them.
  getPackageLimits @27 (context :Proxy.Context) -> (ancestors :UInt32, descendants :UInt32);
  # Whether `tx` would keep to the mempool's ancestor and descendant limits
  # were it added now (Core's checkChainLimits: the mempool's
  # CheckPackageLimits of `tx` alone, sized as its virtual size without
  # sigops). `result` says whether it would; otherwise `error` is why, in
  # Core's words ("possibly too many unconfirmed ancestors [limit: 25]").
  # Throws when `tx` does not decode.
  checkChainLimits @28 (context :Proxy.Context, tx :Data) -> (error :Text, result :Bool);
  # The node's setting `name` (no dash) as Core's GetSetting merges it, the
  # parameter interactions' included, in JSON (Core's multiprocess encoding
  # of a SettingsValue): "null" when unset, false for a negation, else the
  # text given ("" for `-name` alone). A wallet process reads the node's
  # options through it (`-blocksonly`, Core's `Chain::getSetting`). Throws
  # for a sensitive option (`-rpcpassword`), which the node tells no one.
  getSetting @29 (context :Proxy.Context, name :Text) -> (result :Text);
}

# Chain and mempool events, implemented by the client (a wallet) and called
# by the node in the order the events happened.
interface ChainNotifications {
  # Releases the object at once.
  destroy @0 (context :Proxy.Context) -> ();
  # `tx` entered the mempool.
  transactionAddedToMempool @1 (context :Proxy.Context, tx :Data) -> ();
  # `tx` left the mempool for `reason` (a block including it is reported
  # with `block`).
  transactionRemovedFromMempool @2 (context :Proxy.Context, tx :Data, reason :MempoolRemovalReason) -> ();
  # `block` joined the active chain.
  blockConnected @3 (context :Proxy.Context, block :BlockInfo) -> ();
  # `block` left the active chain (a reorganisation or `invalidateblock`),
  # newest first.
  blockDisconnected @4 (context :Proxy.Context, block :BlockInfo) -> ();
  # The tip moved; sent after the connects and disconnects that moved it.
  updatedBlockTip @5 (context :Proxy.Context) -> ();
}

# Why a transaction left the mempool (Bitcoin Core's MemPoolRemovalReason).
enum MempoolRemovalReason {
  # Older than the mempool's expiry.
  expiry @0;
  # Evicted to keep the mempool within its size limit.
  sizeLimit @1;
  # No longer valid after a reorganisation.
  reorg @2;
  # Included in a connected block.
  block @3;
  # Conflicts with a transaction of a connected block.
  conflict @4;
  # Replaced by a transaction paying more (RBF).
  replaced @5;
}

# The blocks whose filters matched, and how far the range was looked at.
struct FilterMatches {
  # Heights of the matching blocks, in order.
  heights @0 :List(Int32);
  # The last height looked at (the range may end early: 10,000 blocks, the tip).
  lastHeight @1 :Int32;
  # The matching blocks' hashes, in the order of `heights`: the blocks of
  # the chain the filters were read on, even if it has changed since.
  hashes @2 :List(Data);
  # Hash of the block at `lastHeight` (empty when no block was looked at).
  lastHash @3 :Data;
  # Hash of the block before `fromHeight` on that chain (empty for height
  # 0): a caller that followed another chain up to there sees it moved.
  previousHash @4 :Data;
}

# Where a block sits, without its transactions.
struct FoundBlock {
  hash @0 :Data;
  height @1 :Int32;
  # Hash of the parent (32 zero bytes for the genesis block).
  prevHash @2 :Data;
  # Header time, seconds since the epoch.
  time @3 :UInt32;
  # Median time of the block and its 10 ancestors.
  mtpTime @4 :UInt32;
  # Part of the active chain (false once reorganised away or invalidated).
  inActiveChain @5 :Bool;
}

# An output of a transaction: its txid and index.
struct OutPoint {
  txid @0 :Data;
  vout @1 :UInt32;
}

# A mempool transaction's chain (getTransactionAncestry).
struct Ancestry {
  ancestors @0 :UInt32;
  descendants @1 :UInt32;
}

# A block with its transactions.
struct BlockInfo {
  hash @0 :Data;
  height @1 :Int32;
  prevHash @2 :Data;
  # Header time, seconds since the epoch.
  time @3 :UInt32;
  # Serialized with witness, in block order (the coinbase first).
  transactions @4 :List(Data);
}
