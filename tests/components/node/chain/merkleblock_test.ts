/**
 * BIP 37 merkle blocks as Core builds and checks them: every subset of
 * transactions of blocks of 1 to 40 transactions is proven and found again
 * at its place, through the bytes; proofs that do not hold together (too
 * many or too few hashes or bits, two equal siblings, no transactions)
 * show nothing; cut or oversized streams fail with Core's stream errors.
 *
 * @module
 */
import { assert, assertEquals, assertThrows } from "../../../assert.ts";
import {
  type Block,
  blockMerkleRoot,
  decodeMerkleBlock,
  encodeMerkleBlock,
  extractMatches,
  GENESIS_BLOCK,
  hashToHex,
  type MerkleBlock,
  merkleBlock,
  txid,
} from "../../../../components/node/chain/mod.ts";

/** A block of `n` distinct transactions, its header's merkle root theirs. */
function blockOf(n: number): Block {
  const coinbase = GENESIS_BLOCK.txs[0];
  const txs = Array.from({ length: n }, (_, i) => ({ ...coinbase, lockTime: i }));
  const block = { header: { ...GENESIS_BLOCK.header }, txs };
  block.header.merkleRoot = blockMerkleRoot(block).root;
  return block;
}

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number) {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

Deno.test("merkle block: any set of a block's transactions is proven, and found again at its place", () => {
  const next = random(37);
  for (let n = 1; n <= 40; n++) {
    const block = blockOf(n);
    const ids = block.txs.map((tx) => hashToHex(txid(tx)));
    for (let round = 0; round < 12; round++) {
      const chosen = new Set(ids.filter(() => next() < [0, 0.1, 0.5, 1][round % 4]));
      const proof = decodeMerkleBlock(
        encodeMerkleBlock(merkleBlock(block, (hash) => chosen.has(hashToHex(hash)))),
      );
      assertEquals(proof.transactions, n);
      const found = extractMatches(proof);
      assert(found !== null, `n=${n}: the proof holds together`);
      assertEquals(hashToHex(found.root), hashToHex(block.header.merkleRoot));
      assertEquals(
        found.matches.map((m) => [hashToHex(m.txid), m.index]),
        ids.flatMap((id, index) => chosen.has(id) ? [[id, index]] : []),
      );
    }
  }
});

Deno.test("merkle block: a proof that does not hold together shows nothing, as Core's ExtractMatches", () => {
  const block = blockOf(7);
  const ids = block.txs.map(txid);
  const proof = merkleBlock(block, (hash) => hashToHex(hash) === hashToHex(ids[3]));
  const broken = (change: Partial<MerkleBlock>) => extractMatches({ ...proof, ...change });
  assert(extractMatches(proof) !== null);
  assertEquals(broken({ transactions: 0 }), null);
  assertEquals(broken({ transactions: 16_667 }), null); // past MAX_BLOCK_WEIGHT / 240
  assertEquals(broken({ hashes: proof.hashes.slice(0, -1) }), null); // a hash missing
  assertEquals(broken({ hashes: [...proof.hashes, ids[0]] }), null); // one left over
  assertEquals(broken({ bitCount: 3 }), null); // bits missing
  // A byte of flags too many.
  assertEquals(
    broken({ flags: Uint8Array.of(...proof.flags, 0), bitCount: proof.bitCount + 8 }),
    null,
  );
  // CVE-2012-2459: a block of 6 whose last pair is duplicated has the root of the block of 5.
  const five = blockOf(5);
  const mutated = { ...five, txs: [...five.txs, five.txs[4]] };
  const dup = merkleBlock(mutated, () => true);
  assertEquals(hashToHex(blockMerkleRoot(mutated).root), hashToHex(five.header.merkleRoot));
  assertEquals(extractMatches(dup), null);
});

Deno.test("merkle block: Core's stream errors for cut and oversized proofs", () => {
  const bytes = encodeMerkleBlock(merkleBlock(blockOf(3), () => true));
  for (const cut of [0, 79, 83, 85, bytes.length - 1]) {
    assertThrows(
      () => decodeMerkleBlock(bytes.subarray(0, cut)),
      Error,
      "DataStream::read(): end of data",
    );
  }
  // Bytes after the proof are not read, as Core's stream leaves them.
  assertEquals(decodeMerkleBlock(Uint8Array.of(...bytes, 1, 2, 3)).transactions, 3);
  const withCount = (count: number[]) => Uint8Array.of(...bytes.subarray(0, 84), ...count);
  assertThrows(
    () => decodeMerkleBlock(withCount([0xfd, 3, 0])),
    Error,
    "non-canonical ReadCompactSize()",
  );
  assertThrows(
    () => decodeMerkleBlock(withCount([0xfe, 1, 0, 0, 4])),
    Error,
    "ReadCompactSize(): size too large",
  );
  // A count the bytes cannot hold ends at their end, allocating nothing for it.
  assertThrows(() => decodeMerkleBlock(withCount([0xfe, 0, 0, 0, 2])), Error, "end of data");
  // Flags as many as a request may carry stay packed, a bit each (not an array of booleans).
  const many = 2 ** 20;
  const stream = new Uint8Array(84 + 1 + 5 + many);
  stream.set(bytes.subarray(0, 84));
  stream.set([0, 0xfe, ...u32(many)], 84); // no hashes; `many` bytes of flags
  const flagged = decodeMerkleBlock(stream);
  assertEquals([flagged.flags.length, flagged.bitCount], [many, 8 * many]);
  assertEquals(extractMatches(flagged), null);
});

function u32(n: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, n, true);
  return bytes;
}
