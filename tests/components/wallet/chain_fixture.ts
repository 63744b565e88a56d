/**
 * A real chain and mempool in this process, served as the node serves
 * them to a wallet (`nodeInit(...).makeChain()`), with a miner that fills
 * blocks from the mempool.
 *
 * @module
 */
import { ChainState, generateBlock } from "../../../components/node/chain/mod.ts";
import { Mempool } from "../../../components/node/mempool/mod.ts";
import { nodeInit } from "../../../components/node/ipc/mod.ts";
import { tempDir } from "../../helpers.ts";

/** A node's chain and mempool in a temporary directory, removed on dispose. */
export function testNode() {
  const temp = tempDir();
  const dir = temp.path;
  const chain = ChainState.open(`${dir}/node`);
  const mempool = new Mempool(chain);
  const init = nodeInit({ chain, mempool, requestShutdown() {} });
  return {
    dir,
    chain,
    mempool,
    makeChain: () => init.makeChain(),
    /** Mines `count` blocks paying `script`, the mempool's transactions in the first. */
    mine(count: number, script: Uint8Array) {
      for (let i = 0; i < count; i++) {
        generateBlock(chain, { payoutScript: script, txs: mempool.selectForBlock(3_992_000) });
      }
    },
    [Symbol.dispose]() {
      init[Symbol.dispose]();
      mempool[Symbol.dispose]();
      chain[Symbol.dispose]();
      temp[Symbol.dispose]();
    },
  };
}
