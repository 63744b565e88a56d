/**
 * The chain state with real signed transactions: mining and connecting
 * blocks in v30's shape, spends of P2WPKH, P2PKH and P2TR outputs, every
 * rejection with Bitcoin Core's `submitblock` result, reorganisations
 * restoring the UTXO set through undo data, invalidate/reconsider, chain
 * tips, listeners and reopening.
 *
 * @module
 */
import { hex } from "@scure/base";
import { assert, assertEquals, assertThrows } from "../../../assert.ts";
import {
  type Block,
  type BlockEntry,
  blockHash,
  BlockStatus,
  blockSubsidy,
  ChainState,
  checkProofOfWork,
  COIN,
  decodeBlock,
  encodeBlock,
  generateBlock,
  GENESIS_BLOCK,
  GENESIS_HASH,
  hashToHex,
  POW_LIMIT,
  type Tx,
  txid,
  updateUncommittedBlockStructures,
  witnessCommitmentIndex,
} from "../../../../components/node/chain/mod.ts";
import {
  assertUtxoSetMatchesBlocks,
  coinbaseUtxo,
  craftBlock,
  mine,
  openTempChain,
  signTx,
  TestKey,
  type Utxo,
  utxosOf,
} from "./chain_helpers.ts";

const key = new TestKey(1);
const other = new TestKey(2);

/** A chain of 110 blocks paying `key`: the coinbases of blocks 1–10 are mature. */
function fundedChain(options = {}) {
  const chain = openTempChain(options);
  const blocks = mine(chain, 110, key);
  return {
    chain,
    blocks,
    coinbase: (height: number) => coinbaseUtxo(blocks[height - 1], key),
    [Symbol.dispose]: () => chain[Symbol.dispose](),
  };
}

/** Spends `utxo` to `other` (`amount` minus `fee`) and returns the transaction with its fee. */
function pay(utxo: Utxo, fee = 10_000n, to = other.wpkh) {
  const tx = signTx([utxo], [{ script: to, amount: utxo.amount - fee }]);
  return { tx, fee };
}

function tipHex(chain: ChainState): string {
  return hashToHex(chain.tip.hash);
}

Deno.test("chainstate: mines and connects blocks in Bitcoin Core v30's shape", () => {
  using chain = openTempChain();
  const blocks = mine(chain, 151, key);
  assertEquals(chain.height, 151);
  assertEquals(chain.tip.chainWork, 2n * 152n);
  const block = blocks[101];
  const coinbase = block.txs[0];
  assertEquals(hex.encode(coinbase.inputs[0].finalScriptSig), "016600");
  assertEquals(coinbase.inputs[0].sequence, 0xfffffffe);
  assertEquals([coinbase.version, coinbase.lockTime], [2, 101]);
  assertEquals(coinbase.witnesses, [[new Uint8Array(32)]]);
  assertEquals(witnessCommitmentIndex(block), 1);
  assert(hex.encode(coinbase.outputs[1].script).startsWith("6a24aa21a9ed"));
  assertEquals([block.header.version, block.header.bits], [0x20000000, 0x207fffff]);
  assertEquals(
    hex.encode(blocks[0].txs[0].inputs[0].finalScriptSig),
    "5100",
    "height 1 is OP_1 OP_0",
  );
  assertEquals(
    blocks[149].txs[0].outputs[0].amount,
    25n * COIN,
    "the subsidy halves at height 150",
  );
  // Blocks are stored byte for byte and hash to their index entries.
  const stored = chain.readBlockBytes(chain.entryAtHeight(102)!.hash)!;
  assertEquals(hex.encode(stored), hex.encode(encodeBlock(block)));
  assertEquals(
    hashToHex(blockHash(decodeBlock(stored).header)),
    hashToHex(chain.entryAtHeight(102)!.hash),
  );
  const stats = chain.utxoStats();
  assertEquals([stats.txouts, stats.bogosize, stats.transactions], [151, 151 * 72, 151]);
  assertEquals(stats.totalAmount, 149n * 50n * COIN + 2n * 25n * COIN);
  assertUtxoSetMatchesBlocks(chain);
  assertEquals(chain.chainTips(), [{
    height: 151,
    hash: chain.tip.hash,
    branchLength: 0,
    status: "active",
  }]);
});

Deno.test("chainstate: hash_serialized_3 equals Bitcoin Core v30's assumeutxo hash of its unit-test chain", () => {
  // Core's TestChain100Setup mines 110 blocks paying P2PK of private key 1; v30's regtest
  // m_assumeutxo_data commits to the resulting UTXO set. Coinbase txids depend only on the
  // coinbase's shape (height push + OP_0, sequence, lock time, commitment), not on block times.
  using chain = openTempChain();
  const p2pk = hex.decode("210279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798ac");
  for (let i = 0; i < 110; i++) generateBlock(chain, { payoutScript: p2pk });
  const stats = chain.utxoStats();
  assertEquals(
    hashToHex(stats.hashSerialized),
    "b952555c8ab81fec46f3d4253b7af256d766ceb39fb7752b9d18cdf4a0141327",
  );
  assertEquals([stats.txouts, stats.transactions, stats.bogosize], [110, 110, 110 * (50 + 35)]);
});

Deno.test("chainstate: spends of P2WPKH, P2PKH and P2TR outputs are validated and connected", () => {
  using funded = fundedChain();
  const { chain, coinbase } = funded;
  // A P2WPKH coinbase output fans out to the three kinds of output.
  const fanOut = signTx([coinbase(1)], [
    { script: key.pkh, amount: 10n * COIN },
    { script: key.tr, amount: 10n * COIN },
    { script: key.wpkh, amount: 30n * COIN - 20_000n },
  ]);
  const block = craftBlock(chain, key, { txs: [{ tx: fanOut, fee: 20_000n }] });
  assertEquals(chain.processBlock(block), null);
  assertEquals(
    block.txs[0].outputs[0].amount,
    blockSubsidy(111) + 20_000n,
    "the coinbase takes the fee",
  );
  assertEquals(chain.getCoin(coinbase(1).outpoint), undefined, "the coinbase output is spent");
  const [pkh, tr, wpkh] = utxosOf(fanOut, key);
  assertEquals(chain.getCoin(pkh.outpoint)?.amount, 10n * COIN);
  // One transaction spends all three kinds at once.
  const spend = signTx([pkh, tr, wpkh], [{ script: other.tr, amount: 50n * COIN - 50_000n }]);
  assertEquals(
    chain.processBlock(craftBlock(chain, key, { txs: [{ tx: spend, fee: 30_000n }] })),
    null,
  );
  for (const utxo of [pkh, tr, wpkh]) assertEquals(chain.getCoin(utxo.outpoint), undefined);
  assertEquals(chain.getCoin({ txid: txid(spend), index: 0 })?.script, other.tr);
  assertEquals(chain.height, 112);
  assertUtxoSetMatchesBlocks(chain);
});

Deno.test("chainstate: invalid transactions in blocks are rejected with Core's reasons", () => {
  using funded = fundedChain();
  const { chain, coinbase } = funded;
  const tip = tipHex(chain);
  const submit = (txs: { tx: Tx; fee: bigint }[]) =>
    chain.processBlock(craftBlock(chain, key, { txs }));
  const detail = (txs: { tx: Tx; fee: bigint }[]) =>
    chain.testBlockValidity(craftBlock(chain, key, { txs }))?.message;

  // A bad signature.
  const forged = pay(coinbase(1));
  forged.tx.witnesses![0][0][10] ^= 1;
  const reason =
    "block-script-verify-flag-failed (Script evaluated without error but finished with a false/empty top stack element)";
  assertEquals(submit([forged]), reason);
  assert(detail([forged])!.startsWith(`${reason}, input 0 of ${hashToHex(txid(forged.tx))}`));

  // Double spends, in one block and across blocks.
  const first = pay(coinbase(2));
  const second = pay(coinbase(2), 20_000n);
  assertEquals(submit([first, second]), "bad-txns-inputs-missingorspent");
  assertEquals(
    detail([first, second]),
    `bad-txns-inputs-missingorspent, CheckTxInputs: inputs missing/spent in transaction ${
      hashToHex(txid(second.tx))
    }`,
  );
  assertEquals(submit([first]), null);
  assertEquals(submit([second]), "bad-txns-inputs-missingorspent");

  // A coinbase spent before maturity (block 105's, at height 112: depth 7).
  const premature = pay(coinbase(105));
  assertEquals(submit([premature]), "bad-txns-premature-spend-of-coinbase");
  assertEquals(
    detail([premature]),
    `bad-txns-premature-spend-of-coinbase, tried to spend coinbase at depth 7 in transaction ${
      hashToHex(txid(premature.tx))
    }`,
  );

  // Outputs above inputs.
  // scure will not sign an overspend; the signature does not matter, inputs are checked first.
  const overspend = pay(coinbase(3), 0n);
  overspend.tx.outputs[0].amount = 5_050_000_000n;
  assertEquals(submit([overspend]), "bad-txns-in-belowout");
  assertEquals(
    detail([overspend]),
    `bad-txns-in-belowout, value in (50.00) < value out (50.50) in transaction ${
      hashToHex(txid(overspend.tx))
    }`,
  );

  // A lock time in the future (non-final sequence), and an unmet BIP 68 relative lock.
  const locked = {
    tx: signTx([coinbase(4)], [{ script: other.wpkh, amount: COIN }], { lockTime: 500 }),
    fee: 0n,
  };
  assertEquals(submit([locked]), "bad-txns-nonfinal");
  const young = utxosOf(first.tx, other)[0];
  const relative = signTx([{ ...young, key: other }], [{
    script: key.wpkh,
    amount: young.amount - 1000n,
  }], {
    sequence: 5,
  });
  assertEquals(submit([{ tx: relative, fee: 1000n }]), "bad-txns-nonfinal");
  assertEquals(detail([{ tx: relative, fee: 1000n }])?.endsWith(hashToHex(txid(relative))), true);

  assertEquals(chain.height, 111, "only the block with the first spend was connected");
  assert(tipHex(chain) !== tip);
  assertUtxoSetMatchesBlocks(chain);
});

Deno.test("chainstate: defective blocks get Core's submitblock results", () => {
  const now = Math.floor(Date.now() / 1000);
  using funded = fundedChain({ now: () => now });
  const { chain, coinbase } = funded;
  const tx = pay(coinbase(1));

  // Merkle root changed (proof of work redone): rejected, but the real block stays acceptable.
  const badRoot = craftBlock(chain, key, {
    txs: [tx],
    edit: (block) => block.header.merkleRoot = new Uint8Array(32).fill(7),
    keepMerkleRoot: true,
  });
  assertEquals(chain.processBlock(badRoot), "bad-txnmrklroot");

  // Hash above the target.
  const weak = craftBlock(chain, key, { txs: [tx] });
  while (checkProofOfWork(blockHash(weak.header), weak.header.bits, POW_LIMIT)) weak.header.nonce++;
  assertEquals(chain.processBlock(weak), "high-hash");

  // A witness changed without updating the commitment, then the genuine block.
  const genuine = craftBlock(chain, key, { txs: [tx] });
  const tampered = decodeBlock(encodeBlock(genuine));
  tampered.txs[1].witnesses![0][0][12] ^= 1;
  assertEquals(chain.processBlock(tampered), "bad-witness-merkle-match");
  // CVE-2012-2459: the last transaction repeated keeps the merkle root.
  const twoTx = craftBlock(chain, key, { txs: [tx, pay(coinbase(2))] });
  const repeated = { header: twoTx.header, txs: [...twoTx.txs, twoTx.txs[2]] };
  assertEquals(chain.processBlock(repeated), "bad-txns-duplicate");
  assertEquals(chain.processBlock(genuine), null);
  assertEquals(chain.processBlock(genuine), "duplicate");

  // Coinbase paying one satoshi too much: invalid, and remembered as such.
  const greedy = craftBlock(chain, key, { edit: (block) => block.txs[0].outputs[0].amount += 1n });
  assertEquals(chain.processBlock(greedy), "bad-cb-amount");
  assertEquals(chain.processBlock(greedy), "duplicate-invalid");
  const detail = chain.testBlockValidity(greedy)?.message;
  assertEquals(
    detail,
    `bad-cb-amount, coinbase pays too much (actual=5000000001 vs limit=5000000000)`,
  );

  // Header rules.
  const header = (edit: (block: Block) => void) =>
    chain.processBlock(craftBlock(chain, key, { edit }));
  assertEquals(header((block) => block.header.time = 1), "time-too-old");
  assertEquals(header((block) => block.header.bits = 0x207ffffe), "bad-diffbits");
  assertEquals(header((block) => block.header.version = 3), "bad-version(0x00000003)");
  assertEquals(
    header((block) => block.header.prevHash = new Uint8Array(32).fill(9)),
    "prev-blk-not-found",
  );
  assertEquals(header((block) => block.header.time = now + 2 * 3600 + 1), "time-too-new");
  // Coinbase rules.
  assertEquals(
    header((block) => block.txs[0].inputs[0].finalScriptSig = Uint8Array.of(1, 99, 0)),
    "bad-cb-height",
  );
  assertEquals(
    header((block) => block.txs[0].witnesses = [[new Uint8Array(31)]]),
    "bad-witness-nonce-size",
  );
  assertEquals(
    header((block) => block.txs[0].outputs.pop()),
    "unexpected-witness",
    "a coinbase witness without a commitment",
  );
  const missing = craftBlock(chain, key, { txs: [tx], edit: (block) => block.txs.shift() });
  assertEquals(chain.processBlock(missing), "bad-cb-missing");
  const second = (block: Block) => ({ ...block.txs[0], lockTime: 7 });
  assertEquals(header((block) => block.txs.push(second(block))), "bad-cb-multiple");

  // Sigops and weight limits.
  const sigops = craftBlock(chain, key, {
    edit: (block) =>
      block.txs[0].outputs.push({ amount: 0n, script: new Uint8Array(1001).fill(0xae) }),
  });
  assertEquals(chain.processBlock(sigops), "bad-blk-sigops");
  const heavy = pay(coinbase(5));
  heavy.tx.witnesses![0].push(new Uint8Array(4_000_000));
  assertEquals(chain.processBlock(craftBlock(chain, key, { txs: [heavy] })), "bad-blk-weight");

  // submitblock fills in a missing coinbase witness when the block commits to witnesses.
  // The witness-stripped block leaves only its header known, so the completed block is accepted.
  const bare = craftBlock(chain, key);
  bare.txs[0].witnesses = undefined;
  assertEquals(chain.processBlock(decodeBlock(encodeBlock(bare))), "bad-witness-nonce-size");
  const bareHex = hashToHex(blockHash(bare.header));
  assertEquals(
    chain.chainTips().find((tip) => hashToHex(tip.hash) === bareHex)?.status,
    "headers-only",
  );
  updateUncommittedBlockStructures(bare);
  assertEquals(bare.txs[0].witnesses, [[new Uint8Array(32)]]);
  assertEquals(chain.processBlock(bare), null);

  // Exactly two hours ahead of the clock is still acceptable.
  const ahead = craftBlock(chain, key, { edit: (block) => block.header.time = now + 2 * 3600 });
  assertEquals(chain.processBlock(ahead), null);
  assertEquals(chain.height, 113);
  assertUtxoSetMatchesBlocks(chain);
});

Deno.test("chainstate: a longer branch reorganises; undo data restores the UTXO set", () => {
  using funded = fundedChain();
  const { chain, coinbase } = funded;
  const fork = chain.tip;
  // The active branch spends two coinbases; the other branch spends one of them differently.
  const main1 = craftBlock(chain, key, { txs: [pay(coinbase(1)), pay(coinbase(2))] });
  assertEquals(chain.processBlock(main1), null);
  const main2 = craftBlock(chain, key, {
    txs: [pay(utxosOf(main1.txs[2], other)[0], 5_000n, key.tr)],
  });
  assertEquals(chain.processBlock(main2), null);
  const oldTip = chain.tip;
  const before = chain.utxoStats();

  const events: string[] = [];
  using _ = chain.subscribe({
    blockConnected: ({ entry }) => events.push(`+${entry.height}`),
    blockDisconnected: ({ entry }) => events.push(`-${entry.height}`),
    tipChanged: (tip) => events.push(`tip ${tip.height}`),
  });
  const side1 = craftBlock(chain, key, { parent: fork, txs: [pay(coinbase(1), 40_000n, key.pkh)] });
  assertEquals(chain.processBlock(side1), "inconclusive", "less work than the tip");
  const side1Entry = chain.entry(blockHash(side1.header))!;
  const side2 = craftBlock(chain, key, { parent: side1Entry });
  assertEquals(
    chain.processBlock(side2),
    "inconclusive",
    "equal work: the first seen stays active",
  );
  assertEquals(chain.tip, oldTip);
  assertEquals(chain.chainTips().map((tip) => tip.status), ["active", "valid-headers"]);
  const side3 = craftBlock(chain, key, { parent: chain.entry(blockHash(side2.header))! });
  assertEquals(chain.processBlock(side3), null);
  assertEquals(events, ["-112", "-111", "+111", "+112", "+113", "tip 113"]);
  assertEquals(tipHex(chain), hashToHex(blockHash(side3.header)));
  assertUtxoSetMatchesBlocks(chain);
  // The old branch's spends are undone: coinbase 2 is unspent again, coinbase 1 is spent differently.
  assert(chain.getCoin(coinbase(2).outpoint));
  assertEquals(chain.getCoin(coinbase(1).outpoint), undefined);
  assertEquals(
    chain.chainTips().map(({ height, branchLength, status }) => [height, branchLength, status]),
    [[113, 0, "active"], [112, 2, "valid-fork"]],
  );

  // Back to the first branch once it is longer again: its spends are redone.
  events.length = 0;
  const main3 = craftBlock(chain, key, { parent: oldTip });
  assertEquals(chain.processBlock(main3), "inconclusive");
  const main3Entry: BlockEntry = chain.entry(blockHash(main3.header))!;
  assertEquals(chain.processBlock(craftBlock(chain, key, { parent: main3Entry })), null);
  assertEquals(events, ["-113", "-112", "-111", "+111", "+112", "+113", "+114", "tip 114"]);
  assertEquals(chain.height, 114);
  assertUtxoSetMatchesBlocks(chain);
  assert(chain.getCoin({ txid: txid(main2.txs[1]), index: 0 }));
  assertEquals(chain.utxoStats().txouts, before.txouts + 2, "the old tip's set plus two coinbases");
});

Deno.test("chainstate: invalidateblock and reconsiderblock move the tip as bitcoind does", () => {
  using funded = fundedChain();
  const { chain } = funded;
  const parent = chain.entryAtHeight(109)!;
  const original = chain.tip;
  const competitor = craftBlock(chain, other, { parent });
  assertEquals(chain.processBlock(competitor), "inconclusive");
  const competitorHash = blockHash(competitor.header);

  chain.invalidateBlock(original.hash);
  assertEquals(tipHex(chain), hashToHex(competitorHash), "the competing block becomes active");
  assertEquals(
    chain.chainTips().map((tip) => [hashToHex(tip.hash), tip.status]),
    [[hashToHex(competitorHash), "active"], [hashToHex(original.hash), "invalid"]],
  );
  assert(chain.entry(original.hash)!.status & BlockStatus.FAILED);

  chain.reconsiderBlock(original.hash);
  assertEquals(chain.tip, original, "reconsider restores the first-seen block");
  assertEquals(chain.chainTips().map((tip) => tip.status), ["active", "valid-fork"]);
  assertUtxoSetMatchesBlocks(chain);

  // Invalidating deeper drops the descendants too; new blocks then build a new branch.
  const deep = chain.entryAtHeight(100)!;
  chain.invalidateBlock(deep.hash);
  assertEquals(chain.height, 99);
  assert(chain.entry(original.hash)!.status & BlockStatus.FAILED_CHILD);
  mine(chain, 12, other);
  assertEquals(chain.height, 111);
  chain.reconsiderBlock(deep.hash);
  assertEquals(chain.height, 111, "the new branch has more work than the reconsidered one");
  assertEquals(
    chain.entry(original.hash)!.status & (BlockStatus.FAILED | BlockStatus.FAILED_CHILD),
    0,
  );
  assertEquals(
    chain.chainTips().map(({ height, branchLength, status }) => [height, branchLength, status]),
    [[111, 0, "active"], [110, 11, "valid-fork"], [110, 11, "valid-fork"]],
  );
  assertUtxoSetMatchesBlocks(chain);
  assertThrows(() => chain.invalidateBlock(new Uint8Array(32).fill(3)), Error, "Block not found");
  assertThrows(() => chain.reconsiderBlock(new Uint8Array(32).fill(3)), Error, "Block not found");
  // Core's InvalidateBlock leaves genesis alone and reports nothing.
  const before = chain.chainTips();
  chain.invalidateBlock(GENESIS_HASH);
  assertEquals(chain.chainTips(), before);
  assertEquals(chain.entry(GENESIS_HASH)!.status, BlockStatus.HAVE_DATA | BlockStatus.VALID);
});

Deno.test("chainstate: each iteration of the activation tells its new tip, whatever its work, and invalidateblock the tip it leaves, as Core's ActivateBestChain and InvalidateBlock", () => {
  using chain = openTempChain();
  mine(chain, 5, key);
  const a5 = chain.tip;
  mine(chain, 2, key);
  const [a6, a7] = [chain.entryAtHeight(6)!, chain.tip];
  const b6 = craftBlock(chain, other, { parent: a5 });
  assertEquals(chain.processBlock(b6), "inconclusive");
  const b6Entry = chain.entry(blockHash(b6.header))!;
  const b7 = craftBlock(chain, other, { parent: b6Entry });
  assertEquals(chain.processBlock(b7), "inconclusive", "as much work as a7, which came first");
  const b7Entry = chain.entry(blockHash(b7.header))!;
  const names = new Map(
    Object.entries({ a5, a6, a7, b6: b6Entry, b7: b7Entry }).map(([name, entry]) => [
      hashToHex(entry.hash),
      name,
    ]),
  );
  const name = (entry: BlockEntry) => names.get(hashToHex(entry.hash));
  const events: string[] = [];
  using _ = chain.subscribe({
    blockConnected: ({ entry }) => events.push(`+${name(entry)}`),
    blockDisconnected: ({ entry }) => events.push(`-${name(entry)}`),
    reorganized: (readd) => events.push(`reorganized ${readd}`),
    updatedBlockTip: ({ entry, block }, fork) => {
      assertEquals(blockHash(block.header), entry.hash);
      events.push(`updated ${name(entry)} off ${name(fork)}`);
    },
    tipInvalidated: (tip) => events.push(`invalidated ${name(tip)}`),
    tipChanged: (tip) => events.push(`tip ${name(tip)}`),
  });

  // Back to a5 (told as InvalidateBlock tells it), then up the lower branch: b6 beats a5 and
  // ends the first iteration, b7 the second.
  chain.invalidateBlock(a6.hash);
  assertEquals(events, [
    "-a7",
    "reorganized true",
    "-a6",
    "reorganized true",
    "invalidated a5",
    "+b6",
    "updated b6 off a5",
    "+b7",
    "updated b7 off b6",
    "tip b7",
  ]);
  // Equal work, a6 and a7 came first: one step, one iteration, one new tip.
  events.length = 0;
  chain.reconsiderBlock(a6.hash);
  assertEquals(
    events.join(", "),
    "-b7, -b6, reorganized true, +a6, +a7, updated a7 off a5, tip a7",
  );
  events.length = 0;
  chain.preciousBlock(b7Entry.hash);
  assertEquals(
    events.join(", "),
    "-a7, -a6, reorganized true, +b6, +b7, updated b7 off a5, tip b7",
  );
  // A block off the active chain: nothing moves, nothing is told.
  events.length = 0;
  chain.invalidateBlock(a7.hash);
  assertEquals(events, []);
});

Deno.test("chainstate: an invalid block on a better branch is marked with its descendants; the chain falls back", () => {
  using funded = fundedChain();
  const { chain } = funded;
  const tip = chain.tip;
  const side1 = craftBlock(chain, other, { parent: tip.prev });
  assertEquals(chain.processBlock(side1), "inconclusive");
  const side1Entry = chain.entry(blockHash(side1.header))!;
  const side2 = craftBlock(chain, key, {
    parent: side1Entry,
    edit: (block) => block.txs[0].outputs[0].amount += 1n,
  });
  const events: string[] = [];
  using _ = chain.subscribe({
    tipChanged: (entry) => events.push(`tip ${entry.height}`),
    updatedBlockTip: ({ entry }) => events.push(`updated ${entry.height}`),
  });
  assertEquals(chain.processBlock(side2), "bad-cb-amount");
  assertEquals(chain.tip, tip, "back on the original branch");
  // Core's ActivateBestChain steps on while the tip is worse than where it began (side1, of
  // equal work, came later), and tells no UpdatedBlockTip for a tip back where it started.
  assertEquals(events, [], "the tip ended where it started");
  const side3 = craftBlock(chain, key, { parent: chain.entry(blockHash(side2.header))! });
  assertEquals(chain.processBlock(side3), "bad-prevblk");
  assertEquals(
    chain.chainTips().map(({ height, status }) => [height, status]),
    [[111, "invalid"], [110, "active"]],
  );
  assertEquals(chain.entry(side1Entry.hash)!.status & BlockStatus.VALID, BlockStatus.VALID);
  assertUtxoSetMatchesBlocks(chain);
});

Deno.test("chainstate: a chain known invalid with more than six blocks' work beyond the tip is told at Core's checks: a failed connection counts its batch's top, announced by headers first", () => {
  using funded = fundedChain();
  const { chain } = funded;
  const checks: boolean[] = [];
  const found: [number, number][] = [];
  using _ = chain.subscribe({
    forkWarningChecked: (ahead) => checks.push(ahead),
    invalidChainFound: (invalid, tip) => found.push([invalid.height, tip.height]),
  });
  // Seven blocks on the tip, the first paying its coinbase too much (found when connected):
  // headers first, then the blocks from the last, which wait for their parents' data.
  const blocks: Block[] = [];
  let parent = chain.tip;
  for (let i = 0; i < 7; i++) {
    const edit = i === 0 ? (block: Block) => block.txs[0].outputs[0].amount += 1n : undefined;
    const block = craftBlock(chain, key, { parent, edit });
    assertEquals(chain.processHeader(block.header), null);
    parent = chain.entry(blockHash(block.header))!;
    blocks.push(block);
  }
  for (const block of blocks.slice(1).reverse()) {
    assertEquals(chain.processBlock(block), "inconclusive");
  }
  assertEquals(checks, [], "no step taken");
  // The first fails to connect: Core's InvalidChainFound counts the top of its batch, seven
  // blocks of work beyond the tip.
  const tip = chain.tip;
  assertEquals(chain.processBlock(blocks[0]), "bad-cb-amount");
  assertEquals([chain.tip, checks], [tip, [true]]);
  // Told of the block itself (Core's InvalidBlockFound), then of its batch's top.
  assertEquals(found, [[tip.height + 1, tip.height], [tip.height + 7, tip.height]]);
  // One block more on the tip: six blocks' work beyond it is not more than six.
  mine(chain, 1, key);
  assertEquals(checks, [true, false]);
});

Deno.test("chainstate: size_on_disk is what bitcoind's blk and rev files hold for the same blocks", () => {
  using chain = openTempChain();
  const record = (block: Block) => 8 + encodeBlock(block).length;
  // Genesis has a block record and no undo record.
  assertEquals(chain.blockFilesSize(), record(GENESIS_BLOCK));
  const blocks = mine(chain, 101, key);
  // bitcoind v30 at height 101 after generatetoaddress to a P2WPKH address (reference §5).
  assertEquals(chain.blockFilesSize(), 30375);
  // An undo record: an 8-byte header, the spent coins in our format — here one transaction
  // (count 1) spending one P2WPKH coin (count 1, amount 8, script 1 + 22, height and coinbase
  // flag 4) — and a 32-byte checksum.
  const spend = craftBlock(chain, key, { txs: [pay(coinbaseUtxo(blocks[0], key))] });
  assertEquals(chain.processBlock(spend), null);
  const after = 30375 + record(spend) + 8 + (1 + 1 + 8 + 23 + 4) + 32;
  assertEquals(chain.blockFilesSize(), after);
  // A side-branch block is written once it is accepted; a disconnected block keeps its undo record.
  const side = craftBlock(chain, other, { parent: chain.tip.prev });
  assertEquals(chain.processBlock(side), "inconclusive");
  assertEquals(chain.blockFilesSize(), after + record(side));
  chain.invalidateBlock(chain.tip.hash);
  chain.reconsiderBlock(blockHash(spend.header));
  assertEquals(chain.blockFilesSize(), after + record(side) + 8 + 1 + 32);
  // disk_size: the UTXO table's database pages.
  const pages = chain.utxoDiskSize();
  assert(pages > 0 && pages % 4096 === 0, `${pages}`);
});

Deno.test("chainstate: the database, its WAL and its shared memory are the owner's only (0600)", () => {
  using chain = openTempChain();
  mine(chain, 1, key);
  for (const suffix of ["", "-wal", "-shm"]) {
    const path = `${chain.dir}/chainstate.sqlite${suffix}`;
    assertEquals((Deno.statSync(path).mode! & 0o777).toString(8), "600", path);
  }
});

Deno.test("chainstate: everything survives closing and reopening", () => {
  const dir = Deno.makeTempDirSync({ prefix: "chain_test_" });
  try {
    let tips;
    let stats;
    {
      using chain = ChainState.open(dir);
      const blocks = mine(chain, 102, key);
      assertEquals(
        chain.processBlock(craftBlock(chain, key, { txs: [pay(coinbaseUtxo(blocks[0], key))] })),
        null,
      );
      const side = craftBlock(chain, key, { parent: chain.tip.prev });
      assertEquals(chain.processBlock(side), "inconclusive");
      tips = chain.chainTips();
      stats = chain.utxoStats();
    }
    {
      using chain = ChainState.open(dir);
      assertEquals(chain.height, 103);
      assertEquals(chain.chainTips(), tips);
      assertEquals(chain.utxoStats(), stats);
      assertUtxoSetMatchesBlocks(chain);
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
