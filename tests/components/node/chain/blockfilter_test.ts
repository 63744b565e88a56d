/**
 * BIP 158's basic block filter against Bitcoin Core's test vectors
 * (`src/test/data/blockfilters.json`: testnet blocks with the scripts their
 * inputs spent, each with its filter and filter header), and the set's
 * matching: every member matches, and the false-positive rate of many
 * random non-members stays near 1 in M.
 *
 * @module
 */
import { hex } from "@scure/base";
import { assert, assertEquals } from "../../../assert.ts";
import {
  BASIC_FILTER_M,
  BlockFilter,
  blockHash,
  decodeBlock,
  filterHeader,
  hashFromHex,
  hashToHex,
  sha256d,
} from "../../../../components/node/chain/mod.ts";

type Vector = [number, string, string, string[], string, string, string, string];
const vectors = (JSON.parse(
  await Deno.readTextFile(new URL("./blockfilter_vectors.json", import.meta.url)),
) as unknown[]).slice(1) as Vector[];

for (
  const [height, hash, blockHex, spent, previousHeader, filterHex, headerHex, notes] of vectors
) {
  Deno.test(`blockfilter: Core's vector at height ${height} ${notes ? `(${notes})` : ""}`, () => {
    const block = decodeBlock(hex.decode(blockHex));
    const key = blockHash(block.header);
    assertEquals(hashToHex(key), hash);
    const undo = [spent.map((script) => ({
      amount: 0n,
      script: hex.decode(script),
      height: 0,
      coinbase: false,
    }))];
    const filter = BlockFilter.basic(key, block, undo);
    assertEquals(hex.encode(filter.encoded), filterHex);
    assertEquals(hashToHex(filterHeader(filter.encoded, hashFromHex(previousHeader))), headerHex);
    // Every element matches, read back from the stored bytes.
    const stored = BlockFilter.fromEncoded(key, hex.decode(filterHex));
    for (const tx of block.txs) {
      for (const { script } of tx.outputs) {
        if (script.length > 0 && script[0] !== 0x6a) assert(stored.matchAny([script]), notes);
      }
    }
    for (const script of spent) assert(stored.matchAny([hex.decode(script)]));
  });
}

Deno.test("blockfilter: non-members match at about 1 in M", () => {
  // Fixed inputs, so the count is the same every run.
  const key = sha256d(Uint8Array.of(1));
  const members = Array.from({ length: 50 }, (_, i) => sha256d(Uint8Array.of(2, i)));
  const filter = BlockFilter.fromElements(key, members);
  assert(members.every((member) => filter.matchAny([member])));
  // 200,000 queries expect 0.25 false positives; more than 5 would be a broken hash or range.
  const queries = Array.from({ length: 200_000 }, (_, i) => {
    const query = new Uint8Array(25);
    new DataView(query.buffer).setUint32(0, i);
    query[24] = 0xac;
    return query;
  });
  let matches = 0;
  for (let i = 0; i < queries.length; i += 1000) {
    if (filter.matchAny(queries.slice(i, i + 1000))) {
      matches += queries.slice(i, i + 1000).filter((query) => filter.matchAny([query])).length;
    }
  }
  assert(matches <= 5, `${matches} false positives in ${queries.length} (M = ${BASIC_FILTER_M})`);
});
