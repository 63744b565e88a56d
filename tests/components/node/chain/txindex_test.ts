/**
 * The transaction index over a real chain state: catching up in batches,
 * following connected blocks, reorganisations while it follows and while
 * it was closed, and resuming where it stopped.
 *
 * @module
 */
import { assertEquals } from "../../../assert.ts";
import { DatabaseSync } from "node:sqlite";
import { tempDir } from "../../../helpers.ts";
import {
  type Block,
  GENESIS_BLOCK,
  hashToHex,
  txid,
  TxIndex,
  TXINDEX_FILE,
} from "../../../../components/node/chain/mod.ts";
import { mine, openTempChain, TestKey } from "./chain_helpers.ts";

const key = new TestKey(1);
const other = new TestKey(2);

/** The hex of the block `index` says `block`'s coinbase is in. */
const indexedIn = (index: TxIndex, block: Block) => {
  const found = index.find(txid(block.txs[0]));
  return found && hashToHex(found);
};

Deno.test("txindex: catches up in batches, then follows; the genesis coinbase is left out", async () => {
  using chain = openTempChain();
  using dir = tempDir("txindex_test_");
  const blocks = mine(chain, 250, key);
  const logged: string[] = [];
  using index = TxIndex.open(dir.path, chain, (line) => logged.push(line));
  assertEquals([index.synced, index.bestHeight], [false, 0]);
  const syncing = index.sync();
  // The first batch is indexed at once; the rest after the event loop has had its turn.
  assertEquals([index.synced, index.bestHeight], [false, 99]);
  await syncing;
  assertEquals([index.synced, index.bestHeight], [true, 250]);
  assertEquals(logged, [
    "Syncing txindex with block chain from height 0",
    "txindex is enabled at height 250",
  ]);
  for (const [i, block] of blocks.entries()) {
    assertEquals(indexedIn(index, block), hashToHex(chain.entryAtHeight(i + 1)!.hash));
  }
  assertEquals(indexedIn(index, GENESIS_BLOCK), undefined);
  const next = mine(chain, 1, key)[0];
  assertEquals([index.bestHeight, indexedIn(index, next)], [251, hashToHex(chain.tip.hash)]);
});

Deno.test("txindex: follows a reorganisation; a disconnected block's entries stay until replaced", async () => {
  using chain = openTempChain();
  using dir = tempDir("txindex_test_");
  mine(chain, 3, key);
  using index = TxIndex.open(dir.path, chain);
  await index.sync();
  const [stale] = mine(chain, 1, key);
  const staleHash = hashToHex(chain.tip.hash);
  assertEquals([index.bestHeight, indexedIn(index, stale)], [4, staleHash]);
  chain.invalidateBlock(chain.tip.hash);
  assertEquals(index.bestHeight, 3);
  const [replacement] = mine(chain, 1, other);
  assertEquals(index.bestHeight, 4);
  assertEquals(indexedIn(index, replacement), hashToHex(chain.tip.hash));
  assertEquals(indexedIn(index, stale), staleHash, "kept, as Core keeps it");
});

Deno.test("txindex: reopened, it resumes where it stopped, from the fork after a reorganisation", async () => {
  using chain = openTempChain();
  using dir = tempDir("txindex_test_");
  mine(chain, 5, key);
  {
    using index = TxIndex.open(dir.path, chain);
    await index.sync();
    assertEquals(index.bestHeight, 5);
  }
  // While it was closed: blocks 4 and 5 leave the active chain, and three others come.
  chain.invalidateBlock(chain.entryAtHeight(4)!.hash);
  const branch = mine(chain, 3, other);
  const logged: string[] = [];
  using index = TxIndex.open(dir.path, chain, (line) => logged.push(line));
  assertEquals(index.bestHeight, 3);
  await index.sync();
  assertEquals(logged[0], "Syncing txindex with block chain from height 3");
  assertEquals(index.bestHeight, 6);
  for (const [i, block] of branch.entries()) {
    assertEquals(indexedIn(index, block), hashToHex(chain.entryAtHeight(i + 4)!.hash));
  }
});

Deno.test("txindex: a block whose entries could not be written is indexed by catching up again", async () => {
  using chain = openTempChain();
  using dir = tempDir("txindex_test_");
  const logged: string[] = [];
  using index = TxIndex.open(dir.path, chain, (line) => logged.push(line));
  await index.sync();
  // Another connection holds the index's database: the write of the next block fails.
  const holder = new DatabaseSync(`${dir.path}/${TXINDEX_FILE}`);
  holder.exec("BEGIN EXCLUSIVE");
  const [missed] = mine(chain, 1, key);
  assertEquals(logged.at(-1), "txindex: database is locked");
  assertEquals([index.synced, index.bestHeight, indexedIn(index, missed)], [false, 0, undefined]);
  holder.exec("COMMIT");
  holder.close();
  // The next block finds the index behind: it catches up, the missed block first.
  const [next] = mine(chain, 1, key);
  await index.sync();
  assertEquals([index.synced, index.bestHeight], [true, 2]);
  assertEquals(indexedIn(index, missed), hashToHex(chain.entryAtHeight(1)!.hash));
  assertEquals(indexedIn(index, next), hashToHex(chain.tip.hash));
});
