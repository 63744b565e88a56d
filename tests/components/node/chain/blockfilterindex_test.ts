/**
 * The block filter index over a real chain state: each block's filter
 * holds the scripts it pays and the scripts its inputs spent (read from the
 * undo data), the headers chain from the genesis block's, and a
 * reorganisation leaves the stale block's filter readable by its hash while
 * the new branch's blocks chain from the fork.
 *
 * @module
 */
import { assert, assertEquals } from "../../../assert.ts";
import { tempDir } from "../../../helpers.ts";
import {
  BlockFilterIndex,
  filterHeader,
  ZERO_HASH,
} from "../../../../components/node/chain/mod.ts";
import { coinbaseUtxo, mine, openTempChain, signTx, TestKey } from "./chain_helpers.ts";

const miner = new TestKey(1);
const payer = new TestKey(2);
const payee = new TestKey(3);
const stranger = new TestKey(4);

Deno.test("blockfilterindex: filters of paid and spent scripts, headers chained, kept across a reorganisation", async () => {
  using chain = openTempChain();
  using dir = tempDir("blockfilterindex_test_");
  const [funding] = mine(chain, 1, payer);
  mine(chain, 100, miner);
  const logged: string[] = [];
  using index = BlockFilterIndex.open(dir.path, chain, (line) => logged.push(line));
  await index.sync();
  assertEquals(logged, [
    "Syncing basic block filter index with block chain from height 0",
    "basic block filter index is enabled at height 101",
  ]);
  // Followed as it connects: a block spending the payer's coin to the payee.
  const spend = signTx([coinbaseUtxo(funding, payer)], [{
    script: payee.wpkh,
    amount: 49_0000_0000n,
  }]);
  mine(chain, 1, miner, [{ tx: spend, fee: 1_0000_0000n }]);
  assertEquals(index.bestHeight, 102);
  const spending = index.lookup(chain.tip.hash)!;
  assert(spending.filter.matchAny([payer.wpkh]), "the spent coin's script");
  assert(spending.filter.matchAny([payee.wpkh]), "the new output's script");
  assert(spending.filter.matchAny([miner.wpkh]), "the coinbase's script");
  assert(!spending.filter.matchAny([stranger.wpkh, stranger.tr]));
  assertEquals(spending.filter.count, 3);
  // Every header is the hash of its filter's hash and its parent's header.
  let previous = ZERO_HASH;
  for (let height = 0; height <= chain.height; height++) {
    const { filter, header } = index.lookup(chain.entryAtHeight(height)!.hash)!;
    assertEquals(header, filterHeader(filter.encoded, previous), `height ${height}`);
    previous = header;
  }
  // A reorganisation: the spend's block leaves; the new branch's blocks chain from the fork.
  const stale = chain.tip.hash;
  const staleFilter = index.lookup(stale)!;
  chain.invalidateBlock(stale);
  assertEquals(index.bestHeight, 101);
  mine(chain, 2, stranger);
  assertEquals(index.bestHeight, 103);
  assertEquals(index.lookup(stale), staleFilter, "the stale block's filter stays");
  const fork = index.lookup(chain.entryAtHeight(101)!.hash)!;
  const replacement = index.lookup(chain.entryAtHeight(102)!.hash)!;
  assertEquals(replacement.header, filterHeader(replacement.filter.encoded, fork.header));
  assert(
    replacement.filter.matchAny([stranger.wpkh]) && !replacement.filter.matchAny([payee.wpkh]),
  );
});
