/**
 * importmempool against real node processes over HTTP (`-rpcdoccheck`:
 * every result is checked against its documented shape): the mempool one
 * node saved (`savemempool`) imported by others on the same chain, with
 * each option's effect — `use_current_time`, `apply_fee_delta_priority`,
 * `apply_unbroadcast_set` — and Core's log lines; Core's -10 during
 * initial block download; Core's -1 for a file outside what the node's
 * sandbox may read (the log naming the directory it may), a garbage file,
 * a truncated one, one announcing 2^64 - 1 transactions, one larger than
 * `-maxmempool`, a directory and a missing file, the node serving on;
 * argument checks; and the help text, Core v30's word for word.
 *
 * @module
 */
import { hex } from "@scure/base";
import { assert, assertEquals } from "../../../assert.ts";
import { concatBytes, tempDir } from "../../../helpers.ts";
import { signTx, TestKey } from "../chain/chain_helpers.ts";
import { coinbaseUtxo, type RealNode, rejects, startRealNode } from "../real_node.ts";
import { encodeTx, scriptToAddress } from "../../../../components/node/chain/mod.ts";
import { encodeMempoolDump, readMempoolDump } from "../../../../components/node/mempool/persist.ts";

const key = new TestKey(21);
const ADDRESS = scriptToAddress(key.wpkh)!;
const UNKNOWN_TXID = "ab".repeat(32);
const IMPORT_FAILED = "Unable to import mempool file, see debug.log for details.";

/** Bitcoin Core v30.0's `help importmempool` (its RPC example passes the path unquoted). */
const HELP = `importmempool "filepath" ( options )

Import a mempool.dat file and attempt to add its contents to the mempool.
Warning: Importing untrusted files is dangerous, especially if metadata from the file is taken over.

Arguments:
1. filepath    (string, required) The mempool file
2. options     (json object, optional) Options object that can be used to pass named arguments, listed below.

Named Arguments:
use_current_time            (boolean, optional, default=true) Whether to use the current system time or use the entry time metadata from the mempool file.
                            Warning: Importing untrusted metadata may lead to unexpected issues and undesirable behavior.
apply_fee_delta_priority    (boolean, optional, default=false) Whether to apply the fee delta metadata from the mempool file.
                            It will be added to any existing fee deltas.
                            The fee delta can be set by the prioritisetransaction RPC.
                            Warning: Importing untrusted metadata may lead to unexpected issues and undesirable behavior.
                            Only set this bool if you understand what it does.
apply_unbroadcast_set       (boolean, optional, default=false) Whether to apply the unbroadcast set metadata from the mempool file.
                            Warning: Importing untrusted metadata may lead to unexpected issues and undesirable behavior.

Result:
{}    (empty JSON object)

Examples:
> bitcoin-cli importmempool /path/to/mempool.dat
> curl --user myusername --data-binary '{"jsonrpc": "2.0", "id": "curltest", "method": "importmempool", "params": [/path/to/mempool.dat]}' -H 'content-type: application/json' http://127.0.0.1:8332/
`;

/** A node on its own data directory with `-rpcdoccheck`. */
function startNode(): Promise<RealNode> {
  return startRealNode({ args: ["-rpcdoccheck"] });
}

/** Gives `to` the blocks of `from`'s chain it lacks. */
async function syncBlocks(from: RealNode, to: RealNode): Promise<void> {
  const height: number = await from.call("getblockcount");
  for (let h = (await to.call("getblockcount")) + 1; h <= height; h++) {
    const hash = await from.call("getblockhash", [h]);
    assertEquals(await to.call("submitblock", [await from.call("getblock", [hash, 0])]), null);
  }
}

/** The node's log lines written since `from` characters, timestamps cut. */
function logSince(node: RealNode, from: number): string[] {
  return Deno.readTextFileSync(`${node.datadir}/regtest/debug.log`).slice(from).split("\n")
    .filter((line) => line !== "").map((line) => line.replace(/^\S+ /, ""));
}

function logLength(node: RealNode): number {
  return Deno.readTextFileSync(`${node.datadir}/regtest/debug.log`).length;
}

/** A directory under `node`'s `regtest/`, which its sandbox lets it read. */
function importDir(node: RealNode): string {
  const dir = `${node.datadir}/regtest/imports`;
  Deno.mkdirSync(dir, { recursive: true });
  return dir;
}

Deno.test("importmempool: another node's savemempool imported, each option's effect, Core's errors", async (t) => {
  await using a = await startNode();
  using files = tempDir("importmempool_");

  await t.step("in initial block download: -10", async () => {
    await rejects(
      a.call("importmempool", [`${a.datadir}/regtest/mempool.dat`]),
      -10,
      "Can only import the mempool after the block download and sync is done.",
    );
  });

  const hashes: string[] = await a.call("generatetoaddress", [101, ADDRESS]);
  const spends: string[] = [];
  for (const hash of hashes.slice(0, 2)) {
    const coin = await coinbaseUtxo(a.call, hash, key);
    const tx = signTx([coin], [{ script: key.wpkh, amount: coin.amount - 10_000n }]);
    spends.push(await a.call("sendrawtransaction", [hex.encode(encodeTx(tx))]) as string);
  }
  const [first] = spends;
  await a.call("prioritisetransaction", [first, 0, 5000]);
  await a.call("prioritisetransaction", [UNKNOWN_TXID, 0, 777]);
  const saved = await a.call("savemempool");
  const entriesOfA = Object.fromEntries(
    await Promise.all(spends.map(async (txid) => [txid, await a.call("getmempoolentry", [txid])])),
  );
  assert(spends.every((txid) => entriesOfA[txid].unbroadcast), "no peers: never broadcast");
  // The same transactions an hour older (the file's own times, to tell them from now).
  const dump = readMempoolDump(Deno.readFileSync(saved.filename))!;
  const aged = `${files.path}/aged.dat`;
  Deno.writeFileSync(
    aged,
    encodeMempoolDump({
      ...dump,
      entries: dump.entries.map((entry) => ({ ...entry, time: entry.time - 3600n })),
    }),
  );

  await using b = await startNode();
  await syncBlocks(a, b);
  const dirB = importDir(b);
  Deno.copyFileSync(saved.filename, `${dirB}/a.dat`);

  await t.step(
    "defaults: A's transactions arrive now, without A's deltas or unbroadcast marks",
    async () => {
      const logged = logLength(b);
      const before = Math.floor(Date.now() / 1000);
      assertEquals(await b.call("importmempool", [`${dirB}/a.dat`]), {});
      const after = Math.floor(Date.now() / 1000);
      assertEquals((await b.call("getrawmempool")).sort(), [...spends].sort());
      for (const txid of spends) {
        const entry = await b.call("getmempoolentry", [txid]);
        const ofA = entriesOfA[txid];
        assertEquals([entry.wtxid, entry.vsize, entry.fees.base], [
          ofA.wtxid,
          ofA.vsize,
          ofA.fees.base,
        ]);
        assert(entry.time >= before && entry.time <= after, `${entry.time} is now`);
        assertEquals(entry.fees.modified, entry.fees.base);
        assertEquals(entry.unbroadcast, false);
      }
      assertEquals(await b.call("getprioritisedtransactions"), {});
      assertEquals((await b.call("getmempoolinfo")).unbroadcastcount, 0);
      assertEquals(logSince(b, logged), [
        "Loading 2 mempool transactions from file...",
        "Progress loading mempool transactions from file: 50% (tried 1, 1 remaining)",
        "Imported mempool transactions from file: 2 succeeded, 0 failed, 0 expired, 0 already there, 0 waiting for initial broadcast",
      ]);
    },
  );

  await using c = await startNode();
  await syncBlocks(a, c);
  const dirC = importDir(c);
  Deno.copyFileSync(aged, `${dirC}/aged.dat`);

  await t.step("use_current_time=false: the file's times", async () => {
    const result = await c.call("importmempool", [`${dirC}/aged.dat`, { use_current_time: false }]);
    assertEquals(result, {});
    for (const txid of spends) {
      const entry = await c.call("getmempoolentry", [txid]);
      assertEquals(entry.time, entriesOfA[txid].time - 3600);
      assertEquals([entry.fees.modified, entry.unbroadcast], [entry.fees.base, false]);
    }
  });

  await t.step(
    "apply_fee_delta_priority, apply_unbroadcast_set: A's deltas and marks, even for transactions already there",
    async () => {
      const logged = logLength(c);
      // Named arguments this time (the options are named-only parameters too).
      const result = await c.call("importmempool", {
        filepath: `${dirC}/aged.dat`,
        apply_fee_delta_priority: true,
        apply_unbroadcast_set: true,
      });
      assertEquals(result, {});
      const entry = await c.call("getmempoolentry", [first]);
      assertEquals(Math.round(entry.fees.modified * 1e8), Math.round(entry.fees.base * 1e8) + 5000);
      assertEquals(entry.time, entriesOfA[first].time - 3600, "already there: its time stays");
      assertEquals(
        await c.call("getprioritisedtransactions"),
        await a.call("getprioritisedtransactions"),
      );
      for (const txid of spends) assert((await c.call("getmempoolentry", [txid])).unbroadcast);
      assertEquals((await c.call("getmempoolinfo")).unbroadcastcount, 2);
      const log = logSince(c, logged);
      assertEquals(log.filter((line) => line.startsWith("PrioritiseTransaction")).length, 2);
      assertEquals(
        log.at(-1),
        "Imported mempool transactions from file: 0 succeeded, 0 failed, 0 expired, 2 already there, 2 waiting for initial broadcast",
      );
      // Added to the deltas already there, as Core's help says.
      await c.call("importmempool", [`${dirC}/aged.dat`, { apply_fee_delta_priority: true }]);
      const again = await c.call("getmempoolentry", [first]);
      assertEquals(
        Math.round(again.fees.modified * 1e8),
        Math.round(again.fees.base * 1e8) + 10_000,
      );
    },
  );

  await t.step(
    "a path outside what the sandbox lets the node read: -1, the log says where to put it",
    async () => {
      const logged = logLength(b);
      await rejects(b.call("importmempool", [saved.filename]), -1, IMPORT_FAILED);
      assertEquals(logSince(b, logged), [
        "Failed to open mempool file. Continuing anyway.",
        `importmempool: '${saved.filename}' is outside what the node's sandbox lets it read; keep mempool files to import under '${b.datadir}/regtest'`,
      ]);
    },
  );

  await t.step(
    "hostile and broken files: -1 with the reason in the log, the node serving on",
    async () => {
      const whole = Deno.readFileSync(saved.filename);
      const le64 = (value: bigint) => {
        const bytes = new Uint8Array(8);
        new DataView(bytes.buffer).setBigUint64(0, value, true);
        return bytes;
      };
      const sparse = `${dirB}/sparse.dat`;
      Deno.writeFileSync(sparse, new Uint8Array());
      Deno.truncateSync(sparse, 300_000_001); // no disk used
      const eof = "AutoFile::read: end of file: iostream error";
      const cases: [string, Uint8Array | string, string[]][] = [
        ["garbage", new TextEncoder().encode("garbagegarbage\n"), [
          "importmempool: '%' not imported: unknown mempool file version 7450474826515505511",
        ]],
        ["truncated", whole.subarray(0, 100), [
          "Loading 2 mempool transactions from file...",
          `Failed to deserialize mempool data on file: ${eof}. Continuing anyway.`,
          `importmempool: '%' not imported: ${eof}`,
        ]],
        ["huge-count", concatBytes(le64(1n), le64(2n ** 64n - 1n), new Uint8Array(100)), [
          "Loading 18446744073709551615 mempool transactions from file...",
          `Failed to deserialize mempool data on file: ${eof}. Continuing anyway.`,
          `importmempool: '%' not imported: ${eof}`,
        ]],
        ["sparse", sparse, [
          "Failed to open mempool file. Continuing anyway.",
          "importmempool: '%' not imported: 300000001 bytes, more than the 300000000 of this node's -maxmempool",
        ]],
        ["directory", dirB, [
          "Failed to open mempool file. Continuing anyway.",
          "importmempool: '%' not imported: not a regular file",
        ]],
        ["missing", `${dirB}/missing.dat`, [
          "Failed to open mempool file. Continuing anyway.",
          "importmempool: '%' not imported: no such file",
        ]],
      ];
      for (const [name, content, lines] of cases) {
        let path = content as string;
        if (content instanceof Uint8Array) {
          path = `${dirB}/${name}.dat`;
          Deno.writeFileSync(path, content);
        }
        const logged = logLength(b);
        await rejects(b.call("importmempool", [path]), -1, IMPORT_FAILED);
        assertEquals(logSince(b, logged), lines.map((line) => line.replace("%", path)), name);
        assertEquals(await b.call("getblockcount"), 101, name);
      }
      // A path cannot forge log lines: its control characters are escaped.
      const logged = logLength(b);
      await rejects(b.call("importmempool", [`${dirB}/a\nforged line`]), -1, IMPORT_FAILED);
      assertEquals(
        logSince(b, logged).at(-1),
        `importmempool: '${dirB}/a\\x0aforged line' not imported: no such file`,
      );
      assertEquals((await b.call("getrawmempool")).length, 2);
      assertEquals(b.stderr(), "");
    },
  );

  await t.step("arguments: Core's checks and help", async () => {
    const path = `${dirB}/a.dat`;
    await rejects(
      b.call("importmempool", [path, { use_current_time: 1 }]),
      -3,
      "JSON value of type number is not of expected type bool",
    );
    await rejects(
      b.call("importmempool", [path, { apply_unbroadcast_set: "yes" }]),
      -3,
      "JSON value of type string is not of expected type bool",
    );
    // Keys Core does not read are ignored, nulls take the defaults.
    assertEquals(
      await b.call("importmempool", [path, { other: 1, use_current_time: null }]),
      {},
    );
    await rejects(b.call("importmempool", []), -1, HELP);
    await rejects(
      b.call("importmempool", [1]),
      -3,
      'Wrong type passed:\n{\n    "Position 1 (filepath)": "JSON value of type number is not of expected type string"\n}',
    );
    assertEquals(await b.call("help", ["importmempool"]), HELP);
  });
});
