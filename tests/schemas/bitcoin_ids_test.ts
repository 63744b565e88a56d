/**
 * The schemas Bitcoin Core's IPC clients talk to (`schemas/ipc/`): file and
 * type ids equal Core's (the facts of
 * shared/reference/multiprocess-protocol.md §11, as the compiler derives them
 * and as the committed output carries them), ordinals and wire layouts are
 * v30.0's, and this project's own files claim none of Core's ids.
 *
 * @module
 */
import { assert, assertEquals } from "../assert.ts";
import { capnpAvailable, compileSchemas } from "../../runtime/schema/capnp.ts";
import type { InterfaceDescriptor, StructDescriptor } from "../../runtime/schema/descriptor.ts";
import { BlockRef } from "../../schemas/gen/ipc/common.mp.ts";
import { Echo } from "../../schemas/gen/ipc/echo.mp.ts";
import { Init } from "../../schemas/gen/ipc/init.mp.ts";
import {
  BlockCheckOptions,
  BlockCreateOptions,
  BlockTemplate,
  BlockWaitOptions,
  Mining,
} from "../../schemas/gen/ipc/mining.mp.ts";
import { Rpc } from "../../schemas/gen/ipc/rpc.mp.ts";

/** Bitcoin Core's file ids (§11). */
const CORE_FILES: Record<string, bigint> = {
  "ipc/init.capnp": 0xf2c5cfa319406aa6n,
  "ipc/echo.capnp": 0x888b4f7f51e691f7n,
  "ipc/common.capnp": 0xcd2c6232cb484a28n,
  "ipc/mining.capnp": 0xc77d03df6a41b505n,
  "ipc/rpc.capnp": 0x9c3505dc45e146acn,
};

/** This project's own files in `schemas/ipc/`, which must claim none of Core's file ids. */
const OWN_FILES = ["ipc/chain.capnp", "ipc/node.capnp", "ipc/handler.capnp"];

/** Bitcoin Core's type ids (§11). */
const CORE_TYPES: Record<string, bigint> = {
  Init: 0x8838c700ba5cba65n,
  Echo: 0xd36b89640dc94399n,
  BlockRef: 0xb3be4b8949350369n,
  Mining: 0xf9c68436df3af39en,
  BlockTemplate: 0xf9671ad841b2f622n,
  BlockCreateOptions: 0x80fca083ef81a559n,
  BlockWaitOptions: 0x9ba437d9de0c452en,
  BlockCheckOptions: 0x89f3f39b6c9dd162n,
  Rpc: 0xacb1d37f0a713129n,
};

Deno.test("bitcoin ids: the committed descriptors carry Bitcoin Core's type ids", () => {
  const descriptors: { name: string; id: bigint }[] = [
    Init,
    Echo,
    BlockRef,
    Mining,
    BlockTemplate,
    BlockCreateOptions,
    BlockWaitOptions,
    BlockCheckOptions,
    Rpc,
  ];
  const committed = Object.fromEntries(descriptors.map((d) => [d.name, d.id]));
  assertEquals(committed, CORE_TYPES);
});

const haveCapnp = await capnpAvailable();
if (!haveCapnp) console.log("SKIPPED capnp -ocapnp id check: the capnp compiler is not installed");

Deno.test({
  name: "bitcoin ids: capnp compile -ocapnp derives Bitcoin Core's ids from schemas/ipc/, " +
    "and this project's own files claim none of them",
  ignore: !haveCapnp,
  async fn() {
    const schemas = new URL("../../schemas/", import.meta.url).pathname;
    const runtime = new URL("../../runtime/schema/", import.meta.url).pathname;
    const compile = async (files: string[]) =>
      new TextDecoder().decode(
        await compileSchemas(files.map((f) => schemas + f), {
          importPath: [runtime, schemas],
          srcPrefix: schemas,
          output: "capnp",
        }),
      );
    const fileIds = (text: string) => {
      const files: Record<string, bigint> = {};
      for (const [, name, id] of text.matchAll(/^# (\S+)\n@0x([0-9a-f]+);/gm)) {
        files[name] = BigInt(`0x${id}`);
      }
      return files;
    };
    const text = await compile(Object.keys(CORE_FILES));
    assertEquals(fileIds(text), CORE_FILES);
    // Core's multiprocess branch: chain.capnp, node.capnp, handler.capnp.
    const core = new Set([0x94f21a4864bd2c65n, 0x92546c47dc734b2en, 0xebd8f46e2f369076n]);
    const own = fileIds(await compile(OWN_FILES));
    assertEquals(Object.keys(own).sort(), [...OWN_FILES].sort());
    for (const id of Object.values(own)) {
      assert(!core.has(id), `0x${id.toString(16)} is Bitcoin Core's`);
      assert(!Object.values(CORE_FILES).includes(id));
    }
    const types: Record<string, bigint> = {};
    for (const [, name, id] of text.matchAll(/^(?:interface|struct) (\w+) @0x([0-9a-f]+)/gm)) {
      types[name] = BigInt(`0x${id}`);
    }
    // Pair is in Core's common.capnp too; its id derives from the same file id and name.
    assertEquals(types, { ...CORE_TYPES, Pair: 0x8ef2f6fc4199a71en });
  },
});

/** `[ordinal, name, runs on a thread]` of every method, in ordinal order. */
function methods(iface: InterfaceDescriptor): [number, string, boolean][] {
  return iface.methods.map((m) =>
    [m.ordinal, m.name, m.context !== null] as [number, string, boolean]
  )
    .sort((a, b) => a[0] - b[0]);
}

Deno.test("bitcoin ids: Init's ordinals are v30.0's, then master's, then this project's", () => {
  assertEquals(methods(Init), [
    [0, "construct", false],
    [1, "makeEcho", true],
    [2, "makeMining", true],
    [3, "makeMiningNext", true],
    [4, "makeRpc", true],
    [5, "makeChain", true],
    [6, "makeNode", true],
    [7, "makeWalletLoader", true],
    [8, "setWalletSpawner", true],
    [9, "setNotifier", true],
  ]);
  const result = (name: string) =>
    Init.methods.find((m) => m.name === name)!.results.fields[0].type as {
      iface: () => InterfaceDescriptor;
    };
  assertEquals(result("makeEcho").iface().id, CORE_TYPES.Echo);
  assertEquals(result("makeMining").iface().id, CORE_TYPES.Mining);
  assertEquals(result("makeMiningNext").iface().id, CORE_TYPES.Mining);
  assertEquals(result("makeRpc").iface().id, CORE_TYPES.Rpc);
  assertEquals(Init.methods[0].special, "construct");
});

Deno.test("bitcoin ids: Echo, Rpc, Mining and BlockTemplate have v30.0's ordinals", () => {
  assertEquals(methods(Echo), [[0, "destroy", true], [1, "echo", true]]);
  assertEquals(methods(Rpc), [[0, "executeRpc", true]]);
  assertEquals(methods(Mining), [
    [0, "isTestChain", true],
    [1, "isInitialBlockDownload", true],
    [2, "getTip", true],
    [3, "waitTipChanged", true],
    [4, "createNewBlock", false],
    [5, "checkBlock", false],
  ]);
  assertEquals(methods(BlockTemplate), [
    [0, "destroy", true],
    [1, "getBlockHeader", true],
    [2, "getBlock", true],
    [3, "getTxFees", true],
    [4, "getTxSigops", true],
    [5, "getCoinbaseTx", true],
    [6, "getCoinbaseCommitment", true],
    [7, "getWitnessCommitmentIndex", true],
    [8, "getCoinbaseMerklePath", true],
    [9, "submitSolution", true],
    [10, "waitNext", true],
  ]);
});

/** `dataWords/pointers` and `name@offset` of every field. */
function layout(struct: StructDescriptor): string {
  return `${struct.dataWords}/${struct.pointers} ` +
    struct.fields.map((f) => `${f.name}@${f.offset}`).join(" ");
}

Deno.test("bitcoin ids: wire layouts are those of Bitcoin Core v30.0's declarations", () => {
  // Bool offsets are bits, other scalars bytes, pointers indexes.
  const method = (iface: InterfaceDescriptor, name: string) =>
    iface.methods.find((m) => m.name === name)!;
  const cases: [StructDescriptor, string][] = [
    [BlockRef, "1/1 hash@0 height@0"],
    [
      BlockCreateOptions,
      "3/0 useMempool@0 blockReservedWeight@8 coinbaseOutputMaxAdditionalSigops@16",
    ],
    [BlockWaitOptions, "2/0 timeout@0 feeThreshold@8"],
    [BlockCheckOptions, "1/0 checkMerkleRoot@0 checkPow@1"],
    [method(Mining, "getTip").results, "1/1 result@0 hasResult@0"],
    [method(Mining, "waitTipChanged").params, "1/2 context@0 currentTip@1 timeout@0"],
    [method(Mining, "createNewBlock").params, "0/1 options@0"],
    [method(Mining, "checkBlock").params, "0/2 block@0 options@1"],
    [method(Mining, "checkBlock").results, "1/2 reason@0 debug@1 result@0"],
    [
      method(BlockTemplate, "submitSolution").params,
      "2/2 context@0 version@0 timestamp@4 nonce@8 coinbase@1",
    ],
    [method(BlockTemplate, "waitNext").params, "0/2 context@0 options@1"],
    [method(Echo, "echo").params, "0/2 context@0 echo@1"],
    [method(Rpc, "executeRpc").params, "0/4 context@0 request@1 uri@2 user@3"],
  ];
  for (const [struct, expected] of cases) assertEquals(layout(struct), expected, struct.name);
  for (const options of [BlockCreateOptions, BlockWaitOptions, BlockCheckOptions]) {
    assert(options.fields.every((f) => f.default === undefined), "v30.0 has no defaults");
  }
});
