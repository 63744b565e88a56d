/**
 * IPC addresses in Bitcoin Core's syntax, and the socket files behind them.
 *
 * - `unix`: `<datadir>/<component>.sock`;
 * - `unix:<path>`: that path, relative paths against the data directory.
 *
 * Before binding, missing directories are created private (0700), a
 * directory other users may write is refused (they could replace the
 * socket), and a stale socket file is removed. Every error names the
 * address.
 *
 * @example
 * ```ts
 * import { parseAddress } from "./address.ts";
 * const { path } = parseAddress("unix", { datadir: "/tmp/d", component: "node" });
 * if (path !== "/tmp/d/node.sock") throw new Error(path);
 * ```
 * @module
 */

/** Where a component's sockets live and what the default one is called. */
export interface AddressContext {
  /** Base of relative paths and of `unix`. */
  datadir: string;
  /** Name of the default socket, `<component>.sock`. */
  component: string;
}

/** A parsed address. */
export interface UnixAddress {
  /** The only kind there is (Bitcoin Core's `-ipcbind` knows `unix` only). */
  readonly kind: "unix";
  /** The address as written. */
  readonly address: string;
  /** Absolute path of the socket file. */
  readonly path: string;
}

/** An address that cannot be parsed, bound or connected to. */
export class AddressError extends Error {
  /** Always `"AddressError"`. */
  override name = "AddressError";
}

/** Longest socket path Linux accepts (108 bytes with the terminating NUL). */
const MAX_PATH_BYTES = 107;

/**
 * Parses `address`; throws {@linkcode AddressError} with Bitcoin Core's wording.
 *
 * @example `unix` is the component's socket in its data directory; relative paths resolve there
 * ```ts
 * import { AddressError, parseAddress } from "./address.ts";
 * const context = { datadir: "/var/lib/app/", component: "node" };
 * if (parseAddress("unix", context).path !== "/var/lib/app/node.sock") throw new Error("default");
 * if (parseAddress("unix:ipc/n.sock", context).path !== "/var/lib/app/ipc/n.sock") {
 *   throw new Error("relative to the data directory");
 * }
 * try {
 *   parseAddress("tcp:127.0.0.1:8332", context);
 *   throw new Error("only unix addresses exist");
 * } catch (error) {
 *   if (!(error instanceof AddressError)) throw error;
 *   if (error.message !== "Unrecognized address 'tcp:127.0.0.1:8332'") throw error;
 * }
 * ```
 */
export function parseAddress(address: string, context: AddressContext): UnixAddress {
  let path: string;
  if (address === "unix" || address === "unix:") path = `${context.component}.sock`;
  else if (address.startsWith("unix:")) path = address.slice(5);
  else throw new AddressError(`Unrecognized address '${address}'`);
  if (!path.startsWith("/")) path = `${context.datadir.replace(/\/+$/, "")}/${path}`;
  if (new TextEncoder().encode(path).byteLength > MAX_PATH_BYTES) {
    throw new AddressError(`Unix address path "${path}" exceeded maximum socket path length`);
  }
  return { kind: "unix", address, path };
}

/**
 * The socket directory's metadata, made (private) when missing; null when a
 * component granted only the socket path itself may not look: then whoever
 * granted it prepared the directory.
 */
function directoryInfo(dir: string): Deno.FileInfo | null {
  try {
    return Deno.statSync(dir);
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) return null;
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  return Deno.statSync(dir);
}

/**
 * Makes the socket's directory (private when created here), refuses one
 * other users may write, and removes a stale socket file.
 */
export function prepareSocketPath(address: UnixAddress): void {
  const dir = address.path.slice(0, address.path.lastIndexOf("/")) || "/";
  try {
    const info = directoryInfo(dir);
    // Sticky directories such as /tmp keep others from replacing our file.
    if (info !== null && (info.mode! & 0o022) !== 0 && (info.mode! & 0o1000) === 0) {
      throw new Error(`directory ${dir} is writable by other users`);
    }
    let stale: Deno.FileInfo | null = null;
    try {
      stale = Deno.lstatSync(address.path);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    if (stale !== null) {
      if (!stale.isSocket) throw new Error(`${address.path} exists and is not a socket`);
      Deno.removeSync(address.path);
    }
  } catch (error) {
    throw new AddressError(
      `Unable to bind to IPC address '${address.address}'. ${(error as Error).message}`,
      { cause: error },
    );
  }
}
