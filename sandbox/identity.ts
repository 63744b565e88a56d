/**
 * Component identities. Under a root supervisor every component runs as a
 * user and group of its own (uid = gid, no supplementary groups), so file
 * modes separate components from each other and from the supervisor: a
 * component owns its data and run directories and nothing else, cannot make
 * a file setuid-root, and cannot chmod a socket it was only allowed to
 * connect to.
 *
 * The ids come from a reserved range, {@linkcode COMPONENT_ID_BASE} and the
 * {@linkcode COMPONENT_ID_COUNT} ids after it (1,900,000,000–1,900,065,535:
 * above systemd's container range, below 2^31, never a login account). A
 * component's id is derived from its name (FNV-1a), so it is the same in
 * every state directory; the state directory's `identities.json` records
 * what was given out, and a name whose id is taken, by another component or
 * by an account in `/etc/passwd` or `/etc/group`, gets the next free one.
 *
 * Without root nothing changes: every component runs as the supervisor's
 * user, and only Deno's permission flags separate them.
 *
 * @example
 * ```ts
 * import { componentIdentity } from "./identity.ts";
 * const state = Deno.makeTempDirSync();
 * const node = componentIdentity(state, "node");
 * const again = componentIdentity(state, "node");
 * if (node.uid !== again.uid || node.uid !== node.gid) throw new Error("not stable");
 * if (componentIdentity(state, "wallet").uid === node.uid) throw new Error("shared");
 * Deno.removeSync(state, { recursive: true });
 * ```
 * @module
 */
import { join } from "node:path";
import { writeFileAtomic } from "../runtime/files.ts";

/** First id of the range reserved for components. */
export const COMPONENT_ID_BASE = 1_900_000_000;
/** How many ids the range holds. */
export const COMPONENT_ID_COUNT = 65_536;

/**
 * Whether `id` is in the components' reserved range.
 *
 * @example
 * ```ts
 * import { COMPONENT_ID_BASE, isComponentId } from "./identity.ts";
 * if (!isComponentId(COMPONENT_ID_BASE) || isComponentId(0)) throw new Error();
 * ```
 */
export function isComponentId(id: number): boolean {
  return id >= COMPONENT_ID_BASE && id < COMPONENT_ID_BASE + COMPONENT_ID_COUNT;
}

/** The user and group a component runs as. */
export interface Identity {
  /** Its user id (in the reserved range). */
  uid: number;
  /** Its group id (equal to the user id). */
  gid: number;
}

/** The file in a state directory recording which component has which id. */
const REGISTRY = "identities.json";

/** FNV-1a over the name's bytes: a stable first choice of id. */
function preferredOffset(name: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(name)) {
    hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  }
  return hash % COMPONENT_ID_COUNT;
}

/** Numeric ids of the accounts and groups the system already knows. */
function systemIds(): Set<number> {
  const ids = new Set<number>();
  for (const file of ["/etc/passwd", "/etc/group"]) {
    let text = "";
    try {
      text = Deno.readTextFileSync(file);
    } catch { /* no such database */ }
    for (const line of text.split("\n")) {
      const id = Number(line.split(":")[2]);
      if (Number.isInteger(id)) ids.add(id);
    }
  }
  return ids;
}

function readRegistry(path: string): Record<string, number> {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return {};
    throw error;
  }
  const value = JSON.parse(text);
  const valid = typeof value === "object" && value !== null &&
    Object.values(value).every((id) => Number.isInteger(id) && isComponentId(id as number));
  if (!valid) throw new Error(`${path}: not a map of component names to reserved ids`);
  return value;
}

/**
 * The identity of component `name` in `stateDir`, given out on first use
 * and the same ever after (see the module documentation).
 */
export function componentIdentity(stateDir: string, name: string): Identity {
  const path = join(stateDir, REGISTRY);
  const registry = readRegistry(path);
  const known = registry[name];
  if (known !== undefined) return { uid: known, gid: known };
  const taken = new Set([...Object.values(registry), ...systemIds()]);
  const start = preferredOffset(name);
  for (let step = 0; step < COMPONENT_ID_COUNT; step++) {
    const id = COMPONENT_ID_BASE + (start + step) % COMPONENT_ID_COUNT;
    if (taken.has(id)) continue;
    registry[name] = id;
    writeFileAtomic(path, JSON.stringify(registry, null, 2) + "\n");
    return { uid: id, gid: id };
  }
  throw new Error(`no free id left in the component range for ${name}`);
}

/**
 * Gives `path` and everything below it to `identity`, without following
 * symbolic links (their own owner does not matter). Run before the
 * component starts, on a tree checked to hold no link leading outside it.
 */
export function chownTree(path: string, identity: Identity): void {
  const info = Deno.lstatSync(path);
  if (info.isSymlink) return;
  if (info.uid !== identity.uid || info.gid !== identity.gid) {
    Deno.chownSync(path, identity.uid, identity.gid);
  }
  if (!info.isDirectory) return;
  for (const entry of Deno.readDirSync(path)) chownTree(join(path, entry.name), identity);
}
