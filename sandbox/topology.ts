/**
 * Topologies: which components an application runs, in what order, which
 * connects to which, and how a restart spreads, declared in a JSON file
 * and validated with zod, so the wiring is data and not a launcher's code.
 *
 * ```json
 * { "components": [
 *   { "name": "node", "folder": "node", "strategy": "rest_for_one" },
 *   { "name": "wallet", "folder": "wallet", "connectTo": "node" }
 * ] }
 * ```
 *
 * Entries start in order; `connectTo` names an earlier entry that listens.
 * The strategies are Erlang/OTP's, per entry: `one_for_one` (the default)
 * restarts only the entry that ended; `rest_for_one` restarts every entry
 * after it too, once it runs again (a restarted node brings back fresh
 * wallets that re-register with it). Folders are relative to the file.
 *
 * @example
 * ```ts
 * import { parseTopology } from "./topology.ts";
 * const topology = parseTopology({
 *   components: [
 *     { name: "node", folder: "node", strategy: "rest_for_one" },
 *     { name: "wallet", folder: "wallet", connectTo: "node" },
 *   ],
 * }, "/app/topology.json");
 * const wallet = topology.entries[1];
 * if (wallet.folder !== "/app/wallet" || wallet.strategy !== "one_for_one") throw new Error();
 * let refused = "";
 * try {
 *   parseTopology({ components: [{ name: "w", folder: "w", connectTo: "node" }] }, "t.json");
 * } catch (error) {
 *   refused = (error as Error).message;
 * }
 * if (!refused.includes("connectTo")) throw new Error(refused);
 * ```
 * @module
 */
import { dirname, resolve } from "node:path";
import { z } from "zod";
import type { InterfaceDescriptor } from "../runtime/schema/descriptor.ts";
import { type Component, issuesText, loadComponent } from "./manifest.ts";
import type { Supervised, Supervisor } from "./supervisor.ts";

const NAME = /^[a-z][a-z0-9-]{0,31}$/;

const EntrySchema = z.object({
  name: z.string().regex(NAME, "lower-case letters, digits and '-', starting with a letter"),
  folder: z.string().min(1),
  args: z.array(z.string()).default([]),
  connectTo: z.string().optional(),
  strategy: z.enum(["one_for_one", "rest_for_one"]).default("one_for_one"),
  restart: z.enum(["always", "on-failure", "never"]).optional(),
}).strict();

const TopologySchema = z.object({ components: z.array(EntrySchema).min(1) }).strict()
  .superRefine(({ components }, context) => {
    components.forEach((entry, index) => {
      const earlier = components.slice(0, index);
      if (earlier.some((other) => other.name === entry.name)) {
        context.addIssue({
          code: "custom",
          path: ["components", index, "name"],
          message: `"${entry.name}" is named twice`,
        });
      }
      if (entry.connectTo !== undefined && !earlier.some((e) => e.name === entry.connectTo)) {
        context.addIssue({
          code: "custom",
          path: ["components", index, "connectTo"],
          message: `"${entry.connectTo}" is not an entry before "${entry.name}"`,
        });
      }
    });
  });

/** How a restart of one entry spreads, after Erlang/OTP. */
export type RestartStrategy = "one_for_one" | "rest_for_one";

/** One component of a topology. */
export interface TopologyEntry {
  /** The instance's name (its manifest's name is replaced by it). */
  readonly name: string;
  /** The component's folder, absolute. */
  readonly folder: string;
  /** Arguments for every run, after the contract's own. */
  readonly args: readonly string[];
  /** The earlier entry it connects to, if any. */
  readonly connectTo?: string | undefined;
  /** What its restart does to the entries after it. */
  readonly strategy: RestartStrategy;
  /** Its restart policy, instead of its manifest's (OTP's permanent, transient, temporary). */
  readonly restart?: "always" | "on-failure" | "never" | undefined;
}

/** A validated topology. */
export interface Topology {
  /** The entries, in start order. */
  readonly entries: readonly TopologyEntry[];
}

/** An invalid topology; the message names the file and the field. */
export class TopologyError extends Error {
  /** Always `"TopologyError"`. */
  override name = "TopologyError";
}

/**
 * Validates `value` as a topology read from `source`; folders resolve beside it.
 *
 * @example Folders resolved beside the file; an unknown strategy named with its entry
 * ```ts
 * import { parseTopology, TopologyError } from "./topology.ts";
 * const topology = parseTopology({
 *   components: [
 *     { name: "shop", folder: "shop", strategy: "rest_for_one" },
 *     { name: "till", folder: "till", connectTo: "shop" },
 *   ],
 * }, "/app/topology.json");
 * if (topology.entries[1]?.folder !== "/app/till") throw new Error("resolved beside the file");
 * try {
 *   parseTopology({ components: [{ name: "shop", folder: "shop", strategy: "all" }] }, "t.json");
 *   throw new Error("an unknown strategy was accepted");
 * } catch (error) {
 *   if (!(error instanceof TopologyError)) throw error;
 *   if (!error.message.startsWith("t.json: components[0].strategy: ")) throw new Error(error.message);
 * }
 * ```
 */
export function parseTopology(value: unknown, source: string): Topology {
  const result = TopologySchema.safeParse(value);
  if (!result.success) throw new TopologyError(issuesText(source, result.error, "(topology)"));
  const base = dirname(resolve(source));
  return {
    entries: result.data.components.map((entry) => ({
      ...entry,
      folder: resolve(base, entry.folder),
    })),
  };
}

/** Reads and validates the topology file at `path`. */
export async function loadTopology(path: string): Promise<Topology> {
  let value: unknown;
  try {
    value = JSON.parse(await Deno.readTextFile(path));
  } catch (error) {
    throw new TopologyError(`${path}: ${(error as Error).message}`, { cause: error });
  }
  return parseTopology(value, path);
}

/**
 * The entries of `topology` whose names are in `names`, in topology order;
 * every name must be an entry, and an entry's `connectTo` must be kept.
 *
 * @example Starting part of an application: what an entry connects to must come along
 * ```ts
 * import { parseTopology, selectEntries, TopologyError } from "./topology.ts";
 * const topology = parseTopology({
 *   components: [
 *     { name: "node", folder: "node" },
 *     { name: "wallet", folder: "wallet", connectTo: "node" },
 *     { name: "gui", folder: "gui", connectTo: "node" },
 *   ],
 * }, "/app/topology.json");
 * const picked = selectEntries(topology, ["gui", "node"]).entries.map((entry) => entry.name);
 * if (picked.join() !== "node,gui") throw new Error(`in topology order: ${picked}`);
 * try {
 *   selectEntries(topology, ["wallet"]);
 *   throw new Error("a wallet without its node was accepted");
 * } catch (error) {
 *   if (!(error instanceof TopologyError)) throw error;
 *   if (error.message !== '"wallet" connects to "node", which is left out') throw error;
 * }
 * ```
 */
export function selectEntries(topology: Topology, names: readonly string[]): Topology {
  for (const name of names) entryOf(topology, name);
  const entries = topology.entries.filter((entry) => names.includes(entry.name));
  for (const entry of entries) {
    if (entry.connectTo !== undefined && !names.includes(entry.connectTo)) {
      throw new TopologyError(
        `"${entry.name}" connects to "${entry.connectTo}", which is left out`,
      );
    }
  }
  return { entries };
}

/**
 * The entry named `name`; a {@linkcode TopologyError} when there is none.
 *
 * @example
 * ```ts
 * import { entryOf, parseTopology, TopologyError } from "./topology.ts";
 * const topology = parseTopology({ components: [{ name: "node", folder: "node" }] }, "/app/t.json");
 * if (entryOf(topology, "node").folder !== "/app/node") throw new Error("the node's folder");
 * try {
 *   entryOf(topology, "wallet");
 *   throw new Error("no wallet, yet one was found");
 * } catch (error) {
 *   if (!(error instanceof TopologyError)) throw error;
 *   if (error.message !== 'no component "wallet" in the topology (it has node)') throw error;
 * }
 * ```
 */
export function entryOf(topology: Topology, name: string): TopologyEntry {
  const entry = topology.entries.find((e) => e.name === name);
  if (entry === undefined) {
    throw new TopologyError(
      `no component "${name}" in the topology (it has ${
        topology.entries.map((e) => e.name).join(", ")
      })`,
    );
  }
  return entry;
}

/**
 * What {@linkcode Supervisor.start} needs to wire entry `name` among the
 * entries already `started`: the one it connects to, and those whose
 * restart restarts it (every earlier `rest_for_one` entry).
 */
export function wiringOf(
  topology: Topology,
  name: string,
  started: ReadonlyMap<string, Supervised<unknown>>,
): { connectTo?: Supervised<unknown> | undefined; restartWith: Supervised<unknown>[] } {
  const entry = entryOf(topology, name);
  const index = topology.entries.indexOf(entry);
  const running = (other: string) => {
    const supervised = started.get(other);
    if (supervised === undefined) {
      throw new TopologyError(`"${name}" needs "${other}", which was not started before it`);
    }
    return supervised;
  };
  return {
    connectTo: entry.connectTo === undefined ? undefined : running(entry.connectTo),
    restartWith: topology.entries.slice(0, index)
      .filter((earlier) => earlier.strategy === "rest_for_one" && started.has(earlier.name))
      .map((earlier) => running(earlier.name)),
  };
}

/** The interfaces a launcher serves, by the names manifests list in `serves`. */
export type InterfaceTable = Readonly<Record<string, InterfaceDescriptor<unknown>>>;

/**
 * The components a topology started, by name; {@linkcode StartedTopology.serving}
 * gives one typed by the interface it serves.
 */
export class StartedTopology extends Map<string, Supervised<unknown>> {
  readonly #interfaces = new Map<string, InterfaceDescriptor<unknown>>();

  /** Records `supervised` as `name`, started serving `iface`. */
  add<T>(name: string, iface: InterfaceDescriptor<T>, supervised: Supervised<T>): void {
    this.#interfaces.set(name, iface as InterfaceDescriptor<unknown>);
    this.set(name, supervised as Supervised<unknown>);
  }

  /**
   * The component `name`, typed by `iface`: a {@linkcode TopologyError}
   * when there is none of that name, or it serves another interface.
   */
  serving<T>(name: string, iface: InterfaceDescriptor<T>): Supervised<T> {
    const supervised = this.get(name);
    if (supervised === undefined) {
      throw new TopologyError(
        `no component "${name}" was started; there are ${[...this.keys()].join(", ") || "none"}`,
      );
    }
    const served = this.#interfaces.get(name);
    if (served !== undefined && served !== iface) {
      throw new TopologyError(`"${name}" serves ${served.name}, not ${iface.name}`);
    }
    return supervised as Supervised<T>;
  }
}

/**
 * Starts every entry of `topology` under `supervisor`, in order, each with
 * the interface its manifest serves first (looked up in `interfaces`) and
 * wired as the topology says; resolves with them by name once each runs
 * (`started.serving("shop", ShopInit)` is a `Supervised<ShopInit>`).
 *
 * @example Two instances of one component, each its own process, data directory and notes
 * ```ts
 * import { parseTopology, startTopology } from "./topology.ts";
 * import { Supervisor } from "./supervisor.ts";
 * import { NotesInit } from "../examples/notes/gen/notes.mp.ts";
 * const folder = new URL("../examples/notes/", import.meta.url).pathname;
 * const topology = parseTopology(
 *   { components: [{ name: "work", folder }, { name: "home", folder }] },
 *   "/apps/notes/topology.json",
 * );
 * const stateDir = await Deno.makeTempDir();
 * {
 *   await using supervisor = new Supervisor({ stateDir });
 *   // The manifest's "serves": ["NotesInit"] is looked up by name.
 *   const started = await startTopology(supervisor, topology, { NotesInit });
 *   const notesOf = async (name: string) =>
 *     (await (await started.serving(name, NotesInit).current()).makeNotes())!;
 *   await using work = await notesOf("work");
 *   await using home = await notesOf("home");
 *   await work.write("todo", "report");
 *   if ((await home.titles()).length !== 0) throw new Error("home keeps notes of its own");
 *   if (started.get("work")!.instance!.pid === started.get("home")!.instance!.pid) {
 *     throw new Error("one process each");
 *   }
 * }
 * await Deno.remove(stateDir, { recursive: true });
 * ```
 */
export async function startTopology(
  supervisor: Supervisor,
  topology: Topology,
  interfaces: InterfaceTable,
): Promise<StartedTopology> {
  // Every entry's interface is looked up, in order, before any starts.
  const planned = [];
  for (const entry of topology.entries) {
    const component = await entryComponent(entry);
    const served = component.manifest.serves[0];
    const iface = served === undefined ? undefined : interfaces[served];
    if (iface === undefined) {
      throw new TopologyError(
        `"${entry.name}" serves ${served ?? "nothing"}; the launcher knows ${
          Object.keys(interfaces).join(", ") || "no interface"
        }`,
      );
    }
    const wanted = component.manifest.connects;
    if (wanted.length > 0 && entry.connectTo === undefined) {
      // Its manifest says it connects: started without a listener it would fail at once.
      throw new TopologyError(
        `"${entry.name}" connects to ${wanted.join(", ")} (its manifest's "connects"); ` +
          `give its entry "connectTo": the name of an earlier entry that runs it`,
      );
    }
    const target = planned.find((p) => p.entry.name === entry.connectTo);
    if (target !== undefined && !target.component.manifest.listens) {
      throw new TopologyError(
        `"${entry.name}" connects to "${target.entry.name}", which does not listen ` +
          `(its manifest has no "listens": true)`,
      );
    }
    planned.push({ entry, component, iface });
  }
  const started = new StartedTopology();
  for (const { entry, component, iface } of planned) {
    started.add(
      entry.name,
      iface,
      await supervisor.start(iface, component, {
        args: entry.args,
        ...wiringOf(topology, entry.name, started),
      }),
    );
  }
  return started;
}

/** The component of `entry`: its folder's manifest, named as the entry (and its restart policy). */
export async function entryComponent(entry: TopologyEntry): Promise<Component> {
  const { manifest, ...component } = await loadComponent(entry.folder);
  const restart = entry.restart === undefined
    ? manifest.restart
    : { ...manifest.restart, policy: entry.restart };
  return { ...component, manifest: { ...manifest, name: entry.name, restart } };
}
