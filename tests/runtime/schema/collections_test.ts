/**
 * The generator end to end on a schema written the way Bitcoin Core writes
 * them (`fixtures/collections.capnp`): absolute imports resolve and the
 * generated modules load; `List(Pair(K, V))` with Bitcoin Core's generic
 * Pair crosses a real connection as a `Map`; lists of capabilities cross as
 * arrays of proxies, in both directions, with the ownership rules of single
 * capabilities.
 *
 * @module
 */
import { assert, assertEquals, assertRejects } from "../../assert.ts";
import { capnpAvailable } from "../../../runtime/schema/capnp.ts";
import type { InterfaceDescriptor } from "../../../runtime/schema/descriptor.ts";
import {
  connect,
  dup,
  IpcLog,
  listen,
  release,
  type Remote,
  RpcError,
  TypeMappingError,
} from "../../../mod.ts";
import { generateAndLoad, type Generated } from "./helpers.ts";

const haveCapnp = await capnpAvailable();
if (!haveCapnp) {
  console.log("SKIPPED generator end-to-end tests: the capnp compiler is not installed");
}

// What the generated collections.mp.ts declares, written out so the test
// type-checks without the generated module existing before it runs.
interface Counter {
  next(): bigint | Promise<bigint>;
}
type CountersFn = (counters: (Counter | null)[]) => bigint | Promise<bigint>;
interface Collections {
  passMap(map: Map<string, Uint8Array>): Map<string, Uint8Array>;
  doubleCounts(counts: Map<string, number>): Map<string, number>;
  passNested(config: Map<string, Map<string, string[]>>): Map<string, Map<string, string[]>>;
  passPair(pair: { key: string; value: number[] }): { key: string; value: number[] };
  makeCounters(starts: bigint[]): (Counter | null)[];
  sumNext(counters: (Counter | null)[]): Promise<bigint>;
  keep(counters: (Counter | null)[]): void;
  sumKept(): Promise<bigint>;
  releaseKept(): void;
  callWith(fn: CountersFn | null, counters: (Counter | null)[]): Promise<bigint>;
  passSettings(settings: Settings): Settings;
}
interface Settings {
  name: string;
  entries: Map<string, string[]>;
}
interface CollectionsInit {
  makeCollections(): Collections;
}

const schemas = new URL("../../../schemas/", import.meta.url);
const component = new URL("../../../component.ts", import.meta.url);

let fixture: Promise<Generated> | undefined;
/**
 * The fixture generated beside a copy of the schema it imports (the
 * runtime's `/mp/proxy.capnp` it finds on the import path), and its modules
 * loaded.
 */
function fixtureModules() {
  return fixture ??= generateAndLoad(
    {
      "ipc/common.capnp": new URL("ipc/common.capnp", schemas),
      "app/collections.capnp": new URL("./fixtures/collections.capnp", import.meta.url),
    },
    ["app/collections.ts", "app/collections.mp.ts"],
    ["app/collections.capnp"],
  );
}

Deno.test({
  name: "gen: absolute imports resolve, and the generated modules load",
  ignore: !haveCapnp,
  async fn() {
    const { dir, files, modules } = await fixtureModules();
    // The classes of what the classes import are made too; the proxy layer's modules import
    // the runtime's vocabulary from component.ts.
    assertEquals([...files.keys()].sort(), [
      "app/collections.mp.ts",
      "app/collections.ts",
      "ipc/common.mp.ts",
      "ipc/common.ts",
      "mp/proxy.ts",
      "wire-contract.json",
    ]);
    const imports = (name: string) =>
      [...files.get(name)!.matchAll(/from "([^"]+)"/g)].map((m) => m[1]).sort();
    assertEquals(imports("app/collections.ts"), ["../ipc/common.ts", "../mp/proxy.ts", "capnp-es"]);
    const [runtime, again, ...siblings] = imports("app/collections.mp.ts");
    assertEquals(siblings, ["../ipc/common.mp.ts"]);
    assertEquals(again, runtime);
    assertEquals(new URL(runtime, `file://${dir}/gen/app/`).href, component.href);
    assertEquals(modules["app/collections.ts"]._capnpFileId, 0xe879fb1474754260n);
    const collections = modules["app/collections.mp.ts"].Collections as InterfaceDescriptor;
    const method = (name: string) => collections.methods.find((m) => m.name === name)!;
    assertEquals(method("passMap").params.fields[1].type.kind, "map");
    assertEquals(method("makeCounters").results.fields[0].type.kind, "list");
  },
});

class CounterImpl implements Counter {
  #value: bigint;
  readonly #live: Set<CounterImpl>;
  constructor(start: bigint, live: Set<CounterImpl>) {
    this.#value = start;
    this.#live = live;
    live.add(this);
  }
  next(): bigint {
    return ++this.#value;
  }
  [Symbol.dispose](): void {
    this.#live.delete(this);
  }
}

class CollectionsImpl implements Collections {
  /** Counters made by makeCounters and not yet released by their holders. */
  readonly live = new Set<CounterImpl>();
  /** What the last sumNext received, kept without dup() (as a buggy server would). */
  lent: (Counter | null)[] = [];
  #kept: (Counter | null)[] = [];

  passMap(map: Map<string, Uint8Array>) {
    return map;
  }
  doubleCounts(counts: Map<string, number>) {
    return new Map([...counts].map(([k, v]) => [k, v * 2]));
  }
  passNested(config: Map<string, Map<string, string[]>>) {
    return config;
  }
  passPair(pair: { key: string; value: number[] }) {
    return pair;
  }
  makeCounters(starts: bigint[]) {
    return starts.map((start) => new CounterImpl(start, this.live));
  }
  async sumNext(counters: (Counter | null)[]) {
    this.lent = counters;
    let sum = 0n;
    for (const counter of counters) if (counter !== null) sum += await counter.next();
    return sum;
  }
  keep(counters: (Counter | null)[]) {
    this.#kept = counters.map((c) => dup(c));
  }
  sumKept() {
    return this.sumNext(this.#kept);
  }
  releaseKept() {
    for (const counter of this.#kept.splice(0)) {
      (counter as Partial<Disposable> | null)?.[Symbol.dispose]?.();
    }
  }
  async callWith(fn: CountersFn | null, counters: (Counter | null)[]) {
    return await fn!(counters);
  }
  passSettings(settings: Settings) {
    return settings;
  }
}

/** A CollectionsInit served over a UNIX socket and a client's Collections proxy. */
async function collectionsPair() {
  const { modules } = await fixtureModules();
  const Init = modules["app/collections.mp.ts"].CollectionsInit as InterfaceDescriptor<
    CollectionsInit
  >;
  const datadir = await Deno.makeTempDir();
  const server = new CollectionsImpl();
  const log = new IpcLog({ level: "off" });
  const listener = listen(Init, "unix", { makeCollections: () => server }, {
    datadir,
    component: "collections",
    log,
  });
  const init = await connect(Init, "unix", { datadir, component: "collections", log });
  const collections = (await init.makeCollections()) as Remote<Collections>;
  return {
    server,
    collections,
    async [Symbol.asyncDispose]() {
      collections[Symbol.dispose]();
      await init[Symbol.asyncDispose]();
      await listener[Symbol.asyncDispose]();
      Deno.removeSync(datadir, { recursive: true });
    },
  };
}

Deno.test({
  name: "gen: List(Pair(K, V)) with the generic Pair crosses a connection as a Map",
  ignore: !haveCapnp,
  async fn() {
    await using pair = await collectionsPair();
    const { collections } = pair;
    const blobs = new Map([["a", Uint8Array.of(1, 2)], ["", new Uint8Array(0)]]);
    const back = await collections.passMap(blobs);
    assert(back instanceof Map);
    assertEquals([...back], [...blobs]);
    assertEquals(
      [...await collections.doubleCounts(new Map([["x", 21], ["y", -4]]))],
      [["x", 42], ["y", -8]],
    );
    const config = new Map([[
      "regtest",
      new Map([["rpcport", ["18443"]], ["debug", ["ipc", "rpc"]]]),
    ]]);
    const nested = await collections.passNested(config);
    assertEquals([...nested.get("regtest")!], [...config.get("regtest")!]);
    assertEquals(await collections.passPair({ key: "k", value: [1, -2] }), {
      key: "k",
      value: [1, -2],
    });
    const settings = { name: "s", entries: new Map([["a", ["x", "y"]], ["b", []]]) };
    const settingsBack = await collections.passSettings(settings);
    assertEquals([settingsBack.name, [...settingsBack.entries]], ["s", [...settings.entries]]);
    const error = await assertRejects(
      () => collections.passMap({ a: Uint8Array.of(1) } as unknown as Map<string, Uint8Array>),
      TypeMappingError,
    );
    assertEquals(error.message, "Collections.passMap$Params.map: expected Map, got Object");
    await assertRejects(
      () => collections.doubleCounts(new Map([["x", 2 ** 31]])),
      TypeMappingError,
      "2147483648 is out of range for Int32",
    );
  },
});

Deno.test({
  name: "gen: a list of capabilities returned crosses as proxies the caller owns",
  ignore: !haveCapnp,
  async fn() {
    await using pair = await collectionsPair();
    const { collections, server } = pair;
    const counters = await collections.makeCounters([10n, 20n, 30n]);
    assertEquals(counters.length, 3);
    assertEquals(server.live.size, 3);
    assertEquals(await Promise.all(counters.map((c) => c!.next())), [11n, 21n, 31n]);
    // Passed back in a list, each element reaches its own server object.
    assertEquals(await collections.sumNext([counters[0], null, counters[2]]), 12n + 32n);
    for (const counter of counters) counter![Symbol.dispose]();
    // The Releases went out before this call, on the same connection.
    assertEquals(await collections.sumNext([]), 0n);
    assertEquals(server.live.size, 0);
  },
});

Deno.test({
  name: "gen: a list of capabilities passed is lent to the call, and kept only with dup()",
  ignore: !haveCapnp,
  async fn() {
    await using pair = await collectionsPair();
    const { collections, server } = pair;
    const live = new Set<CounterImpl>();
    const passed = [new CounterImpl(1n, live), new CounterImpl(5n, live)];
    assertEquals(await collections.sumNext(passed), 8n);
    const lent = server.lent;
    assertEquals(lent.length, 2);
    // The server's Releases follow its Return; one more round trip lets them land.
    await collections.sumNext([]);
    assertEquals(live.size, 2, "lent: the caller's counters are still its own");
    passed.forEach((counter) => release(counter));
    assertEquals(live.size, 0, "the server kept none: the caller's release ends them");
    const error = await assertRejects(async () => await lent[0]!.next(), RpcError);
    assert(
      error.message.endsWith("Counter parameter used after its call returned; keep it with dup()."),
      error.message,
    );

    const kept = [new CounterImpl(100n, live), null, new CounterImpl(200n, live)];
    await collections.keep(kept);
    kept.forEach((counter) => release(counter));
    await collections.sumNext([]);
    assertEquals(live.size, 2, "kept with dup(), the counters outlive the caller's release");
    assertEquals(await collections.sumKept(), 101n + 201n);
    await collections.releaseKept();
    await collections.sumNext([]);
    assertEquals(live.size, 0);

    // Passed on to a callback, the list is lent to the callback's call in turn.
    let inCallback: (Counter | null)[] = [];
    const onward = [new CounterImpl(0n, live), new CounterImpl(10n, live)];
    const sum = await collections.callWith(async (list) => {
      inCallback = list;
      let total = 0n;
      for (const counter of list) total += await counter!.next();
      return total;
    }, onward);
    assertEquals(sum, 1n + 11n);
    await collections.sumNext([]);
    onward.forEach((counter) => release(counter));
    assertEquals(live.size, 0, "released by server and callback once both calls returned");
    await assertRejects(async () => await inCallback[1]!.next(), RpcError, "keep it with dup()");
  },
});
