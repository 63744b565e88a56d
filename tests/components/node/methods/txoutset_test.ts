/**
 * dumptxoutset and loadtxoutset against a real node process over HTTP
 * (`-rpcdoccheck`: every result is checked against its documented shape):
 * the snapshot decodes to exactly the UTXO set (every coin as `gettxout`
 * reports it, the count and `hash_serialized_3` of `gettxoutsetinfo`,
 * recomputed from the decoded coins); the metadata and one coin of each
 * script compression kind byte for byte; rollbacks to a height, to a hash
 * and to regtest's highest snapshot height (the tip restored, the hash as
 * `gettxoutsetinfo` reported it at that height); Core's errors, the failed
 * rollback included (network activity and the tip as they were); and
 * loadtxoutset's refusals of a good snapshot and of corrupt ones, with
 * Core's codes and texts; and both help texts, Core v30's word for word.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { hex } from "@scure/base";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { assert, assertEquals } from "../../../assert.ts";
import { concatBytes, tempDir } from "../../../helpers.ts";
import { signTx, TestKey } from "../chain/chain_helpers.ts";
import { coinbaseUtxo, type RealNode, rejects, startRealNode } from "../real_node.ts";
import {
  compressAmount,
  decodeSnapshot,
  encodeTx,
  encodeVarInt,
  hash160,
  hashFromHex,
  hashToHex,
  REGTEST_MAGIC,
  scriptToAddress,
  summarizeUtxoSet,
  txid,
} from "../../../../components/node/chain/mod.ts";

const miner = new TestKey(31);
const payee = new TestKey(32);
const ADDRESS = scriptToAddress(miner.wpkh)!;
const COIN = 100_000_000n;

/** `HelpExampleRpc`-free examples: both methods show bitcoin-cli lines only. */
const HELP_DUMP = `dumptxoutset "path" ( "type" {"rollback":n,...} )

Write the serialized UTXO set to a file. This can be used in loadtxoutset afterwards if this snapshot height is supported in the chainparams as well.

Unless the "latest" type is requested, the node will roll back to the requested height and network activity will be suspended during this process. Because of this it is discouraged to interact with the node in any other way during the execution of this call to avoid inconsistent results and race conditions, particularly RPCs that interact with blockstorage.

This call may take several minutes. Make sure to use no RPC timeout (bitcoin-cli -rpcclienttimeout=0)

Arguments:
1. path       (string, required) Path to the output file. If relative, will be prefixed by datadir.
2. type       (string, optional, default="") The type of snapshot to create. Can be "latest" to create a snapshot of the current UTXO set or "rollback" to temporarily roll back the state of the node to a historical block before creating the snapshot of a historical UTXO set. This parameter can be omitted if a separate "rollback" named parameter is specified indicating the height or hash of a specific historical block. If "rollback" is specified and separate "rollback" named parameter is not specified, this will roll back to the latest valid snapshot block that can currently be loaded with loadtxoutset.
3. options    (json object, optional) Options object that can be used to pass named arguments, listed below.

Named Arguments:
rollback    (string or numeric, optional) Height or hash of the block to roll back to before creating the snapshot. Note: The further this number is from the tip, the longer this process will take. Consider setting a higher -rpcclienttimeout value in this case.

Result:
{                             (json object)
  "coins_written" : n,        (numeric) the number of coins written in the snapshot
  "base_hash" : "hex",        (string) the hash of the base of the snapshot
  "base_height" : n,          (numeric) the height of the base of the snapshot
  "path" : "str",             (string) the absolute path that the snapshot was written to
  "txoutset_hash" : "hex",    (string) the hash of the UTXO set contents
  "nchaintx" : n              (numeric) the number of transactions in the chain up to and including the base block
}

Examples:
> bitcoin-cli -rpcclienttimeout=0 dumptxoutset utxo.dat latest
> bitcoin-cli -rpcclienttimeout=0 dumptxoutset utxo.dat rollback
> bitcoin-cli -rpcclienttimeout=0 -named dumptxoutset utxo.dat rollback=853456
`;

const HELP_LOAD = `loadtxoutset "path"

Load the serialized UTXO set from a file.
Once this snapshot is loaded, its contents will be deserialized into a second chainstate data structure, which is then used to sync to the network's tip. Meanwhile, the original chainstate will complete the initial block download process in the background, eventually validating up to the block that the snapshot is based upon.

The result is a usable bitcoind instance that is current with the network tip in a matter of minutes rather than hours. UTXO snapshot are typically obtained from third-party sources (HTTP, torrent, etc.) which is reasonable since their contents are always checked by hash.

You can find more information on this process in the \`assumeutxo\` design document (<https://github.com/bitcoin/bitcoin/blob/master/doc/design/assumeutxo.md>).

Arguments:
1. path    (string, required) path to the snapshot file. If relative, will be prefixed by datadir.

Result:
{                        (json object)
  "coins_loaded" : n,    (numeric) the number of coins loaded from the snapshot
  "tip_hash" : "hex",    (string) the hash of the base of the snapshot
  "base_height" : n,     (numeric) the height of the base of the snapshot
  "path" : "str"         (string) the absolute path that the snapshot was loaded from
}

Examples:
> bitcoin-cli -rpcclienttimeout=0 loadtxoutset utxo.dat
`;

/** The outputs of the transaction the byte checks look at, one per script kind. */
const uncompressed = secp256k1.getPublicKey(payee.secret, false);
const compressedKey = payee.publicKey;
const offCurve = Uint8Array.of(4, ...new Uint8Array(63).fill(0), 1);
const scriptHash = hash160(Uint8Array.of(0x51));
const OUTPUTS = [
  // P2PKH, 1 BTC: CompressAmount 9.
  { script: payee.pkh, amount: COIN },
  // P2SH, 0.5 BTC: CompressAmount 48.
  { script: Uint8Array.of(0xa9, 20, ...scriptHash, 0x87), amount: COIN / 2n },
  // P2WPKH, 2 BTC (19): no special form.
  { script: payee.wpkh, amount: 2n * COIN },
  // P2PK with a compressed key, 25,000 sat (224: two VARINT bytes).
  { script: Uint8Array.of(33, ...compressedKey, 0xac), amount: 25_000n },
  // P2PK with a valid uncompressed key, 1 BTC.
  { script: Uint8Array.of(65, ...uncompressed, 0xac), amount: COIN },
  // P2PK with an uncompressed "key" off the curve: stored as it is.
  { script: Uint8Array.of(65, ...offCurve, 0xac), amount: COIN },
  // OP_RETURN: never in the UTXO set.
  { script: Uint8Array.of(0x6a, 1, 7), amount: 0n },
];
const FEE = 25_000n;

/** The snapshot file's bytes. */
function readFile(path: string): Uint8Array {
  return Deno.readFileSync(path);
}

/** Every coin of a decoded snapshot checked against `gettxout`; the set's hash recomputed. */
async function checkAgainstNode(node: RealNode, file: Uint8Array): Promise<void> {
  const { metadata, coins } = decodeSnapshot(file, REGTEST_MAGIC);
  const info = await node.call("gettxoutsetinfo");
  assertEquals(hashToHex(metadata.baseBlockHash), info.bestblock);
  assertEquals([Number(metadata.coinsCount), coins.length], [info.txouts, info.txouts]);
  assertEquals(hashToHex(summarizeUtxoSet(coins).hashSerialized), info.hash_serialized_3);
  for (const [outpoint, coin] of coins) {
    const out = await node.call("gettxout", [hashToHex(outpoint.txid), outpoint.index, false]);
    assert(out !== null, `${hashToHex(outpoint.txid)}:${outpoint.index} is unspent`);
    assertEquals(
      [BigInt(Math.round(out.value * 1e8)), hex.encode(coin.script), coin.coinbase],
      [coin.amount, out.scriptPubKey.hex, out.coinbase],
    );
    assertEquals(coin.height, info.height - out.confirmations + 1);
  }
}

Deno.test("dumptxoutset and loadtxoutset: Core's snapshot format, rollbacks and errors", async (t) => {
  await using node = await startRealNode({ args: ["-rpcdoccheck"] });
  const netDir = `${node.datadir}/regtest`;
  const call = node.call;

  await call("generatetoaddress", [101, ADDRESS]);
  const info101 = await call("gettxoutsetinfo");
  const hash1 = await call("getblockhash", [1]);
  const funding = await coinbaseUtxo(call, hash1, miner);
  const change = funding.amount - OUTPUTS.reduce((sum, o) => sum + o.amount, 0n) - FEE;
  const tx = signTx([funding], [...OUTPUTS, { script: miner.wpkh, amount: change }], {
    anyOutputs: true,
  });
  // generateblock takes the nonstandard output (the off-curve key) that relay would refuse.
  await call("generateblock", [ADDRESS, [hex.encode(encodeTx(tx))]]);
  const info102 = await call("gettxoutsetinfo");
  await call("generatetoaddress", [3, ADDRESS]);
  const tipBefore = await call("getbestblockhash");

  await t.step("help texts, Core v30's word for word", async () => {
    assertEquals(await call("help", ["dumptxoutset"]), HELP_DUMP);
    assertEquals(await call("help", ["loadtxoutset"]), HELP_LOAD);
  });

  await t.step("latest: the file is the UTXO set, written where the result says", async () => {
    const out = await call("dumptxoutset", ["utxo.dat", "latest"]);
    const info = await call("gettxoutsetinfo");
    assertEquals(out, {
      coins_written: info.txouts,
      base_hash: tipBefore,
      base_height: 105,
      path: `${netDir}/utxo.dat`,
      txoutset_hash: info.hash_serialized_3,
      nchaintx: 107, // genesis, 105 coinbases, the transaction above
    });
    assert(!existsSync(`${netDir}/utxo.dat.incomplete`), "the temporary file was renamed");
    await checkAgainstNode(node, readFile(out.path));
    // A second dump of the same tip is the same file.
    const again = await call("dumptxoutset", [`${netDir}/again.dat`, "latest"]);
    assertEquals(readFile(again.path), readFile(out.path));
  });

  await t.step("the metadata and each script compression, byte for byte", async () => {
    const file = readFile(`${netDir}/utxo.dat`);
    const { txouts } = await call("gettxoutsetinfo");
    assert(txouts < 256);
    assertEquals(
      hex.encode(file.subarray(0, 51)),
      "7574786fff" + "0200" + "fabfb5da" + hex.encode(hashFromHex(tipBefore)) +
        hex.encode(Uint8Array.of(txouts, 0, 0, 0, 0, 0, 0, 0)),
    );
    const id = txid(tx);
    const at = indexOf(file, id);
    assert(at > 51, "the transaction's coins are in the file");
    // Height 102, not a coinbase: code 204, Core's VARINT 80 4c (LEB128 would be cc 01).
    const code = [0x80, 0x4c];
    const expected = concatBytes(
      id,
      Uint8Array.of(7), // seven unspent outputs (the OP_RETURN is not one)
      Uint8Array.of(0, ...code, 0x09, 0x00, ...payee.pkh.subarray(3, 23)),
      Uint8Array.of(1, ...code, 0x30, 0x01, ...scriptHash),
      Uint8Array.of(2, ...code, 0x13, 22 + 6, ...payee.wpkh),
      Uint8Array.of(3, ...code, 0x80, 0x60, ...compressedKey),
      Uint8Array.of(
        4,
        ...code,
        0x09,
        0x04 | (uncompressed[64] & 1),
        ...uncompressed.subarray(1, 33),
      ),
      Uint8Array.of(5, ...code, 0x09, 67 + 6, ...OUTPUTS[5].script),
      Uint8Array.of(7, ...code, ...encodeVarInt(compressAmount(change)), 22 + 6, ...miner.wpkh),
    );
    assertEquals(hex.encode(file.subarray(at, at + expected.length)), hex.encode(expected));
    assertEquals(indexOf(file, funding.outpoint.txid), -1, "the spent coinbase is gone");
  });

  await t.step("rollback to a height and to a hash: the tip comes back", async () => {
    const byHeight = await call("dumptxoutset", {
      path: "at101.dat",
      rollback: 101,
    });
    assertEquals(byHeight, {
      coins_written: info101.txouts,
      base_hash: info101.bestblock,
      base_height: 101,
      path: `${netDir}/at101.dat`,
      txoutset_hash: info101.hash_serialized_3,
      nchaintx: 102,
    });
    assertEquals(await call("getbestblockhash"), tipBefore);
    const { metadata, coins } = decodeSnapshot(readFile(byHeight.path), REGTEST_MAGIC);
    assertEquals(hashToHex(metadata.baseBlockHash), info101.bestblock);
    assertEquals(hashToHex(summarizeUtxoSet(coins).hashSerialized), info101.hash_serialized_3);

    const byHash = await call("dumptxoutset", ["at102.dat", "rollback", {
      rollback: info102.bestblock,
    }]);
    assertEquals(
      [byHash.base_height, byHash.base_hash, byHash.txoutset_hash, byHash.nchaintx],
      [102, info102.bestblock, info102.hash_serialized_3, 104],
    );
    assertEquals(await call("getbestblockhash"), tipBefore);
    assertEquals((await call("getnetworkinfo")).networkactive, true);
    // Rolling back to the tip itself rolls nothing back.
    const atTip = await call("dumptxoutset", ["attip.dat", "", { rollback: 105 }]);
    assertEquals(atTip.base_hash, tipBefore);
  });

  await t.step("Core's errors", async () => {
    await rejects(
      call("dumptxoutset", ["x.dat"]),
      -8,
      'Invalid snapshot type "" specified. Please specify "rollback" or "latest"',
    );
    await rejects(
      call("dumptxoutset", ["x.dat", "bogus"]),
      -8,
      'Invalid snapshot type "bogus" specified. Please specify "rollback" or "latest"',
    );
    await rejects(
      call("dumptxoutset", ["x.dat", "latest", { rollback: 1 }]),
      -8,
      'Invalid snapshot type "latest" specified with rollback option',
    );
    // Without a height, the highest of regtest's snapshot heights (110, 200, 299).
    await rejects(
      call("dumptxoutset", ["x.dat", "rollback"]),
      -8,
      "Target block height 299 after current tip 105",
    );
    await rejects(
      call("dumptxoutset", { path: "x.dat", rollback: -1 }),
      -8,
      "Target block height -1 is negative",
    );
    await rejects(
      call("dumptxoutset", { path: "x.dat", rollback: 106 }),
      -8,
      "Target block height 106 after current tip 105",
    );
    await rejects(
      call("dumptxoutset", { path: "x.dat", rollback: "ab".repeat(32) }),
      -5,
      "Block not found",
    );
    await rejects(
      call("dumptxoutset", ["utxo.dat", "latest"]),
      -8,
      `${netDir}/utxo.dat already exists. If you are sure this is what you want, move it out of the way first`,
    );
    await rejects(
      call("dumptxoutset", [`${node.datadir}/invalid/path`, "latest"]),
      -8,
      `Couldn't open file ${node.datadir}/invalid/path.incomplete for writing.`,
    );
    // Outside what the node's sandbox lets it write: the same error, the node serving on.
    using outside = tempDir("txoutset_outside_");
    await rejects(
      call("dumptxoutset", [`${outside.path}/utxo.dat`, "latest"]),
      -8,
      `Couldn't open file ${outside.path}/utxo.dat.incomplete for writing.`,
    );
    assert(!existsSync(`${outside.path}/utxo.dat.incomplete`));
    // A FIFO would block the opening for good (Core's would wait): refused as unopenable.
    const fifo = `${netDir}/fifo.dat.incomplete`;
    assert((await new Deno.Command("mkfifo", { args: [fifo] }).output()).success);
    await rejects(
      call("dumptxoutset", ["fifo.dat", "latest"]),
      -8,
      `Couldn't open file ${fifo} for writing.`,
    );
    await rejects(call("loadtxoutset", [fifo]), -8, `Couldn't open file ${fifo} for reading.`);
    assertEquals(await call("getbestblockhash"), tipBefore);
  });

  await t.step("a failed rollback leaves the tip and network activity as they were", async () => {
    // A valid sibling of block 104 takes over when block 104 is invalidated.
    const hash104 = await call("getblockhash", [104]);
    await call("invalidateblock", [hash104]);
    const [sibling] = await call("generatetoaddress", [1, scriptToAddress(payee.wpkh)!]);
    await call("reconsiderblock", [hash104]);
    assertEquals(await call("getbestblockhash"), tipBefore);

    await rejects(
      call("dumptxoutset", { path: "fork.dat", rollback: 103 }),
      -1,
      "Could not roll back to requested height.",
    );
    assertEquals(await call("getbestblockhash"), tipBefore);
    assertEquals((await call("getnetworkinfo")).networkactive, true);
    assert(!existsSync(`${netDir}/fork.dat`));
    // Core leaves the temporary file behind.
    assert(existsSync(`${netDir}/fork.dat.incomplete`));

    await call("setnetworkactive", [false]);
    await rejects(
      call("dumptxoutset", { path: "fork.dat", rollback: 103 }),
      -1,
      "Could not roll back to requested height.",
    );
    assertEquals((await call("getnetworkinfo")).networkactive, false);
    await call("setnetworkactive", [true]);

    // A block off the active chain cannot be rolled back to either.
    await rejects(
      call("dumptxoutset", { path: "fork.dat", rollback: sibling }),
      -1,
      "Could not roll back to requested height.",
    );
    assertEquals(await call("getbestblockhash"), tipBefore);
  });

  await t.step("loadtxoutset: Core's refusals", async () => {
    const good = readFile(`${netDir}/utxo.dat`);
    const notRecognized = (hash: string, path: string) =>
      `Unable to load UTXO snapshot: assumeutxo block hash in snapshot metadata not recognized (hash: ${hash}). The following snapshot heights are available: 110, 200, 299. (${path})`;
    await rejects(
      call("loadtxoutset", ["utxo.dat"]),
      -32603,
      notRecognized(tipBefore, `${netDir}/utxo.dat`),
    );
    await rejects(
      call("loadtxoutset", [`${netDir}/missing.dat`]),
      -8,
      `Couldn't open file ${netDir}/missing.dat for reading.`,
    );
    await rejects(call("loadtxoutset", [""]), -8, "Couldn't open file  for reading.");

    const write = (name: string, bytes: Uint8Array) => {
      Deno.writeFileSync(`${netDir}/${name}`, bytes);
      return `${netDir}/${name}`;
    };
    const parse = (what: string) => `Unable to parse metadata: ${what}: iostream error`;
    const bad = (name: string, at: number, bytes: Uint8Array) =>
      write(name, concatBytes(good.subarray(0, at), bytes, good.subarray(at + bytes.length)));

    await rejects(
      call("loadtxoutset", [bad("magic.dat", 0, Uint8Array.of(0xf0, 0x0f, 0x00, 0xf0, 0x00))]),
      -22,
      parse(
        "Invalid UTXO set snapshot magic bytes. Please check if this is indeed a snapshot file or if you are using an outdated snapshot format.",
      ),
    );
    for (const version of [0, 1, 3]) {
      await rejects(
        call("loadtxoutset", [bad("version.dat", 5, Uint8Array.of(version, 0))]),
        -22,
        parse(`Version of snapshot ${version} does not match any of the supported versions.`),
      );
    }
    const networks: [string, string][] = [
      ["f9beb4d9", "main"],
      ["0b110907", "test"],
      ["1c163f28", "testnet4"],
      ["0a03cf40", "signet"],
    ];
    for (const [magic, name] of networks) {
      await rejects(
        call("loadtxoutset", [bad("network.dat", 7, hex.decode(magic))]),
        -22,
        parse(
          `The network of the snapshot (${name}) does not match the network of this node (regtest).`,
        ),
      );
    }
    for (const magic of ["00000000", "ffffffff"]) {
      await rejects(
        call("loadtxoutset", [bad("network.dat", 7, hex.decode(magic))]),
        -22,
        parse(
          "This snapshot has been created for an unrecognized network. This could be a custom signet, a new testnet or possibly caused by data corruption.",
        ),
      );
    }
    for (const length of [0, 4, 6, 10, 42, 50]) {
      await rejects(
        call("loadtxoutset", [write("cut.dat", good.subarray(0, length))]),
        -22,
        parse("AutoFile::read: end of file"),
      );
    }
    // A bad magic is reported as soon as the five bytes are read.
    await rejects(
      call("loadtxoutset", [write("cut.dat", Uint8Array.of(1, 2, 3, 4, 5, 6))]),
      -22,
      parse(
        "Invalid UTXO set snapshot magic bytes. Please check if this is indeed a snapshot file or if you are using an outdated snapshot format.",
      ),
    );
    await rejects(
      call("loadtxoutset", [netDir]),
      -22,
      parse("AutoFile::read: fread failed"),
    );
    // The metadata alone is enough to be refused: nothing after it is read.
    await rejects(
      call("loadtxoutset", [write("head.dat", good.subarray(0, 51))]),
      -32603,
      notRecognized(tipBefore, `${netDir}/head.dat`),
    );
    for (const hash of ["00".repeat(32), await call("getblockhash", [104])]) {
      const path = bad("hash.dat", 11, hashFromHex(hash));
      await rejects(call("loadtxoutset", [path]), -32603, notRecognized(hash, path));
    }
    // Core's regtest snapshot block at 299, whose header this chain does not have.
    const core299 = "7cc695046fec709f8c9394b6f928f81e81fd3ac20977bb68760fa1faa7916ea2";
    const path = bad("core299.dat", 11, hashFromHex(core299));
    await rejects(
      call("loadtxoutset", [path]),
      -32603,
      `Unable to load UTXO snapshot: The base block header (${core299}) must appear in the headers chain. Make sure all headers are syncing, and call loadtxoutset again. (${path})`,
    );
  });

  await t.step("rollback without a height goes to regtest's snapshot height 299", async () => {
    await call("generatetoaddress", [300 - 105, ADDRESS]);
    const info300 = await call("gettxoutsetinfo");
    const out = await call("dumptxoutset", ["at299.dat", "rollback"]);
    assertEquals(
      [out.base_height, out.base_hash, out.coins_written],
      [299, await call("getblockhash", [299]), info300.txouts - 1],
    );
    assertEquals(await call("getblockcount"), 300);
    assertEquals(await call("getbestblockhash"), info300.bestblock);
  });

  await t.step("the log says what Core's does", () => {
    const log = Deno.readTextFileSync(`${netDir}/debug.log`);
    assert(log.includes(`WriteUTXOSnapshot: writing UTXO snapshot at height 105 (${tipBefore})`));
    assert(log.includes("SetNetworkActive: false"));
    assert(log.includes("dumptxoutset failed to roll back to requested height, reverting to tip."));
  });
});

/** Where `needle` first occurs in `haystack`, or -1. */
function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
