/**
 * The ZMQ notification options, as Bitcoin Core reads them:
 * `-zmqpub<type>=<address>` (each type given any number of times, `unix:`
 * written as libzmq's `ipc://`) and `-zmqpub<type>hwm=<n>`, in Core's
 * order of types. This node publishes on `tcp://host:port` and on
 * `ipc://path` (a UNIX socket; a relative path is libzmq's, against the
 * working directory): {@linkcode zmqEndpoint}.
 *
 * @example
 * ```ts
 * import { Args } from "../args.ts";
 * import { NODE_OPTIONS } from "../options.ts";
 * import { zmqNotifiersOf } from "./options.ts";
 * const args = new Args(NODE_OPTIONS);
 * args.parseCommandLine(["-zmqpubrawtx=tcp://127.0.0.1:28333", "-zmqpubhashblock=unix:/tmp/z"]);
 * const notifiers = zmqNotifiersOf(args);
 * if (JSON.stringify(notifiers) !== JSON.stringify([
 *   { type: "pubhashblock", address: "ipc:///tmp/z", hwm: 1000 },
 *   { type: "pubrawtx", address: "tcp://127.0.0.1:28333", hwm: 1000 },
 * ])) throw new Error(JSON.stringify(notifiers));
 * ```
 * @module
 */
import { resolve } from "node:path";

/** The notifier types, in Core's order (its factories' map). */
export const ZMQ_TYPES = [
  "pubhashblock",
  "pubhashtx",
  "pubrawblock",
  "pubrawtx",
  "pubsequence",
] as const;

/** A notifier type. */
export type ZmqType = typeof ZMQ_TYPES[number];

/** Core's `DEFAULT_ZMQ_SNDHWM`. */
export const DEFAULT_ZMQ_SNDHWM = 1000;

/** One notifier, as `getzmqnotifications` shows it. */
export interface ZmqNotifier {
  readonly type: ZmqType;
  readonly address: string;
  readonly hwm: number;
}

/** The settings the notifiers are read from (the node's `Args` is one). */
export interface ZmqSettings {
  getAll(name: string): string[];
  getInt(name: string, fallback: number): number;
}

/**
 * The notifiers `args` ask for, in Core's order, every address given for
 * each (`unix:` written as libzmq's `ipc://`), each with its high-water
 * mark.
 */
export function zmqNotifiersOf(args: ZmqSettings): ZmqNotifier[] {
  return ZMQ_TYPES.flatMap((type) => {
    const hwm = args.getInt(`zmq${type}hwm`, DEFAULT_ZMQ_SNDHWM);
    return args.getAll(`zmq${type}`).map((given) => ({
      type,
      address: given.startsWith("unix:") ? `ipc://${given.slice(5)}` : given,
      // Core's SetOutboundMessageHighWaterMark keeps the default for a negative one.
      hwm: hwm < 0 ? DEFAULT_ZMQ_SNDHWM : hwm,
    }));
  });
}

/** Where a notifier's socket listens: a TCP endpoint, or a UNIX socket's absolute path. */
export type ZmqEndpoint =
  | { readonly hostname: string; readonly port: number }
  | { readonly path: string };

/**
 * The endpoint of a `tcp://host:port` address (`*` is every IPv4
 * address, `[::1]` an IPv6 one) or of an `ipc://path` one (relative to
 * `cwd`, the node's working directory, as libzmq takes it); throws a
 * one-line error for any other, libzmq's `ipc://*` (a temporary name) and
 * abstract `ipc://@name` included, which this node does not serve.
 *
 * @example
 * ```ts
 * import { zmqEndpoint } from "./options.ts";
 * const endpoint = zmqEndpoint("ipc://zmq/../pub.sock", "/var/run");
 * if (!("path" in endpoint) || endpoint.path !== "/var/run/pub.sock") throw new Error();
 * ```
 */
export function zmqEndpoint(address: string, cwd: string): ZmqEndpoint {
  if (address.startsWith("ipc://")) {
    const path = address.slice("ipc://".length);
    if (path === "" || path === "*" || path.startsWith("@")) {
      throw new Error(
        `${address}: an ipc:// address here names a socket file (not a temporary or abstract one)`,
      );
    }
    return { path: resolve(cwd, path) };
  }
  const match = /^tcp:\/\/(\[[0-9a-fA-F:.]+\]|[^:/\[\]]+):(\d{1,5})$/.exec(address);
  const port = Number(match?.[2]);
  if (match === null || port < 1 || port > 65535) {
    throw new Error(
      `${address}: a ZMQ address here is tcp://<host>:<port> or ipc://<path> (or unix:<path>)`,
    );
  }
  const host = match[1];
  return {
    hostname: host === "*" ? "0.0.0.0" : host.replace(/^\[(.*)\]$/, "$1"),
    port,
  };
}

/**
 * What tells two endpoints apart: the absolute path of a UNIX socket
 * (`..` and `.` resolved, as {@linkcode zmqEndpoint} gives it), or a TCP
 * host and port. Two addresses of one key are one socket: Core's
 * notifiers on one address share a socket, and a second bind of the same
 * path would take the file from the first (libzmq unlinks it), of the
 * same TCP port fail.
 *
 * @example
 * ```ts
 * import { zmqEndpoint, zmqEndpointKey } from "./options.ts";
 * const a = zmqEndpointKey(zmqEndpoint("ipc:///run/x/pub.sock", "/"));
 * const b = zmqEndpointKey(zmqEndpoint("ipc://x/../x/pub.sock", "/run"));
 * if (a !== b) throw new Error("one socket");
 * ```
 */
export function zmqEndpointKey(endpoint: ZmqEndpoint): string {
  return "path" in endpoint
    ? `ipc://${endpoint.path}`
    : `tcp://[${endpoint.hostname}]:${endpoint.port}`;
}
