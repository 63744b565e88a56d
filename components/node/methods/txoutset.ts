/**
 * `dumptxoutset` and `loadtxoutset` (category blockchain) as Bitcoin Core
 * v30 serves them (`rpc/blockchain.cpp`), with its help texts, checks and
 * errors.
 *
 * dumptxoutset writes the UTXO set in Core's snapshot format
 * (`../chain/snapshot.ts`) to `<path>.incomplete`, then renames it;
 * relative paths resolve against `<datadir>/regtest`. The "rollback" type
 * rolls the chain back to a historical block first, as Core's
 * `TemporaryRollback` does — the block after the target is invalidated,
 * the set written, and the block reconsidered, even when writing fails —
 * all in one synchronous step, so no other request sees the rolled-back
 * chain (network activity is switched off around it, as Core's
 * `NetworkDisable` does).
 *
 * loadtxoutset reads and checks the snapshot's metadata and then applies
 * `ChainstateManager::ActivateSnapshot`'s checks in Core's order. This node
 * keeps a single chainstate: a snapshot that passes every check Core makes
 * before populating a second chainstate is refused too (only a snapshot of
 * one of Core's hard-coded regtest snapshot blocks, 110, 200 or 299, whose
 * header this node holds, gets that far).
 *
 * @example
 * ```ts
 * import { ChainState } from "../chain/mod.ts";
 * import { Mempool } from "../mempool/mod.ts";
 * import { NodeServices } from "./services.ts";
 * import { txOutSetMethods } from "./txoutset.ts";
 * const dir = Deno.makeTempDirSync();
 * {
 *   using chain = ChainState.open(dir);
 *   using mempool = new Mempool(chain);
 *   const node = new NodeServices({ chain, mempool, netDir: dir });
 *   const names = txOutSetMethods(node).map((method) => method.name);
 *   if (names.join() !== "dumptxoutset,loadtxoutset") throw new Error(names.join());
 * }
 * Deno.removeSync(dir, { recursive: true });
 * ```
 * @module
 */
import {
  type BlockEntry,
  BlockStatus,
  bytesEqual,
  hashToHex,
  readSnapshotMetadata,
  REGTEST_ASSUMEUTXO,
  REGTEST_MAGIC,
  regtestAssumeutxoFor,
  SNAPSHOT_METADATA_SIZE,
  SnapshotFormatError,
  type SnapshotMetadata,
  SnapshotWriter,
} from "../chain/mod.ts";
import {
  asStr,
  defineMethod,
  helpExampleCli,
  internalBug,
  type JsonInput,
  JsonObject,
  RpcError,
  RpcErrorCode,
  type RpcMethod,
} from "../../rpc/mod.ts";
import { activeBlockAtHeight, bestHeader, blockByHashOrHeight } from "./blockchain.ts";
import { hexStr, num, obj, str } from "./docs.ts";
import type { NodeServices } from "./services.ts";

/**
 * `fsbridge::AbsPathJoin`: `path` itself when absolute, else `base/path`
 * (std::filesystem's `/`, so an empty `path` gives `base/`).
 */
export function absPathJoin(base: string, path: string): string {
  return path.startsWith("/") ? path : `${base}/${path}`;
}

/**
 * `path`'s file information; undefined when there is none to be had
 * (absent, or outside what the node's sandbox lets it look at).
 */
function lookAt(path: string): Deno.FileInfo | undefined {
  try {
    return Deno.statSync(path);
  } catch {
    return undefined;
  }
}

/**
 * `fopen(path, "wb")` or `fopen(path, "rb")`, or Core's -8 `Couldn't open
 * file <path> for writing.` / `… for reading.` when it fails: absent, not a
 * file, or outside what the node's sandbox lets it write or read. A file
 * whose opening could wait forever — a FIFO (until the other end opens it)
 * or, for reading, a character device (until input comes) — is refused
 * the same way (Core would wait).
 */
function openFile(path: string, mode: "writing" | "reading"): Deno.FsFile {
  const info = lookAt(path);
  const blocking = info?.isFifo === true || (mode === "reading" && info?.isCharDevice === true);
  try {
    if (blocking) throw new Error("the opening could block");
    return Deno.openSync(
      path,
      mode === "writing" ? { write: true, create: true, truncate: true, mode: 0o600 } : {
        read: true,
      },
    );
  } catch {
    throw new RpcError(RpcErrorCode.INVALID_PARAMETER, `Couldn't open file ${path} for ${mode}.`);
  }
}

/** Writes all of `bytes`, or throws Core's `AutoFile::write` failure. */
function writeAll(file: Deno.FsFile, bytes: Uint8Array): void {
  try {
    for (let at = 0; at < bytes.length;) at += file.writeSync(bytes.subarray(at));
  } catch {
    throw new Error("AutoFile::write: write failed: iostream error");
  }
}

/** What `WriteUTXOSnapshot` reports. */
interface WrittenSnapshot {
  readonly coinsWritten: number;
  readonly base: BlockEntry;
  readonly txoutsetHash: string;
}

/**
 * `PrepareUTXOSnapshot` and `WriteUTXOSnapshot` at the active tip: the
 * statistics (`hash_serialized_3`, the coin count), then the metadata and
 * every coin in key order, streamed to `file` in bounded chunks.
 */
function writeSnapshot(
  node: NodeServices,
  file: Deno.FsFile,
  path: string,
  temp: string,
): WrittenSnapshot {
  const { chain } = node;
  const stats = chain.utxoStats();
  const base = chain.entry(stats.bestBlock)!;
  const title = `writing UTXO snapshot at height ${base.height} (${
    hashToHex(base.hash)
  }) to file ${path} (via ${temp})`;
  const started = performance.now();
  node.log(`WriteUTXOSnapshot: ${title} started`);
  const writer = new SnapshotWriter((bytes) => writeAll(file, bytes));
  writer.writeMetadata({
    networkMagic: REGTEST_MAGIC,
    baseBlockHash: base.hash,
    coinsCount: BigInt(stats.txouts),
  });
  for (const [outpoint, coin] of chain.snapshotCoins()) writer.add(outpoint, coin);
  writer.finish();
  if (writer.coinsWritten !== stats.txouts) {
    throw new Error(
      internalBug("written_coins_count == maybe_stats->coins_count", "WriteUTXOSnapshot"),
    );
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(2);
  node.log(`WriteUTXOSnapshot: ${title} completed (${seconds}s)`);
  return {
    coinsWritten: writer.coinsWritten,
    base,
    txoutsetHash: hashToHex(stats.hashSerialized),
  };
}

/**
 * Core's `TemporaryRollback` (and `NetworkDisable`) around `write`: when
 * `target` is not the tip, network activity is switched off (if on), the
 * active block after `target` invalidated, and both undone afterwards,
 * whatever `write` did. -1 `Could not roll back to requested height.` when
 * the tip is not `target` after invalidating (a sibling branch took over,
 * or `target` is not in the active chain).
 */
function withRollback<T>(node: NodeServices, target: BlockEntry, write: () => T): T {
  const { chain, connman } = node;
  let invalidated: BlockEntry | undefined;
  let networkSuspended = false;
  try {
    if (!bytesEqual(target.hash, chain.tip.hash)) {
      if (connman.networkActive) {
        connman.setNetworkActive(false);
        networkSuspended = true;
      }
      // Core's `ActiveChain().Next(target)`; for a block outside the active chain
      // there is none (Core would dereference a null pointer): nothing is rolled back.
      invalidated = chain.isActive(target) ? chain.entryAtHeight(target.height + 1) : undefined;
      if (invalidated) {
        try {
          chain.invalidateBlock(invalidated.hash);
        } catch (error) {
          node.log(`dumptxoutset: invalidating ${hashToHex(invalidated.hash)} failed: ${error}`);
        }
      }
    }
    if (!bytesEqual(target.hash, chain.tip.hash)) {
      node.log("dumptxoutset failed to roll back to requested height, reverting to tip.");
      throw new RpcError(RpcErrorCode.MISC_ERROR, "Could not roll back to requested height.");
    }
    return write();
  } finally {
    try {
      if (invalidated) chain.reconsiderBlock(invalidated.hash);
    } finally {
      if (networkSuspended) connman.setNetworkActive(true);
    }
  }
}

/**
 * `ChainstateManager::ActivateSnapshot`'s checks before it populates a
 * snapshot chainstate, in Core's order: the reason a snapshot is refused.
 * This node keeps one chainstate, so a snapshot passing them all is
 * refused as well.
 */
function activateSnapshot(node: NodeServices, metadata: SnapshotMetadata): string {
  const base = hashToHex(metadata.baseBlockHash);
  if (!regtestAssumeutxoFor(metadata.baseBlockHash)) {
    const heights = REGTEST_ASSUMEUTXO.map((data) => data.height).join(", ");
    return `assumeutxo block hash in snapshot metadata not recognized (hash: ${base}). The following snapshot heights are available: ${heights}`;
  }
  const entry = node.chain.entry(metadata.baseBlockHash);
  if (!entry) {
    return `The base block header (${base}) must appear in the headers chain. Make sure all headers are syncing, and call loadtxoutset again`;
  }
  if (entry.status & (BlockStatus.FAILED | BlockStatus.FAILED_CHILD)) {
    return `The base block header (${base}) is part of an invalid chain`;
  }
  const onBest = node.chain.ancestor(bestHeader(node), entry.height);
  if (!onBest || !bytesEqual(onBest.hash, entry.hash)) {
    return "A forked headers-chain with more work than the chain with the snapshot base block header exists. Please proceed to sync without AssumeUtxo.";
  }
  if (node.mempool.size > 0) return "Can't activate a snapshot when mempool not empty";
  return "this node keeps a single chainstate and cannot activate a snapshot-based one";
}

/** Reads up to the metadata's size from the start of `path`'s open file. */
function readHead(file: Deno.FsFile): Uint8Array {
  const head = new Uint8Array(SNAPSHOT_METADATA_SIZE);
  let used = 0;
  while (used < head.length) {
    let read: number | null;
    try {
      read = file.readSync(head.subarray(used));
    } catch {
      // fread on a directory or an unreadable file: not the end of the file.
      throw new SnapshotFormatError("AutoFile::read: fread failed");
    }
    if (read === null) break;
    used += read;
  }
  return head.subarray(0, used);
}

/** The methods over `node`. */
export function txOutSetMethods(node: NodeServices): RpcMethod[] {
  const { chain } = node;
  const netDir = () => node.netDir ?? Deno.cwd();
  return [
    defineMethod({
      name: "dumptxoutset",
      category: "blockchain",
      description:
        "Write the serialized UTXO set to a file. This can be used in loadtxoutset afterwards if this snapshot height is supported in the chainparams as well.\n\n" +
        'Unless the "latest" type is requested, the node will roll back to the requested height and network activity will be suspended during this process. ' +
        "Because of this it is discouraged to interact with the node in any other way during the execution of this call to avoid inconsistent results and race conditions, particularly RPCs that interact with blockstorage.\n\n" +
        "This call may take several minutes. Make sure to use no RPC timeout (bitcoin-cli -rpcclienttimeout=0)",
      args: [
        {
          name: "path",
          type: "str",
          description: "Path to the output file. If relative, will be prefixed by datadir.",
        },
        {
          name: "type",
          type: "str",
          default: "",
          description:
            'The type of snapshot to create. Can be "latest" to create a snapshot of the current UTXO set or "rollback" to temporarily roll back the state of the node to a historical block before creating the snapshot of a historical UTXO set. This parameter can be omitted if a separate "rollback" named parameter is specified indicating the height or hash of a specific historical block. If "rollback" is specified and separate "rollback" named parameter is not specified, this will roll back to the latest valid snapshot block that can currently be loaded with loadtxoutset.',
        },
        {
          name: "options",
          type: "obj_named_params",
          optional: true,
          description: "",
          inner: [
            {
              name: "rollback",
              type: "num",
              optional: true,
              description:
                "Height or hash of the block to roll back to before creating the snapshot. Note: The further this number is from the tip, the longer this process will take. Consider setting a higher -rpcclienttimeout value in this case.",
              skipTypeCheck: true,
              typeStr: ["", "string or numeric"],
            },
          ],
        },
      ],
      result: obj("", "", [
        num("coins_written", "the number of coins written in the snapshot"),
        hexStr("base_hash", "the hash of the base of the snapshot"),
        num("base_height", "the height of the base of the snapshot"),
        str("path", "the absolute path that the snapshot was written to"),
        hexStr("txoutset_hash", "the hash of the UTXO set contents"),
        num(
          "nchaintx",
          "the number of transactions in the chain up to and including the base block",
        ),
      ]),
      examples: helpExampleCli("-rpcclienttimeout=0 dumptxoutset", "utxo.dat latest") +
        helpExampleCli("-rpcclienttimeout=0 dumptxoutset", "utxo.dat rollback") +
        helpExampleCli("-rpcclienttimeout=0 -named dumptxoutset", "utxo.dat rollback=853456"),
      handler(params) {
        const tip = chain.tip;
        const type = params.arg("type", asStr);
        const options = params.raw("options");
        let target: BlockEntry;
        if (options instanceof JsonObject && options.has("rollback")) {
          if (type !== "" && type !== "rollback") {
            throw new RpcError(
              RpcErrorCode.INVALID_PARAMETER,
              `Invalid snapshot type "${type}" specified with rollback option`,
            );
          }
          target = blockByHashOrHeight(node, options.get("rollback")!);
        } else if (type === "rollback") {
          const heights = REGTEST_ASSUMEUTXO.map((data) => data.height);
          target = activeBlockAtHeight(node, Math.max(...heights));
        } else if (type === "latest") {
          target = tip;
        } else {
          throw new RpcError(
            RpcErrorCode.INVALID_PARAMETER,
            `Invalid snapshot type "${type}" specified. Please specify "rollback" or "latest"`,
          );
        }
        const given = params.arg("path", asStr);
        const path = absPathJoin(netDir(), given);
        const temp = absPathJoin(netDir(), `${given}.incomplete`);
        // `fs::exists`: false for anything that cannot be looked at (a sandboxed path included).
        if (lookAt(path) !== undefined) {
          throw new RpcError(
            RpcErrorCode.INVALID_PARAMETER,
            `${path} already exists. If you are sure this is what you want, move it out of the way first`,
          );
        }
        const file = openFile(temp, "writing");
        let written: WrittenSnapshot;
        try {
          written = withRollback(node, target, () => writeSnapshot(node, file, path, temp));
        } finally {
          file.close();
        }
        Deno.renameSync(temp, path);
        return new Map<string, JsonInput>([
          ["coins_written", written.coinsWritten],
          ["base_hash", hashToHex(written.base.hash)],
          ["base_height", written.base.height],
          ["path", path],
          ["txoutset_hash", written.txoutsetHash],
          ["nchaintx", node.chainTxCount(written.base)],
        ]);
      },
    }),
    defineMethod({
      name: "loadtxoutset",
      category: "blockchain",
      description: "Load the serialized UTXO set from a file.\n" +
        "Once this snapshot is loaded, its contents will be deserialized into a second chainstate data structure, which is then used to sync to the network's tip. " +
        "Meanwhile, the original chainstate will complete the initial block download process in the background, eventually validating up to the block that the snapshot is based upon.\n\n" +
        "The result is a usable bitcoind instance that is current with the network tip in a matter of minutes rather than hours. UTXO snapshot are typically obtained from third-party sources (HTTP, torrent, etc.) which is reasonable since their contents are always checked by hash.\n\n" +
        "You can find more information on this process in the `assumeutxo` design document (<https://github.com/bitcoin/bitcoin/blob/master/doc/design/assumeutxo.md>).",
      args: [
        {
          name: "path",
          type: "str",
          description: "path to the snapshot file. If relative, will be prefixed by datadir.",
        },
      ],
      result: obj("", "", [
        num("coins_loaded", "the number of coins loaded from the snapshot"),
        hexStr("tip_hash", "the hash of the base of the snapshot"),
        num("base_height", "the height of the base of the snapshot"),
        str("path", "the absolute path that the snapshot was loaded from"),
      ]),
      examples: helpExampleCli("-rpcclienttimeout=0 loadtxoutset", "utxo.dat"),
      handler(params) {
        // `AbsPathForConfigVal`: an absolute or empty path is taken as it is.
        const given = params.arg("path", asStr);
        const path = given === "" ? "" : absPathJoin(netDir(), given);
        const file = openFile(path, "reading");
        let metadata: SnapshotMetadata;
        try {
          metadata = readSnapshotMetadata(readHead(file), REGTEST_MAGIC);
        } catch (error) {
          if (!(error instanceof SnapshotFormatError)) throw error;
          throw new RpcError(
            RpcErrorCode.DESERIALIZATION_ERROR,
            `Unable to parse metadata: ${error.message}`,
          );
        } finally {
          file.close();
        }
        throw new RpcError(
          RpcErrorCode.INTERNAL_ERROR,
          `Unable to load UTXO snapshot: ${activateSnapshot(node, metadata)}. (${path})`,
        );
      },
    }),
  ];
}
