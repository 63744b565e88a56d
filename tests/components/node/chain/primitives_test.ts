/**
 * Primitives against known vectors: the regtest genesis block, BIP 143 and
 * BIP 341 transactions, a 2009 mainnet transaction, merkle trees and their
 * CVE-2012-2459 mutation, compact bits, difficulty, money formatting,
 * subsidies and regtest addresses.
 *
 * @module
 */
import { hex } from "@scure/base";
import { Transaction } from "@scure/btc-signer";
import { assert, assertEquals, assertThrows } from "../../../assert.ts";
import {
  addressToScript,
  blockHash,
  blockMerkleRoot,
  blockProof,
  blockSubsidy,
  checkProofOfWork,
  COIN,
  compactToTarget,
  decodeBlock,
  decodeHeader,
  decodeTx,
  difficulty,
  encodeBlock,
  encodeHeader,
  encodeTx,
  formatMoney,
  GENESIS_BLOCK,
  GENESIS_BLOCK_HEX,
  GENESIS_HASH,
  grindNonce,
  hashFromHex,
  hashToHex,
  merklePath,
  merkleRoot,
  POW_LIMIT,
  scriptToAddress,
  sha256d,
  signedAmount,
  targetToCompact,
  txid,
  txSizes,
  wtxid,
} from "../../../../components/node/chain/mod.ts";
import { BIP143_P2WPKH_SIGNED, BIP341_SIGNED, BLOCK_170_TX } from "./vectors.ts";

Deno.test("genesis: the regtest genesis block is Bitcoin Core's, byte for byte", () => {
  assertEquals(
    hashToHex(GENESIS_HASH),
    "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206",
  );
  assertEquals(hex.encode(encodeBlock(GENESIS_BLOCK)), GENESIS_BLOCK_HEX);
  assertEquals(
    hashToHex(blockMerkleRoot(GENESIS_BLOCK).root),
    "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b",
  );
  const header = GENESIS_BLOCK.header;
  assertEquals([header.version, header.time, header.bits, header.nonce], [
    1,
    1296688602,
    0x207fffff,
    2,
  ]);
  assertEquals(decodeHeader(encodeHeader(header)), header);
  assertEquals(GENESIS_BLOCK.txs[0].outputs[0].amount, 50n * COIN);
});

Deno.test("tx: BIP 143's signed P2WPKH example round-trips; txid and wtxid hash the right forms", () => {
  const raw = hex.decode(BIP143_P2WPKH_SIGNED);
  const tx = decodeTx(raw);
  assertEquals(hex.encode(encodeTx(tx)), BIP143_P2WPKH_SIGNED);
  assertEquals(tx.inputs.length, 2);
  assertEquals(tx.witnesses?.[0], []);
  assertEquals(tx.lockTime, 17);
  assertEquals(
    hashToHex(txid(tx)),
    "e8151a2af31c368a35053ddd4bdb285a8595c769a3ad83e0fa02314a602d4609",
  );
  assertEquals(
    hashToHex(wtxid(tx)),
    "c36c38370907df2324d9ce9d149d191192f338b37665a82e78e76a12c909b762",
  );
  assertEquals(hashToHex(wtxid(tx)), hashToHex(sha256d(raw)));
  // The txid commits to the legacy serialization, which drops marker, flag and witnesses.
  const legacy = encodeTx(tx, false);
  assertEquals(legacy.length, raw.length - 2 - 1 - 1 - 1 - 0x47 - 1 - 0x21);
  assertEquals(hashToHex(txid(decodeTx(legacy))), hashToHex(txid(tx)));
});

Deno.test("tx: BIP 341's fully signed transaction round-trips; sizes agree with scure's weight", () => {
  const tx = decodeTx(hex.decode(BIP341_SIGNED.tx));
  assertEquals(hex.encode(encodeTx(tx)), BIP341_SIGNED.tx);
  assertEquals(tx.inputs.length, 9);
  const sizes = txSizes(tx);
  assertEquals(sizes.size, BIP341_SIGNED.tx.length / 2);
  assertEquals(
    sizes.weight,
    Transaction.fromRaw(hex.decode(BIP341_SIGNED.tx), {
      allowUnknownOutputs: true,
      disableScriptCheck: true,
    }).weight,
  );
  assertEquals(sizes.vsize, Math.ceil(sizes.weight / 4));
});

Deno.test("tx: a 2009 mainnet transaction (block 170) round-trips with its known txid", () => {
  const tx = decodeTx(hex.decode(BLOCK_170_TX));
  assertEquals(hex.encode(encodeTx(tx)), BLOCK_170_TX);
  assertEquals(
    hashToHex(txid(tx)),
    "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16",
  );
  assertEquals(hashToHex(wtxid(tx)), hashToHex(txid(tx)));
  assertEquals(txSizes(tx), { size: 275, strippedSize: 275, weight: 1100, vsize: 275 });
});

Deno.test("tx: malformed serializations are refused", () => {
  const raw = hex.decode(BLOCK_170_TX);
  assertThrows(() => decodeTx(raw.subarray(0, raw.length - 1)));
  assertThrows(() => decodeTx(Uint8Array.of(...raw, 0)));
  // A witness flag with only empty witnesses is superfluous (BIP 144).
  const tx = decodeTx(raw);
  const flagged = hex.decode(
    BLOCK_170_TX.slice(0, 8) + "0001" + BLOCK_170_TX.slice(8, -8) + "00" + "00000000",
  );
  assertThrows(() => decodeTx(flagged));
  assertEquals(signedAmount(0xffffffffffffffffn), -1n);
  assertEquals(tx.outputs[0].amount, 10n * COIN);
});

Deno.test("block: a block decodes and re-encodes byte for byte, and its hash is its header's", () => {
  const block = decodeBlock(hex.decode(GENESIS_BLOCK_HEX));
  assertEquals(hashToHex(blockHash(block.header)), hashToHex(GENESIS_HASH));
  assertThrows(() => decodeBlock(hex.decode(GENESIS_BLOCK_HEX + "00")));
  assertThrows(() => decodeBlock(hex.decode(GENESIS_BLOCK_HEX).subarray(0, 100)));
});

Deno.test("merkle: odd levels repeat the last hash; equal pairs are flagged as mutation", () => {
  const leaves = [1, 2, 3].map((n) => sha256d(Uint8Array.of(n)));
  const root = merkleRoot(leaves);
  const expected = sha256d(sha256d(leaves[0], leaves[1]), sha256d(leaves[2], leaves[2]));
  assertEquals(hashToHex(root.root), hashToHex(expected));
  assertEquals(root.mutated, false);
  // CVE-2012-2459: [a, b, c, c] has the same root as [a, b, c], and is flagged.
  const duplicated = merkleRoot([...leaves, leaves[2]]);
  assertEquals(hashToHex(duplicated.root), hashToHex(expected));
  assertEquals(duplicated.mutated, true);
  assertEquals(merkleRoot([]).root, new Uint8Array(32));
});

Deno.test("merkle: a path recomputes the root from its leaf", () => {
  const leaves = [1, 2, 3, 4, 5].map((n) => sha256d(Uint8Array.of(n)));
  for (let index = 0; index < leaves.length; index++) {
    let hash = leaves[index];
    let position = index;
    for (const sibling of merklePath(leaves, index)) {
      hash = position % 2 === 0 ? sha256d(hash, sibling) : sha256d(sibling, hash);
      position >>= 1;
    }
    assertEquals(hashToHex(hash), hashToHex(merkleRoot(leaves).root));
  }
  assertEquals(merklePath([leaves[0]], 0), []);
});

Deno.test("pow: compact bits, targets, work and difficulty as Bitcoin Core computes them", () => {
  assertEquals(compactToTarget(0x207fffff).target, POW_LIMIT);
  assertEquals(targetToCompact(POW_LIMIT), 0x207fffff);
  assertEquals(compactToTarget(0x1d00ffff).target, 0xffffn << 208n);
  assertEquals(targetToCompact(0xffffn << 208n), 0x1d00ffff);
  assertEquals(compactToTarget(0x01003456).target, 0n);
  assertEquals(compactToTarget(0x01123456).target, 0x12n);
  assertEquals(compactToTarget(0x04923456).negative, true);
  assertEquals(compactToTarget(0xff123456).overflow, true);
  assertEquals(targetToCompact(0x80n), 0x02008000);
  // Core's JSON prints doubles with 16 significant digits.
  assertEquals(Number(difficulty(0x207fffff).toPrecision(16)), 4.656542373906925e-10);
  assertEquals(difficulty(0x207fffff), 0xffff / 0x7fffff / 2 ** 24);
  assertEquals(difficulty(0x1d00ffff), 1);
  assertEquals(blockProof(0x207fffff), 2n);
  assertEquals(blockProof(0x04923456), 0n);
  const low = new Uint8Array(32);
  assert(checkProofOfWork(low, 0x207fffff, POW_LIMIT));
  const high = new Uint8Array(32).fill(0xff);
  assert(!checkProofOfWork(high, 0x207fffff, POW_LIMIT));
  assert(!checkProofOfWork(low, 0x2100ffff, POW_LIMIT), "a target above the pow limit");
});

Deno.test("grindNonce: Core's GenerateBlock loop; solved only with a valid proof of work", () => {
  const block = structuredClone(GENESIS_BLOCK);
  const meets = () => checkProofOfWork(blockHash(block.header), block.header.bits, POW_LIMIT);
  // A nonce that misses the regtest target.
  while (meets()) block.header.nonce++;
  const missing = block.header.nonce;
  for (const left of [0n, -1n, -(2n ** 63n)]) {
    const tries = { left };
    assertEquals(grindNonce(block, tries), "exhausted", `tries ${left}`);
    assertEquals([block.header.nonce, tries.left], [missing, left]);
  }
  const tries = { left: 2n ** 64n - 1n };
  assertEquals(grindNonce(block, tries), "solved");
  assert(meets());
  assertEquals(tries.left, 2n ** 64n - 1n - BigInt(block.header.nonce - missing));
  // Difficulty 1: out of reach in a few tries, whatever the count says.
  block.header.bits = 0x1d00ffff;
  block.header.nonce = 7;
  for (const left of [5n, -1n]) {
    const limited = { left };
    assertEquals(grindNonce(block, limited), "exhausted");
    assert(!meets());
  }
  assertEquals(block.header.nonce, 12);
  // The last nonce is never tried: Core builds a new template instead.
  block.header.nonce = 0xffffffff;
  assertEquals(grindNonce(block, { left: 10n }), "skipped");
  assertEquals(block.header.nonce, 0xffffffff);
});

Deno.test("hash: display hex is reversed; bad hex is refused in one line", () => {
  const text = "00000000000000000000000000000000000000000000000000000000000000ff";
  assertEquals(hashFromHex(text)[0], 0xff);
  assertEquals(hashToHex(hashFromHex(text)), text);
  assertThrows(() => hashFromHex("zz"), Error, "64 hexadecimal characters");
});

Deno.test("amount: FormatMoney keeps two decimals at least", () => {
  assertEquals(formatMoney(150_000_000n), "1.50");
  assertEquals(formatMoney(5_000_000_000n), "50.00");
  assertEquals(formatMoney(5_050_000_000n), "50.50");
  assertEquals(formatMoney(1n), "0.00000001");
  assertEquals(formatMoney(0n), "0.00");
  assertEquals(formatMoney(-150_000_000n), "-1.50");
});

Deno.test("params: regtest halves the subsidy every 150 blocks", () => {
  assertEquals(blockSubsidy(0), 50n * COIN);
  assertEquals(blockSubsidy(149), 50n * COIN);
  assertEquals(blockSubsidy(150), 25n * COIN);
  assertEquals(blockSubsidy(300), 1_250_000_000n);
  assertEquals(blockSubsidy(64 * 150), 0n);
});

Deno.test("params: regtest addresses map to scripts and back; others are refused", () => {
  const cases = [
    [
      "bcrt1q0xcqpzrky6eff2g52qdye53xkk9jxkvrl4xfg5",
      "001479b000887626b294a914501a4cd226b58b235983",
    ],
    ["mrCDrCybB6J1vRfbwM5hemdJz73FwDBC8r", "76a914751e76e8199196d454941c45d1b3a323f1433bd688ac"],
  ];
  for (const [address, script] of cases) {
    assertEquals(hex.encode(addressToScript(address)), script);
    assertEquals(scriptToAddress(hex.decode(script)), address);
  }
  // Any witness program has an address, whether or not it is a valid key (as ExtractDestination).
  for (const [script, prefix] of [["5120" + "79".repeat(32), "bcrt1p"], ["5202abcd", "bcrt1z"]]) {
    const address = scriptToAddress(hex.decode(script))!;
    assert(address.startsWith(prefix), address);
    assertEquals(hex.encode(addressToScript(address)), script);
    assertEquals(hex.encode(addressToScript(address.toUpperCase())), script);
  }
  assertEquals(scriptToAddress(hex.decode("0003abcdef")), undefined);
  assertEquals(scriptToAddress(hex.decode("6a0100")), undefined);
  assertThrows(
    () => addressToScript("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"),
    Error,
    "Invalid address",
  );
  assertThrows(() => addressToScript("notanaddress"), Error, "Invalid address: notanaddress");
});
